"""Tests for flux.layers.affine (Scale, Bilinear) and flux.layers.alpha_dropout (AlphaDropout)."""

import numpy as np
import pytest

import zygote
from flux import AlphaDropout, Bilinear, Chain, Dense, Scale, f64, tanh, trainmode
from flux import testmode as to_testmode
from flux.layers.mode import training


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_scale_is_elementwise_affine(check_model_grad, check_grad):
    layer = f64(Scale(2, 3, act=tanh))
    layer.scale, layer.bias = normal((2, 3), 1), normal((2, 3), 2)
    x = normal((4, 2, 3), 3)
    np.testing.assert_allclose(layer(x), np.tanh(x * layer.scale + layer.bias))
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_scale_without_bias_and_its_errors():
    layer = Scale(3, bias=False)
    assert layer.bias is None and repr(layer) == "Scale(3, bias=False)"
    assert layer(np.ones((2, 3), np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 3\).*\(2, 4\)"):
        layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="positive sizes"):
        Scale(0)


def bilinear_reference(layer, x, z):
    y = np.einsum("ni,oij,nj->no", x, layer.weight, z)
    return y if layer.bias is None else y + layer.bias


def test_bilinear_is_the_formula(check_model_grad, check_grad):
    layer = f64(Bilinear((3, 2), 4, tanh, rng=0))
    layer.bias = normal(4, 5)
    x, z = normal((5, 3), 1), normal((5, 2), 2)
    np.testing.assert_allclose(layer((x, z)), np.tanh(bilinear_reference(layer, x, z)))
    check_model_grad(lambda m: m((x, z)), layer)
    dx, dz = check_grad(lambda x, z: layer((x, z)), x, z)
    assert dx.shape == x.shape and dz.shape == z.shape


def test_bilinear_of_one_input_uses_it_twice(check_grad):
    layer = f64(Bilinear(3, 2, rng=0))
    x = normal((4, 3), 1)
    np.testing.assert_allclose(layer(x), bilinear_reference(layer, x, x))
    check_grad(lambda x: layer(x), x)
    assert layer.weight.shape == (2, 3, 3)


def test_bilinear_checks_both_inputs():
    layer = Bilinear((3, 2), 4, rng=0)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 2\).*\(5, 3\)"):
        layer((np.ones((5, 3)), np.ones((5, 3))))
    with pytest.raises(ValueError, match=r"\(5, 1, 3\)"):
        layer((np.ones((5, 1, 3)), np.ones((5, 2))))
    assert repr(Bilinear((3, 2), 4, bias=False)) == "Bilinear((3, 2) => 4, bias=False)"


# ------------------------------------------------------------ AlphaDropout ----------

ALPHA = -1.0507009873554805 * 1.6732632423543772


def selu(x):
    return 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))


def test_alpha_dropout_follows_its_formula():
    p = 0.3
    layer = AlphaDropout(p, active=True, rng=4)
    x = normal(1000, 1)
    y = layer(x)
    keep = np.random.default_rng(4).random(1000, dtype=np.float32) >= p
    a = 1 / np.sqrt((1 - p) * (1 + p * ALPHA ** 2))
    np.testing.assert_allclose(y, np.where(keep, a * x, a * ALPHA) + (-a * ALPHA * p))
    assert 0.2 < np.mean(~keep) < 0.4


def test_alpha_dropout_keeps_selu_statistics():
    layer = AlphaDropout(0.5, active=True, rng=0)
    x = selu(normal(200_000, 2))       # selu of a standard normal: mean 0, variance 1
    y = layer(x)
    assert abs(y.mean()) < 0.01 and abs(y.std() - 1) < 0.01


def test_alpha_dropout_gradient_is_the_kept_scale():
    layer = AlphaDropout(0.4, active=True, rng=3)
    x = normal((20,), 5)
    w = normal((20,), 6)
    y = layer(x)
    layer.rng = np.random.default_rng(3)
    (dx,) = zygote.gradient(lambda x: np.sum(layer(x) * w), x)
    a = 1 / np.sqrt(0.6 * (1 + 0.4 * ALPHA ** 2))
    kept = ~np.isclose(y, a * ALPHA + (-a * ALPHA * 0.4))
    np.testing.assert_allclose(dx, np.where(kept, a * w, 0.0))


def test_alpha_dropout_modes_and_errors():
    x = np.ones((2, 3), np.float32)
    assert AlphaDropout(0.5)(x) is x
    model = Chain(Dense(3, 3, rng=0), AlphaDropout(0.5, rng=0))
    assert not np.allclose(trainmode(model)(x), to_testmode(model)(x))
    auto = AlphaDropout(0.5, rng=0)
    with training():
        assert not np.array_equal(auto(x), x)
    y = AlphaDropout(0.5, active=True, rng=0)(x)
    assert y.dtype == np.float32
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        AlphaDropout(1.0)
