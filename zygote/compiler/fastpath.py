"""Entry points compiled per function for the commonest call: ``gradient(f, *numbers)``.

A gradient of a small scalar function costs little more than the function itself, so
what the call does around the generated code matters: checking the argument types, the
guards of the transform and packing the result. For a plain function called with Python
numbers more than once, ``entry_point`` compiles those steps and f's fused gradient
(``compiler.fused``) into one function, specialised to ``f``'s arity, argument types and
guards; it answers ``MISS`` when any of them no longer holds.

>>> import math
>>> from zygote.protocol import TRANSFORMS
>>> def f(x, y):
...     return x * math.sin(y)
>>> entry, _ = TRANSFORMS.fast_entry(f, (2.0, 0.0))
>>> fast = entry_point(f, entry, (float, float))
>>> fast((2.0, 0.0))
(0.0, 2.0)
>>> fast((2, 0.0)) is MISS
True
"""
import functools
import types

import gast
import numpy as np

from .. import nodes
from ..cotangents import owned, public, seed_like
from ..recursion import with_headroom
from .compile import compile_trees
from .fused import fusable, fused_tree
from .names import Namer, names_in
from .reals import drop_real_conjugates, real_names
from .resolve import guard_terms

MISS = object()

_TEMPLATE = nodes.quote("""\
def zygote_entry(args):
    try:
        UNPACK
    except VALUE_ERROR:
        return MISS
    try:
        if not CHECKS:
            return MISS
    except LOOKUP_ERRORS:
        return MISS
    GRADIENT
    return RESULTS
""")


def entry_point(f, entry, kinds, select=None, made_from=()):
    """A function of the argument tuple giving ``gradient(f, *args)``, or ``MISS``.

    ``kinds`` are the arguments' types: ``float``, ``int``, or ``np.ndarray`` (of floats).

    ``select`` picks the cotangents returned: None for all of them (a tuple), an index for
    one (bare), a tuple of indices for those (a tuple). ``made_from`` lists ``(function,
    entry)`` pairs that ``f`` was generated from (a fused gradient's function), whose code
    and guards must hold too.
    """
    if not fusable(entry):
        return None  # the general path serves it (a function that writes in place)
    tree, helper_cells = fused_tree(entry)
    params = [a.id for a in tree.args.args]
    resolve = _resolver(entry, helper_cells)
    real = real_names(tree, {p for p, kind in zip(params, kinds) if kind is float or kind is int}, resolve)
    if real:
        drop_real_conjugates(tree, real, resolve)
        _seed_real_result(tree, real, resolve)
    *body, fused_return = tree.body
    grads = fused_return.value.elts
    namer = Namer(names_in(tree) | set(helper_cells) | set(f.__code__.co_freevars))
    own = {}

    def bind(hint, obj):
        # The entry's own names, fresh beside f's: a user's module may define ``type`` or ``MISS``.
        name = namer.fresh(hint)
        own[name] = obj
        return nodes.load(name)

    type_of, float_type = bind("type", type), bind("float", float)
    checks = []
    for name, kind in zip(params, kinds):
        checks.append(nodes.compare(nodes.call(nodes.clone(type_of), [nodes.load(name)]), gast.Is(),
                                    bind(f"kind_{name}", kind)))
        if kind is np.ndarray:
            # A float array was differentiated; an integer one is a constant, another transform.
            kind_of = nodes.attribute(nodes.attribute(nodes.load(name), "dtype"), "kind")
            checks.append(nodes.compare(kind_of, gast.In(), nodes.const("fc")))
    for function, its_entry in ((f, entry),) + tuple(made_from):
        # A function whose code was replaced (``f.__code__ = g.__code__``) is another function.
        checks.insert(0, nodes.compare(nodes.attribute(bind("function", function), "__code__"), gast.Is(),
                                       bind("expected_code", function.__code__)))
        terms, objects = guard_terms(its_entry.guards)
        renamed = {name: bind(name, obj) for name, obj in objects.items()}
        renamed.update({target: nodes.load(namer.fresh(target)) for target in _walrus_targets(terms)})
        checks += [_rename(term, renamed) for term in terms]
    results = []
    picked = range(len(kinds)) if select is None else [select] if type(select) is int else select
    public_fn = bind("public", public)
    args_name = namer.fresh("args")
    for i in picked:
        # The argument as passed: f's body may have rebound its parameter's name (``x, y = y, x``).
        part, arg = grads[i], nodes.subscript(nodes.load(args_name), nodes.const(i))
        public_part = nodes.call(nodes.clone(public_fn), [nodes.clone(part), arg])
        if kinds[i] is float:
            # A float argument's cotangent is usually a float already: skip the conversion call.
            is_float = nodes.compare(nodes.call(nodes.clone(type_of), [nodes.clone(part)]), gast.Is(),
                                     nodes.clone(float_type))
            public_part = nodes.make(gast.IfExp, test=is_float, body=nodes.clone(part), orelse=public_part)
        results.append(public_part)
    unpack = nodes.assign(nodes.tuple_store(params), nodes.load(args_name))
    lookup_errors = nodes.tuple_load([bind(e.__name__, e) for e in (NameError, AttributeError, KeyError)])
    (entry_tree,) = nodes.fill(
        nodes.clone(_TEMPLATE), UNPACK=[unpack], VALUE_ERROR=bind("ValueError", ValueError),
        MISS=bind("MISS", MISS), LOOKUP_ERRORS=lookup_errors, CHECKS=nodes.and_(checks), GRADIENT=body,
        RESULTS=_owned_results(results[0] if type(select) is int else nodes.tuple_load(results),
                               kinds, bind, args_name))
    entry_tree.name = tree.name
    entry_tree.args = nodes.arguments([args_name])
    nodes.at_line(entry_tree, tree.lineno)
    cells = {name: types.CellType(obj) for name, obj in own.items()}
    cells.update(helper_cells)
    user_cells = dict(zip(f.__code__.co_freevars, f.__closure__ or ()))
    code, = compile_trees([entry_tree], f.__code__.co_filename, list(cells), f.__code__.co_freevars)
    closure = tuple(cells[n] if n in cells else user_cells[n] for n in code.co_freevars)
    # The guards and the gradient's code read f's globals, as the transform resolved them there.
    made = types.FunctionType(code, f.__globals__, code.co_name, None, closure)
    if entry.reaches_out or any(its_entry.reaches_out for _, its_entry in made_from):
        return functools.partial(with_headroom, made)  # it may recurse (zygote.recursion)
    return made


