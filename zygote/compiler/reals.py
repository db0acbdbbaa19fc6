"""Which names of a generated function hold real Python numbers, given that some parameters do.

An entry point (``fastpath``) is compiled for arguments of known types: when ``x`` is a
Python float, ``x * y`` of two floats, ``math.sin(x)`` and ``x ** 2`` are floats too, and
the adjoint's ``y.conjugate()`` (the complex convention of ``*``) is ``y`` itself. A loop of
scalar code calls it once per step; ``real_names`` finds the names for which the call can go.

A name is real when every binding of it in the function is: a number constant, a real
parameter, arithmetic (``+ - * / // %``, ``**`` by an int constant, unary ``-``/``+``) of
real operands, a call of an elementary ``math`` function or of ``abs``/``float``/``int``/
``round`` on reals, a ``range`` loop's counter, or the ``pop`` of a list that only ever has
reals pushed onto it. Anything else (a tuple unpacked, a call of another function, a
comparison, a nested function) makes the names it binds unknown, and so do their uses.

>>> import gast, math
>>> (tree,) = nodes.quote("def f(x):\\n    y = math.sin(x) * 2.0\\n    z = y ** 0.5\\n    return z")
>>> sorted(real_names(tree, {"x"}, {("math", ()): math, ("math", ("sin",)): math.sin}.get))
['x', 'y']
"""
import builtins
import math

import gast

from .. import nodes
from ..rules import complex as complex_rules
from ..rules import ieee

# Elementary functions of ``math``: a real result for real arguments (or an error).
_MATH = frozenset(getattr(math, name) for name in (
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh",
    "acosh", "atanh", "exp", "expm1", "log", "log10", "log1p", "log2", "sqrt", "pow", "fabs",
    "floor", "ceil", "trunc", "hypot", "erf", "erfc", "gamma", "lgamma", "degrees", "radians",
    "copysign", "fmod", "remainder", "ldexp", "exp2", "cbrt") if hasattr(math, name))
_REAL_OF_REALS = _MATH | {builtins.abs, builtins.float, builtins.int, builtins.round, ieee.divide,
                          complex_rules.conj}
_ARITHMETIC = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod)
_UNKNOWN = object()  # a binding whose value is not an expression this module reads


def real_names(tree, real_params, resolve):
    """The names of the ``FunctionDef`` ``tree`` that are real numbers wherever they are bound.

    ``real_params`` are the parameters known to be Python floats or ints on entry;
    ``resolve((root, path))`` gives the object a global name or attribute chain denotes, or
    None when it is not known (the entry point guards every one it relies on).
    """
    bindings = {}  # name -> expressions (or _UNKNOWN) bound to it
    pushes = {}    # list name -> expressions appended to it

    def bind(name, value):
        bindings.setdefault(name, []).append(value)

    for node in nodes.walk(tree):
        if node is not tree and isinstance(node, (gast.FunctionDef, gast.Lambda, gast.ClassDef,
                                                  gast.ListComp, gast.SetComp, gast.DictComp,
                                                  gast.GeneratorExp)):
            return set()  # a nested scope: its names are not followed here
        if isinstance(node, gast.Assign):
            for target in node.targets:
                if isinstance(target, gast.Name):
                    bind(target.id, node.value)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            bind(node.target.id, gast.BinOp(left=node.target, op=node.op, right=node.value))
        elif isinstance(node, gast.NamedExpr):
            bind(node.target.id, node.value)
        elif isinstance(node, gast.For) and isinstance(node.target, gast.Name):
            counted = isinstance(node.iter, gast.Call) and resolve(_key(node.iter.func)) is builtins.range
            bind(node.target.id, gast.Constant(value=0, kind=None) if counted else _UNKNOWN)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr == "append" and isinstance(node.func.value, gast.Name) \
                and len(node.args) == 1 and not node.keywords:
            pushes.setdefault(node.func.value.id, []).append(node.args[0])
    params = {a.id for a in tree.args.args}
    stored = set()
    for node in nodes.walk(tree):
        if isinstance(node, gast.Name) and type(node.ctx) is not gast.Load and node.id not in params:
            stored.add(node.id)
    for name in stored - set(bindings):
        bindings[name] = [_UNKNOWN]  # bound some other way (a tuple target, with ... as, ...)
    for name in params - set(real_params):
        bind(name, _UNKNOWN)

    # Lists made empty here and used only to push onto and pop from (no alias, item write or
    # other method): a pop gives back one of the values pushed.
    lists = {name: values for name, values in pushes.items()
             if all(isinstance(v, gast.List) and not v.elts for v in bindings.get(name, [_UNKNOWN]))
             and _only_pushed_and_popped(tree, name)}
    real = (set(bindings) | set(real_params)) - set(lists)
    changed = True
    while changed:
        changed = False
        for name in list(real):
            if not all(_is_real(v, real, resolve, lists) for v in bindings.get(name, ())):
                real.discard(name)
                changed = True
    return real


