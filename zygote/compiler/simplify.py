"""Copy propagation on generated functions: ``a = b`` goes, later reads of ``a`` read ``b``.

Normal form and the adjoint rules leave many plain copies behind (``dy = dout``, the
cotangent of a sum handed to both operands). Each costs little, but in the gradient of a
small scalar function, and more so in a nested gradient, they are a fair share of all
statements. A copy ``a = b`` at position ``i`` of a block is removed when

* ``a`` is bound nowhere else and is not a parameter,
* every read of ``a`` is in the same block after ``i`` (nested blocks included), and
* ``b`` is a local that nothing in that block rebinds after ``i``,

so at every read of ``a``, ``b`` still holds the value copied. A copy back, ``b = a`` right
after ``a = b``, changes nothing and goes first. Names used inside nested
scopes (lambdas, comprehensions, inner functions) are left alone: those run later.
Reads are renamed in place, so a primal and its adjoint, which share nodes, are simplified
together (``propagate_copies_in_pair``).

>>> import gast
>>> from zygote.compiler.codegen import render
>>> tree = gast.parse("def f(x):\\n    y = x\\n    z = y * 2\\n    return z").body[0]
>>> print(render(propagate_copies(tree)).strip())
def f(x):
    z = x * 2
    return z
"""
import gast

from .. import nodes

_BLOCKS = ("body", "orelse", "finalbody")
_SCOPES = (gast.Lambda, gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef, gast.ListComp,
           gast.SetComp, gast.DictComp, gast.GeneratorExp)
_SCOPE_TYPES = frozenset(_SCOPES)


def propagate_copies(fn, keep=frozenset()):
    """Remove the removable copies of ``fn`` (a gast ``FunctionDef``) in place; returns ``fn``.

    Copies to names in ``keep`` stay (a user's variable ``z`` and its cotangent ``dz``, so
    that the code shown by ``adjoint_source`` reads like the function it came from).
    """
    _drop_swaps(fn.body)
    _propagate(fn, _Facts(fn), frozenset(), keep)
    return fn


def propagate_copies_in_pair(primal, adjoint, keep=frozenset()):
    """``propagate_copies`` on a primal and its adjoint, which share some nodes (the branch
    conditions the adjoint replays): a copy whose reads include a shared node stays, since
    renaming that node would rename it in the other function too."""
    _drop_swaps(primal.body)
    _drop_swaps(adjoint.body)
    primal_facts, adjoint_facts = _Facts(primal), _Facts(adjoint)
    shared = primal_facts.names & adjoint_facts.names
    _propagate(primal, primal_facts, shared, keep)
    _propagate(adjoint, adjoint_facts, shared, keep)


def _propagate(fn, facts, shared, keep):
    removed = set()
    changed = True
    while changed:
        changed = False
        for block, index, path, stmt in facts.copies:
            if id(stmt) in removed:
                continue
            target, source = stmt.targets[0].id, stmt.value.id
            if target not in keep and facts.removable(target, source, block, index, path) \
                    and not any(id(node) in shared for node, _ in facts.loads.get(target, ())):
                for node, where in facts.loads.pop(target, ()):
                    node.id = source
                    facts.loads.setdefault(source, []).append((node, where))
                facts.loads[source] = [(n, p) for n, p in facts.loads[source] if n is not stmt.value]
                removed.add(id(stmt))
                changed = True
    if removed:
        _drop(fn.body, removed)


class _Facts:
    """Where each name is read and bound, by statement path: ((block id, index), ...)."""

    def __init__(self, fn):
        self.loads = {}
        self.stores = {}
        self.params = set()
        self.fixed = set()   # names used in nested scopes or deleted: never touched
        self.names = set()   # ids of the Name nodes seen
        self.copies = []
        args = fn.args
        for arg in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs) \
                + [a for a in (args.vararg, args.kwarg) if a is not None]:
            self.params.add(arg.id)
        self._block(fn.body, ())

    def _block(self, stmts, path):
        for index, stmt in enumerate(stmts):
            here = path + ((id(stmts), index),)
            if _is_copy(stmt):
                self.copies.append((stmts, index, here, stmt))
            if isinstance(stmt, _SCOPES):
                self.stores.setdefault(stmt.name, []).append(here)
                self._nested(stmt)
                continue
            for field, value in gast.iter_fields(stmt):
                if field in _BLOCKS and isinstance(value, list):
                    self._block(value, here)
                elif field == "handlers":
                    for handler in value:
                        self._expression(handler.type, here)
                        if handler.name is not None:
                            self._expression(handler.name, here)
                        self._block(handler.body, here)
                else:
                    self._expression(value, here)

    def _expression(self, value, path):
        pending = [value]
        while pending:
            node = pending.pop()
            kind = type(node)
            if kind is gast.Name:
                self.names.add(id(node))
                ctx = type(node.ctx)
                if ctx is gast.Load:
                    self.loads.setdefault(node.id, []).append((node, path))
                elif ctx is gast.Store:
                    self.stores.setdefault(node.id, []).append(path)
                else:
                    self.fixed.add(node.id)
            elif kind is list:
                pending.extend(node)
            elif kind in _SCOPE_TYPES:
                self._nested(node)
            elif kind is not gast.Constant and isinstance(node, gast.AST):
                pending.extend(getattr(node, field) for field in node._fields)

    def _nested(self, scope):
        for node in nodes.walk(scope):
            if isinstance(node, gast.Name):
                self.fixed.add(node.id)

    def removable(self, target, source, block, index, path):
        if target == source or target in self.params or target in self.fixed or source in self.fixed:
            return False
        if len(self.stores.get(target, ())) != 1:
            return False
        if source not in self.params and source not in self.stores:
            return False  # a global or a helper: it could change between copy and read
        depth = len(path) - 1
        outer = path[:depth]
        key = id(block)

        def after(other):
            return (len(other) > depth and other[:depth] == outer and other[depth][0] == key
                    and other[depth][1] > index)
        return (all(after(p) for _, p in self.loads.get(target, ()))
                and not any(after(p) for p in self.stores.get(source, ())))


def _drop_swaps(stmts):
    """Remove ``b = a`` right after ``a = b``: it binds b to the object it holds already."""
    kept = []
    for stmt in stmts:
        previous = kept[-1] if kept else None
        if _is_copy(stmt) and _is_copy(previous) and stmt.targets[0].id == previous.value.id \
                and stmt.value.id == previous.targets[0].id:
            continue
        for field in _BLOCKS:
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner:
                _drop_swaps(inner)
        kept.append(stmt)
    stmts[:] = kept


def _is_copy(stmt):
    return (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name))


def _drop(stmts, removed):
    kept = []
    for stmt in stmts:
        if id(stmt) in removed:
            continue
        for field in _BLOCKS:
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner:
                _drop(inner, removed)
                if not inner:
                    inner.append(nodes.pass_())
        for handler in getattr(stmt, "handlers", ()) or ():
            _drop(handler.body, removed)
            if not handler.body:
                handler.body.append(nodes.pass_())
        kept.append(stmt)
    stmts[:] = kept
