"""Rules for Python built-in functions (abs, sum, min, max, zip, ...)."""
import builtins

import numpy as np

from . import adjoint, expr_rule, nograd
from .operators import exponent_slope, power_slope
from .. import structure
from ..cotangents import accum, is_zero, unbroadcast
from ..runtime import getitem_back


# -- numbers -----------------------------------------------------------------------------------
expr_rule(builtins.abs, lambda x, y, dy: dy * np.sign(x))
# float(z) of a numpy complex is its real part; the cotangent of a real result is real.
expr_rule(builtins.float, lambda x=0.0, y=None, dy=None: np.real(dy))
# complex(a, b) = a + 1j b, holomorphic in each part: conj(1) dy and conj(1j) dy, real for a real part.
expr_rule(builtins.complex, lambda real=0.0, imag=0.0, y=None, dy=None: (
    dy if isinstance(real, complex) else np.real(dy), -1j * dy if isinstance(imag, complex) else np.imag(dy)))
expr_rule(builtins.pow, lambda base, exp, mod=None, y=None, dy=None: (
    dy * power_slope(base, exp), dy * exponent_slope(base, y), None))


@adjoint(np.divmod, output_kind="a")
@adjoint(builtins.divmod, output_kind="a")
def divmod_rule(a, b):
    """``divmod(a, b) = (a // b, a % b)``: the quotient is piecewise constant, the remainder
    ``a - b·(a // b)`` has the slopes 1 in ``a`` and ``-(a // b)`` in ``b``."""
    quotient, remainder = builtins.divmod(a, b)

    def divmod_back(dy):
        d_remainder = dy[1]
        if is_zero(d_remainder):
            return 0, 0
        return unbroadcast(d_remainder, a), unbroadcast(-d_remainder * quotient, b)
    return (quotient, remainder), divmod_back


# -- sequences -----------------------------------------------------------------------------------


@adjoint(builtins.sum)
def sum_rule(items, *start, **keywords):
    """``sum(items, start)``: every item (and a positional ``start``) receives the cotangent of the total."""
    seq = items if isinstance(items, (list, tuple, np.ndarray)) else list(items)
    y = builtins.sum(seq, *start, **keywords)

    def sum_back(dy):
        if is_zero(dy):
            return (0,) * (1 + len(start))
        dseq = _like(seq, [unbroadcast(dy, item) for item in seq])
        if seq is not items and structure.iterates_itself(items):
            dseq = structure.held_items_cotangent(items, seq, dseq)  # an object's own __iter__
        return (dseq,) + tuple(unbroadcast(dy, s) for s in start)
    return y, sum_back


def _extremum_rule(pick, builtin_fn):
    """The rule of ``max`` or ``min``: the cotangent goes to the item chosen (the first on ties)."""
    def rule(*args, key=None, default=None):
        one_sequence = len(args) == 1
        items = list(args[0]) if one_sequence else list(args)
        if not items:
            if default is None:
                raise ValueError(f"{builtin_fn.__name__}() of an empty sequence")
            return default, lambda dy: (0,)
        score = key if key is not None else (lambda item: item)
        best = 0
        for i in range(1, len(items)):
            if pick(score(items[i]), score(items[best])):
                best = i

        def extremum_back(dy):
            parts = [0] * len(items)
            parts[best] = dy
            if not one_sequence:
                return tuple(parts)
            if isinstance(args[0], np.ndarray):
                return (getitem_back(args[0], best, dy),)
            return (_like(args[0], parts),)
        return items[best], extremum_back
    rule.__name__ = f"{builtin_fn.__name__}_rule"
    return rule


adjoint(builtins.max)(_extremum_rule(lambda a, b: a > b, builtins.max))
adjoint(builtins.min)(_extremum_rule(lambda a, b: a < b, builtins.min))


@adjoint(builtins.zip, output_kind="a")
def zip_rule(*seqs):
    items = [list(s) for s in seqs]
    y = list(zip(*items))

    def zip_back(dy):
        if is_zero(dy):
            return (0,) * len(seqs)
        columns = []
        for j, seq in enumerate(seqs):
            column = [0 if is_zero(row) else row[j] for row in dy]
            column += [0] * (len(items[j]) - len(column))
            columns.append(_like(seq, column))
        return tuple(columns)
    return y, zip_back


@adjoint(builtins.enumerate, output_kind="a")
def enumerate_rule(seq, *start, **keywords):
    items = list(seq)
    y = list(enumerate(items, *start, **keywords))

    def enumerate_back(dy):
        if is_zero(dy):
            return (0,) * (1 + len(start))
        return (_like(seq, [0 if is_zero(row) else row[1] for row in dy]),) + (0,) * len(start)
    return y, enumerate_back


