"""Tests for the initialisers: shapes, dtypes, the distributions' scales, reproducibility."""

import math

import numpy as np
import pytest

import flux

INITIALISERS = [flux.glorot_uniform, flux.glorot_normal, flux.kaiming_uniform,
                flux.kaiming_normal, flux.truncated_normal, flux.orthogonal, flux.randn32]


@pytest.mark.parametrize("init", INITIALISERS, ids=lambda f: f.__name__)
def test_shape_dtype_and_seed(init):
    w = init(6, 4, 3, 3, rng=0)
    assert w.shape == (6, 4, 3, 3) and w.dtype == np.float32
    np.testing.assert_array_equal(w, init(6, 4, 3, 3, rng=0))
    assert not np.array_equal(w, init(6, 4, 3, 3, rng=1))


def test_kaiming_scales_with_fan_in():
    fan_in = 300
    uniform = flux.kaiming_uniform(400, fan_in, rng=0)
    bound = math.sqrt(2) * math.sqrt(3 / fan_in)
    assert np.abs(uniform).max() <= bound
    assert np.abs(uniform).max() > 0.99 * bound
    assert uniform.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    normal = flux.kaiming_normal(400, fan_in, rng=0)
    assert normal.std() == pytest.approx(math.sqrt(2 / fan_in), rel=0.02)
    assert flux.kaiming_normal(400, fan_in, gain=1.0, rng=0).std() == pytest.approx(
        math.sqrt(1 / fan_in), rel=0.02)
    # a kernel's receptive field multiplies the fan-in
    assert flux.kaiming_normal(64, 16, 5, 5, rng=0).std() == pytest.approx(
        math.sqrt(2 / 400), rel=0.03)


def test_truncated_normal_stays_inside_and_matches_the_truncated_moments():
    w = flux.truncated_normal(200_000, mean=1.0, std=2.0, lo=0.0, hi=2.0, rng=0).astype(np.float64)
    assert w.min() >= 0.0 and w.max() <= 2.0
    # truncation at ±k = ±0.5 std about the mean: mean 1, std 2·√(1 - 2kφ(k)/(2Φ(k) - 1))
    phi = math.exp(-0.125) / math.sqrt(2 * math.pi)
    mass = math.erf(0.5 / math.sqrt(2))
    expected_std = 2.0 * math.sqrt(1 - 2 * 0.5 * phi / mass)
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.std() == pytest.approx(expected_std, rel=0.01)


def test_truncated_normal_refuses_hopeless_intervals():
    with pytest.raises(ValueError, match="lo < hi"):
        flux.truncated_normal(3, lo=1.0, hi=1.0)
    with pytest.raises(ValueError, match="redrawing would not end"):
        flux.truncated_normal(3, lo=10.0, hi=11.0)


@pytest.mark.parametrize("dims", [(3, 7), (7, 3), (5, 5), (4, 2, 3)])
def test_orthogonal_rows_or_columns(dims):
    w = flux.orthogonal(*dims, gain=2.0, rng=0).astype(np.float64).reshape(dims[0], -1)
    small = min(w.shape)
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-5)


def test_orthogonal_needs_a_matrix():
    with pytest.raises(ValueError, match="at least two dimensions"):
        flux.orthogonal(4)


def test_initialisers_plug_into_dense():
    layer = flux.Dense(5, 3, init=flux.orthogonal, rng=0)
    np.testing.assert_allclose(layer.weight @ layer.weight.T, np.eye(3), atol=1e-6)
