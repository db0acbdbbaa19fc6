"""Tests of zygote.testing: check_grad accepts right gradients, rejects wrong ones, and says where."""
import numpy as np
import pytest

import zygote
from zygote.rules import RULES
from zygote.testing import check_grad, output_weights, weighted_sum


def doubled(x):
    return 2.0 * x


@pytest.fixture
def wrong_rule():
    """Register a rule for ``doubled`` whose adjoint is 3·dy instead of 2·dy; remove it afterwards."""
    zygote.adjoint(doubled)(lambda x: (2.0 * x, lambda dy: (3.0 * dy,)))
    yield
    RULES.pop(doubled)


def test_returns_the_gradient_of_float64_copies():
    x = np.array([0.5, 1.0], dtype=np.float32)
    (grad,) = check_grad(lambda x: np.sum(np.sin(x) * np.array([1.0, 2.0])), x)
    assert grad.dtype == np.float64
    np.testing.assert_allclose(grad, np.cos([0.5, 1.0]) * [1.0, 2.0])
    assert x.dtype == np.float32  # the caller's array is left alone


def test_a_wrong_gradient_is_reported_with_its_argument(wrong_rule):
    with pytest.raises(AssertionError, match=r"argument 1: .*max abs error 1"):
        check_grad(lambda a, b: a * doubled(b), 1.0, 2.0)


def test_a_wrong_gradient_of_a_large_input_is_caught_along_directions(wrong_rule):
    with pytest.raises(AssertionError, match=r"argument 0, random direction 0"):
        check_grad(lambda x: weighted_sum(doubled(x)), np.ones((5, 5)))


CALLS = []


@zygote.nograd
def count_call():
    CALLS.append(1)


def counted_square_sum(x):
    count_call()
    return np.sum(x * x)


def test_small_inputs_are_checked_in_full():
    CALLS.clear()
    check_grad(counted_square_sum, np.ones(4), full_max=20)
    assert len(CALLS) == 1 + 2 * 4  # the gradient's run and two per coordinate


def test_large_inputs_are_checked_along_a_few_directions():
    CALLS.clear()
    check_grad(counted_square_sum, np.ones(30), directions=2)
    assert len(CALLS) == 1 + 2 * 2


def test_non_float_arguments_pass_through_unchecked():
    def f(x, n, flag, nothing, shape):
        assert isinstance(n, int) and flag is True and nothing is None
        return np.sum(np.reshape(x, shape) ** n) if flag else 0.0
    grads = check_grad(f, np.arange(4.0), 3, True, None, (2, 2))
    np.testing.assert_allclose(grads[0], 3 * np.arange(4.0) ** 2)


def test_lists_and_scalars_are_checked():
    grads = check_grad(lambda xs, s: (xs[0] * xs[1][1] + s) * s, [1.5, np.array([0.5, -2.0])], 0.25)
    assert grads[0][0] == pytest.approx(-0.5) and grads[1] == pytest.approx(-3.0 + 0.5)


def test_a_missing_gradient_counts_as_zero():
    assert check_grad(lambda x, y: x * 2.0, 1.0, 3.0) == (2.0, None)


def test_output_weights_are_fixed_and_uneven():
    w = output_weights((3, 4), seed=5)
    np.testing.assert_array_equal(w, output_weights((3, 4), seed=5))
    assert w.shape == (3, 4) and np.unique(w).size == 12 and np.all((0.5 <= w) & (w < 2.0))


def test_weighted_sum_gradient_is_the_weights():
    x = np.ones((2, 3))
    (grad,) = zygote.gradient(lambda x: weighted_sum(x, seed=2), x)
    np.testing.assert_array_equal(grad, output_weights((2, 3), seed=2))
    assert weighted_sum(x, seed=2) == pytest.approx(np.sum(output_weights((2, 3), seed=2)))
