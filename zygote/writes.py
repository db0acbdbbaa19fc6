"""In-place writes of differentiated code: the primal's record of what each write overwrote, and
the adjoint's cotangents kept per mutable object (per root buffer for arrays) rather than per name.

The primal performs the user's write on the user's object after saving the overwritten part
only (``write_item``, ``delete_item``, ``augment``): a write of k elements saves k values.
The adjoint keeps one ``Store`` for the whole backward pass. The cotangent of an array lives
in one float array per root buffer, and a view's cotangent is the same view of it, so that
every name and view of one buffer accumulates into the same place (``Store.add``), and a
write reads and clears the cotangent of the region it wrote (``undo``). Lists, dicts and
tuples pass the cotangents of the arrays, lists and dicts they hold on to those objects;
the cotangents of their other items are kept per list or dict. Running backwards, the
adjoint undoes each write, so that the values it reads are the ones the primal read; the
outermost backward pass makes the writes again when it ends.

>>> import numpy as np
>>> z = np.zeros(4)
>>> log = write_log()
>>> write_item(log, z[::2], 1, 5.0)
>>> z
array([0., 0., 5., 0.])
>>> with scope() as store:
...     _ = store.add(z, 0, np.arange(4.0))
...     print(undo(store, log, 1.0), store.take(z, 0), z)
2.0 [0. 1. 0. 3.] [0. 0. 0. 0.]
>>> z
array([0., 0., 5., 0.])
"""
import contextlib
import functools
import sys
import types

import numpy as np

from .cotangents import _float_dtype, accum, is_zero, unbroadcast
from .errors import ZygoteError
from .recursion import on_unwind

_MISSING = object()
# values that are never shared: their cotangents stay with the names that hold them
_NUMBERS = frozenset({float, int, complex, bool, np.float64, np.float32, np.float16, np.int64,
                      np.int32, np.complex128, np.complex64, type(None)})


class InPlaceWriteError(ZygoteError):
    """An in-place write that zygote cannot undo or differentiate."""


def _where(depth=2):
    frame = sys._getframe(depth)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _is_object(x):
    """Whether ``x`` is an instance of a user class, whose cotangent is a dict by attribute."""
    return isinstance(getattr(x, "__dict__", None), dict) and not isinstance(
        x, (type, types.ModuleType, types.FunctionType, types.MethodType, functools.partial))


def held_for(x, dx):
    """``dx`` plus the cotangent the running backward pass's store holds for object ``x``
    (cleared there): what a call's adjoint must receive for the object it was handed."""
    if _ACTIVE and _is_object(x):
        return _ACTIVE[-1].take(x, dx)
    return dx


def _shared(x):
    """Whether ``x`` is a mutable container whose cotangent the store keeps by identity."""
    return isinstance(x, (np.ndarray, list, dict))


def _held(x):
    """Whether the store keeps ``x``'s cotangent in its own place when a container or an
    object holds it: a mutable container, or a user object (its attributes may be written
    through another name)."""
    return isinstance(x, (np.ndarray, list, dict)) or _is_object(x)


# -- the primal's record -----------------------------------------------------------------------


class Log(list):
    """The writes of one primal call, in order, and the objects it was given (``inputs``)."""

    def __init__(self, inputs):
        super().__init__()
        self.inputs = {id(_root(x)) for x in inputs if _shared(x)}
        self.external = None    # file:line of the first write into one of ``inputs``


def write_log(*inputs):
    """A new ``Log`` for a primal called with ``inputs`` (its parameters)."""
    return Log(inputs)


def _root(x):
    while isinstance(x, np.ndarray) and isinstance(x.base, np.ndarray):
        x = x.base
    return x


PRIMALS = set()  # the code objects of generated primals (the compiler adds them)


def _note(log, target):
    if type(log) is Log and log.external is None and id(_root(target)) in log.inputs:
        log.external = _where(3)
        _check_caller(log.external, sys._getframe(3))


def _check_caller(where, frame):
    """Refuse a write into an object a primal was given when the generated primal that
    called it keeps no log: that caller did not know the call writes, and its adjoint
    would keep the cotangent of the object by name, out of the write's reach."""
    frame = frame.f_back
    while frame is not None:
        if frame.f_code in PRIMALS:
            if not any(type(v) is Log for v in frame.f_locals.values()):
                raise InPlaceWriteError(
                    f"the write at {where} into an argument of a function called at run time "
                    f"(a method or a function passed in) from {frame.f_code.co_name[:-7]!r}: "
                    "zygote cannot see from the caller that the call writes; call the function "
                    "by its global name, or return the value instead of writing it")
            return
        frame = frame.f_back


