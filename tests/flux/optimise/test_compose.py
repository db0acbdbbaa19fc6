"""Tests for flux.optimise.compose: chains, decays and clipping against Optimisers.jl's formulas."""

import numpy as np
import pytest

import zygote
from flux import (Adam, ClipGrad, ClipNorm, Dense, Descent, Fused, Momentum, OptimiserChain,
                  SignDecay, WeightDecay, setup, update)

START = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.5, -20.0, 0.0]), np.array([3.0, 0.25, -0.1]), np.array([-1.0, 1.0, 30.0])]


def run(opt):
    x = START.copy()
    for dx in GRADS:
        update(opt, x, dx)
    return x


def test_weight_decay_adds_lambda_x():
    x = START.copy()
    update(OptimiserChain(WeightDecay(0.1), Descent(0.5)), x, GRADS[0])
    np.testing.assert_allclose(x, START - 0.5 * (GRADS[0] + 0.1 * START))


def test_weight_decay_is_the_gradient_of_the_l2_penalty():
    lam = 0.3
    (penalty_grad,) = zygote.gradient(lambda w: lam / 2 * np.sum(w * w), START)
    np.testing.assert_allclose(WeightDecay(lam).apply(None, START, np.zeros(3))[1], penalty_grad)


def test_sign_decay_adds_lambda_sign_x():
    x = np.array([2.0, -1.0, 0.0])
    update(OptimiserChain(SignDecay(0.25), Descent(1.0)), x, np.zeros(3))
    np.testing.assert_allclose(x, [1.75, -0.75, 0.0])


def test_clip_grad_clamps_each_entry():
    x = START.copy()
    update(OptimiserChain(ClipGrad(1.0), Descent(0.1)), x, np.array([0.3, 1.0, 7.0]))
    np.testing.assert_allclose(x, START - 0.1 * np.array([0.3, 1.0, 1.0]))


@pytest.mark.parametrize("p", [2, 1, np.inf])
def test_clip_norm_rescales_only_large_gradients(p):
    opt = ClipNorm(2.0, p)
    big = np.array([3.0, -4.0, 1.0])
    clipped = opt.apply(None, None, big)[1]
    np.testing.assert_allclose(np.linalg.norm(clipped, p), 2.0)
    np.testing.assert_allclose(clipped, big * 2.0 / np.linalg.norm(big, p))   # same direction
    small = np.array([0.1, 0.2, 0.0])
    assert opt.apply(None, None, small)[1] is small


def test_clip_norm_refuses_non_finite_gradients():
    with pytest.raises(ValueError, match=r"shape \(2,\).*2-norm inf"):
        ClipNorm(1.0).apply(None, None, np.array([np.inf, 1.0]))
    dx = np.array([np.nan, 1.0])
    assert ClipNorm(1.0, throw=False).apply(None, None, dx)[1] is dx


def test_clip_norm_keeps_float32():
    step = ClipNorm(1.0).apply(None, None, np.full(4, 3.0, np.float32))[1]
    assert step.dtype == np.float32


def test_chain_order_matters_and_follows_the_formula():
    # Optimisers.jl's OptimiserChain folds left: each rule takes the previous one's output.
    clip_then_decay = run(OptimiserChain(ClipGrad(1.0), WeightDecay(0.5), Descent(0.1)))
    x = START.copy()
    for g in GRADS:
        x = x - 0.1 * (np.clip(g, -1, 1) + 0.5 * x)
    np.testing.assert_allclose(clip_then_decay, x)
    decay_then_clip = run(OptimiserChain(WeightDecay(0.5), ClipGrad(1.0), Descent(0.1)))
    assert not np.allclose(decay_then_clip, clip_then_decay)


def test_chain_with_momentum_keeps_each_rules_state():
    x = START.copy()
    v = np.zeros(3)
    for g in GRADS:
        v = 0.9 * v + 0.01 * np.clip(g, -2, 2)
        x = x - v
    np.testing.assert_allclose(run(OptimiserChain(ClipGrad(2.0), Momentum(0.01, 0.9))), x)


def test_empty_chain_steps_by_the_gradient():
    np.testing.assert_allclose(run(OptimiserChain()), START - sum(GRADS))


def test_chain_rejects_what_is_not_an_optimiser():
    with pytest.raises(TypeError, match="OptimiserChain takes optimisers"):
        OptimiserChain(Descent(), 0.1)


@pytest.mark.parametrize("opt", [OptimiserChain(WeightDecay(1e-3), Adam(0.05)),
                                 OptimiserChain(ClipNorm(5.0), Descent(0.05)),
                                 OptimiserChain(ClipGrad(1.0), Adam(0.05)),
                                 OptimiserChain(SignDecay(1e-3), Descent(0.05))], ids=repr)
def test_quadratic_falls(opt, quadratic_falls):
    quadratic_falls(opt, 400)


def test_chain_fuses_only_when_all_its_rules_do():
    xs = zygote.Params([np.zeros(2), np.zeros(3)])
    assert OptimiserChain(ClipGrad(1.0), Adam()).fusable
    assert not OptimiserChain(WeightDecay(), Adam()).fusable
    assert Fused.of(OptimiserChain(WeightDecay(), Adam()), xs) is None
    assert Fused.of(OptimiserChain(ClipNorm(), Adam()), xs) is None
    plain = [np.zeros(2), np.zeros(3)]
    fused = Fused.of(OptimiserChain(ClipGrad(0.5), Adam(0.1)), xs)
    chain = OptimiserChain(ClipGrad(0.5), Adam(0.1))
    for step in range(3):
        dx = np.arange(5.0) - 2 + step
        assert fused.step(dx)
        update(chain, plain[0], dx[:2])
        update(chain, plain[1], dx[2:])
    for a, b in zip(xs, plain):
        np.testing.assert_allclose(a, b, rtol=1e-13)


def test_chain_in_the_explicit_style():
    layer = Dense(2, 1, rng=0)
    weight = layer.weight.copy()
    state = setup(OptimiserChain(WeightDecay(0.5), Descent(0.1)), layer)
    assert len(state["weight"].state) == 2
    update(state, layer, {"weight": np.ones((1, 2)), "bias": None})
    np.testing.assert_allclose(layer.weight, weight - 0.1 * (1 + 0.5 * weight), rtol=1e-6)
