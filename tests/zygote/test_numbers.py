"""Numbers of every kind: piecewise-constant operations, integer and bool inputs, and gradients
that are arrays of their own.

Each gradient is checked against central differences in float64 (``check_grad``), at points
hypothesis draws away from the jumps of the piecewise-constant functions.
"""
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import zygote
from zygote.testing import check_grad, weighted_sum

AWAY_FROM_JUMPS = st.floats(-5.0, 5.0).filter(lambda x: abs(x * 4 - round(x * 4)) > 1e-3)
DIVISOR = st.sampled_from([0.75, -1.25, 2.0])

# -- piecewise-constant operations ----------------------------------------------------------------
# Each program mixes a piecewise-constant part with a smooth one: the smooth part's slope is
# all that may come out, and the cast or rounding must pass nothing of its own.
PIECEWISE = {
    "floordiv": lambda x, c: (x // c) * x + x,
    "mod": lambda x, c: (x % c) * x,
    "rmod": lambda x, c: (c % x) * x if x != 0 else x,
    "divmod": lambda x, c: divmod(x, c)[0] * x + divmod(x, c)[1] ** 2,
    "round": lambda x, c: round(x) * x + round(x * c, 1),
    "floor": lambda x, c: math.floor(x) * x + math.floor(c * x),
    "ceil": lambda x, c: math.ceil(x) * x,
    "trunc": lambda x, c: math.trunc(x * c) * x,
    "int": lambda x, c: int(x * c) * x + float(int(x)),
    "np.floor": lambda x, c: np.floor(x) * x,
    "np.round": lambda x, c: np.round(x * c) * x,
    "np.sign": lambda x, c: np.sign(x) * x,
    "np.divmod": lambda x, c: np.divmod(x, c)[1] * x,
}
ARRAY_PIECEWISE = {
    "astype(int)": lambda x, c: weighted_sum(x.astype(int) * x + x.astype(np.int32)),
    "np.floor_divide": lambda x, c: weighted_sum(np.floor_divide(x, c) * x),
    "mod": lambda x, c: weighted_sum((x % c) ** 2),
    "rmod": lambda x, c: weighted_sum((c % x) ** 2),
    "round()": lambda x, c: weighted_sum(x.round() * x),
    "divmod": lambda x, c: weighted_sum(divmod(x, c)[1] * x),
}


@settings(max_examples=20, deadline=None)
@given(x=AWAY_FROM_JUMPS, c=DIVISOR)
def test_piecewise_constant_operations_give_their_true_derivative(x, c):
    # away from every jump of the programs: x / c and c / x whole, x or x * c at a whole or
    # half number (round, floor, int), x * c at a multiple of 0.05 (round(x * c, 1))
    assume(abs(x) > 1e-2 and all(abs(v - round(v)) > 1e-3 for v in (x / c, 4 * c / x, 2 * x, 20 * x * c)))
    for name, f in PIECEWISE.items():
        check_grad(lambda x: f(x, c), x)
        check_grad(lambda x: f(x, c), np.float64(x))


@settings(max_examples=10, deadline=None)
@given(xs=st.lists(AWAY_FROM_JUMPS.filter(lambda v: abs(v) > 0.1), min_size=1, max_size=4), c=DIVISOR)
def test_piecewise_constant_operations_on_arrays(xs, c):
    x = np.array(xs)
    assume(np.all(np.abs(c / x * 4 - np.round(c / x * 4)) > 1e-3))
    for name, f in ARRAY_PIECEWISE.items():
        check_grad(lambda x: f(x, c), x)


def test_the_remainder_has_slope_one_in_x_and_minus_the_quotient_in_c():
    assert zygote.gradient(lambda x, c: x % c, 3.5, 2.0) == (1.0, -1.0)
    assert zygote.gradient(lambda x, c: divmod(x, c)[1], 3.5, 2.0) == (1.0, -1.0)
    assert zygote.gradient(lambda x, c: divmod(x, c)[0], 3.5, 2.0) == (None, None)
    (g,) = zygote.gradient(lambda x: np.sum(x.astype(int)), np.ones(2))
    assert g is None or not np.any(g)


@settings(max_examples=10, deadline=None)
@given(x=AWAY_FROM_JUMPS, c=DIVISOR)
def test_second_derivatives_through_the_remainder(x, c):
    """d²/dx² of ``(x % c)³`` is ``6 (x % c)``, and of ``(c % x)³`` it is ``6 (c % x) q²``."""
    assume(abs(x) > 0.1 and abs((c / x) * 4 - round((c / x) * 4)) > 1e-3)
    assert zygote.hessian(lambda x: (x % c) ** 3, x) == pytest.approx(6 * (x % c))
    assert zygote.hessian(lambda x: divmod(x, c)[1] ** 3, x) == pytest.approx(6 * (x % c))
    assert zygote.hessian(lambda x: (c % x) ** 3, x) == pytest.approx(6 * (c % x) * (c // x) ** 2)
    xs = np.array([x, x + 0.3])
    np.testing.assert_allclose(zygote.hessian(lambda x: np.sum((x % c) ** 3), xs), np.diag(6 * (xs % c)))
    np.testing.assert_allclose(zygote.hessian(lambda x: np.sum(x.astype(int) * x ** 2), xs),
                               np.diag(2 * xs.astype(int)))


# -- gradients are arrays of their own ------------------------------------------------------------
VIEWS = {
    "sum": lambda x, w: np.sum(x),
    "mean": lambda x, w: np.mean(x) + np.sum(w),
    "broadcast add": lambda x, w: np.sum(x + w),
    "slice": lambda x, w: np.sum(x[:2] * w[:2]),
    "transpose": lambda x, w: np.sum(x.T * w),
    "reshape": lambda x, w: np.sum(x.reshape(3, 1)),
    "identity": lambda x, w: np.sum(x) + np.sum(w),
}


def assert_owned(grads):
    arrays = [g for g in grads if isinstance(g, np.ndarray)]
    assert arrays
    for g in arrays:
        assert g.flags.writeable and g.flags.owndata
    assert len({id(g) for g in arrays}) == len(arrays)


@pytest.mark.parametrize("name", VIEWS)
def test_gradients_are_writable_arrays_of_their_own(name):
    f, x, w = VIEWS[name], np.arange(3.0), np.ones(3)
    for grads in (zygote.gradient(f, x, w), zygote.withgradient(f, x, w)[1],
                  zygote.pullback(f, x, w)[1](1.0), zygote.jacobian(f, x, w)):
        assert_owned(grads)
        first, rest = grads[0], [np.copy(g) for g in grads[1:] if g is not None]
        first *= 0.5  # an in-place optimiser step touches that gradient alone
        np.testing.assert_array_equal(first, np.copy(grads[0]))
        for g, before in zip([g for g in grads[1:] if g is not None], rest):
            np.testing.assert_array_equal(g, before)
    ps = zygote.Params([x, w])
    gs = zygote.gradient(lambda: f(x, w), ps)
    # Params' gradients may be views of fresh arrays (x.T's cotangent laid out as x's), but
    # writable, and sharing memory with no parameter and no other gradient
    grads = [g for g in (gs[x], gs[w]) if g is not None]
    assert grads and all(g.flags.writeable for g in grads)
    for i, g in enumerate(grads):
        assert not any(np.shares_memory(g, other) for other in [x, w] + grads[:i] + grads[i + 1:])


def test_a_cotangent_handed_to_back_is_not_given_back():
    dy = np.ones(3)
    (g,) = zygote.pullback(lambda x: x, np.zeros(3))[1](dy)
    g *= 2.0
    np.testing.assert_array_equal(dy, np.ones(3))


# -- integers and bools ---------------------------------------------------------------------------
INTEGER_PROGRAMS = {
    "x * x": lambda x: x * x,
    "x ** 3 / 2": lambda x: x ** 3 / 2,
    "sin": lambda x: np.sin(x) * x,
    "exp": lambda x: math.exp(x * 0.1),
}


@settings(max_examples=15, deadline=None)
@given(n=st.integers(-5, 5))
def test_an_integer_is_a_number_in_every_form(n):
    """``f(3)``, ``f(np.int64(3))`` and ``f(3.0)`` have the same gradient, a float."""
    for name, f in INTEGER_PROGRAMS.items():
        (expected,) = zygote.gradient(f, float(n))
        for x in (n, np.int64(n), np.int32(n)):
            (g,) = zygote.gradient(f, x)
            assert g == pytest.approx(expected) and isinstance(g, float), (name, type(x))
    xs = np.arange(n, n + 3)
    (g,) = zygote.gradient(lambda x: weighted_sum(x * x), xs)
    np.testing.assert_allclose(g, zygote.gradient(lambda x: weighted_sum(x * x), xs.astype(float))[0])
    assert g.dtype == np.float64


def test_bools_are_truth_values_in_every_form():
    """A bool, a numpy bool and a bool array carry no derivative (Python's ``True * 2.0`` is a number,
    but a truth value is not a point one can move)."""
    assert zygote.gradient(lambda b: b * 2.0, True) == (None,)
    assert zygote.gradient(lambda b: b * 2.0, np.bool_(True)) == (None,)
    assert zygote.gradient(lambda b: np.sum(b * 2.0), np.array([True, False])) == (None,)
