"""The helpers generated code calls between the user's operations: structural adjoints of items,
attributes and sequences, copies before writes, and the loop and append intrinsics.

Cotangent arithmetic (``accum``, ``add_cotangent``, ``unbroadcast``) lives in
``zygote.cotangents`` and is named here too, so that generated code finds every helper in
one place; calls go through ``zygote.protocol``.
"""
import numpy as np

from .cotangents import (_float_dtype, accum, add_cotangent, is_zero,  # noqa: F401  (helpers of generated code)
                         unbroadcast)
from .errors import MissingRuleError
from .params import Params

# -- structural adjoints ---------------------------------------------------------------------


def getitem_back(x, index, dy):
    """Cotangent of ``x`` from the cotangent ``dy`` of ``x[index]``."""
    if is_zero(dy):
        return 0
    if isinstance(x, np.ndarray):
        g = np.zeros(x.shape, dtype=_float_dtype(x))
        if _is_basic(index):
            view = g[index]
            if isinstance(view, np.ndarray):
                g[index] = unbroadcast(dy, view)
            else:
                g[index] = unbroadcast(dy, 0.0)
        else:
            np.add.at(g, index, unbroadcast(dy, _indexed_like(x, index)))
        return g
    if isinstance(x, (list, tuple, Params)):
        out = [0] * len(x)
        if isinstance(index, slice):
            for i, part in zip(range(*index.indices(len(x))), dy):
                out[i] = accum(out[i], part)
        else:
            out[index] = dy
        return tuple(out) if isinstance(x, tuple) else out
    if isinstance(x, dict):
        return {index: dy}
    # (a class's own Python __getitem__ is differentiated by zygote.protocol.getitem_back)
    raise MissingRuleError(type(x).__getitem__)


def _indexed_like(x, index):
    """An array of the shape and dtype of ``x[index]``; for one integer array indexing the
    first axis (an embedding lookup), a broadcast view instead of a second gather."""
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        return np.broadcast_to(np.zeros((), x.dtype), index.shape + x.shape[1:])
    return x[index]


def _is_basic(index):
    if isinstance(index, tuple):
        return all(_is_basic(i) for i in index)
    return index is None or index is Ellipsis or isinstance(index, (int, slice, np.integer))


def setitem_back(dy, index, value):
    """(cotangent of the stored value, cotangent of the array before ``y[index] = value``)."""
    if is_zero(dy):
        return 0, 0
    if isinstance(dy, np.ndarray):
        part = unbroadcast(dy[index], value)
        rest = dy.copy()
        rest[index] = 0
        return part, rest
    if isinstance(dy, dict):
        rest = {k: v for k, v in dy.items() if k != index}
        return dy.get(index, 0), rest
    part = dy[index]
    rest = list(dy)
    rest[index] = 0
    return part, type(dy)(rest) if isinstance(dy, tuple) else rest


def setattr_back(dobj, name):
    """(cotangent of the stored value, cotangent of the object before ``obj.name = value``)."""
    if type(dobj) is not dict or name not in dobj:
        return 0, dobj
    rest = {k: v for k, v in dobj.items() if k != name}
    return dobj[name], rest if rest else 0


def copy_for_write(x):
    """A copy of ``x`` to write into, so that values saved for the adjoint stay intact."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    return x


def split_cotangent(dy, n):
    """The ``n`` element cotangents of a tuple/list cotangent (0 where there is none)."""
    if type(dy) is tuple and len(dy) == n:
        return dy
    if is_zero(dy):
        return (0,) * n
    if len(dy) != n:
        raise TypeError(f"cotangent of length {len(dy)} for a sequence of length {n}")
    return tuple(dy)


def dict_back(dy, key):
    if type(dy) is not dict:
        return 0
    return dy.get(key, 0)


closure_back = dict_back


def add_back(dy, a, b):
    """Cotangents of ``a`` and ``b`` in ``a + b``: split for sequences, shared for numbers."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if is_zero(dy):
            return 0, 0
        return type(a)(dy[:len(a)]), type(b)(dy[len(a):])
    return dy, dy


def regroup(parts, layout):
    """Cotangents ``(dfn, *flat args[, dkw])`` of a call with ``*args``, one per call-site argument.

    ``layout`` gives, per call-site argument, 1 or the length of the sequence it unpacked.
    """
    out = [parts[0]]
    i = 1
    for size, starred in layout:
        if starred:
            out.append(tuple(parts[i:i + size]))
        else:
            out.append(parts[i])
        i += size
    if len(parts) > i:
        out.append(parts[i])
    return out


def keyword_part(parts, n):
    """The keyword cotangents that follow ``n`` regrouped cotangents (an empty dict if none)."""
    return parts[n] if len(parts) > n else {}


def zeros_like_list(x):
    return [0] * len(x)


# -- intrinsics of normal form (their rules are in zygote.rules.containers) ----------------------


def iterate(seq):
    """``list(seq)``: the materialised sequence a for loop runs over."""
    return list(seq)


def list_append(items, value):
    """``items + [value]``: appending without mutating a list the adjoint may still read.

    Objects other than lists are appended to in place, as the user's code asked.
    """
    if type(items) is not list:
        items.append(value)
        return items
    return items + [value]
