"""Inlining expression rules: copying a rule's adjoint expression into generated code."""
import builtins
import operator

import gast

from .. import nodes
from ..rules import constant, lookup
from .parse import parse_function

_BODIES = {}
_FREE = {}  # rule -> (free_objects(rule), {free name: method name})


def rule_body(rule):
    """The adjoint expressions of expression rule ``rule``, one per primal parameter (None: no gradient)."""
    body = _BODIES.get(rule)
    if body is None:
        tree = parse_function(rule.impl).tree
        expression = tree.body[0].value
        if isinstance(expression, gast.Tuple) and len(rule.params) > 1:
            parts = list(expression.elts)
        else:
            parts = [expression]
        if len(parts) != len(rule.params) and len(parts) != 1:
            raise ValueError(f"rule for {rule.name}: {len(parts)} adjoints for {len(rule.params)} parameters")
        parts += [None] * (len(rule.params) - len(parts))
        parts = [None if (p is None or (isinstance(p, gast.Constant) and p.value is None)) else p
                 for p in parts]
        arguments = set(rule.params) | {"y", "dy"}
        free = sorted({n.id for p in parts if p is not None for n in gast.walk(p)
                       if isinstance(n, gast.Name) and n.id not in arguments})
        body = (parts, free)
        _BODIES[rule] = body
    return body


def bind(rule, args, keywords):
    """Map call-site atoms to the rule's parameters, or None when the call cannot be inlined.

    ``args`` are positional atom nodes, ``keywords`` a list of (name, atom node).
    Missing parameters take the rule's defaults as constants.
    """
    if len(args) > len(rule.params):
        return None
    bound = dict(zip(rule.params, args))
    for name, value in keywords:
        if name is None or name not in rule.params or name in bound:
            return None
        bound[name] = value
    for name in rule.params:
        if name not in bound:
            if name not in rule.defaults:
                return None
            bound[name] = gast.Constant(value=rule.defaults[name], kind=None)
    return bound


def instantiate(rule, bound, y, dy, helper_name, numeric=None):
    """The adjoint expressions of ``rule`` at one call site.

    ``bound`` maps parameters to atoms, ``y``/``dy`` are the result and its cotangent
    (nodes), ``helper_name(free)`` gives the name usable in generated code for one of the
    rule's free names; it is asked only for the names that the instantiated expressions
    keep. A conditional expression whose test the call site's constants decide
    (``b * a ** (b - 1) if type(b) is int else ...`` with ``b`` the constant 3) is replaced
    by its branch, and arithmetic on constants is done. ``numeric(atom)`` says whether an
    atom holds a number or array: a call of a function whose rule has ``as_method`` on such
    an atom (or on a constant) becomes the method call.
    Returns a list aligned with ``rule.params``: an expression node or None.
    """
    parts, _ = rule_body(rule)
    mapping = dict(bound)
    mapping["y"] = y
    mapping["dy"] = dy
    known, methods = _free_objects_and_methods(rule)
    site = (lambda atom: mapping.get(atom.id, atom), numeric or (lambda atom: False)) if methods else None
    out = []
    for part in parts:
        if part is not None:
            part = _substitute(part, mapping, helper_name, known, methods, site)
        out.append(None if part is None or isinstance(part, gast.Constant) and part.value is None else part)
    return out


def _free_objects_and_methods(rule):
    """``free_objects(rule)``, and the method name of each of them whose rule has ``as_method``."""
    found = _FREE.get(rule)
    if found is None:
        known = free_objects(rule)
        methods = {}
        for free, obj in known.items():
            called = lookup(obj)
            if called is not None and called.as_method is not None:
                methods[free] = called.as_method
        found = _FREE[rule] = (known, methods)
    return found


def free_objects(rule):
    """The objects that the rule's free names denote, resolved in the rule's module."""
    _, free = rule_body(rule)
    namespace = rule.impl.__globals__
    found = {}
    for name in free:
        if name in namespace:
            found[name] = namespace[name]
        elif hasattr(builtins, name):
            found[name] = getattr(builtins, name)
        else:
            raise NameError(f"rule for {rule.name} uses unknown name {name!r}")
    return found


