"""The helpers generated code calls between the user's operations: structural adjoints of items,
attributes and sequences, copies before writes, and the loop and append intrinsics.

Cotangent arithmetic (``accum``, ``add_cotangent``, ``unbroadcast``) lives in
``zygote.cotangents`` and is named here too, so that generated code finds every helper in
one place; calls go through ``zygote.protocol``.
"""
import collections.abc

import numpy as np

from .cotangents import (_float_dtype, accum, add_cotangent, is_zero,  # noqa: F401  (helpers of generated code)
                         unbroadcast)
from .errors import MissingRuleError, UnsupportedSyntaxError, ZygoteError
from . import structure
from .params import Params
from .writes import (augment, close_store, delete_item, held_for, open_store, undo, undo_attribute, write_item,  # noqa: F401
                     write_log)

sort_array = np.sort  # ndarray.sort(), as the value it leaves behind

# -- structural adjoints ---------------------------------------------------------------------


def _item_cotangent(dy, item):
    """``dy`` summed to the shape of a number or array ``item`` of a container (the cotangent
    of a Python number may come broadcast, to be summed where it meets its value)."""
    if hasattr(dy, "shape") and isinstance(item, (float, int, np.ndarray, np.generic)):
        return unbroadcast(dy, item)
    return dy


def getitem_back(x, index, dy):
    """Cotangent of ``x`` from the cotangent ``dy`` of ``x[index]``."""
    if is_zero(dy):
        return 0
    if isinstance(x, np.ndarray):
        g = np.zeros(x.shape, dtype=_float_dtype(x))
        if _is_basic(index):
            view = g[index]
            g[index] = unbroadcast(dy, view)  # (an item of g: a complex one keeps its imaginary part)
        else:
            np.add.at(g, index, unbroadcast(dy, _indexed_like(x, index)))
        return g
    if isinstance(x, (list, tuple, Params)):
        out = [0] * len(x)
        if isinstance(index, slice):
            for i, part in zip(range(*index.indices(len(x))), dy):
                out[i] = accum(out[i], part)
        else:
            out[index] = _item_cotangent(dy, x[index])
        return tuple(out) if isinstance(x, tuple) else out
    if isinstance(x, dict):
        return {index: _item_cotangent(dy, x[index])}
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


def unpack_back(seq, parts, items):
    """The cotangent of ``seq`` from those (``parts``) of the ``items`` ``a, b = seq`` bound: a
    tuple for a sequence, or, for an object with its own ``__iter__``, its structural cotangent."""
    if structure.iterates_itself(seq):
        return structure.held_items_cotangent(seq, items, parts)
    return parts


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


def refuse_returned_closure(result, closure, name, cell, filename, line):
    """Raise when a call handed back the closure passed to it (or a list, tuple or dict holding
    it) while a variable it reads is rebound later: the cotangent of the later call, which reads
    the new value, could not reach that value."""
    held = result is closure or (type(result) in (list, tuple) and any(r is closure for r in result)) \
        or (type(result) is dict and any(r is closure for r in result.values()))
    if held:
        raise UnsupportedSyntaxError(
            f"keeping the closure {name!r} (returned by a call it was passed to) while {cell!r}, "
            "which it reads, is rebound", filename, line,
            "call the closure directly, or pass the value as an argument")


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


def container_kind(x):
    """Which of the containers whose mutating methods normal form spells out ``x`` is, if any."""
    kind = type(x)
    if kind is list:
        return "list"
    if kind is dict:
        return "dict"
    if isinstance(x, np.ndarray):
        return "array"
    return ""


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


def generated(items):
    """What a call of a generator function gives in differentiated code: an iterator over
    the values it yielded (it ran to its end when called)."""
    return iter(items)


def dict_set(items, key, value):
    """``{**items, key: value}``: a dict comprehension's step, leaving ``items`` unchanged."""
    grown = dict(items)
    grown[key] = value
    return grown


def set_of(*values):
    """``{a, b, ...}``: a set display (``set_of()`` is the empty set)."""
    return set(values)


def set_add(items, value):
    """``items | {value}``: a set comprehension's step, leaving ``items`` unchanged."""
    return items | {value}


# -- exceptions inside differentiated code --------------------------------------------------------


class catch:
    """A ``with`` block that ends one statement of a ``try`` body: an exception raised inside
    is kept in ``error`` instead of propagating, and what the statement had pushed on the
    primal's ``stacks`` is dropped, so the adjoint sees it as a statement that never ran.

    zygote's own errors propagate: they say the code cannot be differentiated, which no
    ``except`` clause of the user's may hide.
    """

    def __init__(self, *stacks):
        self.stacks = stacks
        self.marks = [len(s) for s in stacks]
        self.error = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, ZygoteError):
            return False
        for stack, mark in zip(self.stacks, self.marks):
            del stack[mark:]
        self.error = error
        return True


