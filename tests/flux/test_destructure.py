"""Tests for flux.destructure: the flat vector, rebuilding, and gradients in both directions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flux
import zygote
from zygote.testing import check_grad

RNG = np.random.default_rng(11)
X = RNG.normal(size=(5, 3))


def model():
    return flux.f64(flux.Chain(flux.Dense(3, 4, flux.tanh, rng=0), flux.Dense(4, 2, rng=1)))


def test_flat_holds_every_trainable_array_once_in_order():
    m = model()
    flat, rebuild = flux.destructure(m)
    arrays = list(flux.params(m))
    np.testing.assert_array_equal(flat, np.concatenate([a.ravel() for a in arrays]))
    assert flat.dtype == np.float64 and rebuild.length == flat.size == 3 * 4 + 4 + 4 * 2 + 2


def test_rebuild_round_trips_and_copies():
    m = model()
    flat, rebuild = flux.destructure(m)
    copy = rebuild(flat)
    np.testing.assert_array_equal(copy(X), m(X))
    assert copy[0].weight is not m[0].weight
    flat[0] = 99.0
    assert copy[0].weight[0, 0] != 99.0 and m[0].weight[0, 0] != 99.0
    zero = rebuild(np.zeros_like(flat))
    np.testing.assert_array_equal(zero(X), np.zeros((5, 2)))


def test_rebuild_keeps_dtypes_and_shares_untrained_arrays():
    m = flux.Chain(flux.Dense(3, 2, rng=0), flux.BatchNorm(2))
    flat, rebuild = flux.destructure(m)
    assert flat.dtype == np.float32
    copy = rebuild(flat.astype(np.float64))
    assert copy[0].weight.dtype == np.float32
    assert copy[1].running_mean is m[1].running_mean


def test_tied_arrays_appear_once_and_stay_tied():
    shared = flux.f64(flux.Dense(3, 3, flux.tanh, rng=0))
    m = flux.Chain(shared, shared)
    flat, rebuild = flux.destructure(m)
    assert flat.size == 12
    copy = rebuild(flat * 2)
    assert copy[0] is copy[1]


def test_wrong_lengths_are_refused():
    _, rebuild = flux.destructure(model())
    with pytest.raises(ValueError, match=r"vector of 26 numbers, got an array of shape \(25,\)"):
        rebuild(np.zeros(25))


def test_gradient_through_rebuild_matches_differences():
    m = model()
    flat, rebuild = flux.destructure(m)
    weights = RNG.uniform(0.5, 1.5, size=(5, 2))
    check_grad(lambda v: np.sum(np.sin(rebuild(v)(X)) * weights), flat)


def test_gradient_through_rebuild_of_a_tied_model_adds_both_uses():
    shared = flux.f64(flux.Dense(3, 3, flux.tanh, rng=0))
    flat, rebuild = flux.destructure(flux.Chain(shared, shared))
    check_grad(lambda v: np.sum(np.sin(rebuild(v)(X)) * np.arange(1.0, 4.0)), flat)


def test_gradient_of_the_flat_vector_goes_back_to_the_model(check_model_grad):
    weights = RNG.uniform(0.5, 1.5, size=26)
    check_model_grad(lambda m: flux.destructure(m)[0] * weights, model())


def test_gradient_with_respect_to_the_flat_vector_equals_the_models():
    m = model()
    flat, rebuild = flux.destructure(m)
    (dflat,) = zygote.gradient(lambda v: flux.mse(rebuild(v)(X), np.zeros((5, 2))), flat)
    (dm,) = flux.gradient(lambda m: flux.mse(m(X), np.zeros((5, 2))), m)
    np.testing.assert_allclose(dflat[:12], dm["layers"][0]["weight"].ravel(), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=4), st.integers(0, 1000))
def test_round_trip_and_gradient_for_any_widths(widths, seed):
    layers = [flux.Dense(a, b, flux.tanh, rng=seed + i)
              for i, (a, b) in enumerate(zip(widths, widths[1:]))]
    m = flux.f64(flux.Chain(*layers))
    flat, rebuild = flux.destructure(m)
    assert flat.size == sum(b * a + b for a, b in zip(widths, widths[1:]))
    x = np.random.default_rng(seed).normal(size=(3, widths[0]))
    np.testing.assert_array_equal(rebuild(flat)(x), m(x))
    assert flux.outputsize(m, x.shape) == (3, widths[-1])
    weights = np.random.default_rng(seed + 1).uniform(0.5, 1.5, size=(3, widths[-1]))
    check_grad(lambda v: np.sum(np.sin(rebuild(v)(x)) * weights), flat)
