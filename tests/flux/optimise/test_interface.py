"""Tests for flux.optimise.interface: `update` on arrays, Params and model trees, and `setup`."""

import numpy as np
import pytest

import zygote
from flux import Adam, Chain, Dense, Descent, Momentum, params, setup, update


def test_state_is_kept_per_parameter_by_identity():
    opt = Momentum(0.1, 0.9)
    a, b = np.zeros(1), np.zeros(1)
    update(opt, a, np.ones(1))
    update(opt, a, np.ones(1))
    update(opt, b, np.ones(1))
    np.testing.assert_allclose(a, [-0.1 - 0.19])
    np.testing.assert_allclose(b, [-0.1])


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        update(Descent(), np.zeros(2), np.zeros(3))


def test_implicit_update_with_params_and_grads(fake_grads):
    a, b = np.ones(2), np.ones(3)
    ps = zygote.Params([a, b])
    update(Descent(0.5), ps, fake_grads([(a, np.ones(2)), (b, None)]))
    np.testing.assert_allclose(a, 0.5)
    np.testing.assert_allclose(b, 1.0)


def test_grads_for_other_parameters_are_an_error(fake_grads):
    a, other = np.ones(2), np.ones(2)
    with pytest.raises(ValueError, match="parameter 0 .*other parameters"):
        update(Descent(), zygote.Params([a]), fake_grads([(other, np.ones(2))]))
    np.testing.assert_array_equal(a, 1.0)


def test_implicit_update_with_real_gradients():
    model = Dense(3, 2)
    x = np.ones((4, 3), np.float32)
    ps = params(model)
    gs = zygote.gradient(lambda: np.sum(model(x) ** 2), ps)
    weight_before = model.weight.copy()
    update(Descent(0.1), ps, gs)
    np.testing.assert_allclose(model.weight, weight_before - 0.1 * gs[model.weight])


def test_real_grads_for_another_model_are_an_error():
    model, other = Dense(3, 2), Dense(3, 2)
    x = np.ones((4, 3), np.float32)
    gs = zygote.gradient(lambda: np.sum(other(x)), params(other))
    with pytest.raises(ValueError, match="other parameters"):
        update(Adam(), params(model), gs)


def test_explicit_setup_and_update():
    model = Chain(Dense(2, 2, rng=0), Dense(2, 1, rng=1))
    state = setup(Momentum(0.1, 0.5), model)
    grads = {"layers": ({"weight": np.ones((2, 2)), "bias": None, "act": None},
                        {"weight": np.full((1, 2), 2.0), "bias": np.ones(1)})}
    w0, w1, b1 = model[0].weight.copy(), model[1].weight.copy(), model[1].bias.copy()
    for _ in range(2):
        state, model = update(state, model, grads)
    np.testing.assert_allclose(model[0].weight, w0 - 0.25, rtol=1e-6)       # 0.1 + 0.15
    np.testing.assert_allclose(model[1].weight, w1 - 0.5, rtol=1e-6)
    np.testing.assert_allclose(model[1].bias, b1 - 0.25, rtol=1e-6)
    np.testing.assert_array_equal(model[0].bias, 0)


def test_explicit_update_sums_gradients_of_tied_weights():
    shared = Dense(2, 2, rng=0)
    model = Chain(shared, shared)
    state = setup(Descent(1.0), model)
    assert state["layers"][0]["weight"] is state["layers"][1]["weight"]
    before = shared.weight.copy()
    grads = {"layers": ({"weight": np.ones((2, 2))}, {"weight": np.full((2, 2), 2.0)})}
    update(state, model, grads)
    np.testing.assert_allclose(shared.weight, before - 3.0)


def test_explicit_update_with_real_gradients():
    model = Chain(Dense(3, 4, rng=0), Dense(4, 1, rng=1))
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    state = setup(Adam(0.01), model)
    loss = lambda m: np.mean(m(x) ** 2)  # noqa: E731
    first = loss(model)
    for _ in range(20):
        (grads,) = zygote.gradient(loss, model)
        state, model = update(state, model, grads)
    assert loss(model) < first


def test_explicit_update_needs_matching_state():
    model, other = Dense(2, 2), Chain(Dense(2, 2))
    with pytest.raises(ValueError, match="no entry for weight"):
        update(setup(Descent(), other), model, {"weight": np.ones((2, 2))})


def test_tied_weights_explicit_and_implicit_updates_agree():
    x = np.random.default_rng(1).normal(size=(4, 3))
    shared = Dense(3, 3, np.tanh, rng=2)
    explicit_model = Chain(shared, shared)
    implicit_model = Chain(*[Dense(3, 3, np.tanh, rng=2)] * 2)
    loss = lambda m: np.sum(np.sin(m(x)))  # noqa: E731
    (grads,) = zygote.gradient(loss, explicit_model)
    update(setup(Descent(0.1), explicit_model), explicit_model, grads)
    ps = params(implicit_model)
    update(Descent(0.1), ps, zygote.gradient(lambda: loss(implicit_model), ps))
    np.testing.assert_allclose(explicit_model[0].weight, implicit_model[0].weight, rtol=1e-6)
    np.testing.assert_allclose(explicit_model[1].bias, implicit_model[1].bias, rtol=1e-6)
