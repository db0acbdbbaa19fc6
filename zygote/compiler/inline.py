"""Inlining expression rules: copying a rule's adjoint expression into generated code."""
import builtins
import copy

import gast

from .parse import parse_function

_BODIES = {}


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


def instantiate(rule, bound, y, dy, helper_names):
    """The adjoint expressions of ``rule`` at one call site.

    ``bound`` maps parameters to atoms, ``y``/``dy`` are the result and its cotangent
    (nodes), ``helper_names`` maps the rule's free names to names usable in generated code.
    Returns a list aligned with ``rule.params``: an expression node or None.
    """
    parts, _ = rule_body(rule)
    mapping = dict(bound)
    mapping["y"] = y
    mapping["dy"] = dy
    out = []
    for part in parts:
        if part is None:
            out.append(None)
            continue
        part = _substitute(part, mapping, helper_names)
        out.append(None if isinstance(part, gast.Constant) and part.value is None else part)
    return out


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


def _substitute(tree, mapping, helper_names):
    """A copy of ``tree`` with parameter names replaced by call-site nodes (one fast pass)."""
    if isinstance(tree, gast.Name):
        if tree.id in mapping:
            return _copy(mapping[tree.id])
        return gast.Name(id=helper_names.get(tree.id, tree.id), ctx=gast.Load(),
                         annotation=None, type_comment=None)
    if isinstance(tree, gast.AST):
        fields = {}
        for field in tree._fields:
            value = getattr(tree, field, None)
            if isinstance(value, list):
                value = [_substitute(v, mapping, helper_names) for v in value]
            elif isinstance(value, gast.AST):
                value = _substitute(value, mapping, helper_names)
            fields[field] = value
        node = type(tree)(**fields)
        if isinstance(node, gast.IfExp):
            return _fold(node)
        return node
    return tree


def _fold(node):
    """Choose the branch of ``a if None is None else b`` once defaults are known."""
    test = node.test
    if isinstance(test, gast.Compare) and len(test.ops) == 1 \
            and isinstance(test.left, gast.Constant) and isinstance(test.comparators[0], gast.Constant) \
            and isinstance(test.ops[0], (gast.Is, gast.IsNot)):
        same = test.left.value is test.comparators[0].value
        keep = same if isinstance(test.ops[0], gast.Is) else not same
        return node.body if keep else node.orelse
    return node


def _copy(node):
    if isinstance(node, gast.Name):
        return gast.Name(id=node.id, ctx=gast.Load(), annotation=None, type_comment=None)
    if isinstance(node, gast.Constant):
        return gast.Constant(value=node.value, kind=None)
    return copy.deepcopy(node)
