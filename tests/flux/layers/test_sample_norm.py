"""Tests for flux.layers.sample_norm: GroupNorm and InstanceNorm against their formulas and central differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux import BatchNorm, GroupNorm, InstanceNorm, LayerNorm, f64, tanh, trainmode

EPS = 1e-5


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def with_uneven_affine(layer, seed=3):
    layer = f64(layer)
    channels = layer.channels
    layer.scale = np.random.default_rng(seed).uniform(0.5, 2.0, channels)
    layer.bias = normal(channels, seed + 1)
    return layer


def group_reference(x, groups, scale, bias):
    n, c = x.shape[0], x.shape[-1]
    y = np.empty_like(x)
    size = c // groups
    for i in range(n):
        for g in range(groups):
            part = x[i, ..., g * size:(g + 1) * size]
            y[i, ..., g * size:(g + 1) * size] = (part - part.mean()) / np.sqrt(part.var() + EPS)
    return y * scale + bias


@pytest.mark.parametrize("shape, groups", [((3, 6), 2), ((2, 4, 6), 3), ((2, 3, 3, 4), 2),
                                           ((2, 2, 2, 4), 4)])
def test_groupnorm_is_the_formula(shape, groups, check_model_grad, check_grad):
    layer = with_uneven_affine(GroupNorm(shape[-1], groups, tanh))
    x = normal(shape, 5) * 2 + 1
    np.testing.assert_allclose(layer(x), np.tanh(group_reference(x, groups, layer.scale, layer.bias)),
                               rtol=1e-10, atol=1e-12)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 3), st.lists(st.integers(1, 4), min_size=0, max_size=2), st.integers(1, 4),
       st.integers(1, 3))
def test_groupnorm_matches_the_loop_for_any_shape(n, spatial, groups, per_group):
    channels = groups * per_group
    shape = (n, *spatial, channels)
    x = np.random.default_rng(len(shape) + channels).normal(size=shape)
    layer = GroupNorm(channels, groups, affine=False)
    np.testing.assert_allclose(layer(x), group_reference(x, groups, 1.0, 0.0), rtol=1e-9, atol=1e-9)


def test_groupnorm_special_cases_are_layernorm_and_instancenorm():
    x = normal((3, 4, 4, 6), 2)
    whole = GroupNorm(6, 1, affine=False)(x)
    flat = LayerNorm(4 * 4 * 6, affine=False)(x.reshape(3, -1)).reshape(x.shape)
    np.testing.assert_allclose(whole, flat, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(GroupNorm(6, 6, affine=False)(x), InstanceNorm(6)(x), rtol=1e-12)


def test_groupnorm_mixes_no_samples():
    layer = GroupNorm(4, 2)
    x = normal((5, 3, 4), 1)
    np.testing.assert_allclose(layer(x)[:2], layer(x[:2]), rtol=1e-12)


def test_groupnorm_errors_and_repr():
    with pytest.raises(ValueError, match="6 channels do not split into 4 groups"):
        GroupNorm(6, 4)
    layer = GroupNorm(4, 2)
    with pytest.raises(ValueError, match=r"\(N, \.\.\., 4\).*\(2, 3\)"):
        layer(np.ones((2, 3)))
    assert repr(GroupNorm(4, 2, tanh, affine=False)) == "GroupNorm(4, 2, tanh, affine=False)"
    assert str(layer) == "GroupNorm(4, 2)  # 8 parameters"
    assert layer(np.ones((2, 3, 4), np.float32)).dtype == np.float32


@pytest.mark.parametrize("shape", [(3, 5, 2), (2, 3, 4, 3)], ids=["NLC", "NHWC"])
def test_instancenorm_is_the_formula(shape, check_model_grad, check_grad):
    layer = with_uneven_affine(InstanceNorm(shape[-1], tanh, affine=True))
    x = normal(shape, 6) * 3 - 1
    axes = tuple(range(1, len(shape) - 1))
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    expected = np.tanh((x - mean) / np.sqrt(var + EPS) * layer.scale + layer.bias)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-10)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_instancenorm_without_affine_has_no_parameters(check_grad):
    layer = InstanceNorm(3)
    assert layer.scale is None and str(layer) == "InstanceNorm(3)  # 0 parameters"
    check_grad(lambda x: layer(x), normal((2, 4, 3), 1))


def test_instancenorm_differs_from_batchnorm_and_wants_a_spatial_axis():
    x = normal((4, 3, 3, 2), 1)
    assert not np.allclose(InstanceNorm(2)(x), trainmode(BatchNorm(2))(x))
    with pytest.raises(ValueError, match="at least one axis between batch and channels"):
        InstanceNorm(2)(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"\(N, \.\.\., 2\)"):
        InstanceNorm(2)(np.ones((4, 3, 3)))


def instance_running_reference(batches, momentum):
    """The running mean and variance after ``batches``, by a loop over samples and channels."""
    channels = batches[0].shape[-1]
    mean, var = np.zeros(channels), np.ones(channels)
    for x in batches:
        pixels = x[..., 0].size // len(x)
        means = [[x[i, ..., c].mean() for c in range(channels)] for i in range(len(x))]
        variances = [[x[i, ..., c].var() * pixels / (pixels - 1) for c in range(channels)]
                     for i in range(len(x))]
        mean = (1 - momentum) * mean + momentum * np.mean(means, axis=0)
        var = (1 - momentum) * var + momentum * np.mean(variances, axis=0)
    return mean, var


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.lists(st.integers(1, 3), min_size=1, max_size=2).filter(
    lambda s: np.prod(s) > 1), st.integers(1, 3), st.sampled_from([0.1, 0.5, 1.0]))
def test_instancenorm_running_statistics_follow_the_loop(n, spatial, channels, momentum):
    layer = f64(InstanceNorm(channels, track_stats=True, momentum=momentum)).train()
    rng = np.random.default_rng(n + 10 * channels)
    batches = [rng.normal(2.0, 3.0, (n, *spatial, channels)) for _ in range(3)]
    for x in batches:
        np.testing.assert_allclose(layer(x), InstanceNorm(channels)(x), rtol=1e-10, atol=1e-12)
    mean, var = instance_running_reference(batches, momentum)
    np.testing.assert_allclose(layer.running_mean, mean, rtol=1e-10)
    np.testing.assert_allclose(layer.running_var, var, rtol=1e-10)


def test_instancenorm_tracked_statistics_in_test_mode(check_grad, check_model_grad):
    layer = with_uneven_affine(InstanceNorm(3, tanh, affine=True, track_stats=True))
    layer.running_mean, layer.running_var = normal(3, 7), np.array([0.5, 1.0, 2.0])
    layer.eval()
    x = normal((4, 5, 3), 8)
    expected = np.tanh((x - layer.running_mean) / np.sqrt(layer.running_var + EPS)
                       * layer.scale + layer.bias)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)
    np.testing.assert_allclose(layer(x[:1]), layer(x)[:1], rtol=1e-12)   # no sample sees another
    before = layer.running_mean.copy()
    check_grad(lambda x: layer(x), x)
    check_model_grad(lambda m: m(x), layer)
    np.testing.assert_array_equal(layer.running_mean, before)   # test mode leaves them alone
    assert repr(layer) == "InstanceNorm(3, tanh, affine=True, track_stats=True)"
    assert str(layer).endswith("# 6 parameters, plus 6 non-trainable")


def test_instancenorm_tracking_trains_by_the_samples_own_statistics(check_grad):
    layer = f64(InstanceNorm(2, track_stats=True))
    x = normal((3, 4, 2), 9)
    check_grad(lambda x: trainmode(layer)(x), x)
    np.testing.assert_allclose(layer(x), InstanceNorm(2)(x), rtol=1e-10, atol=1e-12)
    assert not np.allclose(layer.eval()(x), InstanceNorm(2)(x))
