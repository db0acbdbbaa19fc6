"""Tests for flux.optimise: hand-computed steps, behaviour on a quadratic, and both update styles."""

import math

import numpy as np
import pytest

import zygote
from flux import (ADAM, Adam, AdamW, Chain, Dense, Descent, Fused, Momentum, Nesterov, RMSProp,
                  params, setup, update)

GRADS = [np.array([0.5, -2.0]), np.array([1.5, 0.25]), np.array([-1.0, 1.0])]
START = np.array([1.0, -1.0])


def run(opt, grads=GRADS):
    x = START.copy()
    for dx in grads:
        update(opt, x, dx)
    return x


def reference_descent(eta):
    x = START.copy()
    for g in GRADS:
        x = x - eta * g
    return x


def reference_momentum(eta, rho, nesterov=False):
    x, v = START.copy(), np.zeros(2)
    for g in GRADS:
        # Flux.jl's formulation, with the velocity stored negated.
        if nesterov:
            d = rho ** 2 * v - (1 + rho) * eta * g
            v = rho * v - eta * g
            x = x + d
        else:
            v = rho * v - eta * g
            x = x + v
    return x


def reference_rmsprop(eta, rho, eps):
    x, acc = START.copy(), np.zeros(2)
    for g in GRADS:
        acc = rho * acc + (1 - rho) * g ** 2
        x = x - eta * g / (np.sqrt(acc) + eps)
    return x


def reference_adam(eta, beta1, beta2, eps, decay=0.0):
    x, m, v = START.copy(), np.zeros(2), np.zeros(2)
    for t, g in enumerate(GRADS, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
        x = x - eta * (m_hat / (np.sqrt(v_hat) + eps) + decay * x)
    return x


def test_descent_steps():
    np.testing.assert_allclose(run(Descent(0.3)), reference_descent(0.3))


def test_momentum_steps():
    np.testing.assert_allclose(run(Momentum(0.1, 0.8)), reference_momentum(0.1, 0.8))


def test_nesterov_steps():
    np.testing.assert_allclose(run(Nesterov(0.1, 0.8)), reference_momentum(0.1, 0.8, True))


def test_rmsprop_steps():
    np.testing.assert_allclose(run(RMSProp(0.01, 0.7, 1e-3)), reference_rmsprop(0.01, 0.7, 1e-3))


def test_adam_steps():
    np.testing.assert_allclose(run(Adam(0.05, (0.8, 0.95), 1e-3)),
                               reference_adam(0.05, 0.8, 0.95, 1e-3))
    assert ADAM is Adam


def test_adam_first_step_by_hand():
    x = np.array([0.0])
    update(Adam(0.1, (0.9, 0.999), 0.0), x, np.array([4.0]))
    # m̂ = 4, v̂ = 16: the first step is eta * sign(g)
    np.testing.assert_allclose(x, [-0.1])


def test_adamw_steps():
    np.testing.assert_allclose(run(AdamW(0.05, (0.8, 0.95), 0.1, 1e-3)),
                               reference_adam(0.05, 0.8, 0.95, 1e-3, decay=0.1))


@pytest.mark.parametrize("opt", [Descent(0.1), Momentum(0.01), Nesterov(0.01), RMSProp(0.01),
                                 Adam(0.05), AdamW(0.05, decay=1e-3)], ids=repr)
def test_quadratic_falls(opt):
    target = np.array([3.0, -2.0, 0.5], dtype=np.float32)
    x = np.zeros(3, np.float32)
    start = float(np.sum((x - target) ** 2))
    for _ in range(300):
        update(opt, x, 2 * (x - target))
    assert float(np.sum((x - target) ** 2)) < 0.01 * start
    assert x.dtype == np.float32


def test_state_is_kept_per_parameter_by_identity():
    opt = Momentum(0.1, 0.9)
    a, b = np.zeros(1), np.zeros(1)
    update(opt, a, np.ones(1))
    update(opt, a, np.ones(1))
    update(opt, b, np.ones(1))
    np.testing.assert_allclose(a, [-0.1 - 0.19])
    np.testing.assert_allclose(b, [-0.1])


def test_update_is_in_place_and_keeps_float32():
    x = np.ones(4, np.float32)
    before = x
    update(Adam(), x, np.ones(4, np.float32))
    assert x is before and x.dtype == np.float32 and np.all(x < 1)


def test_repr_lists_hyperparameters():
    assert repr(Adam()) == "Adam(eta=0.001, beta=(0.9, 0.999), eps=1e-08)"
    assert repr(Descent(0.5)) == "Descent(eta=0.5)"


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"shape \(3,\).*shape \(2,\)"):
        update(Descent(), np.zeros(2), np.zeros(3))