def write_item(log, target, index, value):
    """``target[index] = value``, after recording in ``log`` what it overwrites."""
    _note(log, target)
    if isinstance(target, np.ndarray):
        old = np.array(target[index], copy=True)
        target[index] = value
        log.append(("array", target, index, old))
    elif isinstance(target, list):
        if isinstance(index, slice) and index.step in (None, 1):
            before = len(target)
            start = index.indices(before)[0]
            old = target[index]
            target[index] = value
            log.append(("splice", target, start, old, len(target) - before + len(old)))
        else:
            old = target[index]
            target[index] = value
            log.append(("item", target, index, old))
    elif isinstance(target, dict):
        old = target.get(index, _MISSING)
        target[index] = value
        log.append(("key", target, index, old))
    else:
        target[index] = value
        log.append(("opaque", target, index, _where()))


def delete_item(log, target, index):
    """``del target[index]``, after recording in ``log`` what it removes."""
    _note(log, target)
    if isinstance(target, list):
        before = len(target)
        if isinstance(index, slice):
            if index.step not in (None, 1):
                del target[index]
                log.append(("opaque", target, index, _where()))
                return
            start = index.indices(before)[0]
            old = target[index]
        else:
            start = index + before if index < 0 else index
            old = [target[index]]
        del target[index]
        log.append(("splice", target, start, old, 0))
    elif isinstance(target, dict):
        old = target[index]
        del target[index]
        log.append(("key", target, index, old))
    else:
        del target[index]
        log.append(("opaque", target, index, _where()))


def augment(log, target, value):
    """``target op= x`` once ``value = target op x`` is known: written into ``target`` when it
    is an array or list (Python's in-place operators), else ``value`` itself."""
    if isinstance(target, np.ndarray) and np.shape(value) == target.shape \
            or isinstance(target, np.ndarray) and target.ndim == 0:
        write_item(log, target, Ellipsis, value)
        return target
    if isinstance(target, np.ndarray):
        # numpy refuses to broadcast the result into a smaller array; say so as it would
        raise ValueError(f"non-broadcastable output operand with shape {target.shape} doesn't "
                         f"match the broadcast shape {np.shape(value)}")
    if isinstance(target, list):
        write_item(log, target, slice(None), value)
        return target
    log.append(("none",))
    return value


# -- the adjoint's store ---------------------------------------------------------------------


