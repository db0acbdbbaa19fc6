"""Tests for flux.gradient and flux.withgradient, the explicit style, against zygote and differences."""

import numpy as np
import pytest

import flux
import zygote

RNG = np.random.default_rng(5)
X = RNG.normal(size=(6, 3))
Y = RNG.normal(size=(6, 2))


def model():
    return flux.f64(flux.Chain(flux.Dense(3, 4, flux.tanh, rng=0), flux.Dense(4, 2, rng=1)))


def test_gradient_is_shaped_like_the_model_and_matches_differences(check_model_grad):
    m = model()
    (grad,) = flux.gradient(lambda m: flux.mse(m(X), Y), m)
    expected = check_model_grad(lambda m: m(X), m)   # the fixture checks against differences
    assert set(grad) == {"layers"} and set(grad["layers"][0]) == {"weight", "bias"}
    assert set(expected) == {"layers"}
    (again,) = zygote.gradient(lambda m: flux.mse(m(X), Y), m)
    np.testing.assert_array_equal(grad["layers"][1]["weight"], again["layers"][1]["weight"])


def test_withgradient_gives_the_plain_value():
    m = model()
    value, (grad, dx) = flux.withgradient(lambda m, x: flux.mse(m(x), Y), m, X)
    assert value == flux.mse(m(X), Y)
    assert dx.shape == X.shape
    state = flux.setup(flux.Descent(0.1), m)
    flux.update(state, m, grad)
    assert flux.mse(m(X), Y) < value


def test_params_belong_to_the_implicit_style():
    m = model()
    with pytest.raises(TypeError, match="flux.gradient takes the model itself"):
        flux.gradient(lambda: flux.mse(m(X), Y), flux.params(m))
    with pytest.raises(TypeError, match="use zygote.withgradient"):
        flux.withgradient(lambda: flux.mse(m(X), Y), flux.params(m))
