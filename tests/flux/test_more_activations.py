"""Tests for NNlib's further activations: values by formula, dtypes, extremes and gradients."""

import math

import numpy as np
import pytest

import flux
from flux import (celu, hardsigmoid, hardswish, hardtanh, lisht, logcosh, logsigmoid, mish,
                  relu6, rrelu, selu, softshrink, softsign, tanhshrink, trelu)

LAMBDA, ALPHA = 1.0507009873554804934193349852946, 1.6732632423543772848170429916717

# The textbook formulas, one Python float at a time.
REFERENCE = {
    celu: lambda v: v if v >= 0 else math.exp(v) - 1,
    selu: lambda v: LAMBDA * (v if v > 0 else ALPHA * (math.exp(v) - 1)),
    hardtanh: lambda v: max(-1.0, min(1.0, v)),
    hardsigmoid: lambda v: max(0.0, min(1.0, v / 6 + 0.5)),
    hardswish: lambda v: v * max(0.0, min(1.0, v / 6 + 0.5)),
    relu6: lambda v: max(0.0, min(6.0, v)),
    softsign: lambda v: v / (1 + abs(v)),
    logsigmoid: lambda v: math.log(1 / (1 + math.exp(-v))),
    mish: lambda v: v * math.tanh(math.log(1 + math.exp(v))),
    tanhshrink: lambda v: v - math.tanh(v),
    softshrink: lambda v: v - 0.5 if v > 0.5 else (v + 0.5 if v < -0.5 else 0.0),
    lisht: lambda v: v * math.tanh(v),
    logcosh: lambda v: math.log(math.cosh(v)),
    trelu: lambda v: v if v > 1 else 0.0,
}
ELEMENTWISE = list(REFERENCE)

# Away from every kink (0, ±0.5, ±1, ±3, 6): central differences are exact there.
POINTS = np.array([[-3.1, -0.7, 0.4], [1.3, 2.2, -1.6], [7.5, -5.2, 0.05]])


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_values_match_the_formula(f):
    xs = np.linspace(-8, 8, 65)
    expected = np.array([REFERENCE[f](float(v)) for v in xs])
    np.testing.assert_allclose(f(xs), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("f", ELEMENTWISE + [rrelu], ids=lambda f: f.__name__)
def test_float32_stays_float32(f):
    assert f(np.linspace(-3, 3, 7, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("f", ELEMENTWISE + [rrelu], ids=lambda f: f.__name__)
def test_extreme_inputs_are_finite_without_warnings(f):
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.all(np.isfinite(f(x)))


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_gradients(f, check_grad):
    check_grad(f, POINTS.copy())


def test_gradients_with_parameters(check_grad):
    check_grad(lambda x: celu(x, 0.4), POINTS.copy())
    check_grad(lambda x: softshrink(x, 2.0), POINTS.copy())
    check_grad(lambda x: trelu(x, 2.0), POINTS.copy())
    check_grad(lambda x: rrelu(x, 0.1, 0.4, rng=3), POINTS.copy())


def test_celu_parameter_and_selu_constants():
    assert celu(np.array(-2.0), 2.0) == pytest.approx(2 * (math.exp(-1) - 1))
    assert selu(np.array(-1e4)) == pytest.approx(-LAMBDA * ALPHA)


def test_logsigmoid_and_logcosh_do_not_overflow():
    assert logsigmoid(np.array(-800.0)) == -800.0
    assert logcosh(np.array(-800.0)) == pytest.approx(800 - math.log(2))


def test_rrelu_draws_slopes_in_its_interval_for_each_element():
    x = -np.ones(20_000)
    slopes = rrelu(x, 0.2, 0.3, rng=0) / x
    assert slopes.min() >= 0.2 and slopes.max() <= 0.3
    assert slopes.mean() == pytest.approx(0.25, abs=0.003)
    assert len(np.unique(slopes)) > 1000
    np.testing.assert_array_equal(rrelu(np.arange(4.0)), np.arange(4.0))


def test_greek_aliases():
    assert flux.hardσ is hardsigmoid and flux.logσ is logsigmoid


def test_activations_work_in_a_dense_layer(check_model_grad):
    for act in ELEMENTWISE:
        model = flux.f64(flux.Dense(3, 2, act, rng=0))
        model.bias[:] = [0.13, -0.27]
        check_model_grad(lambda m: m(POINTS), model)