def exit_arguments(error):
    """The arguments of ``__exit__`` for a ``with`` body that raised ``error``."""
    return type(error), error, error.__traceback__


def exception_matches(error, kinds):
    """Whether an ``except kinds:`` clause handles ``error``."""
    return isinstance(error, kinds)


# -- match statements ---------------------------------------------------------------------------

_SELF_MATCHING = (bool, bytearray, bytes, dict, float, frozenset, int, list, set, str, tuple)


def match_sequence(subject, length, starred):
    """Whether a sequence pattern of ``length`` fixed items (and a star if ``starred``) fits."""
    if not isinstance(subject, collections.abc.Sequence) or isinstance(subject, (str, bytes, bytearray)):
        return False
    return len(subject) >= length if starred else len(subject) == length


def match_mapping(subject, keys):
    """Whether a mapping pattern with ``keys`` fits."""
    return isinstance(subject, collections.abc.Mapping) and all(k in subject for k in keys)


def mapping_rest(subject, keys):
    """The ``**rest`` of a mapping pattern: the items whose keys the pattern did not name."""
    return {k: v for k, v in subject.items() if k not in keys}


def match_class(subject, cls, positional, keywords):
    """Whether a class pattern ``cls(<positional> patterns, keywords=...)`` fits."""
    if not isinstance(subject, cls):
        return False
    names = _match_args(cls)
    if positional > len(names):
        raise TypeError(f"{cls.__name__}() accepts {len(names)} positional sub-pattern"
                        f"{'' if len(names) == 1 else 's'} ({positional} given)")
    return all(hasattr(subject, k) for k in keywords) and all(hasattr(subject, n) for n in names[:positional]
                                                              if n is not None)


def match_field(subject, cls, i):
    """The value a class pattern's ``i``-th positional sub-pattern is matched against."""
    name = _match_args(cls)[i]
    return subject if name is None else getattr(subject, name)


def _match_args(cls):
    if issubclass(cls, _SELF_MATCHING) and "__match_args__" not in vars(cls):
        return (None,)  # int(x) matches the subject itself
    return tuple(getattr(cls, "__match_args__", ()))


# -- handing an object's cotangent to the call that mutated it -----------------------------------
#
# Cotangents travel per name, but an object changed by a call (an attribute written by a
# method, by __init__) is one object under several names. The caller's adjoint deposits the
# cotangent its name holds after the call; the callee's adjoint withdraws it where its own
# code last wrote to the object (or at its start, for a parameter), and whatever no one
# withdrew is reclaimed by the caller unchanged: a call that did not write the object leaves
# its cotangent as it was.

import threading  # noqa: E402  (used by this section only)

_HANDOFF = threading.local()


def _handoffs(direction="forward"):
    table = getattr(_HANDOFF, direction, None)
    if table is None:
        table = {}
        setattr(_HANDOFF, direction, table)
    return table


def deposit(obj, dobj, direction="forward"):
    """Leave ``dobj``, the cotangent of ``obj`` after a call, for that call's adjoint; return
    what the caller keeps (0, or ``dobj`` itself for a number or array, never handed over)."""
    if _immutable(obj):
        return dobj
    dobj = held_for(obj, dobj)  # (what the store keeps for the object by identity, too)
    if is_zero(dobj):
        return dobj
    table = _handoffs(direction)
    key = id(obj)
    held = table.get(key)
    table[key] = (obj, dobj if held is None else accum(held[1], dobj))
    return 0


def withdraw(obj, direction="forward"):
    """The cotangent deposited for ``obj`` (0 if none), which no one else will receive."""
    table = getattr(_HANDOFF, direction, None)
    if not table:
        return 0
    held = table.pop(id(obj), None)
    return 0 if held is None or held[0] is not obj else held[1]


def reclaim(obj, kept):
    """``kept`` plus what the call's adjoint left of the deposit for ``obj``."""
    return accum(kept, withdraw(obj))


def deposit_items(seq, dseq):
    """Deposit the cotangents ``dseq`` holds for the objects in the list ``seq`` (a loop over
    it may write their attributes); return what the list keeps."""
    if type(dseq) not in (list, tuple) or len(dseq) != len(seq):
        return dseq
    kept = list(dseq)
    for k, (item, d) in enumerate(zip(seq, dseq)):
        if not isinstance(item, (list, tuple, dict)) and is_zero(deposit(item, d)):
            kept[k] = 0
    return type(dseq)(kept)


def reclaim_items(seq, kept):
    """``kept`` plus what the loop's adjoint left of the items' deposits."""
    left = [0 if isinstance(item, (list, tuple, dict)) else withdraw(item) for item in seq]
    if all(is_zero(d) for d in left):
        return kept
    return accum(kept, left if isinstance(seq, list) else tuple(left))


def _immutable(obj):
    # Numbers (which may share one object, as constants do) and arrays are never handed over:
    # no attribute of theirs is written.
    return isinstance(obj, (int, float, complex, str, bytes, np.ndarray, np.generic)) or obj is None
