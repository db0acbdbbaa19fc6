"""Lowering the expressions that hide control flow: chained comparisons, ``and``/``or``,
conditional expressions, assignment expressions and comprehensions of every kind become
assignments, ``if`` chains and loops in normal form.

``BranchingExpressions`` is the part of the normaliser in ``normalise`` that handles them;
it emits statements through the normaliser's ``emit``, ``atom`` and ``stmt``.
"""

import gast

from .. import nodes
from .names import describe


class BranchingExpressions:
    """Methods of the normaliser for expressions whose parts run conditionally or repeatedly."""

    def expr_Compare(self, node):
        if len(node.ops) == 1:
            return nodes.make(gast.Compare, left=self.atom(node.left), ops=node.ops,
                              comparators=[self.atom(node.comparators[0])])
        # a < b < c  ==  (a < b) and (b < c), evaluating b once
        left = self.atom(node.left)
        parts = []
        for op, right in zip(node.ops, node.comparators):
            right_atom = _Deferred(right)
            parts.append((left, op, right_atom))
            left = right_atom
        result = self.namer.fresh("cond")
        self._chain(parts, result)
        return nodes.load(result)

    def _chain(self, parts, result):
        left, op, right = parts[0]
        left = left.resolve(self) if isinstance(left, _Deferred) else left
        right_value = right.resolve(self)
        self.emit(nodes.assign(result, nodes.make(gast.Compare, left=left, ops=[op],
                                                  comparators=[right_value])))
        if len(parts) > 1:
            outer, self.out = self.out, []
            self._chain(parts[1:], result)
            rest = self.out
            self.out = outer
            self.emit(nodes.if_(nodes.load(result), rest, []))

    def expr_BoolOp(self, node):
        result = self.namer.fresh(describe(node))
        self._bool_chain(node.op, node.values, result)
        return nodes.load(result)

    def _bool_chain(self, op, values, result):
        self.emit(nodes.assign(result, self.atom(values[0])))
        if len(values) == 1:
            return
        outer, self.out = self.out, []
        self._bool_chain(op, values[1:], result)
        rest = self.out
        self.out = outer
        if isinstance(op, gast.And):
            self.emit(nodes.if_(nodes.load(result), rest, []))
        else:
            self.emit(nodes.if_(nodes.load(result), [], rest))

    def expr_IfExp(self, node):
        result = self.namer.fresh("choice")
        test = self.atom(node.test)
        outer, self.out = self.out, []
        self.emit(nodes.assign(result, self.atom(node.body)))
        body, self.out = self.out, []
        self.emit(nodes.assign(result, self.atom(node.orelse)))
        orelse = self.out
        self.out = outer
        self.emit(nodes.if_(test, body, orelse))
        return nodes.load(result)

    def expr_NamedExpr(self, node):
        # ``(n := e)`` binds ``n`` in the function (also from inside a comprehension) and
        # is worth ``e``'s value.
        value = self.atom(node.value)
        self.emit(nodes.assign(node.target.id, value))
        return value

    def expr_ListComp(self, node):
        return self.comprehension(node, nodes.list_load([]), "list_append", ("elt",))

    expr_GeneratorExp = expr_ListComp

    def expr_SetComp(self, node):
        return self.comprehension(node, nodes.call(self.helper("set_of")), "set_add", ("elt",))

    def expr_DictComp(self, node):
        return self.comprehension(node, nodes.make(gast.Dict, keys=[], values=[]), "dict_set",
                                  ("key", "value"))

    def expr_Set(self, node):
        return nodes.call(self.helper("set_of"), self.elements(node.elts))

    def comprehension(self, node, empty, add, fields):
        """``result = empty`` and a loop nest that does ``result = add(result, *fields)``."""
        # Comprehension variables live in their own scope: give them fresh names.
        renames = {}
        for generator in node.generators:
            for name in gast.walk(generator.target):
                if isinstance(name, gast.Name):
                    renames[name.id] = self.namer.fresh(name.id)
        node = _rename(nodes.clone(node), renames)
        parts = [getattr(node, field) for field in fields]
        result = self.namer.fresh("items")
        self.emit(nodes.assign(result, empty))
        inner = [nodes.assign(result, nodes.call(self.helper(add), [nodes.load(result)] + parts))]
        for generator in reversed(node.generators):
            for condition in reversed(generator.ifs):
                inner = [nodes.if_(condition, inner, [])]
            inner = [nodes.for_(generator.target, generator.iter, inner)]
        for stmt in inner:
            nodes.at_line(stmt, self.line)
            self.stmt(stmt)
        return nodes.load(result)


class _Deferred:
    """An operand of a chained comparison, lowered only when its comparison runs."""

    def __init__(self, node):
        self.node = node
        self.value = None

    def resolve(self, lowering):
        if self.value is None:
            self.value = lowering.atom(self.node)
        return self.value


def _rename(tree, renames):
    for node in gast.walk(tree):
        if isinstance(node, gast.Name) and node.id in renames:
            node.id = renames[node.id]
    return tree
