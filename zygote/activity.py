"""Activity: the kind of a value for differentiation, one letter, and the pattern of a call.

A value is a Python number (``f``), a numeric array or numpy scalar (``n``), anything else
that may carry a derivative (``a``: lists, dicts, objects) or a constant (``-``: bools,
``None``, strings). Integers are numbers in every form, as Zygote.jl treats them: ``3``,
``np.int64(3)`` and an integer array are differentiated alike (their gradients are
floats); bools are truth values in every form, never differentiated. A call's *pattern* has one letter for the callee, then
one per positional argument, then one per keyword argument (``"-nn"``: a constant callee
and two arrays); generated code passes patterns as string constants, and these functions
read them.

>>> import numpy as np
>>> category(2.0), category(np.ones(2)), category([1.0]), category("text")
('f', 'n', 'a', '-')
>>> pattern = call_pattern(CONSTANT, [NUMERIC, CONSTANT], [ANY])
>>> pattern, callee_active(pattern), argument_kinds(pattern, 2), keyword_kinds(pattern, 2)
('-n-a', False, 'n-', 'a')
"""
import types

import numpy as np

SCALAR = "f"    # a Python number (int or float): numeric, never broadcast
NUMERIC = "n"   # a float array or numpy scalar: its cotangents add with +
ANY = "a"       # anything else that may carry a derivative: cotangents add with accum()
CONSTANT = "-"  # a value that carries no derivative


_NDARRAY = np.ndarray


def is_numeric_value(value):
    """Whether a runtime value is a differentiable number or numeric array (cotangents add with +)."""
    kind = type(value)
    if kind is float or kind is int or kind is complex:
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and dtype.kind in "fciu" and hasattr(value, "shape")


def category(value):
    """'f' Python number, 'n' numeric array, 'a' other differentiable, '-' not differentiable."""
    kind = type(value)
    if kind is float or kind is int or kind is complex:
        return SCALAR
    if kind is _NDARRAY:
        return NUMERIC if value.dtype.kind in "fciu" else CONSTANT
    if kind is bool or value is None or kind is str or kind is bytes:
        return CONSTANT
    if isinstance(value, (type, types.ModuleType, types.BuiltinFunctionType)):
        return CONSTANT
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "shape"):
        return NUMERIC if getattr(dtype, "kind", "") in "fciu" else CONSTANT
    return ANY


def call_pattern(callee, arguments, keywords=()):
    """The pattern of a call: the callee's kind, then the arguments', then the keywords'."""
    return callee + "".join(arguments) + "".join(keywords)


def callee_active(pattern):
    """Whether the callee itself (a closure, a bound object) carries a derivative."""
    return pattern[:1] not in ("", CONSTANT)


def argument_kinds(pattern, n):
    """The kinds of the ``n`` positional arguments."""
    return pattern[1:1 + n]


def keyword_kinds(pattern, n):
    """The kinds of the keyword arguments that follow ``n`` positional ones."""
    return pattern[1 + n:]


def any_active(kinds):
    """Whether any of ``kinds`` carries a derivative."""
    return kinds.strip(CONSTANT) != ""
