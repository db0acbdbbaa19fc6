"""The new rules, schedules and freezing inside `flux.train`, whose loop fuses steps where it can."""

import numpy as np
import pytest

import flux
from flux import (AdaBelief, Adam, Chain, ClipNorm, CosAnneal, Dense, Lion, OptimiserChain,
                  WeightDecay, adjust, freeze, params, relu, setup, thaw)


def regression():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return x, y, list(flux.DataLoader((x, y), batchsize=16))


@pytest.mark.parametrize("opt", [OptimiserChain(ClipNorm(1.0), Adam(0.01)),
                                 OptimiserChain(WeightDecay(1e-4), AdaBelief(0.01)), Lion(0.003)],
                         ids=repr)
def test_implicit_training_with_the_new_rules_lowers_the_loss(opt):
    x, y, batches = regression()
    model = Chain(Dense(3, 16, relu, rng=0), Dense(16, 1, rng=1))
    before = float(flux.mse(model(x), y))
    for _ in range(30):
        flux.train(lambda a, b: flux.mse(model(a), b), params(model), batches, opt)
    assert float(flux.mse(model(x), y)) < 0.2 * before


def test_explicit_training_with_a_schedule_and_a_frozen_layer():
    x, y, batches = regression()
    model = Chain(Dense(3, 16, relu, rng=0), Dense(16, 1, rng=1))
    state = setup(Adam(), model)
    schedule = CosAnneal(0.02, 0.002, 20, warmup=3)
    freeze(state["layers"][0])
    frozen = [model[0].weight.copy(), model[0].bias.copy()]
    before = float(flux.mse(model(x), y))
    for epoch in range(10):
        adjust(state, schedule(epoch))
        flux.train(lambda m, a, b: flux.mse(m(a), b), model, batches, state)
    np.testing.assert_array_equal(model[0].weight, frozen[0])
    np.testing.assert_array_equal(model[0].bias, frozen[1])
    middle = float(flux.mse(model(x), y))
    assert middle < before
    thaw(state)
    for epoch in range(10, 30):
        adjust(state, schedule(epoch))
        flux.train(lambda m, a, b: flux.mse(m(a), b), model, batches, state)
    assert not np.array_equal(model[0].weight, frozen[0])
    assert float(flux.mse(model(x), y)) < middle


def test_implicit_training_with_a_frozen_layer_then_thawed():
    x, y, batches = regression()
    model = Chain(Dense(3, 16, relu, rng=0), Dense(16, 1, rng=1))
    opt = freeze(Adam(0.01), model[0])
    frozen = [model[0].weight.copy(), model[0].bias.copy()]
    loss = lambda a, b: flux.mse(model(a), b)   # noqa: E731
    before = float(loss(x, y))
    for _ in range(10):
        flux.train(loss, params(model), batches, opt)
    np.testing.assert_array_equal(model[0].weight, frozen[0])
    np.testing.assert_array_equal(model[0].bias, frozen[1])
    middle = float(loss(x, y))
    assert middle < before
    thaw(opt)
    for _ in range(20):
        flux.train(loss, params(model), batches, opt)
    assert not np.array_equal(model[0].weight, frozen[0])
    assert float(loss(x, y)) < middle