def _substitute(tree, mapping, helper_name, known, methods=None, site=None):
    """A copy of ``tree`` with parameter names replaced by call-site nodes (one fast pass).

    A call ``f(p)`` of a function in ``methods`` becomes ``p.method()`` where the call site's
    atom for ``p`` holds a number or array, or its value where that atom is a number constant
    (``site`` is the pair of functions ``_as_method`` asks)."""
    if isinstance(tree, gast.Name):
        if tree.id in mapping:
            return _copy(mapping[tree.id])
        return gast.Name(id=helper_name(tree.id), ctx=gast.Load(), annotation=None, type_comment=None)
    if isinstance(tree, gast.IfExp):
        decided = _value(tree.test, mapping, known)
        if decided is not _UNKNOWN:
            return _substitute(tree.body if decided else tree.orelse, mapping, helper_name, known,
                               methods, site)
    if methods and isinstance(tree, gast.Call):
        written = _as_method(tree, methods, *site)
        if written is not tree:
            return _substitute(written, mapping, helper_name, known)
    if isinstance(tree, gast.AST):
        fields = {}
        for field in tree._fields:
            value = getattr(tree, field, None)
            if isinstance(value, list):
                value = [_substitute(v, mapping, helper_name, known, methods, site) for v in value]
            elif isinstance(value, gast.AST):
                value = _substitute(value, mapping, helper_name, known, methods, site)
            fields[field] = value
        node = type(tree)(**fields)
        if isinstance(node, gast.BinOp):
            return _fold_arithmetic(node)
        return node
    return tree


_UNKNOWN = object()
_PURE_CALLS = (builtins.type,)  # builtins a test may apply to constants
_NUMBERS = (int, float)
_COMPARE = {gast.Is: operator.is_, gast.IsNot: operator.is_not, gast.Eq: operator.eq,
            gast.NotEq: operator.ne, gast.Lt: operator.lt, gast.LtE: operator.le,
            gast.Gt: operator.gt, gast.GtE: operator.ge}
_ARITHMETIC = {gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul}


def _value(node, mapping, known):
    """The value of a rule's test at a call site where it depends only on constants, else _UNKNOWN.

    ``mapping`` gives the call site's nodes for the rule's parameters, ``known`` the objects
    its free names denote; a parameter bound to a name is unknown.
    """
    if isinstance(node, gast.Constant):
        return node.value
    if isinstance(node, gast.Name):
        if node.id in mapping:
            bound = mapping[node.id]
            return bound.value if isinstance(bound, gast.Constant) else _UNKNOWN
        return known.get(node.id, _UNKNOWN)
    if isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords:
        fn = _value(node.func, mapping, known)
        if fn is constant:
            arg = node.args[0]
            if isinstance(arg, gast.Name) and arg.id in mapping:
                arg = mapping[arg.id]
            return isinstance(arg, gast.Constant)
        arg = _value(node.args[0], mapping, known)
        if any(fn is pure for pure in _PURE_CALLS) and arg is not _UNKNOWN:
            return fn(arg)
        return _UNKNOWN
    if isinstance(node, gast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
        left = _value(node.left, mapping, known)
        right = _value(node.comparators[0], mapping, known)
        if left is _UNKNOWN or right is _UNKNOWN:
            return _UNKNOWN
        if type(node.ops[0]) not in (gast.Is, gast.IsNot) and not (
                type(left) in _NUMBERS and type(right) in _NUMBERS):
            return _UNKNOWN  # only numbers compare without running user code
        return _COMPARE[type(node.ops[0])](left, right)
    if isinstance(node, gast.BoolOp):
        # Short-circuits as Python does: ``constant(b) and type(b) is int`` is decided by its first term.
        stop = not isinstance(node.op, gast.And)
        value = _UNKNOWN
        for term in node.values:
            value = _value(term, mapping, known)
            if value is _UNKNOWN or bool(value) is stop:
                return value
        return value
    return _UNKNOWN


def _fold_arithmetic(node):
    """``3 - 1`` as ``2``: arithmetic on two number constants of a rule, done once here."""
    op = _ARITHMETIC.get(type(node.op))
    left, right = node.left, node.right
    if op is None or not (isinstance(left, gast.Constant) and isinstance(right, gast.Constant)) \
            or type(left.value) not in _NUMBERS or type(right.value) not in _NUMBERS:
        return node
    return gast.Constant(value=op(left.value, right.value), kind=None)


def _as_method(node, methods, site, numeric):
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in methods
            and len(node.args) == 1 and not node.keywords):
        return node
    (atom,) = node.args
    name = methods[node.func.id]
    at_site = site(atom) if isinstance(atom, gast.Name) else atom
    if isinstance(at_site, gast.Constant) and isinstance(at_site.value, (int, float, complex)) \
            and not isinstance(at_site.value, bool):
        return gast.Constant(value=getattr(at_site.value, name)(), kind=None)
    if isinstance(atom, gast.Name) and isinstance(at_site, gast.Name) and numeric(at_site):
        method = gast.Attribute(value=atom, attr=name, ctx=gast.Load())
        return gast.Call(func=method, args=[], keywords=[])
    return node


def _copy(node):
    if isinstance(node, gast.Name):
        return gast.Name(id=node.id, ctx=gast.Load(), annotation=None, type_comment=None)
    if isinstance(node, gast.Constant):
        return gast.Constant(value=node.value, kind=None)
    return nodes.clone(node)

