"""Tests for flux.activations: values, stability, dtypes and gradients through zygote."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flux
import zygote
from zygote.testing import check_grad as check_directions
from flux import (elu, gelu, identity, leakyrelu, logsoftmax, relu, sigmoid, softmax, softplus,
                  swish, tanh, σ)

ELEMENTWISE = [sigmoid, relu, leakyrelu, elu, gelu, swish, tanh, softplus, identity]

# Straightforward (not necessarily stable) formulas, evaluated one Python float at a time.
REFERENCE = {
    sigmoid: lambda v: 1 / (1 + math.exp(-v)),
    relu: lambda v: max(v, 0.0),
    leakyrelu: lambda v: v if v > 0 else 0.01 * v,
    elu: lambda v: v if v > 0 else math.exp(v) - 1,
    gelu: lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    swish: lambda v: v / (1 + math.exp(-v)),
    tanh: math.tanh,
    softplus: lambda v: math.log(1 + math.exp(v)),
    identity: lambda v: v,
}

# Points away from the kinks of relu, leakyrelu and elu, so central differences are exact.
POINTS = np.array([[-3.1, -0.7, 0.4], [1.3, 2.2, -1.6]])


def test_sigma_is_sigmoid():
    assert σ is sigmoid


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_values_match_reference(f):
    xs = np.linspace(-5, 5, 41)
    expected = np.array([REFERENCE[f](float(v)) for v in xs])
    tolerance = 1e-3 if f is gelu else 1e-12   # gelu uses the tanh approximation
    np.testing.assert_allclose(f(xs), expected, atol=tolerance)


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_float32_stays_float32(f):
    assert f(np.linspace(-3, 3, 7, dtype=np.float32)).dtype == np.float32


@pytest.mark.parametrize("f", ELEMENTWISE + [softmax, logsoftmax], ids=lambda f: f.__name__)
def test_extreme_inputs_are_finite_without_warnings(f):
    x = np.array([[-1e4, -50.0, 0.0, 50.0, 1e4]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = f(x)
    if f is not logsoftmax:
        assert np.all(np.isfinite(y))


def test_sigmoid_and_softplus_saturate_correctly():
    x = np.array([-800.0, 800.0])
    np.testing.assert_array_equal(sigmoid(x), [0.0, 1.0])
    np.testing.assert_array_equal(softplus(x), [0.0, 800.0])


def test_leakyrelu_and_elu_parameters():
    np.testing.assert_allclose(leakyrelu(np.array([-2.0]), 0.2), [-0.4])
    np.testing.assert_allclose(elu(np.array([-1.0]), 2.0), [2 * (math.exp(-1) - 1)])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_and_logsoftmax_along_axis(axis):
    x = np.random.default_rng(0).normal(size=(3, 4)) * 10
    y = softmax(x, axis=axis)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0)
    expected = np.exp(x) / np.exp(x).sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(logsoftmax(x, axis=axis), np.log(expected))


def test_logsoftmax_is_exact_for_huge_gaps():
    y = logsoftmax(np.array([[0.0, 1e4]]))
    np.testing.assert_array_equal(y, [[-1e4, 0.0]])


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 4), st.integers(1, 5), st.floats(-1e3, 1e3))
def test_softmax_rows_are_distributions(rows, cols, offset):
    x = np.random.default_rng(rows * 7 + cols).normal(size=(rows, cols)) + offset
    y = softmax(x)
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_elementwise_gradients(f, check_grad):
    check_grad(f, POINTS.copy())


@pytest.mark.parametrize("f", [sigmoid, softplus, swish], ids=lambda f: f.__name__)
def test_gradients_at_large_inputs(f, check_grad):
    check_grad(f, np.array([-30.0, -12.5, 12.5, 30.0]))


def test_leakyrelu_gradient_with_slope(check_grad):
    check_grad(lambda x: leakyrelu(x, 0.3), POINTS.copy())


@pytest.mark.parametrize("f", [softmax, logsoftmax], ids=lambda f: f.__name__)
def test_softmax_gradients(f, check_grad):
    x = np.random.default_rng(1).normal(size=(3, 4))
    check_grad(f, x)
    check_grad(lambda x: f(x, axis=0), x)


def test_rule_backward_keeps_float32():
    import zygote
    x = np.linspace(-2, 2, 6, dtype=np.float32).reshape(2, 3)
    for f in [sigmoid, relu, softplus, softmax, logsoftmax]:
        (dx,) = zygote.gradient(lambda x: np.sum(f(x) * x), x)
        assert dx.dtype == np.float32, f.__name__


def test_exported_from_package():
    for name in ["sigmoid", "σ", "relu", "leakyrelu", "elu", "gelu", "swish", "tanh",
                 "softplus", "softmax", "logsoftmax"]:
        assert callable(getattr(flux, name))



def gelu_total(x):
    return np.sum(gelu(x))


def gelu_slope_sum(x):
    return np.sum(zygote.gradient(gelu_total, x)[0] * np.arange(1.0, 7.0).reshape(2, 3))


def test_gelu_rule_matches_its_formula_and_has_a_second_derivative():
    x = POINTS.copy()
    inner = math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)
    np.testing.assert_allclose(gelu(x), 0.5 * x * (1 + np.tanh(inner)), rtol=1e-12)
    check_directions(gelu_slope_sum, x)