class Store:
    """Cotangents of the mutable objects of one backward pass, and the writes it has undone."""

    def __init__(self):
        self.buffers = {}   # id(root array) -> (root, cotangent array)
        self.slots = {}     # id(list or dict) -> (object, cotangents of its other items)
        self.undone = []    # (target, index, value after the write), in the order undone
        self.views = {}     # id(view) -> (view, its cotangent), for views met before
        self.depth = 0

    # arrays ------------------------------------------------------------------------------

    def view(self, x, make=True):
        """The cotangent of array ``x``: a view of its root buffer's cotangent (None if none)."""
        known = self.views.get(id(x))
        if known is not None and known[0] is x:
            return known[1]
        root = x
        while isinstance(root.base, np.ndarray):
            root = root.base
        entry = self.buffers.get(id(root))
        if entry is None:
            if not make:
                return None
            cot = np.zeros_like(root, dtype=_float_dtype(root), order="K")
            scale = cot.itemsize / root.itemsize
            if cot.strides != tuple(s * scale for s in root.strides):
                # order="K" lays out a dense array's axes as it does (C, F or permuted); an
                # array with gaps between its items has no cotangent buffer of the same layout
                raise InPlaceWriteError(
                    f"differentiating through a view of an array whose memory zygote cannot "
                    f"map (strides {root.strides}); copy it first")
            entry = (root, cot)
            self.buffers[id(root)] = entry
        if root is x:
            return entry[1]
        cot = self._map(x, root, entry[1])
        self.views[id(x)] = (x, cot)
        return cot

    @staticmethod
    def _map(x, root, cot):
        """The part of ``cot`` (laid out as ``root``) at the memory of ``x``, a view of ``root``."""
        scale = cot.itemsize / root.itemsize
        if x.dtype.kind == "c" or root.dtype.kind != "c":
            dtype = cot.dtype if x.itemsize == root.itemsize else None
        else:
            dtype = cot.real.dtype if 2 * x.itemsize == root.itemsize else None
        if dtype is None or scale != int(scale):
            raise InPlaceWriteError(
                f"differentiating through a {x.dtype} view of a {root.dtype} array; copy it first")
        scale = int(scale)
        offset = x.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        memory = cot
        if not (cot.flags.c_contiguous or cot.flags.f_contiguous):
            # dense with its axes permuted (``view`` made it so): its items as one run
            memory = np.lib.stride_tricks.as_strided(cot, shape=(cot.size,), strides=(cot.itemsize,))
        return np.ndarray(x.shape, dtype, buffer=memory, offset=offset * scale,
                          strides=tuple(s * scale for s in x.strides))

    # all objects -------------------------------------------------------------------------

    def add(self, x, dx, g):
        """Add cotangent ``g`` of value ``x``: into the store for mutable objects (and the
        mutable items of a tuple), else to ``dx``, the name's own cotangent, which is returned."""
        if type(x) in _NUMBERS:
            if type(g) is np.ndarray:
                g = unbroadcast(g, x)
            return g if is_zero(dx) else accum(dx, g)
        if is_zero(g):
            return dx
        if isinstance(x, np.ndarray):
            cot = self.view(x)
            part = unbroadcast(g, x)
            zero = [i for i, s in enumerate(x.strides) if s == 0 and x.shape[i] > 1]
            if zero:
                # a broadcast view: its copies of one element add into that element
                part = np.sum(np.broadcast_to(part, x.shape), axis=tuple(zero), keepdims=True)
                cot = cot[tuple(slice(0, 1) if i in zero else slice(None) for i in range(x.ndim))]
            if np.iscomplexobj(part) and not np.iscomplexobj(cot):
                part = part.real
            cot += part
            return dx
        if isinstance(x, list):
            if type(g) not in (list, tuple):
                return accum(dx, g)  # a rule's array cotangent for a list it read (np.asarray)
            slot = self._slot(x)
            for i, (item, part) in enumerate(zip(x, g)):
                if _held(item):
                    self.add(item, 0, part)
                else:
                    slot[i] = accum(slot[i], part)
            return dx
        if isinstance(x, dict):
            if type(g) is not dict:
                return accum(dx, g)
            slot = self._slot(x)
            for key, part in g.items():
                item = x.get(key, _MISSING)
                if _held(item):
                    self.add(item, 0, part)
                else:
                    slot[key] = accum(slot.get(key, 0), part)
            return dx
        if type(g) is dict and _is_object(x):
            add_to_object(self, x, g)
            return dx
        if isinstance(x, tuple) and type(g) in (tuple, list) and len(g) == len(x):
            rest = list(g)
            for i, item in enumerate(x):
                if _held(item) or isinstance(item, tuple):
                    rest[i] = self.add(item, 0, g[i])
            return accum(dx, tuple(rest)) if any(not is_zero(r) for r in rest) else dx
        if isinstance(x, (float, int, complex, np.generic)):
            g = unbroadcast(g, x)
        return accum(dx, g)

    def take(self, x, dx, seen=()):
        """The whole cotangent of value ``x`` (what ``add`` gave it, plus ``dx``), cleared;
        ``seen`` are the ids of the objects around ``x`` whose parts are being gathered (an
        object may hold itself, or what holds it)."""
        if type(x) in _NUMBERS:
            return dx
        if isinstance(x, np.ndarray):
            cot = self.view(x, make=False)
            if cot is None:
                return dx
            out = cot.copy()
            cot[...] = 0
            return accum(dx, out)
        if isinstance(x, list):
            slot = self._slot(x, make=False)
            parts = [self.take(item, 0, seen) if _held(item) else (slot[i] if slot else 0)
                     for i, item in enumerate(x)]
            if slot:
                slot[:] = [0] * len(x)
            return accum(dx, parts) if any(not is_zero(p) for p in parts) else dx
        if isinstance(x, dict):
            slot = self._slot(x, make=False)
            parts = {}
            for key, item in x.items():
                part = self.take(item, 0, seen) if _held(item) else (slot.pop(key, 0) if slot else 0)
                if not is_zero(part):
                    parts[key] = part
            return accum(dx, parts) if parts else dx
        if isinstance(x, tuple) and any(_held(i) or isinstance(i, tuple) for i in x):
            parts = tuple(self.take(item, 0, seen) if _held(item) or isinstance(item, tuple) else 0
                          for item in x)
            return accum(dx, parts) if any(not is_zero(p) for p in parts) else dx
        if _is_object(x):
            return take_from_object(self, x, dx, seen)
        return dx

    def take_env(self, x, dx):
        """``take`` for a closure variable or global: a caller inside the same backward pass
        finds the cotangent of a mutable one here, so it stays unless this is the outermost."""
        if self.depth > 1 and (_shared(x) or isinstance(x, tuple)):
            return dx
        return self.take(x, dx)

    def take_item(self, x, index):
        """The cotangent of ``x[index]`` alone, cleared (``x`` an array, list or dict)."""
        if isinstance(x, np.ndarray):
            cot = self.view(x, make=False)
            if cot is None:
                return 0
            part = np.array(cot[index], copy=True)
            cot[index] = 0
            return part
        item = x[index]
        if isinstance(x, list) and isinstance(index, slice):
            slot = self._slot(x, make=False)
            positions = range(*index.indices(len(x)))
            parts = [self.take(x[i], 0) if _held(x[i]) else (slot[i] if slot else 0)
                     for i in positions]
            if slot:
                for i in positions:
                    slot[i] = 0
            return parts
        if _held(item):
            return self.take(item, 0)
        slot = self._slot(x, make=False)
        if not slot:
            return 0
        if isinstance(x, dict):
            return slot.pop(index, 0)
        part, slot[index] = slot[index], 0
        return part

    def add_item(self, x, index, dx, g, getitem_back):
        """Add cotangent ``g`` of ``x[index]`` where it belongs; for objects other than arrays,
        lists and dicts, ``getitem_back(x, index, g)`` says what reaches ``x``."""
        if is_zero(g):
            return dx
        if not isinstance(x, (np.ndarray, list, dict)):
            return self.add(x, dx, getitem_back(x, index, g))
        if isinstance(x, np.ndarray):
            cot = self.view(x)
            if type(index) is int and type(g) in _NUMBERS and x.ndim == 1:
                cot[index] += g.real if type(g) is complex and cot.dtype.kind != "c" else g
                return dx
            view = cot[index]
            if isinstance(view, np.ndarray) and _basic(index):
                self.add(x[index], 0, g)
            elif _basic(index):
                part = unbroadcast(g, x[index])
                cot[index] += np.real(part) if not np.iscomplexobj(cot) else part
            else:
                np.add.at(cot, index, unbroadcast(g, x[index]))
            return dx
        if isinstance(x, list) and isinstance(index, slice):
            for i, part in zip(range(*index.indices(len(x))), g):
                self.add_item(x, i, 0, part, getitem_back)
            return dx
        item = x[index]
        if _held(item):
            self.add(item, 0, g)
            return dx
        slot = self._slot(x)
        if isinstance(x, dict):
            slot[index] = accum(slot.get(index, 0), g)
        else:
            slot[index] = accum(slot[index], g)
        return dx

    def _slot(self, x, make=True):
        entry = self.slots.get(id(x))
        if entry is None:
            if not make:
                return None
            entry = (x, [0] * len(x) if isinstance(x, list) else {})
            self.slots[id(x)] = entry
        return entry[1]

    def replay(self):
        """Make again, in their order, the writes this pass undid."""
        for target, index, new in reversed(self.undone):
            if new is _MISSING:
                del target[index]
            elif isinstance(target, list) and type(index) is tuple:
                start, count = index
                target[start:start + count] = new
            else:
                target[index] = new
        self.undone.clear()


