"""Every function zygote marks non-differentiable is piecewise constant in its inputs.

Each entry of the registry's ``nograd`` list has a row here: arguments at which moving any
float input by a small step (both ways) leaves the output unchanged, as the zero gradient
claims; or the reason it has no number to move (it takes shapes, types or seeds, or returns
no number). A new ``nograd`` entry without a row fails ``test_every_nograd_entry_has_a_row``.
"""
import builtins
import math
import operator

import numpy as np
import pytest

import zygote
from zygote import cotangents, runtime, testing
from zygote.rules import RULES, adjoints, objects

X = np.array([[0.3, -1.7, 2.4], [1.2, -0.6, 0.45]])
V = np.array([0.31, -1.69, 2.41, 1.21])   # (no entry of X: the points stay off the jumps)

NO_NUMBER = "takes no float input (shapes, integers, types, seeds or strings)"
NOT_NUMERIC = "returns no number (a string, a type, None or an object)"

# fn: (args, ...) with floats where the output must not move, or a reason there are none
ROWS = {
    operator.floordiv: (7.3, 2.1), operator.invert: NO_NUMBER, operator.not_: (0.3,),
    operator.lt: (0.3, 0.5), operator.le: (0.3, 0.5), operator.eq: (0.3, 0.5), operator.ne: (0.3, 0.5),
    operator.gt: (0.3, 0.5), operator.ge: (0.3, 0.5), operator.is_: NOT_NUMERIC,
    operator.is_not: NOT_NUMERIC, operator.contains: ([0.3, 0.5], 0.4), operator.and_: NO_NUMBER,
    operator.or_: NO_NUMBER, operator.xor: NO_NUMBER, operator.truth: (0.3,), operator.index: NO_NUMBER,
    math.floor: (2.3,), math.ceil: (2.3,), math.trunc: (-2.3,), math.isnan: (0.3,), math.isinf: (0.3,),
    math.isfinite: (0.3,), math.isclose: (0.3, 0.5), math.factorial: NO_NUMBER, math.gcd: NO_NUMBER,
    math.lcm: NO_NUMBER, math.comb: NO_NUMBER, math.perm: NO_NUMBER, math.isqrt: NO_NUMBER,
    builtins.len: ([0.3, 0.5],), builtins.range: NO_NUMBER, builtins.int: (2.3,), builtins.bool: (0.3,),
    builtins.str: NOT_NUMERIC, builtins.round: (2.3,), builtins.isinstance: NOT_NUMERIC,
    builtins.issubclass: NOT_NUMERIC, builtins.print: NOT_NUMERIC, builtins.id: NOT_NUMERIC,
    builtins.type: NOT_NUMERIC, builtins.hasattr: NOT_NUMERIC, builtins.callable: NOT_NUMERIC,
    builtins.repr: NOT_NUMERIC, builtins.format: NOT_NUMERIC, builtins.hash: NOT_NUMERIC,
    builtins.any: ([0.3, 0.5],), builtins.all: ([0.3, 0.5],), builtins.ord: NO_NUMBER, builtins.chr: NO_NUMBER,
    builtins.slice: NOT_NUMERIC,
    np.shape: (X,), np.ndim: (X,), np.size: (X,), np.zeros: NO_NUMBER, np.ones: NO_NUMBER,
    np.zeros_like: (X,), np.ones_like: (X,), np.empty: NO_NUMBER,
    np.empty_like: "returns uninitialised memory of the input's shape: no function of its values",
    np.eye: NO_NUMBER, np.identity: NO_NUMBER, np.tri: NO_NUMBER,
    np.argmax: (X,), np.argmin: (X,), np.argsort: (X,), np.argwhere: (X,), np.flatnonzero: (X,),
    np.searchsorted: (np.sort(V), X), np.digitize: (X, np.sort(V)),
    np.floor: (X,), np.ceil: (X,), np.round: (X,), np.rint: (X,), np.trunc: (X,), np.fix: (X,),
    np.floor_divide: (X, 0.7), np.isnan: (X,), np.isinf: (X,), np.isfinite: (X,), np.signbit: (X,),
    np.equal: (X, 0.35), np.not_equal: (X, 0.35), np.less: (X, 0.35), np.less_equal: (X, 0.35),
    np.greater: (X, 0.35), np.greater_equal: (X, 0.35), np.logical_and: (X, X), np.logical_or: (X, X),
    np.logical_not: (X,), np.logical_xor: (X, X), np.all: (X,), np.any: (X,), np.count_nonzero: (X,),
    np.nonzero: (X,), np.allclose: (X, X + 0.1), np.isclose: (X, X + 0.1), np.array_equal: (X, X + 0.1),
    np.result_type: NOT_NUMERIC, np.dtype: NOT_NUMERIC, np.broadcast_shapes: NO_NUMBER,
    np.unravel_index: NO_NUMBER, np.ravel_multi_index: NO_NUMBER, np.indices: NO_NUMBER,
    np.tril_indices: NO_NUMBER, np.triu_indices: NO_NUMBER, np.diag_indices: NO_NUMBER,
    np.isscalar: (0.3,), np.issubdtype: NOT_NUMERIC, np.random.seed: NO_NUMBER, np.random.rand: NO_NUMBER,
    np.random.randn: NO_NUMBER, np.random.randint: NO_NUMBER, np.random.random: NO_NUMBER,
    np.random.default_rng: NO_NUMBER,
    np.iscomplexobj: (X,), np.isrealobj: (X,), np.iscomplex: (X,), np.isreal: (X,),
    adjoints.clip_mask: (X, -1.0, 1.0), adjoints.reduced_count: NO_NUMBER,
    runtime.zeros_like_list: ([0.3, 0.5],), runtime.container_kind: ([0.3, 0.5],), cotangents.seed_like: (0.3,), testing.output_weights: NO_NUMBER,
    runtime.catch: "a context manager that keeps an exception: returns no number",
    runtime.exception_matches: NOT_NUMERIC, runtime.exit_arguments: NOT_NUMERIC,
    runtime.match_class: NOT_NUMERIC, runtime.match_mapping: ({"a": 0.3}, ("a",)),
    runtime.match_sequence: ([0.3, 0.5], 2, False),
    zygote.dropgrad: "the stop-gradient: its zero derivative is what it is for",
    objects.methods_to_try: NOT_NUMERIC, objects.own_method: NOT_NUMERIC, objects.plain_operands: NOT_NUMERIC,
    runtime.write_log: "the record of a call's in-place writes: returns no number",
    runtime.open_store: "the store of a backward pass's cotangents: returns no number",
}


