"""Structural cotangents of containers and objects: finding a value inside one, adding at a path.

The cotangent of a list or tuple is a list or tuple with one entry per item, of a dict a
dict by key, and of any other object a dict by attribute name; ``0`` stands for "none".
These helpers let a rule whose output holds parts of its input (the items of an object
iterated over, the arrays of a model) send each part's cotangent back to where it lives.

>>> class Box:
...     def __init__(self):
...         self.items = (1.0, [2.0, 3.0])
>>> box = Box()
>>> path = path_to(box, box.items[1])
>>> path
('items', 1)
>>> cotangent_at(box, 0, path, [0, 5.0])
{'items': (0, [0, 5.0])}
"""

import types

from . import cotangents
from .errors import UnsupportedSyntaxError
from .params import Params

_OPAQUE = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, types.ModuleType,
           type)


def fields_of(value):
    """The field names of a namedtuple, or None for any other value."""
    fields = getattr(type(value), "_fields", None)
    return fields if isinstance(value, tuple) and isinstance(fields, tuple) else None


def slot_names(kind):
    """The attribute names that the ``__slots__`` of class ``kind`` and its bases declare."""
    names = []
    for klass in kind.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        for name in (declared,) if isinstance(declared, str) else declared:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    return names


def attributes(value):
    """``{name: value}`` of an object's attributes, from its ``__dict__`` and its slots."""
    found = dict(vars(value)) if hasattr(value, "__dict__") else {}
    for name in slot_names(type(value)):
        if name not in found and hasattr(value, name):
            found[name] = getattr(value, name)
    return found


def parts(value):
    """The ``(key, child)`` pairs a structural cotangent of ``value`` has entries for."""
    if isinstance(value, (tuple, list)):
        return enumerate(value)
    if isinstance(value, dict):
        return value.items()
    if isinstance(value, _OPAQUE):
        return ()
    if hasattr(value, "__dict__") or getattr(type(value), "__slots__", None) is not None:
        return attributes(value).items()
    return ()


def held_paths(root):
    """``{id(value): path}`` for every value ``root`` holds, each at its first path (breadth
    first, keys and attribute names); ``root`` itself is at ``()``."""
    paths, frontier = {id(root): ()}, [((), root)]
    while frontier:
        following = []
        for path, value in frontier:
            for key, child in parts(value):
                if id(child) not in paths:
                    paths[id(child)] = path + (key,)
                    following.append((path + (key,), child))
        frontier = following
    return paths


def path_to(root, target):
    """The first path from ``root`` to the very object ``target``, or None when ``root`` does
    not hold it."""
    return held_paths(root).get(id(target))


def cotangent_at(value, cot, path, d):
    """``cot``, a structural cotangent of ``value``, with ``d`` added at ``path``."""
    if not path:
        return cotangents.accum(cot, d, value)
    key, rest = path[0], path[1:]
    if isinstance(value, (tuple, list)):
        entries = list(cot) if isinstance(cot, (tuple, list)) else [0] * len(value)
        entries[key] = cotangent_at(value[key], entries[key], rest, d)
        return tuple(entries) if isinstance(value, tuple) else entries
    entries = dict(cot) if isinstance(cot, dict) else {}
    child = value[key] if isinstance(value, dict) else getattr(value, key)
    entries[key] = cotangent_at(child, entries.get(key, 0), rest, d)
    return entries


def cotangent_from_parts(root, paths, parts):
    """The structural cotangent of ``root`` from the cotangents ``parts`` of what it holds at
    ``paths`` (0 where none reach it)."""
    cot = 0
    if not cotangents.is_zero(parts):
        for path, d in zip(paths, parts):
            if not cotangents.is_zero(d):
                cot = cotangent_at(root, cot, path, d)
    return cot


def iterates_itself(seq):
    """Whether ``seq`` is an object with its own Python ``__iter__`` (a Chain), whose items'
    cotangents must be sent back to where it holds them."""
    return (not isinstance(seq, (list, tuple, dict, Params))
            and isinstance(getattr(type(seq), "__iter__", None), types.FunctionType))


def held_items_cotangent(seq, items, parts):
    """The cotangent of ``seq`` from those (``parts``) of the ``items`` it iterated over: each
    item must be a value ``seq`` holds, and its cotangent goes where ``seq`` holds it."""
    held = held_paths(seq)
    paths = [held.get(id(item)) for item in items]
    for index, (path, d) in enumerate(zip(paths, parts)):
        if path is None and not cotangents.is_zero(d):
            raise UnsupportedSyntaxError(
                f"iterating over a {type(seq).__name__} whose item {index} is computed by its "
                f"__iter__ rather than held by it", hint=(
                    "iterate over the container it holds (a list or tuple attribute) instead"))
    return cotangent_from_parts(seq, paths, parts)