def _owned_results(results, kinds, bind, args_name):
    """The gradients as returned: numbers as they are, arrays made writable and their own (a
    cotangent may be a broadcast view, an argument or another argument's gradient)."""
    if all(kind is float or kind is int for kind in kinds):
        return results
    return nodes.call(bind("owned", owned), [results, nodes.load(args_name)])


def _seed_real_result(tree, real, resolve):
    """``dout = 1.0 if type(y) is float else seed_like(y)`` as ``dout = 1.0`` where ``y`` is
    real: an int result is seeded with 1.0 as well."""
    for stmt in tree.body:
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.Assign) and isinstance(value, gast.IfExp) \
                and isinstance(value.body, gast.Constant) and value.body.value == 1.0 \
                and isinstance(value.orelse, gast.Call) and len(value.orelse.args) == 1 \
                and isinstance(value.orelse.args[0], gast.Name) and value.orelse.args[0].id in real \
                and isinstance(value.orelse.func, gast.Name) \
                and resolve((value.orelse.func.id, ())) is seed_like:
            stmt.value = nodes.const(1.0)
            return


def _resolver(entry, helper_cells):
    """``resolve((root, path))`` for ``real_names``: a helper cell's object, or what the
    transform found a global name or attribute chain to be (a guard, checked on every call)."""
    guards = {(root, path): obj for root, path, obj in entry.guards}

    def resolve(key):
        if key is None:
            return None
        root, path = key
        if not path and root in helper_cells:
            try:
                return helper_cells[root].cell_contents
            except ValueError:
                return None
        if key in guards:
            return guards[key]
        # An attribute of a guarded module (``math.cos`` where ``math`` is checked).
        obj = guards.get((root, ()))
        if not isinstance(obj, types.ModuleType):
            return None
        for name in path:
            obj = getattr(obj, name, None)
        return obj
    return resolve


def _walrus_targets(terms):
    return [node.target.id for term in terms for node in nodes.walk(term) if isinstance(node, gast.NamedExpr)]


def _rename(tree, renamed):
    """``tree`` with the names in ``renamed`` replaced (the guards' own names made fresh)."""
    class Renamer(gast.NodeTransformer):
        def visit_Name(self, node):
            if node.id in renamed:
                return gast.Name(id=renamed[node.id].id, ctx=node.ctx, annotation=None, type_comment=None)
            return node
    return Renamer().visit(nodes.clone(tree))
