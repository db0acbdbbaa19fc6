"""Resolving the names a function does not bind (globals, then builtins) and guarding the result.

A call such as ``np.sin(x)`` is resolved when the function is transformed, so that its rule
can be inlined; the resolution is recorded as a guard (``np.sin`` must still be that object),
and the cache rebuilds a transform whose guards fail.
"""
import builtins
import types

import gast

from .. import nodes
from .parse import GENERATED_HELPERS


class Resolver:
    """Resolves names that are not local to the function: globals, then builtins."""

    def __init__(self, fn, local_names):
        self.globals = fn.__globals__
        self.builtins = self.globals.get("__builtins__", builtins)
        if not isinstance(self.builtins, dict):
            self.builtins = vars(self.builtins)
        self.freevars = set(fn.__code__.co_freevars)
        self.locals = set(local_names)
        self.guards = {}
        # Generated code reads its helpers from closure cells that never change.
        self.fixed = {}
        helpers = GENERATED_HELPERS.get(fn.__code__, ())
        if helpers and fn.__closure__:
            for name, cell in zip(fn.__code__.co_freevars, fn.__closure__):
                if name in helpers:
                    self.fixed[name] = cell.cell_contents

    def is_env(self, name):
        return name not in self.locals

    def static(self, node):
        """The object a callee expression denotes at transform time, if fixed by globals; else None."""
        path = []
        while isinstance(node, gast.Attribute):
            path.append(node.attr)
            node = node.value
        if not isinstance(node, gast.Name) or node.id in self.locals:
            return None
        root = node.id
        if root in self.fixed:
            obj = self.fixed[root]
            for attr in reversed(path):
                obj = getattr(obj, attr, None)
            return _Static(obj, None) if obj is not None else None
        if root in self.freevars:
            return None
        if root in self.globals:
            obj = self.globals[root]
        elif root in self.builtins:
            obj = self.builtins[root]
        else:
            return None
        for attr in reversed(path):
            try:
                obj = getattr(obj, attr)
            except AttributeError:
                return None
        key = (root, tuple(reversed(path)))
        return _Static(obj, key)

    def guard(self, static):
        if static.key is None:
            return
        root, path = static.key
        obj = static.obj
        if type(obj) is types.MethodType and path:
            # Each access makes a new bound method (``stats.norm.logpdf``), so guard what it
            # is made of: the object it is bound to and the function.
            self.guards[(root, path + ("__self__",))] = obj.__self__
            self.guards[(root, path + ("__func__",))] = obj.__func__
            return
        self.guards[static.key] = obj

    def guard_in(self, namespace, root, path, obj):
        """Guard ``root.path`` in ``namespace``, another function's globals or this one's."""
        if not isinstance(root, ForeignName) and namespace is not self.globals:
            root = ForeignName(namespace, root)
        self.guards[(root, tuple(path))] = obj


def guard_terms(guards):
    """Expressions ``root.path is expected_i`` (gast nodes), one per guard, and the objects
    they name (``expected_i``, and ``namespace_j`` for another module's globals); a root read
    by several guards is looked up once, by the first."""
    terms, objects, roots, namespaces = [], {}, {}, {}
    counts = {}
    for root, _, _ in guards:
        counts[_root_key(root)] = counts.get(_root_key(root), 0) + 1
    for i, (root, path, obj) in enumerate(guards):
        key = _root_key(root)
        if key in roots:
            read = nodes.load(roots[key])
        else:
            if isinstance(root, ForeignName):
                space = namespaces.setdefault(id(root.namespace), f"namespace_{len(namespaces)}")
                objects[space] = root.namespace
                read = nodes.subscript(nodes.load(space), nodes.const(root.name))
                if root.name not in root.namespace:
                    # A builtin of the other module (``type``): its global if it defines one
                    # later, else the builtin, as the module's own code reads it.
                    builtins_space = f"{space}_builtins"
                    objects[builtins_space] = builtins_of(root.namespace)
                    read = nodes.call(nodes.attribute(nodes.load(space), "get"),
                                      [nodes.const(root.name),
                                       nodes.subscript(nodes.load(builtins_space), nodes.const(root.name))])
            else:
                read = nodes.load(root)
            if counts[key] > 1 and path:
                roots[key] = f"root_{len(roots)}"
                read = nodes.named(roots[key], read)
        for attr in path:
            read = nodes.attribute(read, attr)
        objects[f"expected_{i}"] = obj
        terms.append(nodes.compare(read, gast.Is(), nodes.load(f"expected_{i}")))
    return terms, objects


def builtins_of(namespace):
    """The dict of builtins that code with the globals ``namespace`` reads."""
    found = namespace.get("__builtins__", builtins)
    return found if isinstance(found, dict) else vars(found)


def foreign_value(root):
    """The value the ``ForeignName`` ``root`` names now: the module's global, else its builtin."""
    namespace = root.namespace
    if root.name in namespace:
        return namespace[root.name]
    return builtins_of(namespace)[root.name]


def _root_key(root):
    return (id(root.namespace), root.name) if isinstance(root, ForeignName) else root


class ForeignName:
    """A guarded global of another module (a callee's), checked through its namespace."""

    __slots__ = ("namespace", "name")

    def __init__(self, namespace, name):
        self.namespace = namespace
        self.name = name

    def __eq__(self, other):
        return (isinstance(other, ForeignName) and other.namespace is self.namespace
                and other.name == self.name)

    def __hash__(self):
        return hash((id(self.namespace), self.name))


class _Static:
    __slots__ = ("obj", "key")

    def __init__(self, obj, key):
        self.obj = obj
        self.key = key
