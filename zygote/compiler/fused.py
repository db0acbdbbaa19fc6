"""Fused gradient functions: a function's primal and adjoint joined into one generated function.

Where a gradient is wanted at once (``gradient(f, x)`` inside a differentiated function),
the pullback between primal and adjoint is never handed out. Joining the two bodies gives
one function ``f_gradient(x) -> (dx,)`` whose adjoint reads the primal's locals directly:
no tuple of saved values, no copy of the stack, one call instead of two; and to
differentiate the gradient, zygote transforms that one function like any other.

>>> import math, zygote
>>> from zygote.protocol import TRANSFORMS
>>> def f(x):
...     return x * math.sin(x)
>>> f_gradient = fused_gradient(f, TRANSFORMS.entry_for(f, "f", ""))
>>> f_gradient(0.5) == zygote.gradient(f, 0.5)
True
"""
import types
import weakref

import gast

from .. import nodes
from ..cotangents import seed_like
from .compile import compile_trees
from .names import names_in
from .simplify import propagate_copies


def fused_gradient(fn, entry, select=None):
    """The generated function returning the cotangents of ``fn``'s positional parameters.

    ``entry`` is ``fn``'s cache entry for the activity pattern wanted; the result is
    kept for functions without closure cells. ``select`` picks what it returns: an index for
    that parameter's cotangent alone, a tuple of indices for a tuple of those.
    """
    made = entry.fused if select is None else _SELECTED.get(entry, {}).get(select)
    if made is not None and made.__globals__ is fn.__globals__ and fn.__closure__ is None:
        return made
    tree, helper_cells = fused_tree(entry, select)
    code, = compile_trees([tree], fn.__code__.co_filename, list(helper_cells),
                          fn.__code__.co_freevars)
    user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
    cells = tuple(helper_cells[n] if n in helper_cells else user_cells[n] for n in code.co_freevars)
    made = types.FunctionType(code, fn.__globals__, code.co_name, None, cells)
    if fn.__closure__ is None:
        if select is None:
            entry.fused = made
        else:
            _SELECTED.setdefault(entry, {})[select] = made
    return made


_SELECTED = weakref.WeakKeyDictionary()  # entry -> {select: its fused gradient}


def fusable(entry):
    """Whether ``entry``'s primal and adjoint can be joined: each ends in its one return (the
    adjoint of a function that writes in place ends in the block that closes its store)."""
    transformed = entry.transformed
    primal_end, adjoint_end = transformed.primal.body[-1], transformed.adjoint.body[-1]
    return (isinstance(primal_end, gast.Return) and isinstance(primal_end.value, gast.Tuple)
            and isinstance(adjoint_end, gast.Return) and isinstance(adjoint_end.value, gast.Tuple))


def fused_tree(entry, select=None):
    """The fused ``FunctionDef`` and the helper cells its free names read.

    The primal ends ``return result, (saved values)`` and the adjoint starts by unpacking
    ``saved`` (and copying the stack); joined, the adjoint's names for the saved values are
    bound to the primal's where the two differ, and what the adjoint returns for the
    environment is left out.
    """
    transformed = entry.transformed
    primal, adjoint = transformed.primal, transformed.adjoint
    taken = names_in(primal) | names_in(adjoint)
    helper_cells = dict(entry.helper_cells)
    seed, type_of, float_type = (_fresh(name, taken, helper_cells, obj) for name, obj in
                                 (("seed_like", seed_like), ("type", type), ("float", float)))

    *primal_body, primal_return = nodes.clone(primal.body)
    result, saved_values = primal_return.value.elts
    saved_name, dout = (a.id for a in adjoint.args.args)
    *adjoint_body, adjoint_return = nodes.clone(adjoint.body)
    line = getattr(primal_return, "lineno", None)

    body = primal_body
    # The seed of a float result is 1.0, without a call.
    is_float = nodes.compare(nodes.call(nodes.load(type_of), [nodes.clone(result)]), gast.Is(),
                             nodes.load(float_type))
    seed_value = nodes.make(gast.IfExp, test=is_float, body=nodes.const(1.0),
                            orelse=nodes.call(nodes.load(seed), [nodes.clone(result)]))
    body.append(nodes.at_line(nodes.assign(dout, seed_value), line))
    if adjoint_body and _reads(adjoint_body[0], saved_name):
        unpack = adjoint_body.pop(0)
        targets = unpack.targets[0].elts
        pairs = [(t.id, v) for t, v in zip(targets, saved_values.elts)
                 if not (isinstance(v, gast.Name) and v.id == t.id)]
        if pairs:
            body.append(nodes.at_line(nodes.assign([t for t, _ in pairs],
                                                   nodes.tuple_load([v for _, v in pairs])), line))
    if transformed.stack is not None and adjoint_body and _binds(adjoint_body[0], transformed.stack):
        adjoint_body.pop(0)  # one run of the adjoint: it may pop the primal's stack itself
    body += adjoint_body
    if transformed.stack is not None:
        body = _without_stack(body, transformed.stack)
    per_param = adjoint_return.value.elts[1:]
    if type(select) is int:
        result = per_param[select]
    else:
        result = nodes.tuple_load(per_param if select is None else [per_param[i] for i in select])
    body.append(nodes.at_line(nodes.ret(result), line))
    name = primal.name[:-len("_primal")] + "_gradient"
    for stmt in body:
        nodes.at_line(stmt, line if line is not None else primal.lineno)  # later stages read each line
    tree = nodes.function(name, nodes.clone(primal.args), body)
    nodes.at_line(tree, primal.lineno)
    return propagate_copies(tree), helper_cells


