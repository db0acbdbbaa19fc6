"""Derivatives at the edges of IEEE arithmetic (0, ±1, ±inf, nan): what numpy's float64 gives.

Python raises for ``1.0 / 0.0`` where numpy's float64 gives ``inf``; a derivative may divide
by zero where the function is fine (``math.sqrt`` at 0). Every ``math`` and operator rule is
evaluated at every edge point: when the plain call raises, ``gradient`` raises the same
error; otherwise it raises nothing and gives what the rule's formula gives in numpy float64
arithmetic, for Python floats and numpy float64 values alike.
"""
import math
import operator

import numpy as np
import pytest

import zygote
from zygote.rules import RULES

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan]
ONE_ARGUMENT = [fn for fn, rule in RULES.items() if getattr(fn, "__module__", None) == "math"
                and rule.kind == "expr" and len(rule.params) == 1]
TWO_ARGUMENTS = [math.pow, math.atan2, math.fmod, math.copysign, math.hypot, math.log]


def plain_error(fn, *args):
    try:
        fn(*args)
    except (ArithmeticError, ValueError) as error:
        return type(error)
    return None


def same(a, b):
    return np.array_equal(np.asarray(a, dtype=complex), np.asarray(b, dtype=complex), equal_nan=True)


def numpy_reference(fn, args):
    """The derivatives of ``fn`` at ``args`` by its rule's own formula, in numpy float64 arithmetic."""
    rule = RULES[fn]
    args = tuple(np.float64(a) for a in args)
    with np.errstate(all="ignore"):
        y = np.float64(fn(*args))
        if rule.kind == "pullback":
            return tuple(rule.impl(*args)[1](np.float64(1.0)))
        parts = rule.impl(y=y, dy=np.float64(1.0), **dict(zip(rule.params, args)))
    return parts if isinstance(parts, tuple) else (parts,)


def check_at(fn, args):
    """``gradient(fn)`` at ``args`` as Python floats and as numpy float64: the plain call's
    error, or numpy's float64 answer."""
    error = plain_error(fn, *args)
    expected = None if error else numpy_reference(fn, args)
    for kind in (float, np.float64):
        at = tuple(kind(a) for a in args)
        if error:
            with pytest.raises(error):
                zygote.gradient(lambda *xs: fn(*xs), *at)
            continue
        grads = zygote.gradient(lambda *xs: fn(*xs), *at)
        for i, (grad, want) in enumerate(zip(grads, expected)):
            if want is not None:
                assert same(0.0 if grad is None else grad, want), \
                    f"{fn.__name__}{at}: argument {i} got {grad!r}, numpy float64 gives {want!r}"


@pytest.mark.parametrize("fn", ONE_ARGUMENT, ids=lambda fn: fn.__name__)
def test_math_rules_at_edges(fn):
    for x in EDGES:
        check_at(fn, (x,))


@pytest.mark.parametrize("fn", TWO_ARGUMENTS, ids=lambda fn: fn.__name__)
def test_math_rules_of_two_arguments_at_edges(fn):
    for a in EDGES:
        for b in EDGES:
            check_at(fn, (a, b))


def test_the_singular_points_of_the_issue():
    """The derivative where the function is finite and its slope is not."""
    assert zygote.gradient(lambda x: x ** 0.5, 0.0) == (math.inf,)
    assert zygote.gradient(math.sqrt, 0.0) == (math.inf,)
    assert zygote.gradient(math.acos, 1.0) == (-math.inf,)
    assert zygote.gradient(math.asin, -1.0) == (math.inf,)
    assert all(math.isnan(g) for g in zygote.gradient(math.atan2, 0.0, 0.0))
    assert math.isnan(zygote.gradient(lambda x: abs(x) ** 0.5, 0.0)[0])  # inf · sign(0)
    with pytest.raises(ZeroDivisionError):
        zygote.gradient(lambda x: 1 / x, 0.0)  # as the plain call raises
    assert zygote.gradient(lambda x: 1 / x, np.float64(0.0)) == (-np.inf,)
    assert zygote.gradient(lambda x: x ** -1, np.float64(0.0)) == (-np.inf,)


OPERATOR_PROGRAMS = {
    "x ** 0.5": lambda x: x ** 0.5,
    "x ** -0.5": lambda x: x ** -0.5,
    "x ** -1": lambda x: x ** -1,
    "x ** 3": lambda x: x ** 3,
    "x ** 0": lambda x: x ** 0,
    "2 ** x": lambda x: 2.0 ** x,
    "0 ** x": lambda x: 0.0 ** x,
    "x ** x": lambda x: x ** x,
    "abs(x) ** 0.5": lambda x: abs(x) ** 0.5,
    "1 / x": lambda x: 1 / x,
    "x / x": lambda x: x / x,
    "x % 0.75": lambda x: x % 0.75,
    "0.75 % x": lambda x: 0.75 % x,
    "x // 0.75": lambda x: x // 0.75 + x,
    "x * x - x": lambda x: x * x - x,
    "-abs(x)": lambda x: -abs(x),
    "divmod": lambda x: divmod(x, 0.75)[1] + divmod(x, 0.75)[0],
}


@pytest.mark.parametrize("name", OPERATOR_PROGRAMS)
def test_operators_at_edges(name):
    """Through the operators a Python float gets what a numpy float64 gets, or the plain error."""
    f = OPERATOR_PROGRAMS[name]
    for x in EDGES:
        error = plain_error(f, x)
        if error:
            with pytest.raises(error):
                zygote.gradient(f, x)
            continue
        with np.errstate(all="ignore"):
            as_numpy = f(np.float64(x))
            if not same(f(x), as_numpy):
                continue  # Python itself answers otherwise ((-1.0) ** 0.5 is complex)
            expected = zygote.gradient(f, np.float64(x))[0]
        got = zygote.gradient(f, x)[0]
        assert same(got, expected), f"{name} at {x}: {got!r}, with numpy float64 {expected!r}"