class FakeGrads:
    """Stands in for zygote.Grads: indexed by array identity, with a ``params`` collection."""

    def __init__(self, pairs):
        self.params = zygote.Params([p for p, _ in pairs])
        self.table = {id(p): g for p, g in pairs}

    def __getitem__(self, p):
        return self.table[id(p)]


def test_implicit_update_with_params_and_grads():
    a, b = np.ones(2), np.ones(3)
    ps = zygote.Params([a, b])
    update(Descent(0.5), ps, FakeGrads([(a, np.ones(2)), (b, None)]))
    np.testing.assert_allclose(a, 0.5)
    np.testing.assert_allclose(b, 1.0)


def test_grads_for_other_parameters_are_an_error():
    a, other = np.ones(2), np.ones(2)
    with pytest.raises(ValueError, match="parameter 0 .*other parameters"):
        update(Descent(), zygote.Params([a]), FakeGrads([(other, np.ones(2))]))
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


def test_adam_bias_correction_uses_step_count():
    opt = Adam(1.0, (0.5, 0.5), 0.0)
    x = np.zeros(1)
    update(opt, x, np.array([1.0]))
    update(opt, x, np.array([-1.0]))
    # t = 2: m = 0.5 * 0.5 - 0.5 = -0.25, v = 0.5 * 0.5 + 0.5 = 0.75, corrections 1 - 0.25
    m_hat = -0.25 / 0.75
    v_hat = 0.75 / 0.75
    np.testing.assert_allclose(x, [-1.0 - m_hat / math.sqrt(v_hat)])


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


# -- fused steps -------------------------------------------------------------------------------

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


def test_fused_state_is_each_parameters_state_as_views():
    xs = three_arrays(np.float64)
    opt = Adam(0.05)
    fused = Fused.of(opt, zygote.Params(xs))
    fused.update(FakeGrads(list(zip(xs, gradient_steps(xs, 1)[0]))))
    m, v, t, _ = opt.state_for(xs[2])
    assert t == 1 and m.shape == xs[2].shape and np.shares_memory(m, fused.state[0])


def test_per_parameter_updates_between_fused_steps_are_kept():
    """A parameter stepped on its own has a different step count: fusing stops, results hold."""
    fused_xs, plain_xs = three_arrays(np.float64), three_arrays(np.float64)
    fused_opt, plain_opt = Adam(0.05), Adam(0.05)
    fused = Fused.of(fused_opt, zygote.Params(fused_xs))
    steps = gradient_steps(plain_xs, 3)
    fused.update(FakeGrads(list(zip(fused_xs, steps[0]))))
    update(fused_opt, fused_xs[1], steps[1][1])          # one parameter alone
    assert not fused.step(np.zeros(sum(x.size for x in fused_xs)))   # refused, nothing done
    fused.update(FakeGrads(list(zip(fused_xs, steps[2]))))          # falls back, still right
    for index, x in enumerate(plain_xs):
        update(plain_opt, x, steps[0][index])
    update(plain_opt, plain_xs[1], steps[1][1])
    for x, g in zip(plain_xs, steps[2]):
        update(plain_opt, x, g)
    for a, b in zip(fused_xs, plain_xs):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_fused_update_without_a_gradient_or_with_a_wrong_shape_acts_as_update():
    xs = three_arrays(np.float64)
    before = [x.copy() for x in xs]
    fused = Fused.of(Descent(1.0), zygote.Params(xs))
    fused.update(FakeGrads([(xs[0], np.ones((3, 4))), (xs[1], None), (xs[2], None)]))
    np.testing.assert_allclose(xs[0], before[0] - 1)
    np.testing.assert_array_equal(xs[1], before[1])
    with pytest.raises(ValueError, match=r"shape \(5,\), but the parameter has shape \(4,\)"):
        fused.update(FakeGrads([(xs[0], np.ones((3, 4))), (xs[1], np.ones(5)),
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