def add_to_object(store, x, g):
    """``Store.add`` for a user object: its cotangent (a dict by attribute) is kept by
    identity, so that every name bound to it meets the writes its methods make; an
    attribute holding another object, a list or a dict passes its part on to that one's own
    place (an array attribute's part stays here, by attribute)."""
    slot = store._slot(x)
    attributes = x.__dict__
    for key, part in g.items():
        item = attributes.get(key, _MISSING)
        if _is_object(item) or isinstance(item, (list, dict)):
            store.add(item, 0, part)
        else:
            slot[key] = accum(slot.get(key, 0), part)


def take_from_object(store, x, dx, seen):
    """``Store.take`` for a user object: what its own place holds and what its attributes'
    objects hold, cleared."""
    entry = store.slots.get(id(x))
    parts = {}
    if entry is not None and entry[0] is x:
        del store.slots[id(x)]
        parts = {key: part for key, part in entry[1].items() if not is_zero(part)}
    if id(x) not in seen:
        inside = seen + (id(x),)
        for key, item in x.__dict__.items():
            if _is_object(item) or isinstance(item, (list, dict)):
                part = store.take(item, 0, inside)
                if not is_zero(part):
                    parts[key] = accum(parts.get(key, 0), part)
    return accum(dx, parts) if parts else dx


