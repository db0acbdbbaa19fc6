"""Gradient checks of the rules for numpy's helpers that apply a Python function
(``np.vectorize``, ``np.apply_along_axis``), and of functools caches around a function."""
import functools
import math

import numpy as np
import pytest

import zygote
from zygote.testing import check_grad, weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
)

TABLE = SampleTable(23)
SAMPLES, sample, u, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.rng

bump = np.vectorize(lambda t, s: math.sin(t) * s + t * t)


def scaled_bump(x, c):
    made = np.vectorize(lambda t: math.tanh(t * c))  # closes over a differentiated value
    return weighted_sum(made(x))


def row_energy(v):
    return np.sum(v ** 2) * v[0]


def row_features(v, w):
    return np.array([np.sum(v * w), v[-1] ** 2, np.prod(v)])


sample(np.vectorize, scaled_bump, u(3), 0.7, mirrors=False, dynamic=False)
sample(np.vectorize.__call__, lambda x, s: weighted_sum(bump(x, s)), u(2, 3), u(3), mirrors=False,
       dynamic=False)
sample(np.apply_along_axis, lambda a: weighted_sum(np.apply_along_axis(row_energy, 1, a)), u(3, 4),
       mirrors=False, dynamic=False)
sample(np.apply_along_axis, lambda a, w: weighted_sum(np.apply_along_axis(row_features, 0, a, w)), u(4, 2),
       u(4), mirrors=False, dynamic=False)


def test_values_are_numpy_s():
    a = RNG.uniform(-1, 1, (3, 4, 2))
    for axis in (0, 1, -1):
        w = RNG.uniform(-1, 1, a.shape[axis])
        ours, _ = zygote.pullback(lambda x: np.apply_along_axis(row_features, axis, x, w), a)
        assert np.allclose(ours, np.apply_along_axis(row_features, axis, a, w))
    x = RNG.uniform(-1, 1, (2, 3))
    assert np.allclose(zygote.pullback(lambda v: bump(v, 2.0), x)[0], bump(x, 2.0))


def test_apply_along_axis_on_any_axis_matches_differences():
    a = RNG.uniform(-1, 1, (3, 4, 2))
    for axis in (0, 1, 2, -2):
        check_grad(lambda x: weighted_sum(np.apply_along_axis(row_energy, axis, x)), a)


def test_vectorize_with_a_signature_is_refused_clearly():
    with_signature = np.vectorize(lambda v: v * 2, signature="(n)->(n)")
    with pytest.raises(zygote.UnsupportedSyntaxError, match="np.vectorize with a signature"):
        zygote.gradient(lambda x: np.sum(with_signature(x)), np.ones(3))


CALLS = []


@functools.lru_cache(maxsize=None)
def cached_square(x):
    CALLS.append("call")
    return x * x


@functools.cache
def fibonacci(n):
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def test_a_cached_function_is_differentiated_through_what_it_wraps():
    CALLS.clear()
    cached_square.cache_clear()
    f = lambda x: cached_square(x) * fibonacci(10) + cached_square(x)  # noqa: E731
    assert zygote.gradient(f, 1.5) == (2 * 1.5 * 56,)
    # The cache is bypassed: every call ran the function, and none was stored.
    assert CALLS == ["call", "call"] and cached_square.cache_info().currsize == 0
    check_grad(f, 0.7)
