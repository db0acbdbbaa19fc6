"""Static facts about a normalised function: where names are assigned, and which values are active."""
import builtins
import types

import gast

from .nodes import names_loaded, walk
from .parse import GENERATED_HELPERS
from .rules import lookup

NUMERIC = "n"   # an active number or array: its cotangents add with +
SCALAR = "f"    # (as a parameter category) a Python float or int: numeric, never broadcast
ANY = "a"       # an active value of unknown type: cotangents add with accum()


# Attributes whose values carry no derivative (shapes, sizes, types).
NONDIFF_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes",
                                "__class__", "__name__", "training"})


class Site:
    """Where a statement sits: its order in the function, enclosing loops, and whether it is top level."""

    __slots__ = ("pos", "loops", "top")

    def __init__(self, pos, loops, top):
        self.pos = pos
        self.loops = loops
        self.top = top


class Sites:
    """Program positions of every statement and every assignment of every name."""

    def __init__(self, body, params):
        self.of_stmt = {}
        self.assigned = {name: [Site(-1, (), True)] for name in params}
        self.loop_spans = {}
        self._counter = 0
        self._walk(body, (), True)

    def _walk(self, stmts, loops, top):
        for stmt in stmts:
            site = Site(self._counter, loops, top)
            self._counter += 1
            self.of_stmt[id(stmt)] = site
            if isinstance(stmt, gast.For):
                self.add(stmt.target.id, Site(site.pos, loops + (id(stmt),), False))
            else:
                for name in assigned_by(stmt):
                    self.add(name, site)
            if isinstance(stmt, gast.If):
                self._walk(stmt.body, loops, False)
                self._walk(stmt.orelse, loops, False)
            elif isinstance(stmt, (gast.For, gast.While)):
                inner = loops + (id(stmt),)
                start = self._counter
                self._walk(stmt.body, inner, False)
                self.loop_spans[id(stmt)] = (start, self._counter)
            elif isinstance(stmt, gast.With):
                self._walk(stmt.body, loops, False)

    def add(self, name, site):
        self.assigned.setdefault(name, []).append(site)

    def reassigned_after(self, name, site):
        """Whether ``name`` may be assigned again after ``site`` has run."""
        for other in self.assigned.get(name, ()):
            if other.pos > site.pos:
                return True
            if set(other.loops) & set(site.loops):
                return True
        return False

    def final_at_end(self, name, site):
        """Whether the value ``name`` has at ``site`` is still its value when the function returns."""
        if self.reassigned_after(name, site):
            return False
        return any(s.top for s in self.assigned.get(name, [Site(-1, (), True)]))


def assigned_by(stmt):
    """Names that statement ``stmt`` itself binds (not those of nested blocks)."""
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
        if isinstance(target, gast.Name):
            return [target.id]
        if isinstance(target, gast.Tuple):
            return [e.value.id if isinstance(e, gast.Starred) else e.id for e in target.elts]
        if isinstance(target, gast.Subscript):
            return [target.value.id]
        return []
    if isinstance(stmt, gast.For):
        return [stmt.target.id]
    if isinstance(stmt, gast.FunctionDef):
        return [stmt.name]
    if isinstance(stmt, gast.With):
        return [i.optional_vars.id for i in stmt.items if i.optional_vars is not None]
    return []


def loaded_names(node):
    return names_loaded(node)


def outer_names(func_node):
    """Names a nested def or lambda reads from enclosing scopes (a superset is fine)."""
    args = func_node.args
    own = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            own.add(extra.id)
    body = func_node.body if isinstance(func_node.body, list) else [func_node.body]
    stored = set()
    loaded = set()
    for stmt in body:
        for n in walk(stmt):
            if isinstance(n, gast.Name):
                (stored if isinstance(n.ctx, gast.Store) else loaded).add(n.id)
    return loaded - own - stored


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
    """Python expressions ``root.path is expected_i``, one per guard, and the objects they
    name (``expected_i``, and ``namespace_j`` for another module's globals); a root read by
    several guards is looked up once, by the first."""
    terms, objects, roots, namespaces = [], {}, {}, {}
    counts = {}
    for root, _, _ in guards:
        counts[_root_key(root)] = counts.get(_root_key(root), 0) + 1
    for i, (root, path, obj) in enumerate(guards):
        key = _root_key(root)
        if isinstance(root, ForeignName):
            space = namespaces.setdefault(id(root.namespace), f"namespace_{len(namespaces)}")
            objects[space] = root.namespace
            read = f"{space}[{root.name!r}]"
        else:
            read = root
        if key in roots:
            read = roots[key]
        elif counts[key] > 1 and path:
            roots[key] = f"root_{len(roots)}"
            read = f"({roots[key]} := {read})"
        objects[f"expected_{i}"] = obj
        terms.append(".".join((read,) + tuple(path)) + f" is expected_{i}")
    return terms, objects


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


