"""Tests for flux.optimise.fused: one fused step is the per-parameter update, states are views."""

import numpy as np
import pytest

import zygote
from flux import (Adam, AdamW, Chain, Dense, Descent, Fused, Momentum, Nesterov, RMSProp, params,
                  setup, update)

FUSABLE = [Descent(0.1), Momentum(0.05, 0.8), Nesterov(0.05, 0.8), RMSProp(0.01), Adam(0.05)]


def three_arrays(dtype):
    rng = np.random.default_rng(5)
    return [rng.normal(size=shape).astype(dtype) for shape in [(3, 4), (4,), (2, 3, 2)]]


def gradient_steps(xs, steps=4):
    rng = np.random.default_rng(6)
    return [[rng.normal(size=x.shape).astype(x.dtype) for x in xs] for _ in range(steps)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("opt", FUSABLE, ids=repr)
def test_a_fused_step_is_the_per_parameter_update(opt, dtype):
    fused_xs, plain_xs = three_arrays(dtype), three_arrays(dtype)
    fused_opt, plain_opt = type(opt)(*[getattr(opt, h) for h in opt.hyperparameters]), opt
    fused = Fused.of(fused_opt, zygote.Params(fused_xs))
    for gradients in gradient_steps(plain_xs):
        assert fused.step(np.concatenate([g.ravel() for g in gradients]))
        for x, g in zip(plain_xs, gradients):
            update(plain_opt, x, g)
    for a, b in zip(fused_xs, plain_xs):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_fused_state_is_each_parameters_state_as_views(fake_grads):
    xs = three_arrays(np.float64)
    opt = Adam(0.05)
    fused = Fused.of(opt, zygote.Params(xs))
    fused.update(fake_grads(list(zip(xs, gradient_steps(xs, 1)[0]))))
    m, v, t, _ = opt.state_for(xs[2])
    assert t == 1 and m.shape == xs[2].shape and np.shares_memory(m, fused.state[0])


def test_per_parameter_updates_between_fused_steps_are_kept(fake_grads):
    """A parameter stepped on its own has a different step count: fusing stops, results hold."""
    fused_xs, plain_xs = three_arrays(np.float64), three_arrays(np.float64)
    fused_opt, plain_opt = Adam(0.05), Adam(0.05)
    fused = Fused.of(fused_opt, zygote.Params(fused_xs))
    steps = gradient_steps(plain_xs, 3)
    fused.update(fake_grads(list(zip(fused_xs, steps[0]))))
    update(fused_opt, fused_xs[1], steps[1][1])          # one parameter alone
    assert not fused.step(np.zeros(sum(x.size for x in fused_xs)))   # refused, nothing done
    fused.update(fake_grads(list(zip(fused_xs, steps[2]))))          # falls back, still right
    for index, x in enumerate(plain_xs):
        update(plain_opt, x, steps[0][index])
    update(plain_opt, plain_xs[1], steps[1][1])
    for x, g in zip(plain_xs, steps[2]):
        update(plain_opt, x, g)
    for a, b in zip(fused_xs, plain_xs):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_fused_update_without_a_gradient_or_with_a_wrong_shape_acts_as_update(fake_grads):
    xs = three_arrays(np.float64)
    before = [x.copy() for x in xs]
    fused = Fused.of(Descent(1.0), zygote.Params(xs))
    fused.update(fake_grads([(xs[0], np.ones((3, 4))), (xs[1], None), (xs[2], None)]))
    np.testing.assert_allclose(xs[0], before[0] - 1)
    np.testing.assert_array_equal(xs[1], before[1])
    with pytest.raises(ValueError, match=r"shape \(5,\), but the parameter has shape \(4,\)"):
        fused.update(fake_grads([(xs[0], np.ones((3, 4))), (xs[1], np.ones(5)),
                                (xs[2], np.ones((2, 3, 2)))]))


def test_fused_explicit_style_is_the_tree_update():
    model, twin = Chain(Dense(3, 4, rng=0), Dense(4, 2, rng=1)), Chain(Dense(3, 4, rng=0),
                                                                         Dense(4, 2, rng=1))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    loss = lambda m: np.mean(m(x) ** 2)  # noqa: E731
    state, twin_state = setup(Adam(0.01), model), setup(Adam(0.01), twin)
    fused = Fused.of(state, model)
    assert fused is not None
    for _ in range(3):
        fused.update(zygote.gradient(loss, model)[0])
        twin_state, twin = update(twin_state, twin, zygote.gradient(loss, twin)[0])
    for a, b in zip(params(model), params(twin)):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_what_cannot_fuse():
    a, b = np.zeros(2), np.zeros(3)
    assert Fused.of(AdamW(0.1, decay=0.1), zygote.Params([a, b])) is None   # reads x
    assert Fused.of(Adam(), zygote.Params([a, np.zeros(2, np.float32)])) is None   # dtypes
    assert Fused.of(Adam(), zygote.Params([])) is None
    shared = Dense(2, 2, rng=0)
    tied = Chain(shared, shared)
    assert Fused.of(setup(Adam(), tied), tied) is None
    model = Chain(Dense(2, 2, rng=0), Dense(2, 1, rng=1))
    state = setup(Adam(), model)
    state["layers"][1]["bias"].rule = Descent()
    assert Fused.of(state, model) is None