def _only_pushed_and_popped(tree, name):
    """Whether every read of the list ``name`` is ``name.append(v)`` or ``name.pop()``."""
    receivers = set()
    for node in nodes.walk(tree):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and isinstance(node.func.value, gast.Name) and node.func.value.id == name \
                and not node.keywords and (node.func.attr == "append" and len(node.args) == 1
                                           or node.func.attr == "pop" and not node.args):
            receivers.add(id(node.func.value))
    return all(id(node) in receivers for node in nodes.walk(tree)
               if isinstance(node, gast.Name) and node.id == name and type(node.ctx) is gast.Load)


def _is_real(node, real, resolve, pushes):
    if node is _UNKNOWN:
        return False
    if isinstance(node, gast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, gast.Name):
        return node.id in real
    if isinstance(node, gast.BinOp):
        if isinstance(node.op, _ARITHMETIC):
            return _is_real(node.left, real, resolve, pushes) and _is_real(node.right, real, resolve, pushes)
        if isinstance(node.op, gast.Pow):
            exponent = node.right
            return (isinstance(exponent, gast.Constant) and type(exponent.value) is int
                    and _is_real(node.left, real, resolve, pushes))
        return False
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, (gast.USub, gast.UAdd)) and _is_real(node.operand, real, resolve, pushes)
    if isinstance(node, gast.IfExp):
        return _is_real(node.body, real, resolve, pushes) and _is_real(node.orelse, real, resolve, pushes)
    if isinstance(node, gast.Call) and not node.keywords:
        func = node.func
        if isinstance(func, gast.Attribute) and func.attr == "pop" and isinstance(func.value, gast.Name) \
                and not node.args and func.value.id in pushes:
            return all(_is_real(v, real, resolve, pushes) for v in pushes[func.value.id])
        fn = resolve(_key(func))
        return (fn is not None and _hashable_in(fn, _REAL_OF_REALS) and bool(node.args)
                and all(_is_real(a, real, resolve, pushes) for a in node.args))
    return False


def _hashable_in(obj, group):
    try:
        return obj in group
    except TypeError:
        return False


def _key(node):
    """``(root, path)`` of a name or an attribute chain of names, else None."""
    path = []
    while isinstance(node, gast.Attribute):
        path.append(node.attr)
        node = node.value
    if not isinstance(node, gast.Name):
        return None
    return node.id, tuple(reversed(path))


def drop_real_conjugates(tree, real, resolve):
    """``tree`` with ``x.conjugate()`` and ``conj(x)`` (zygote's conj) written ``x`` for each
    name ``x`` in ``real``."""
    class Dropper(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            func = node.func
            if node.keywords:
                return node
            if isinstance(func, gast.Attribute) and func.attr == "conjugate" and not node.args \
                    and isinstance(func.value, gast.Name) and func.value.id in real:
                return nodes.load(func.value.id)
            if len(node.args) == 1 and isinstance(node.args[0], gast.Name) and node.args[0].id in real \
                    and resolve(_key(func)) is complex_rules.conj:
                return nodes.load(node.args[0].id)
            return node
    return Dropper().visit(tree)
