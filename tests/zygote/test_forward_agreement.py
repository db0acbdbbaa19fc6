"""Forward mode against reverse mode and central differences: every rule sample, fuzzed programs.

For each row of the rule tables (``test_rules_*``) and each program of the fuzzer, the
directional derivative ``jvp`` computes along a random tangent must equal the gradient's
inner product with that tangent, and the central difference along it. The value ``jvp``
returns must be the plain call's, bit for bit.
"""
import importlib

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, given, note, reject, settings

import zygote
from zygote.writes import InPlaceWriteError
from conftest import complete_rows, row_id
from fuzz_programs import load, programs
from test_fuzz import EPS, LARGEST_VALUE, STENCIL_STEP, assume_same_pieces, traced_run

TABLES = ["test_rules_adjoints", "test_rules_builtins", "test_rules_complex", "test_rules_construction",
          "test_rules_fft", "test_rules_linalg", "test_rules_math", "test_rules_numpy",
          "test_rules_operators", "test_rules_scipy"]

# Rows whose tangent forward mode does not compute, each raising MissingTangentError by name:
# np.interp's tangent in its sample positions xp (its pullback scatters with ufunc.at, which
# has no rule of its own).
# Forward mode refuses these with MissingTangentError: a set of numbers has no tangent (it
# orders and merges its items by value), and filter's predicate is not pushed through.
# Objects are built and their attributes written by reverse mode only: forward mode refuses
# setattr by name.
REFUSED = {("interp", 0), ("interp", 1), ("set_of", 0), ("set_add", 0), ("filter", 0),
           ("setattr", 0), ("__setattr__", 0)}


def table_rows():
    rows = []
    for name in TABLES:
        module = importlib.import_module(name)
        for row in complete_rows(module.SAMPLES):
            if row["xfail"]:
                continue  # a known reverse-mode compiler bug: nothing to compare against
            rows.append(pytest.param(row, id=f"{name[len('test_rules_'):]}-{row_id(row)}"))
    return rows


def direction(value, rng):
    """A random tangent for ``value``: floats and float arrays move, other values carry 0."""
    if type(value) is float:
        return float(rng.normal())
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return rng.normal(size=value.shape)
    if isinstance(value, np.ndarray) and value.dtype.kind == "c":
        return rng.normal(size=value.shape) + 1j * rng.normal(size=value.shape)
    if isinstance(value, (list, tuple)) and value and all(
            type(v) is float or isinstance(v, np.ndarray) and v.dtype.kind == "f" for v in value):
        return type(value)(direction(v, rng) for v in value)
    return 0


def moved(value, d, step):
    if isinstance(d, (list, tuple)):
        return type(value)(moved(v, e, step) for v, e in zip(value, d))
    if type(d) is int and d == 0:
        return value
    return value + step * d


def inner(g, d):
    """``<g, d>``, the real inner product zygote's cotangents pair with tangents by."""
    if g is None or (type(d) is int and d == 0):
        return 0.0
    if isinstance(d, (list, tuple)):
        return sum(inner(a, b) for a, b in zip(g, d))
    return float(np.sum(np.real(np.conj(g) * d)))


@pytest.mark.parametrize("sample_row", table_rows())
def test_forward_agrees_with_reverse_and_differences(sample_row):
    row = sample_row
    f, args = row["static"], row["args"]
    rng = np.random.default_rng(7 + row["index"])
    tangents = tuple(direction(a, rng) for a in args)
    name = row_id(row).rsplit("-", 1)
    if (name[0], int(name[1])) in REFUSED:
        with pytest.raises(zygote.MissingTangentError, match=name[0]):
            zygote.jvp(f, args, tangents)
        return
    y, dy = zygote.jvp(f, args, tangents)
    assert np.array_equal(y, f(*args), equal_nan=True)
    reverse = sum(inner(g, d) for g, d in zip(zygote.gradient(f, *args), tangents))
    assert abs(dy - reverse) <= 1e-7 * (1 + abs(reverse)), f"forward {dy!r}, reverse {reverse!r}"
    eps = row["check"].get("eps", 1e-6)
    rtol = max(row["check"].get("rtol", 1e-5), 1e-5) * 10
    difference = (f(*[moved(a, d, eps) for a, d in zip(args, tangents)])
                  - f(*[moved(a, d, -eps) for a, d in zip(args, tangents)])) / (2 * eps)
    assert abs(dy - difference) <= rtol * (1 + abs(difference)), f"forward {dy!r}, difference {difference!r}"


# -- fuzzed programs ------------------------------------------------------------------------------


def directional_stencil(f, args, tangents, h):
    at = [float(f(*[a + s * h * t for a, t in zip(args, tangents)])) for s in (-2, -1, 1, 2)]
    return (at[0] - 8 * at[1] + 8 * at[2] - at[3]) / (12 * h)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large])
@given(programs())
def test_forward_agrees_on_fuzzed_programs(tmp_path_factory, program):
    directory = tmp_path_factory.mktemp("forward")
    module = load(program.source, directory)
    traced = load(program.traced_source, directory, stem="traced")
    args = program.args
    value, trace = traced_run(traced, args)
    assume(np.isfinite(value) and abs(value) < LARGEST_VALUE)
    note(program.source)
    rng = np.random.default_rng(3)
    tangents = tuple(direction(a, rng) for a in args)
    with np.errstate(all="ignore"):
        try:
            y, dy = zygote.jvp(module.fuzzed, args, tangents)
        except (zygote.UnsupportedSyntaxError, InPlaceWriteError, zygote.MissingTangentError) as refusal:
            # forward mode leaves objects built inside, writes into shared objects, sets and
            # filter to reverse mode, and says so (docs/forward-mode.md); nothing else is refused
            assert "forward mode" in str(refusal) or "filter" in str(refusal) or "set_" in str(refusal), refusal
            reject()
        assert y == module.fuzzed(*args) or not np.isfinite(y)
        grads = zygote.gradient(module.fuzzed, *args)
    reverse = sum(inner(g, d) for g, d in zip(grads, tangents))
    assume(np.isfinite(reverse))
    assert abs(dy - reverse) <= 1e-8 * (1 + abs(reverse)) + 1e-9 * abs(value), (dy, reverse)
    # Along the tangent, where the program takes the same branches at every point evaluated:
    steps = [s * STENCIL_STEP for s in (-2, -1, 1, 2)] + [EPS, -EPS]
    for step in steps:
        _, other = traced_run(traced, [a + step * t for a, t in zip(args, tangents)])
        assume(other == trace)
    with np.errstate(all="ignore"):
        fine = directional_stencil(module.fuzzed, args, tangents, STENCIL_STEP)
        coarse = (float(module.fuzzed(*[a + EPS * t for a, t in zip(args, tangents)]))
                  - float(module.fuzzed(*[a - EPS * t for a, t in zip(args, tangents)]))) / (2 * EPS)

    def close(a, b):
        return abs(a - b) <= 1e-4 * max(abs(a), abs(b)) + 1e-6 * (1 + abs(value))
    assume(close(fine, coarse))  # otherwise differences cannot judge this point
    assert close(dy, fine), (dy, fine)


_ = assume_same_pieces  # (the per-coordinate check of test_fuzz; here the path is one direction)
