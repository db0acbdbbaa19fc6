"""Fixtures for the rule tests: sample rows checked statically, dynamically and in float32.

Each ``test_rules_*`` module keeps a list ``SAMPLES`` of rows (dicts). A row names a rule's
key in ``zygote.rules.RULES`` or ``METHOD_RULES`` and gives:

- ``static``: a function that calls the rule by name and reduces its output to a scalar with
  uneven weights, so that the compiler inlines or wraps the rule,
- ``args``: the arguments ``static`` is checked at,
- ``mirrors``: whether ``static(*args)`` calls the rule as ``rule(*args, **kwargs)``
  (for a method, ``args[0]`` is the object), so the row can also be replayed without it,
- ``kwargs``: the call's keyword arguments (literal in ``static``),
- ``dynamic``: whether to pass the rule in as a value, called through ``zygote.protocol.call``,
- ``float32``: whether the rule itself must keep float32 arguments float32,
- ``check``: keyword options for ``check_grad``,
- ``xfail`` / ``xfail_dynamic``: a known compiler bug that breaks the checks through the
  compiler (static and float32) / the dynamic check of this row.

A test taking a ``row`` argument runs once per row of its module; ``@pytest.mark.rows(name)``
keeps the rows whose ``name`` entry is true.
"""
import functools

import numpy as np
import pytest

import zygote
from zygote.rules import METHOD_RULES, RULES
from zygote.testing import check_grad, output_weights, weighted_sum


def apply1(f, x):
    """``Σ w·f(x)``: ``f`` is a value here, so the call goes through ``protocol.call``."""
    return weighted_sum(f(x))


def apply2(f, a, b):
    return weighted_sum(f(a, b))


def apply3(f, a, b, c):
    return weighted_sum(f(a, b, c))


def apply_method0(x, name):
    """``Σ w·getattr(x, name)()``: the bound method is looked up at run time."""
    return weighted_sum(getattr(x, name)())


def apply_method1(x, name, a):
    return weighted_sum(getattr(x, name)(a))


def apply4(f, a, b, c, d):
    return weighted_sum(f(a, b, c, d))


APPLY = {1: apply1, 2: apply2, 3: apply3, 4: apply4}
APPLY_METHOD = {0: apply_method0, 1: apply_method1}


def rule_for(key):
    """The registered rule of a sample key: a function, or ``(type, name)`` for a method."""
    return METHOD_RULES[key] if isinstance(key, tuple) else RULES[key]


def row_id(row):
    key = row["key"]
    name = f"{key[0].__name__}.{key[1]}" if isinstance(key, tuple) else getattr(key, "__name__", repr(key))
    return f"{name}-{row['index']}"


def as_float32(value):
    """``value`` with float64 arrays made float32 (numbers and everything else unchanged)."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, list):
        return [as_float32(v) for v in value]
    if isinstance(value, tuple):
        return tuple(as_float32(v) for v in value)
    return value


def float_arrays(value):
    """The float arrays in a (nested) cotangent."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [value]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in float_arrays(v)]
    return []


def cotangent_like(y, seed=3):
    """A float32 cotangent with uneven entries for an output ``y`` (nested lists and tuples too)."""
    if isinstance(y, (list, tuple)):
        parts = [cotangent_like(item, seed + i) for i, item in enumerate(y)]
        return type(y)(*parts) if hasattr(y, "_fields") else type(y)(parts)   # a named tuple
    if isinstance(y, (np.ndarray, np.floating, float)):
        dy = output_weights(np.shape(y), seed).astype(np.float32)
        return dy if np.ndim(y) else np.float32(dy)
    return 0  # an int or another value without a cotangent


def run_rule(key, args, kwargs):
    """A rule's own cotangents at ``args`` for a float32 cotangent, outside the compiler: a tuple."""
    rule = rule_for(key)
    if rule.kind == "pullback":
        y, back = rule.impl(*args, **kwargs)
        return tuple(back(cotangent_like(y)))
    y = rule.fn(*args, **kwargs)
    parts = rule.impl(*args, y=y, dy=cotangent_like(y), **kwargs)
    return parts if isinstance(parts, tuple) and len(rule.params) > 1 else (parts,)