@adjoint(builtins.reversed, output_kind="a")
def reversed_rule(seq):
    items = list(seq)

    def reversed_back(dy):
        if is_zero(dy):
            return (0,)
        return (_like(seq, list(dy)[::-1]),)
    return items[::-1], reversed_back


@adjoint(builtins.list, output_kind="a")
def list_rule(seq=()):
    return list(seq), lambda dy: (0 if is_zero(dy) else _like(seq, list(dy)),)


@adjoint(builtins.tuple, output_kind="a")
def tuple_rule(seq=()):
    return tuple(seq), lambda dy: (0 if is_zero(dy) else _like(seq, list(dy)),)


@adjoint(builtins.map, output_kind="a", calls_back=True)
def map_rule(protocol, fn, *seqs):
    """``map(fn, *seqs)``: ``fn`` is called on every item when ``map`` is (an iterator over
    the results comes back), and differentiated like any call."""
    seqs = [s if isinstance(s, (list, tuple, np.ndarray)) else list(s) for s in seqs]
    results, backs = [], []
    for args in zip(*seqs):
        y, back = protocol.call("a" + "a" * len(args), fn, *args)
        results.append(y)
        backs.append(back)

    def map_back(dy):
        dfn = 0
        columns = [[0] * len(s) for s in seqs]
        for i, (back, d) in enumerate(zip(backs, dy)):
            if is_zero(d):
                continue
            parts = back(d)
            dfn = accum(dfn, parts[0])
            for j, part in enumerate(parts[1:]):
                columns[j][i] = part
        return (dfn,) + tuple(_like(s, c) for s, c in zip(seqs, columns))
    return iter(results), map_back


@adjoint(builtins.filter, output_kind="a")
def filter_rule(keep, seq):
    """``filter(keep, seq)``: the items kept pass their cotangents back to where they were;
    ``keep`` decides, so it gets none (it runs, as ``filter`` runs it, on every item)."""
    items = list(seq)
    kept = [i for i, item in enumerate(items) if (keep(item) if keep is not None else item)]

    def filter_back(dy):
        if is_zero(dy):
            return 0, 0
        parts = [0] * len(items)
        for i, d in zip(kept, dy):
            parts[i] = d
        return 0, _like(seq if isinstance(seq, (list, tuple, np.ndarray)) else items, parts)
    return iter([items[i] for i in kept]), filter_back


@adjoint(builtins.getattr, output_kind="a", calls_back=True)
def getattr_rule(protocol, obj, name, *default):
    return getattr(obj, name, *default), lambda dy: (protocol.attr_back(obj, name, dy), 0) + (0,) * len(default)


@adjoint(builtins.sorted, output_kind="a")
def sorted_rule(seq, key=None, reverse=False):
    items = list(seq)
    order = sorted(range(len(items)), key=(lambda i: key(items[i])) if key else items.__getitem__,
                   reverse=reverse)

    def sorted_back(dy):
        if is_zero(dy) or isinstance(seq, dict):
            return (0,)  # (a dict's keys carry no gradient)
        parts = [0] * len(items)
        for j, i in enumerate(order):
            parts[i] = dy[j]
        return (_like(seq, parts),)
    return [items[i] for i in order], sorted_back


def _like(seq, parts):
    """Cotangents ``parts`` shaped like the sequence ``seq`` they belong to."""
    if isinstance(seq, np.ndarray):
        dtype = seq.dtype if seq.dtype.kind == "f" else np.float64
        return np.stack([np.zeros(seq.shape[1:], dtype) if is_zero(p) else unbroadcast(p, seq[i])
                         for i, p in enumerate(parts)]) if len(parts) else np.zeros_like(seq, dtype)
    if isinstance(seq, tuple):
        return tuple(parts)
    if structure.iterates_itself(seq):
        return structure.held_items_cotangent(seq, list(seq), parts)
    return list(parts)


# -- no derivative -------------------------------------------------------------------------------
nograd(builtins.len, builtins.range, builtins.int, builtins.bool, builtins.str, builtins.round,
       builtins.isinstance, builtins.issubclass, builtins.print, builtins.id, builtins.type,
       builtins.hasattr, builtins.callable, builtins.repr, builtins.format, builtins.hash,
       builtins.any, builtins.all, builtins.ord, builtins.chr, builtins.slice)
