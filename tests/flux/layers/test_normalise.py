"""Tests for flux.layers.normalise: BatchNorm (train and test mode, running statistics) and LayerNorm."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zygote
import flux
from flux import (BatchNorm, Chain, Dense, LayerNorm, f64, fmap, logitcrossentropy, onehotbatch,
                  params, relu, tanh, trainmode)
from flux import testmode as to_testmode
from zygote.testing import check_grad as check_directions, weighted_sum

EPS = 1e-5


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def batchnorm64(channels, act=tanh, seed=3, **kwargs):
    """A float64 BatchNorm with uneven scale and shift, so that neither hides a bug."""
    layer = f64(BatchNorm(channels, act, **kwargs))
    if layer.scale is not None:
        layer.scale = np.random.default_rng(seed).uniform(0.5, 2.0, channels)
        layer.bias = normal(channels, seed + 1)
    return layer


def reference(x, mean, var, scale, bias):
    return (x - mean) / np.sqrt(var + EPS) * scale + bias


# ------------------------------------------------------------ BatchNorm forward ----------

@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 5, 3)], ids=["NC", "NHWC"])
def test_batchnorm_train_mode_uses_batch_statistics(shape):
    layer = trainmode(batchnorm64(3, flux.identity))
    x = normal(shape) * 3 + 2
    axes = tuple(range(len(shape) - 1))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    np.testing.assert_allclose(layer(x), reference(x, mean, var, layer.scale, layer.bias),
                               rtol=1e-10)


@pytest.mark.parametrize("shape", [(6, 3), (4, 5, 5, 3)], ids=["NC", "NHWC"])
def test_batchnorm_running_statistics_follow_numpy(shape):
    layer = trainmode(BatchNorm(3, momentum=0.25))
    axes = tuple(range(len(shape) - 1))
    count = np.prod(shape[:-1])
    expected_mean, expected_var = np.zeros(3), np.ones(3)
    for seed in range(3):
        x = (normal(shape, seed) * (seed + 1) + seed).astype(np.float32)
        layer(x)
        expected_mean = 0.75 * expected_mean + 0.25 * x.mean(axis=axes)
        # the running variance is the unbiased one
        expected_var = 0.75 * expected_var + 0.25 * x.var(axis=axes) * count / (count - 1)
    np.testing.assert_allclose(layer.running_mean, expected_mean, rtol=1e-5)
    np.testing.assert_allclose(layer.running_var, expected_var, rtol=1e-5)
    assert layer.running_mean.dtype == np.float32


def test_batchnorm_test_mode_uses_running_statistics_and_leaves_them():
    layer = batchnorm64(4, flux.identity)
    layer.running_mean, layer.running_var = normal(4, 5), np.array([0.5, 1.0, 2.0, 4.0])
    before = layer.running_mean.copy(), layer.running_var.copy()
    x = normal((3, 4))
    to_testmode(layer)
    expected = reference(x, layer.running_mean, layer.running_var, layer.scale, layer.bias)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-10)
    np.testing.assert_array_equal(layer.running_mean, before[0])
    np.testing.assert_array_equal(layer.running_var, before[1])
    # each sample alone gives its own row: no statistics are shared across the batch
    np.testing.assert_allclose(layer(x[:1]), expected[:1], rtol=1e-10)


def test_batchnorm_automatic_mode_follows_flux_train():
    layer = BatchNorm(2)
    x = normal((8, 2)).astype(np.float32) + 5
    np.testing.assert_allclose(layer(x), x / np.sqrt(1 + EPS), rtol=1e-6)   # outside train
    assert not layer.running_mean.any()
    model = Chain(Dense(2, 2, rng=0), layer)
    flux.train(lambda x: np.sum(model(x) ** 2), params(model), [(x,)], flux.Descent(0.01),
               progress=False)
    assert layer.running_mean.any()                         # it updated inside flux.train
    assert layer.active is None


def test_batchnorm_without_tracking_always_uses_the_batch():
    layer = to_testmode(BatchNorm(3, track_stats=False))
    assert layer.running_mean is None and repr(layer) == "BatchNorm(3, track_stats=False)"
    x = normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(layer(x), (x - x.mean(0)) / np.sqrt(x.var(0) + EPS), rtol=1e-5)


def test_batchnorm_without_affine_has_no_parameters():
    layer = BatchNorm(3, affine=False)
    assert layer.scale is None and len(params(layer)) == 0
    assert repr(layer) == "BatchNorm(3, affine=False)"
    assert str(layer) == "BatchNorm(3, affine=False)  # 0 parameters, plus 6 non-trainable"


def test_batchnorm_keeps_float32_in_both_modes():
    layer = BatchNorm(3, relu)
    x = normal((4, 2, 2, 3)).astype(np.float32)
    for mode in (trainmode, to_testmode):
        mode(layer)
        assert layer(x).dtype == np.float32
        (g,) = zygote.gradient(lambda m: np.sum(m(x) * x), layer)
        assert g["scale"].dtype == np.float32 and g["bias"].dtype == np.float32
        (dx,) = zygote.gradient(lambda x: np.sum(layer(x) * x), x)
        assert dx.dtype == np.float32


def test_batchnorm_rejects_wrong_channels_and_ndim():
    with pytest.raises(ValueError, match=r"BatchNorm\(3\) expects .*\(N, \.\.\., 3\).*\(4, 5\)"):
        BatchNorm(3)(np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"received an array of shape \(3,\)"):
        BatchNorm(3)(np.zeros(3, np.float32))


def test_batchnorm_repr_str_params_and_conversion():
    layer = BatchNorm(64, relu)
    assert repr(layer) == "BatchNorm(64, relu)"
    assert str(layer) == "BatchNorm(64, relu)  # 128 parameters, plus 128 non-trainable"
    assert [p.shape for p in params(layer)] == [(64,), (64,)]
    wide = f64(layer)
    assert wide.running_mean.dtype == np.float64 and wide.scale.dtype == np.float64
    assert wide.running_mean is not layer.running_mean
    doubled = fmap(lambda a: a * 2, layer)
    np.testing.assert_array_equal(doubled.running_var, 2)
    model = Chain(Dense(3, 4), BatchNorm(4))
    assert str(model).endswith("# total: 24 parameters in 4 arrays, plus 8 non-trainable")


def test_batchnorm_running_statistics_are_saved_and_loaded(tmp_path):
    source = trainmode(BatchNorm(3))
    source(normal((10, 3)).astype(np.float32) + 1)
    flux.save(tmp_path / "bn.npz", source)
    target = BatchNorm(3)
    flux.load(tmp_path / "bn.npz", target)
    np.testing.assert_array_equal(target.running_mean, source.running_mean)
    np.testing.assert_array_equal(target.running_var, source.running_var)


# ------------------------------------------------------------ BatchNorm gradients ----------

@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 2, 3), (2, 3)], ids=["NC", "NHWC", "N2"])
def test_batchnorm_train_gradient_parameters_and_input(shape, check_model_grad, check_grad):
    layer = trainmode(batchnorm64(3))
    x = normal(shape, 7)
    # Every call below also moves the running statistics; train mode never reads them, so
    # the finite differences see the same function throughout.
    before = layer(x)
    layer.running_mean += 100.0
    np.testing.assert_array_equal(layer(x), before)
    grads = check_model_grad(lambda m: m(x), layer)
    assert set(grads) >= {"scale", "bias"} and grads.get("running_mean") is None
    check_grad(lambda x: layer(x), x)


def test_batchnorm_train_gradient_is_not_the_frozen_statistics_gradient():
    layer = trainmode(batchnorm64(2, flux.identity))
    x, w = normal((4, 2), 1), normal((4, 2), 2)
    (dx_train,) = zygote.gradient(lambda x: np.sum(layer(x) * w), x)
    # Through the batch statistics, a uniform shift of a channel changes nothing.
    np.testing.assert_allclose(dx_train.sum(axis=0), 0, atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (2, 2, 3, 3)], ids=["NC", "NHWC"])
def test_batchnorm_test_gradient_parameters_and_input(shape, check_model_grad, check_grad):
    layer = batchnorm64(3)
    layer.running_mean, layer.running_var = normal(3, 8), np.array([0.5, 1.5, 3.0])
    to_testmode(layer)
    x = normal(shape, 9)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_batchnorm_without_affine_gradient(check_grad):
    layer = trainmode(f64(BatchNorm(2, tanh, affine=False)))
    check_grad(lambda x: layer(x), normal((3, 2, 2), 4))


def test_batchnorm_in_a_trained_classifier():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32) * 5 + 3
    labels = (x[:, 0] > 3).astype(int)
    y = onehotbatch(labels, range(2))
    model = Chain(Dense(4, 8, rng=1), BatchNorm(8, relu), Dense(8, 2, rng=2))
    loss = lambda x, y: logitcrossentropy(model(x), y)  # noqa: E731
    first = flux.train(loss, params(model), [(x, y)] * 20, flux.Adam(0.05), progress=False)
    last = flux.train(loss, params(model), [(x, y)] * 20, flux.Adam(0.05), progress=False)
    assert last < first / 2
    to_testmode(model)
    assert np.mean(np.argmax(model(x), axis=1) == labels) > 0.9


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(1, 3), min_size=1, max_size=3), st.integers(1, 4), st.booleans())
def test_batchnorm_gradient_property(check_model_grad, leading, channels, training):
    shape = (2, *leading[1:], channels)                  # at least two values per channel
    layer = batchnorm64(channels)
    layer.active = training
    layer.running_var = np.linspace(0.5, 2, channels)
    x = normal(shape, sum(shape))
    check_directions(lambda x: weighted_sum(layer(x)), x)
    check_model_grad(lambda m: m(x), layer)


# ------------------------------------------------------------ LayerNorm ----------

@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_layernorm_forward(shape):
    layer = f64(LayerNorm(5))
    layer.scale, layer.bias = normal(5, 1), normal(5, 2)
    x = normal(shape) * 4 + 1
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    np.testing.assert_allclose(layer(x), reference(x, mean, var, layer.scale, layer.bias),
                               rtol=1e-10)
    assert to_testmode(layer)(x).shape == shape          # no mode: the same function


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5), (5,)])
def test_layernorm_gradient(shape, check_model_grad, check_grad):
    layer = f64(LayerNorm(5, tanh))
    layer.scale, layer.bias = normal(5, 3) + 1, normal(5, 4)
    x = normal(shape, 5)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_layernorm_without_affine_float32_and_errors(check_grad):
    layer = LayerNorm(3, affine=False)
    assert repr(layer) == "LayerNorm(3, affine=False)" and len(params(layer)) == 0
    x = normal((2, 3)).astype(np.float32)
    assert layer(x).dtype == np.float32
    (dx,) = zygote.gradient(lambda x: np.sum(LayerNorm(3)(x) * x), x)
    assert dx.dtype == np.float32
    check_grad(lambda x: f64(layer)(x), normal((2, 3)))
    with pytest.raises(ValueError, match=r"LayerNorm\(3, affine=False\) expects .*\(\.\.\., 3\)"
                                         r".*\(2, 4\)"):
        layer(np.zeros((2, 4)))
    assert str(LayerNorm(8, relu)) == "LayerNorm(8, relu)  # 16 parameters"