def _without_stack(body, stack):
    """``body`` without the stack of saved values, where every value it would pop back is
    still in the local it was pushed from.

    That holds when the body has no loop (each push and pop runs at most once) and every
    push and pop moves plain names that nothing else rebinds: then ``cond = stack.pop()``
    gives ``cond`` the value it already has. ``stack = []``, the pushes and the pops go;
    anything else (a loop, a pushed expression, a name bound twice) keeps the stack.
    """
    pushed, popped, stores = [], [], {}
    for node in nodes.walk(nodes.module(body)):
        if isinstance(node, (gast.For, gast.While, gast.AsyncFor, gast.FunctionDef, gast.Lambda,
                             gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)):
            return body
        if isinstance(node, gast.Name) and type(node.ctx) is gast.Store:
            stores[node.id] = stores.get(node.id, 0) + 1
    uses = []

    def names_of(node):
        if isinstance(node, gast.Name):
            return [node.id]
        if isinstance(node, gast.Tuple) and all(isinstance(e, gast.Name) for e in node.elts):
            return [e.id for e in node.elts]
        return None

    def role(stmt):
        # "new", "push" or "pop" for the three statements the transform writes, else None
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            if isinstance(target, gast.Name) and target.id == stack and isinstance(value, gast.List) \
                    and not value.elts:
                return "new"
            if isinstance(value, gast.Call) and _is_stack_method(value, stack, "pop") and not value.args:
                names = names_of(target)
                if names is not None:
                    popped.append(names)
                    return "pop"
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and _is_stack_method(stmt.value, stack, "append") and len(stmt.value.args) == 1:
            names = names_of(stmt.value.args[0])
            if names is not None:
                pushed.append(names)
                return "push"
        return None

    def visit(stmts):
        for stmt in stmts:
            uses.append((stmt, role(stmt)))
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(stmt, field, None) or [])
            for handler in getattr(stmt, "handlers", None) or []:
                visit(handler.body)
    visit(body)
    roles = {id(stmt): r for stmt, r in uses if r is not None}
    mentions = sum(1 for node in nodes.walk(nodes.module(body))
                   if isinstance(node, gast.Name) and node.id == stack)
    if mentions != len(roles):
        return body  # the stack is read some other way
    moved = {name for names in pushed + popped for name in names}
    popped_counts = {}
    for names in popped:
        for name in names:
            popped_counts[name] = popped_counts.get(name, 0) + 1
    if any(stores.get(name, 0) - popped_counts.get(name, 0) != 1 for name in moved):
        return body
    if any(names not in pushed for names in popped):
        return body

    def strip(stmts):
        kept = []
        for stmt in stmts:
            if id(stmt) in roles:
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if inner:
                    setattr(stmt, field, strip(inner) or ([nodes.pass_()] if field != "orelse" else []))
            for handler in getattr(stmt, "handlers", None) or []:
                handler.body = strip(handler.body) or [nodes.pass_()]
            kept.append(stmt)
        return kept
    return strip(body)


def _is_stack_method(call, stack, method):
    func = call.func
    return (isinstance(func, gast.Attribute) and func.attr == method and isinstance(func.value, gast.Name)
            and func.value.id == stack and not call.keywords)


def _fresh(name, taken, helper_cells, obj):
    """A name for helper ``obj`` that the function's own code does not use, bound in ``helper_cells``."""
    while name in taken or name in helper_cells:
        name += "_"
    helper_cells[name] = types.CellType(obj)
    return name


def _reads(stmt, name):
    return isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Name) and stmt.value.id == name


def _binds(stmt, name):
    target = stmt.targets[0] if isinstance(stmt, gast.Assign) else None
    return isinstance(target, gast.Name) and target.id == name