def is_numeric_value(value):
    """Whether a runtime value is a differentiable number or float array (cotangents add with +)."""
    kind = type(value)
    if kind is float or kind is int or kind is complex:
        return True
    dtype = getattr(value, "dtype", None)
    return dtype is not None and dtype.kind in "fc" and hasattr(value, "shape")


def category(value):
    """'f' Python number, 'n' float array, 'a' other differentiable, '-' not differentiable."""
    kind = type(value)
    if kind is float or kind is int or kind is complex:
        return SCALAR
    if kind is bool or value is None or kind is str or kind is bytes:
        return "-"
    if isinstance(value, (type, types.ModuleType, types.BuiltinFunctionType)):
        return "-"
    dtype = getattr(value, "dtype", None)
    if dtype is not None and hasattr(value, "shape"):
        return NUMERIC if getattr(dtype, "kind", "") in "fc" else "-"
    return ANY


class Activity:
    """Forward activity and kind: which names carry a derivative, and whether they are numeric."""

    def __init__(self, body, resolver, initial):
        self.kind = dict(initial)   # name -> NUMERIC or ANY; absent: inactive
        self.resolver = resolver
        # Names active just before each statement: a name reused for data and then for a
        # derived value (x = x @ W) is only differentiated where it holds the latter.
        self.before = {}
        self.current = None
        self._block(body)

    def at(self, stmt):
        """Make ``active`` answer for the program point just before ``stmt``."""
        self.current = self.before.get(id(stmt))

    def active(self, node):
        if not isinstance(node, gast.Name) or node.id not in self.kind:
            return False
        return self.current is None or node.id in self.current

    def kind_of(self, node):
        return self.kind.get(node.id) if isinstance(node, gast.Name) else None

    def _set(self, name, kind):
        old = self.kind.get(name)
        if kind is None or old == ANY:
            return
        if old != kind:
            self.kind[name] = ANY if old is not None else kind

    def _block(self, stmts):
        for stmt in stmts:
            self._stmt(stmt)

    def _stmt(self, stmt):
        self.before.setdefault(id(stmt), set()).update(self.kind)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            kind = self.value_kind(stmt.value)
            if isinstance(target, gast.Name):
                self._set(target.id, kind)
            elif isinstance(target, gast.Tuple):
                for name in assigned_by(stmt):
                    self._set(name, ANY if kind else None)
            elif isinstance(target, gast.Attribute):
                if kind and isinstance(target.value, gast.Name):
                    self._set(target.value.id, ANY)
            elif isinstance(target, gast.Subscript):
                if kind:
                    # The container may be a dict or list as well as an array.
                    self._set(target.value.id, self.kind.get(target.value.id) or ANY)
        elif isinstance(stmt, gast.If):
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            if isinstance(stmt, gast.For) and stmt.zygote_kind == "seq":
                self._set(stmt.target.id, self.value_kind(stmt.iter))
            while True:
                before = dict(self.kind)
                self._block(stmt.body)
                if self.kind == before:
                    break
        elif isinstance(stmt, gast.With):
            self._block(stmt.body)
        elif isinstance(stmt, gast.FunctionDef):
            if any(n in self.kind for n in outer_names(stmt)):
                self._set(stmt.name, ANY)

    def value_kind(self, value):
        """The kind of the value an expression in normal form produces, or None if inactive."""
        if isinstance(value, gast.Name):
            return self.kind.get(value.id)
        if isinstance(value, gast.Constant) or getattr(value, "zygote_opaque", False):
            return None
        if isinstance(value, gast.BinOp):
            kinds = [self.kind_of(value.left), self.kind_of(value.right)]
            if not any(kinds):
                return None
            return NUMERIC if all(k in (NUMERIC, None) for k in kinds) else ANY
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return None
            return self.kind_of(value.operand)
        if isinstance(value, gast.Compare):
            return None
        if isinstance(value, gast.Call):
            return self._call_kind(value)
        if isinstance(value, gast.Attribute):
            if self.resolver.static(value) is not None or value.attr in NONDIFF_ATTRIBUTES:
                return None
            if value.attr in ("T", "mT", "real"):
                return self.kind_of(value.value)
            return ANY if self.active(value.value) else None
        if isinstance(value, gast.Subscript):
            kind = self.kind_of(value.value)
            return kind
        if isinstance(value, (gast.Tuple, gast.List)):
            elts = [e.value if isinstance(e, gast.Starred) else e for e in value.elts]
            return ANY if any(self.active(e) for e in elts) else None
        if isinstance(value, gast.Dict):
            return ANY if any(self.active(v) for v in value.values) else None
        if isinstance(value, gast.Lambda):
            return ANY if any(n in self.kind for n in outer_names(value)) else None
        return None

    def _call_kind(self, call):
        args = [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        args += [k.value for k in call.keywords]
        arg_active = any(self.active(a) for a in args)
        static = self.resolver.static(call.func)
        if static is not None:
            rule = lookup(static.obj)
            if rule is not None:
                if rule.kind == "nograd" or not arg_active:
                    return None
                impl = getattr(rule.impl, "__wrapped__", rule.impl)
                return getattr(impl, "zygote_output_kind", NUMERIC)
            root = call.func
            while isinstance(root, gast.Attribute):
                root = root.value
            if arg_active or self.active(root):
                return ANY
            return None  # a global function or builtin applied to constants
        callee = call.func.value if isinstance(call.func, gast.Attribute) else call.func
        if arg_active or self.active(callee):
            return ANY
        return None


def walk_stmts(stmts):
    for stmt in stmts:
        yield stmt
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                yield from walk_stmts(inner)


def local_objects(body, params):
    """Names bound only to objects made in this function (a display or a call), never to a parameter."""
    made, other = set(), set(params)
    for stmt in walk_stmts(body):
        for name in assigned_by(stmt):
            value = getattr(stmt, "value", None)
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and isinstance(value, (gast.Call, gast.Dict, gast.List, gast.Tuple)):
                made.add(name)
            else:
                other.add(name)
    return made - other


def scalar_closed(body, scalars, kind, resolver):
    """Active names that are Python numbers and flow only into Python-number results.

    All cotangents of such names are the output cotangent times numbers, so they share one
    shape and add with plain ``+`` (no broadcast dimension can be counted twice).
    """
    scalar = set(scalars)
    uses = {}  # name -> targets of the statements that read it actively
    every = list(walk_stmts(body))
    statements = [s for s in every if isinstance(s, gast.Assign)]
    # An inactive name counts as a number only if every binding of it is one: all of them
    # are plain assignments, and each assigns a number.
    stores = {}
    for stmt in every:
        for name in assigned_by(stmt):
            stores[name] = stores.get(name, 0) + 1
    inactive = {}
    for stmt in statements:
        target = stmt.targets[0]
        if isinstance(target, gast.Name) and target.id not in kind:
            inactive.setdefault(target.id, []).append(stmt.value)
    inactive = {n: values for n, values in inactive.items() if len(values) == stores.get(n)}
    changed = True
    while changed:
        changed = False
        for stmt in statements:
            target = stmt.targets[0]
            if not isinstance(target, gast.Name) or target.id not in kind:
                continue
            if target.id not in scalar and scalar_value(stmt.value, scalar, resolver, kind):
                scalar.add(target.id)
                changed = True
        for name, values in inactive.items():
            if name not in scalar and all(scalar_value(v, scalar, resolver, kind) for v in values):
                scalar.add(name)
                changed = True
    for stmt in statements:
        target = stmt.targets[0]
        target_name = target.id if isinstance(target, gast.Name) else None
        for name in loaded_names(stmt.value) if not isinstance(stmt.value, gast.Compare) else ():
            if name in kind:
                uses.setdefault(name, set()).add(target_name)
    closed = set(scalar)
    # A returned one-element tuple of a number (a fused gradient's result) passes on its
    # single cotangent whole: its element is as closed as a returned number.
    closed |= _returned_singleton(body, statements)
    changed = True
    while changed:
        changed = False
        for name in list(closed):
            if any(t is None or t not in closed for t in uses.get(name, ())):
                closed.discard(name)
                changed = True
    return closed


def _returned_singleton(body, statements):
    """{name} when the body ends ``name = (a,); return name`` and reads ``name`` nowhere else."""
    ret = body[-1] if body else None
    if not isinstance(ret, gast.Return) or not isinstance(ret.value, gast.Name):
        return set()
    name = ret.value.id
    bound = [s for s in statements if isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if len(bound) != 1 or not isinstance(bound[0].value, gast.Tuple) or len(bound[0].value.elts) != 1:
        return set()
    reads = sum(1 for stmt in body for node in walk(stmt)
                if isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load))
    return {name} if reads == 1 else set()


def scalar_value(value, scalar, resolver, kind):
    """Whether a normal-form value is surely a Python number given the ``scalar`` names."""
    def atom_ok(atom):
        if isinstance(atom, gast.Constant):
            return type(atom.value) in (int, float)
        if not isinstance(atom, gast.Name):
            return False
        if atom.id in scalar:
            return True
        if atom.id in kind:
            return False
        # A constant global number (a step size, say): guarded, so a rebinding retransforms.
        static = resolver.static(atom)
        if static is not None and type(static.obj) in (int, float):
            resolver.guard(static)
            return True
        return False
    if isinstance(value, gast.Name):
        return value.id in scalar
    if isinstance(value, gast.BinOp) and not isinstance(value.op, gast.MatMult):
        return atom_ok(value.left) and atom_ok(value.right)
    if isinstance(value, gast.UnaryOp):
        return atom_ok(value.operand)
    if isinstance(value, gast.Call) and not value.keywords:
        static = resolver.static(value.func)
        fn = static.obj if static is not None else None
        from_math = (getattr(fn, "__module__", None) == "math" or fn in (abs, float)
                     or getattr(fn, "zygote_keeps_numbers", False))
        return from_math and all(atom_ok(a) for a in value.args)
    return False