def _basic(index):
    if isinstance(index, tuple):
        return all(_basic(i) for i in index)
    return index is None or index is Ellipsis or isinstance(index, (int, slice, np.integer))


_ACTIVE = []


@contextlib.contextmanager
def scope():
    """The store of the backward pass running now, made for it if this is the outermost one;
    the outermost pass makes the writes again when it ends."""
    store = open_store()
    try:
        yield store
    finally:
        close_store(store)


def open_store(log=None):
    """The store of the running backward pass, for an adjoint whose primal wrote ``log``."""
    if _ACTIVE:
        store = _ACTIVE[-1]
    else:
        store = Store()
        _ACTIVE.append(store)
    store.depth += 1
    return store


def _abandon_stores(depth):
    """Close the stores an error left open above ``depth``, making their undone writes again."""
    while len(_ACTIVE) > depth:
        _ACTIVE.pop().replay()


on_unwind(_ACTIVE.__len__, _abandon_stores)


def close_store(store):
    store.depth -= 1
    if store.depth == 0:
        _ACTIVE.remove(store)
        store.replay()


# -- the adjoint of one write -------------------------------------------------------------------


def undo_attribute(store, obj, dobj, name):
    """The adjoint of ``obj.name = value`` in store mode: ``(cotangent of value, 0)``. The
    object's whole cotangent (what reached it through every name, and ``dobj``) is taken from
    the store; what is not the written attribute's goes back to the object for the
    statements before the write."""
    whole = store.take(obj, dobj)
    if type(whole) is not dict or name not in whole:
        store.add(obj, 0, whole)
        return 0, 0
    rest = {k: v for k, v in whole.items() if k != name}
    if rest:
        store.add(obj, 0, rest)
    return whole[name], 0



def undo(store, log, value):
    """Undo the last write of ``log`` not yet undone in this pass and return the cotangent of
    the value it wrote, ``value`` (for an array write, with numpy's semantics for repeated
    indices: the last write of an element wins)."""
    cursor = store.slots.setdefault(("cursor", id(log)), [log, len(log)])
    cursor[1] -= 1
    entry = log[cursor[1]]
    kind = entry[0]
    if kind == "none":
        return 0
    if kind == "opaque":
        _, target, index, where = entry
        raise InPlaceWriteError(
            f"item assignment into a {type(target).__name__} at {where}: zygote can undo and "
            "differentiate writes into arrays, lists and dicts only")
    target, index, old = entry[1], entry[2], entry[3]
    if kind == "array":
        store.undone.append((target, index, np.array(target[index], copy=True)))
        part = store.take_item(target, index)
        if not _basic(index) and not is_zero(part):
            part = part * _last_writes(target.shape, index)
        target[index] = old
        if is_zero(part):
            return 0
        return unbroadcast(part, value) if np.ndim(part) else (part if np.ndim(value) else part[()])
    if kind == "splice":
        count = entry[4]
        new = target[index:index + count]
        store.undone.append((target, (index, len(old)), new))
        part = store.take_item(target, slice(index, index + count))
        target[index:index + count] = old
        slot = store._slot(target, make=False)
        if slot is not None:
            slot[index:index + count] = [0] * len(old)
        return part
    if kind == "item":
        store.undone.append((target, index, target[index]))
        part = store.take_item(target, index)
        target[index] = old
        return part
    present = index in target
    store.undone.append((target, index, target[index] if present else _MISSING))
    part = store.take_item(target, index) if present else 0
    if old is _MISSING:
        del target[index]
    else:
        target[index] = old
    return part


def _last_writes(shape, index):
    """1 where an element of ``x[index] = v`` is the last write of its place, else 0."""
    order = np.full(shape, -1, dtype=np.intp)
    count = np.empty(np.shape(np.empty(shape, dtype=np.int8)[index]), dtype=np.intp)
    count.reshape(-1)[:] = np.arange(count.size)
    order[index] = count
    return (order[index] == count).astype(np.float64)
