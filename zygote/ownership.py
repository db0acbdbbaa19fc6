"""Ownership of what a pullback keeps: copies of the saved arrays that the caller can still change.

``pullback`` returns ``back`` to a caller who may write into its inputs, into the result or
into globals before calling it. numpy has no copy on write, so ``own`` copies, once, each
array that ``back`` holds and that shares its buffer with something the caller can reach;
the arrays made inside the call and not returned are nobody else's and stay as they are.
``back`` is rebuilt around the copies (new tuples, partials and closures), never changed in
place, so no object of the caller's is modified.

>>> import functools, numpy as np
>>> x = np.array([1.0, 2.0])
>>> back = own(functools.partial(np.multiply, x), [x])
>>> x[0] = 100.0
>>> back(np.array([1.0, 1.0]))
array([1., 2.])
"""
import functools
import types

import numpy as np

from .writes import Log

_LEAVES = (type, types.ModuleType, types.BuiltinFunctionType, str, bytes, int, float, complex,
           bool, type(None))
_DEPTH = 32  # how far into the caller's objects their arrays are looked for


def own(back, reachable):
    """``back`` rebuilt so that the arrays it holds which share memory with an array found in
    ``reachable`` (an iterable of the caller's objects) are copies made now."""
    found = _Reachable()
    for value in reachable:
        found.visit(value, 0)
    if not found.roots and not found.containers:
        return back
    return _Rebuild(found).value(back)


def _root(array):
    """The array that owns ``array``'s memory (the end of its ``.base`` chain)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


class _Reachable:
    """The buffers and mutable containers the caller can reach from some objects."""

    def __init__(self):
        self.roots = set()       # id of each owning array
        self.containers = set()  # id of each list and dict
        self._seen = set()
        self._keep = []          # the objects whose ids are recorded stay alive

    def visit(self, value, depth):
        if isinstance(value, _LEAVES) or depth > _DEPTH or id(value) in self._seen:
            return
        self._seen.add(id(value))
        self._keep.append(value)
        if isinstance(value, np.ndarray):
            root = _root(value)
            self.roots.add(id(root))
            self._keep.append(root)
            if value.dtype == object:
                for item in value.flat:
                    self.visit(item, depth + 1)
            return
        if isinstance(value, (list, dict)):
            self.containers.add(id(value))
        if isinstance(value, dict):
            items = value.values()
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = value
        elif isinstance(value, types.FunctionType):
            items = [_contents(c) for c in value.__closure__ or ()]
        elif isinstance(value, types.MethodType):
            items = [value.__self__]
        elif isinstance(value, functools.partial):
            items = [value.func, *value.args, *value.keywords.values()]
        else:
            namespace = getattr(value, "__dict__", None)
            items = list(namespace.values()) if isinstance(namespace, dict) else []
        for item in items:
            self.visit(item, depth + 1)


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


class _Rebuild:
    """Copies of the structures a pullback holds, with the caller's arrays replaced by copies."""

    def __init__(self, found):
        self.found = found
        self.done = {}  # id of an original -> its rebuilt value (shared structure stays shared)
        self.cells = {}  # id of a closure cell -> its copy (closures sharing a cell still do)
        self._keep = []

    def value(self, value):
        # One frame per level of nesting, with loops rather than generators: a recursion's
        # saved values nest as deep as the recursion went (zygote.recursion).
        key = id(value)
        done = self.done
        if key in done:
            return done[key]
        self._keep.append(value)
        kind = type(value)
        if kind is np.ndarray:
            rebuilt = value.copy() if id(_root(value)) in self.found.roots else value
        elif kind is tuple:
            items = []
            for v in value:
                items.append(self.value(v))
            rebuilt = value if all(a is b for a, b in zip(items, value)) else tuple(items)
        elif kind is list:
            copy = done[key] = []  # a list may hold itself
            for v in value:
                copy.append(self.value(v))
            mine = key not in self.found.containers
            rebuilt = value if mine and all(a is b for a, b in zip(copy, value)) else copy
        elif kind is dict:
            copy = done[key] = {}
            for k, v in value.items():
                copy[k] = self.value(v)
            mine = key not in self.found.containers
            rebuilt = value if mine and all(copy[k] is v for k, v in value.items()) else copy
        elif kind is Log:
            # The writes of the call name the objects they changed: the log must name the
            # copies that replace them everywhere else in ``back``, or the backward pass
            # undoes the writes on objects it no longer reads.
            entries = []
            for entry in value:
                entries.append(self.value(entry))
            if all(a is b for a, b in zip(entries, value)):
                rebuilt = value
            else:
                rebuilt = Log(())
                rebuilt.inputs, rebuilt.external = value.inputs, value.external
                rebuilt.extend(entries)
        elif kind is functools.partial:
            func = self.value(value.func)
            args = []
            for a in value.args:
                args.append(self.value(a))
            keywords = {}
            for k, v in value.keywords.items():
                keywords[k] = self.value(v)
            if func is value.func and all(a is b for a, b in zip(args, value.args)) \
                    and all(keywords[k] is v for k, v in value.keywords.items()):
                rebuilt = value
            else:
                rebuilt = functools.partial(func, *args, **keywords)
        elif kind is types.FunctionType and value.__closure__:
            rebuilt = self._function(value)
        else:
            rebuilt = value
        done[key] = rebuilt
        return rebuilt

    def _function(self, fn):
        fresh = [id(c) not in self.cells for c in fn.__closure__]
        cells = tuple(self.cells.setdefault(id(c), types.CellType()) for c in fn.__closure__)
        copy = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, cells)
        copy.__kwdefaults__ = fn.__kwdefaults__
        self.done[id(fn)] = copy  # a pullback may call itself through its own cell
        self._keep.extend(fn.__closure__)
        changed = False
        for old, new, first in zip(fn.__closure__, cells, fresh):
            try:
                contents = old.cell_contents
            except ValueError:
                continue
            rebuilt = self.value(contents)
            if first:
                new.cell_contents = rebuilt
            changed = changed or rebuilt is not contents
        if not changed:
            return fn
        copy.__dict__.update(fn.__dict__)
        return copy
