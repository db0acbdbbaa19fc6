"""Minimal reproducers of numpy-surface bugs: silent zeros and crashes that once happened."""
import numpy as np
import pytest

import zygote
from zygote.testing import check_grad, weighted_sum


@pytest.mark.parametrize("name, f, x", [
    ("r_", lambda x: np.sum(np.r_[x, x] ** 2), np.array([1.0, 2.0])),
    ("c_", lambda x: np.sum(np.c_[x, 2.0 * x] ** 2), np.array([1.0, 2.0])),
    ("linspace", lambda a: np.sum(np.linspace(a, 3.0, 5) ** 2), 1.0),
])
def test_what_once_gave_a_silent_none_now_matches_differences(name, f, x):
    (dx,) = check_grad(f, x)
    assert dx is not None


def test_sum_of_a_zero_dimensional_array_of_a_numpy_scalar():
    assert zygote.gradient(lambda x: np.sum(np.array(x)) * 3.0, np.float64(2.0)) == (3.0,)
    assert zygote.gradient(lambda x: np.sum(np.array(np.float64(3.0)) * x), 2.0) == (3.0,)


def test_item_of_a_numpy_scalar():
    (dx,) = zygote.gradient(lambda x: (x * 2.0).item() * x, np.float64(1.5))
    assert dx == pytest.approx(6.0)
    value, _ = zygote.withgradient(lambda x: (x * 2.0).item(), np.float64(1.5))
    assert type(value) is float and value == 3.0


def test_sorted_keys_of_a_dict_argument():
    def total(d):
        s = 0.0
        for k in sorted(d):
            s = s + d[k] * len(k)
        return s
    assert zygote.gradient(total, {"a": 1.0, "bb": 2.0}) == ({"a": 1.0, "bb": 2.0},)


def test_second_derivative_of_remainder_in_its_divisor():
    # d/dy (x % y) = -floor(x / y), piecewise constant: the second derivative is 0
    (d2,) = zygote.gradient(lambda y: zygote.gradient(lambda y: 5.0 % y, y)[0], 1.5)
    assert d2 == 0.0
    (d2x,) = zygote.gradient(lambda x: zygote.gradient(lambda x: x % 1.5 * x, x)[0], 5.0)
    assert d2x == pytest.approx(2.0)


def test_a_weighted_subscript_key_of_a_constant_array_passes_nothing_back():
    table = np.arange(6.0)
    dx, _ = zygote.gradient(lambda x, i: weighted_sum(table[i] * x), 2.0, 3)
    assert dx == pytest.approx(table[3] * np.random.default_rng(0).uniform(0.5, 2.0, ()))


def test_take_along_axis_with_indices_broadcast_along_the_other_axes():
    # the indices' single row is read from every row of x
    x, w = u33(), np.array([[1.0, 2.0, 3.0]])
    (dx,) = check_grad(lambda x: np.sum(np.take_along_axis(x, np.array([[2, 0, 2]]), axis=1) * w), x)
    assert np.array_equal(dx, np.array([[2.0, 0.0, 4.0]] * 3))


def u33():
    return np.random.default_rng(3).normal(size=(3, 3))
