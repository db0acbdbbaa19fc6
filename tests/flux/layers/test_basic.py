"""Tests for flux.layers.basic: Dense, Chain, flatten and Dropout, with gradients through zygote."""

import numpy as np
import pytest

import zygote
from flux import (Chain, Dense, Dropout, elu, f64, flatten, gelu, glorot_uniform, identity,
                  logitcrossentropy, onehotbatch, params, relu, sigmoid, softmax, tanh, trainmode,
                  zeros32, σ)
from flux import testmode as to_testmode


def test_dense_shapes_dtype_and_aliases():
    layer = Dense(784, 256, σ)
    assert layer.weight.shape == (256, 784) and layer.bias.shape == (256,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    assert layer.W is layer.weight and layer.b is layer.bias
    assert not layer.bias.any()
    y = layer(np.zeros((5, 784), np.float32))
    assert y.shape == (5, 256) and y.dtype == np.float32
    np.testing.assert_allclose(y, 0.5)


def test_dense_takes_its_sizes_as_a_pair():
    layer = Dense((6, 4), relu, rng=0)
    assert layer.weight.shape == (4, 6) and layer.act is relu
    assert Dense((6, 4)).act is identity
    for bad in (lambda: Dense((6, 4, 2), relu), lambda: Dense((6, 4), 5), lambda: Dense(6.0, 4),
                lambda: Dense(6)):
        with pytest.raises(TypeError, match="Dense"):
            bad()


def test_jacobian_with_respect_to_a_model_has_the_model_gradient_structure():
    model = Chain(Dense(3, 4, tanh, rng=0), Dense(4, 2, rng=1))
    model = f64(model)
    x = np.array([0.5, -0.2, 0.9])
    (J,) = zygote.jacobian(lambda m: m(x), model)
    W = model.layers[0].weight
    eps, (i, j) = 1e-6, (2, 1)
    old = W[i, j]
    W[i, j] = old + eps
    up = model(x)
    W[i, j] = old - eps
    down = model(x)
    W[i, j] = old
    assert J["layers"][0]["weight"].shape == (2, 4, 3)
    np.testing.assert_allclose(J["layers"][0]["weight"][:, i, j], (up - down) / (2 * eps), rtol=1e-6)
    np.testing.assert_allclose(J["layers"][1]["bias"], np.eye(2))


def test_dense_forward_matches_formula():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, tanh, rng=rng)
    layer.bias = rng.normal(size=2).astype(np.float32)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    expected = np.tanh(x @ layer.weight.T + layer.bias)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-6)


def test_dense_alias_setters():
    layer = Dense(2, 2)
    layer.W = np.ones((2, 2), np.float32)
    layer.b = np.ones(2, np.float32)
    np.testing.assert_array_equal(layer.weight, 1)
    np.testing.assert_array_equal(layer(np.ones((1, 2), np.float32)), [[3, 3]])


def test_dense_without_bias():
    layer = Dense(3, 2, bias=False)
    assert layer.bias is None
    assert len(params(layer)) == 1
    assert repr(layer) == "Dense(3 => 2, bias=False)"
    x = np.ones((1, 3), np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.weight.T)


def test_dense_init_and_rng_are_used():
    assert not Dense(3, 2, init=zeros32).weight.any()
    a = Dense(3, 2, rng=np.random.default_rng(7)).weight
    b = Dense(3, 2, rng=np.random.default_rng(7)).weight
    np.testing.assert_array_equal(a, b)
    limit = np.sqrt(6 / 5)
    assert np.abs(a).max() <= limit


def test_glorot_uniform_spread():
    w = glorot_uniform(200, 300, rng=0)
    limit = np.sqrt(6 / 500)
    assert w.dtype == np.float32 and np.abs(w).max() <= limit
    assert abs(w.std() - limit / np.sqrt(3)) < 0.01 * limit


def test_dense_rejects_wrong_input_width():
    layer = Dense(784, 10)
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 784\).*\(32, 28, 28\)"):
        layer(np.zeros((32, 28, 28), np.float32))


def test_dense_repr_and_str():
    assert repr(Dense(784, 256, σ)) == "Dense(784 => 256, σ)"
    assert repr(Dense(2, 3)) == "Dense(2 => 3)"
    assert repr(Dense(2, 3, relu)) == "Dense(2 => 3, relu)"
    assert str(Dense(784, 256, relu)) == "Dense(784 => 256, relu)  # 200_960 parameters"


def test_chain_calls_in_order_and_accepts_functions():
    model = Chain(lambda x: x + 1, lambda x: x * 3)
    assert model(np.array(1.0)) == 6.0