def pytest_configure(config):
    config.addinivalue_line("markers", "rows(name): run only over the sample rows whose `name` is true")


def pytest_generate_tests(metafunc):
    """Parametrize tests that take ``row`` over their module's ``SAMPLES``."""
    if "row" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("rows")
    which = marker.args[0] if marker is not None else None
    rows = [r for r in complete_rows(metafunc.module.SAMPLES) if which is None or r[which]]
    params = []
    for row in rows:
        reason = {None: row["xfail"], "float32": row["xfail"], "dynamic": row["xfail_dynamic"]}.get(which)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(row, id=row_id(row), marks=marks))
    metafunc.parametrize("row", params)


def complete_rows(samples):
    """Rows with every entry filled in: ``{key, static, args}`` plus options, the rest for check_grad."""
    rows, seen = [], {}
    for sample in samples:
        options = {k: v for k, v in sample.items() if k not in ("key", "static", "args")}
        mirrors = options.pop("mirrors", True)
        args, key = sample["args"], sample["key"]
        row = dict(key=key, static=sample["static"], args=args, mirrors=mirrors,
                   kwargs=options.pop("kwargs", {}), xfail=options.pop("xfail", None),
                   xfail_dynamic=options.pop("xfail_dynamic", None),
                   dynamic=options.pop("dynamic", True) and mirrors and not isinstance(key, tuple),
                   float32=options.pop("float32", True) and bool(float_arrays(list(args))))
        row["check"] = options
        row["index"] = seen[key] = seen.get(key, -1) + 1
        rows.append(row)
    return rows


@pytest.fixture
def check_sample():
    """Check a sample row's static function with ``check_grad``."""
    def check(row):
        return check_grad(row["static"], *row["args"], **row["check"])
    return check


@pytest.fixture
def check_sample_dynamically():
    """Check a sample row with the rule passed in as a value and called through ``protocol.call``."""
    def check(row):
        key, args, kwargs = row["key"], row["args"], row["kwargs"]
        if isinstance(key, tuple):
            return check_grad(APPLY_METHOD[len(args) - 1], args[0], key[1], *args[1:], **row["check"])
        fn = functools.partial(key, **kwargs) if kwargs else key
        return check_grad(APPLY[len(args)], fn, *args, **row["check"])
    return check


@pytest.fixture
def check_sample_shapes():
    """Check that a non-elementwise rule gives each array argument a cotangent of exactly its shape."""
    def check(row):
        rule = rule_for(row["key"])
        if rule.kind == "expr" and rule.elementwise:
            return  # the compiler sums these over broadcast dimensions
        parts = run_rule(row["key"], row["args"], row["kwargs"])
        for i, (arg, part) in enumerate(zip(row["args"], parts)):
            if isinstance(arg, np.ndarray) and arg.dtype.kind == "f" and part is not None:
                assert np.shape(part) == arg.shape, f"argument {i}: cotangent of shape {np.shape(part)}"
    return check


@pytest.fixture
def check_sample_float32():
    """Check that the rule keeps float32 inputs float32: in its own adjoint and through ``gradient``."""
    def check(row):
        args = tuple(as_float32(a) for a in row["args"])
        if row["mirrors"]:
            for part in float_arrays(run_rule(row["key"], args, row["kwargs"])):
                assert part.dtype == np.float32, f"the adjoint made a {part.dtype} cotangent from float32 inputs"
        grads = zygote.gradient(row["static"], *args)
        reference = zygote.gradient(row["static"], *row["args"])
        for arg, grad, ref in zip(args, grads, reference):
            if float_arrays(arg) and grad is not None:
                for part, expected in zip(float_arrays(grad), float_arrays(ref)):
                    assert part.dtype == np.float32, f"gradient of dtype {part.dtype} for a float32 argument"
                    np.testing.assert_allclose(part, expected, rtol=2e-3, atol=2e-3)
    return check
