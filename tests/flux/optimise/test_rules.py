"""Tests for flux.optimise.rules: hand-computed steps, and behaviour on a quadratic."""

import math

import numpy as np
import pytest

from flux import ADAM, Adam, AdamW, Descent, Momentum, Nesterov, RMSProp, update

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
def test_quadratic_falls(opt, quadratic_falls):
    quadratic_falls(opt)


def test_update_is_in_place_and_keeps_float32():
    x = np.ones(4, np.float32)
    before = x
    update(Adam(), x, np.ones(4, np.float32))
    assert x is before and x.dtype == np.float32 and np.all(x < 1)


def test_repr_lists_hyperparameters():
    assert repr(Adam()) == "Adam(eta=0.001, beta=(0.9, 0.999), eps=1e-08)"
    assert repr(Descent(0.5)) == "Descent(eta=0.5)"


def test_adam_bias_correction_uses_step_count():
    opt = Adam(1.0, (0.5, 0.5), 0.0)
    x = np.zeros(1)
    update(opt, x, np.array([1.0]))
    update(opt, x, np.array([-1.0]))
    # t = 2: m = 0.5 * 0.5 - 0.5 = -0.25, v = 0.5 * 0.5 + 0.5 = 0.75, corrections 1 - 0.25
    m_hat = -0.25 / 0.75
    v_hat = 0.75 / 0.75
    np.testing.assert_allclose(x, [-1.0 - m_hat / math.sqrt(v_hat)])