def test_chain_indexing_slicing_iteration():
    first, second = Dense(4, 3), Dense(3, 2)
    model = Chain(first, second, softmax)
    assert model[0] is first and model[-1] is softmax
    assert len(model) == 3 and list(model) == [first, second, softmax]
    head = model[:2]
    assert isinstance(head, Chain) and head.layers == (first, second)
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(model(x), softmax(head(x)))


def test_chain_repr_and_parameter_count():
    model = Chain(Dense(784, 256, σ), Dense(256, 128, σ), Dense(128, 10, σ), softmax)
    assert repr(model) == ("Chain(Dense(784 => 256, σ), Dense(256 => 128, σ), "
                           "Dense(128 => 10, σ), softmax)")
    text = str(model)
    assert "# 200_960 parameters" in text
    assert text.endswith("# total: 235_146 parameters in 6 arrays")


def test_flatten():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(flatten(x), x.reshape(2, 12))


def test_dropout_modes():
    x = np.ones((50, 20))
    layer = Dropout(0.4, rng=0)
    np.testing.assert_array_equal(layer(x), x)          # automatic mode, outside train
    trainmode(layer)
    y = layer(x)
    assert set(np.unique(y)) <= {0.0, 1 / 0.6}
    assert 0.3 < np.mean(y == 0) < 0.5
    assert not np.array_equal(y, layer(x))              # a fresh mask each call
    to_testmode(layer)
    np.testing.assert_array_equal(layer(x), x)
    trainmode(layer, None)
    assert layer.active is None


def test_dropout_keeps_dtype_and_rejects_bad_probability():
    y = Dropout(0.5, active=True, rng=0)(np.ones(8, np.float32))
    assert y.dtype == np.float32
    with pytest.raises(ValueError):
        Dropout(1.0)


# ------------------------------------------------------------ gradients ----------

@pytest.mark.parametrize("act", [identity, relu, sigmoid, tanh, elu, gelu],
                         ids=lambda f: f.__name__)
def test_dense_gradient_parameters(act, check_model_grad):
    layer = f64(Dense(3, 2, act, rng=1))
    layer.bias = np.array([0.1, -0.2])
    x = np.random.default_rng(2).normal(size=(4, 3))
    check_model_grad(lambda m: m(x), layer)


def test_dense_gradient_input(check_grad):
    layer = f64(Dense(3, 2, tanh, rng=1))
    check_grad(lambda x: layer(x), np.random.default_rng(3).normal(size=(4, 3)))


def test_dense_without_bias_gradient(check_model_grad):
    layer = f64(Dense(3, 2, sigmoid, bias=False, rng=1))
    x = np.random.default_rng(4).normal(size=(2, 3))
    grads = check_model_grad(lambda m: m(x), layer)
    assert grads.get("bias") is None


def test_chain_gradient(check_model_grad):
    model = f64(Chain(Dense(4, 3, tanh, rng=1), Dense(3, 3, rng=2), softmax))
    x = np.random.default_rng(5).normal(size=(2, 4))
    grads = check_model_grad(lambda m: m(x), model)
    assert isinstance(grads["layers"], tuple) and len(grads["layers"]) == 3


def test_chain_with_flatten_gradient(check_grad):
    model = f64(Chain(flatten, Dense(6, 2, tanh, rng=1)))
    check_grad(lambda x: model(x), np.random.default_rng(6).normal(size=(3, 2, 3)))


def test_implicit_params_gradient_indexed_by_array():
    model = Chain(Dense(4, 3, σ, rng=1), Dense(3, 2, rng=2), softmax)
    x = np.random.default_rng(7).normal(size=(5, 4)).astype(np.float32)
    gs = zygote.gradient(lambda: model(x).sum(), params(model))
    assert gs[model[0].W].shape == (3, 4)
    (explicit,) = zygote.gradient(lambda m: m(x).sum(), model)
    np.testing.assert_allclose(gs[model[0].W], explicit["layers"][0]["weight"], rtol=1e-5)


def test_loss_gradient_of_classifier(check_model_grad):
    model = f64(Chain(Dense(4, 5, relu, rng=1), Dense(5, 3, rng=2)))
    x = np.random.default_rng(8).normal(size=(6, 4))
    y = onehotbatch([0, 1, 2, 0, 1, 2], range(3))
    check_model_grad(lambda m: logitcrossentropy(m(x), y), model)


def test_dropout_gradient_is_the_mask():
    layer = Dropout(0.5, active=True)
    x = np.random.default_rng(9).normal(size=(4, 6))
    w = np.random.default_rng(10).normal(size=(4, 6))
    layer.rng = np.random.default_rng(11)
    (dx,) = zygote.gradient(lambda x: np.sum(layer(x) * w), x)
    layer.rng = np.random.default_rng(11)
    mask = layer(np.ones_like(x))
    np.testing.assert_allclose(dx, w * mask)