def zygote_nograd_entries():
    """The functions zygote's own modules mark non-differentiable (not those a test or doc adds)."""
    found = []
    for fn, rule in RULES.items():
        if rule.kind != "nograd":
            continue
        module = getattr(fn, "__module__", None) or ""
        code = getattr(fn, "__code__", None)
        if code is not None and code.co_filename.startswith("<doctest"):
            continue  # a docstring example's
        if module.split(".")[0] in ("numpy", "math", "builtins", "_operator", "zygote"):
            found.append(fn)
    return found


def nudged(value, step):
    """``value`` with every float moved by ``step`` (in a list too)."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value + step
    if isinstance(value, float):
        return value + step
    if isinstance(value, list):
        return [nudged(v, step) for v in value]
    return value


def same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(p, q) for p, q in zip(a, b))
    return np.array_equal(a, b)


def test_every_nograd_entry_has_a_row():
    missing = [getattr(fn, "__qualname__", repr(fn)) for fn in zygote_nograd_entries() if fn not in ROWS]
    assert not missing, f"nograd entries without a row in {__name__}.ROWS: {missing}"


@pytest.mark.parametrize("fn", [fn for fn, row in ROWS.items() if isinstance(row, tuple)],
                         ids=lambda fn: getattr(fn, "__qualname__", repr(fn)))
def test_nograd_entry_is_piecewise_constant(fn):
    args = ROWS[fn]
    assert RULES[fn].kind == "nograd"
    at = fn(*args)
    for i in range(len(args)):
        for step in (1e-6, -1e-6):
            moved = list(args)
            moved[i] = nudged(args[i], step)
            assert same(fn(*moved), at), f"{fn} moves with argument {i}: it has a derivative there"


@pytest.mark.parametrize("fn", [np.linspace, np.arange, np.full, np.full_like, np.heaviside, np.random.normal,
                                np.random.uniform, np.random.choice, np.random.permutation])
def test_functions_that_move_with_their_inputs_are_not_nograd(fn):
    rule = RULES.get(fn)
    assert rule is None or rule.kind != "nograd"


def test_a_random_draw_with_differentiated_parameters_needs_a_rule():
    with pytest.raises(zygote.MissingRuleError, match="normal"):
        zygote.gradient(lambda mu: np.random.default_rng(0).normal(mu, 1.0), 0.5)
    with pytest.raises(zygote.MissingRuleError, match="normal"):
        zygote.gradient(lambda mu: np.sum(np.random.normal(mu, 1.0, 3)), 0.5)
