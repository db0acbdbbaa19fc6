"""The forward-mode stage: from a function in normal form, a function computing ``(y, dy)`` from ``(x, dx)``.

For ``def f(x, w)`` the stage emits ``f_jvp(denv, x, w, dx, dw)``: the user's statements in
their order, each followed by the statement that computes its tangent (``dt`` for ``t``), and
``return y, dy``. ``denv`` holds the tangents of the free variables a closure reads, by name.
Operators and elementwise expression rules are inlined, with the rule's own derivative
expression applied to the argument's tangent; other calls go through the forward call
protocol (``jvp_call``), which finds a tangent rule or transforms the callee the same way.
A tangent that is zero is the integer ``0`` at run time, and no statement at all where the
analysis knows it is zero.

>>> import zygote
>>> def f(x):
...     return x * x
>>> print(zygote.forward_source(f, 2.0).strip())
def f_jvp(denv, x, dx):
    x_mul_x = x * x
    dx_mul_x = dx * x + dx * x
    return x_mul_x, dx_mul_x
"""
import operator

import gast

from .. import nodes
from ..activity import ANY, NUMERIC
from ..errors import UnsupportedSyntaxError
from ..rules import lookup
from ..rules.tangents import TANGENTS, UNCONJUGATED
from ..rules.objects import plain_operands
from .analysis import NONDIFF_ATTRIBUTES, index_atoms, other_params, outer_names
from .handoff import operator_dispatch
from .inline import bind, free_objects, instantiate
from .names import adjoint_name
from .writing import index_value

_BINOPS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
    gast.Pow: operator.pow, gast.MatMult: operator.matmul,
}

# What generated forward code calls, by name (the forward call protocol provides them).
FORWARD_HELPER_NAMES = ("jvp_call", "jvp_call_kw", "jvp_method", "attr_tangent", "item_tangent", "keyed_item_tangent",
                        "tangent_list", "tangent_dict", "set_item_tangent", "set_attr_tangent",
                        "unpack_tangent", "add_tangent", "mul_tangent", "matmul_tangent", "fit_tangent",
                        "env_tangent", "iterate_tangent", "append_tangent")


class Forward:
    """The forward function tree and the objects it reads from cells, by name."""

    def __init__(self, tree, helpers, guards):
        self.tree = tree
        self.helpers = helpers
        self.guards = guards


def forward_stage(nf, parsed, analysis, resolver, helpers, env=""):
    """Generate the forward function for normal form ``nf`` given its ``analysis``.

    ``helpers`` provides the functions named in ``FORWARD_HELPER_NAMES`` and the intrinsics
    of normal form (``iterate``, ``list_append``).
    """
    return _Tangents(nf, parsed, analysis, resolver, helpers).run()


class _Tangents:
    def __init__(self, nf, parsed, analysis, resolver, helpers):
        self.nf = nf
        self.parsed = parsed
        self.tree = nf.tree
        self.namer = nf.namer
        self.activity = analysis.activity
        self.kind = analysis.kind
        self.scalars = analysis.scalars
        self.scalar_closed = analysis.scalar_closed
        self.resolver = resolver
        self.rt = helpers
        self.helpers = {name: getattr(helpers, key) for name, key in nf.helpers.items()}
        self.intrinsics = dict(nf.helpers)  # name in code -> intrinsic key
        self._helper_ids = {id(obj): name for name, obj in self.helpers.items()}
        self.tangent_names = {}
        self.line = None
        # In code on Python numbers alone every tangent has its value's shape already.
        self.all_scalar = set(analysis.scalars) >= {n for n, k in self.kind.items() if k == NUMERIC} \
            and not any(k == ANY for k in self.kind.values())

    # -- names --------------------------------------------------------------------------

    def d(self, name):
        found = self.tangent_names.get(name)
        if found is None:
            found = adjoint_name(name, self.namer.taken)
            self.namer.reserve(found)
            self.tangent_names[name] = found
        return found

    def helper(self, obj, hint):
        name = self._helper_ids.get(id(obj))
        if name is None:
            name = self.namer.fresh(hint)
            self.helpers[name] = obj
            self._helper_ids[id(obj)] = name
        return name

    def rt_call(self, key, args):
        return nodes.call(nodes.load(self.helper(getattr(self.rt, key), key)), args)

    def tangent(self, atom):
        """The node reading ``atom``'s tangent, or None where it is known to be zero."""
        if isinstance(atom, gast.Name) and self.activity.active(atom):
            return nodes.load(self.d(atom.id))
        return None

    def tangent_or_zero(self, atom):
        found = self.tangent(atom)
        return found if found is not None else nodes.const(0)

    def refuse(self, construct, hint=""):
        raise UnsupportedSyntaxError(construct, self.parsed.filename, self.line, hint)

    # -- driver --------------------------------------------------------------------------

    def run(self):
        tree = self.tree
        body = tree.body
        ret = body[-1]
        denv = self.namer.fresh("denv")
        params = list(self.nf.params) + other_params(tree)
        dparams = [self.d(p) for p in params]
        head = []
        for name in sorted(self.kind):
            if self.resolver.is_env(name) and name not in params:
                head.append(nodes.assign(self.d(name), self.rt_call(
                    "env_tangent", [nodes.load(denv), nodes.const(name)])))
        out = self.block(body[:-1])
        result = ret.value
        self.activity.at(None)
        dresult = self.tangent(result) if isinstance(result, gast.Name) and result.id in self.kind else None
        out.append(nodes.at_line(nodes.ret(nodes.tuple_load(
            [result, dresult if dresult is not None else nodes.const(0)])), getattr(ret, "lineno", None)))
        name = tree.name if tree.name != "lambda" else "lambda_"
        fn = nodes.function(name + "_jvp", [denv] + params + dparams, head + out)
        nodes.at_line(fn, tree.lineno)
        return Forward(fn, self.helpers, dict(self.resolver.guards))

    def block(self, stmts):
        out = []
        for stmt in stmts:
            self.activity.at(stmt)
            saved, self.line = self.line, getattr(stmt, "zygote_line", getattr(stmt, "lineno", self.line))
            emitted = self.stmt(stmt)
            for s in emitted:
                nodes.at_line(s, self.line)
            out += emitted
            self.line = saved
        return out

    def stmt(self, stmt):
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is None:
            self.refuse(f"the statement {type(stmt).__name__} in forward mode")
        return method(stmt)

    def set_tangent(self, name, value):
        """``dname = value`` when ``name`` ever carries a tangent (0 where ``value`` is None)."""
        if name not in self.kind:
            return []
        return [nodes.assign(self.d(name), value if value is not None else nodes.const(0))]

    # -- statements ----------------------------------------------------------------------

    def stmt_Assign(self, stmt):
        target = stmt.targets[0]
        value = stmt.value
        if isinstance(target, gast.Name):
            if isinstance(value, gast.Call):
                return self.call(stmt, target.id, value)
            plain = [stmt] + self.set_tangent(target.id, self.value_tangent(target.id, value))
            dispatch = operator_dispatch(self, value)
            if dispatch is not None and target.id in self.kind:
                return self.operator_on_objects(target.id, plain, *dispatch)
            return plain
        if isinstance(target, gast.Tuple):
            return [stmt] + self.unpack(target, value)
        if isinstance(target, gast.Attribute):
            return [stmt] + self.write_attribute(target, value)
        if isinstance(target, gast.Subscript):
            return [stmt] + self.write_item(target, value)
        raise AssertionError(type(target))

    def operator_on_objects(self, name, plain, op, dispatch, operands):
        """``name = a op b`` where an operand may be a user object: on numbers and arrays as
        ``plain`` (the operator and its tangent), else through the dispatching function that
        calls the class's own method as Python would, in forward mode."""
        test = nodes.call(nodes.load(self.helper(plain_operands, "plain_operands")),
                          [nodes.load(self.helper(op, op.__name__.strip("_")))] + list(operands))
        pair = self.rt_call("jvp_call", [
            nodes.load(self.helper(dispatch, dispatch.__name__)), nodes.const(0),
            nodes.tuple_load(list(operands)), nodes.tuple_load([self.tangent_or_zero(a) for a in operands])])
        through_method = nodes.assign(nodes.make(gast.Tuple, elts=[nodes.store(name), nodes.store(self.d(name))],
                                                 ctx=gast.Store()), pair)
        return [nodes.make(gast.If, test=test, body=plain, orelse=[through_method])]

    def unpack(self, target, value):
        names = [e.value.id if isinstance(e, gast.Starred) else e.id for e in target.elts]
        if not any(n in self.kind for n in names):
            return []
        dvalue = self.tangent(value)
        if dvalue is None:
            return [s for n in names for s in self.set_tangent(n, None)]
        elts = []
        for elt, name in zip(target.elts, names):
            dname = self.d(name) if name in self.kind else self.namer.fresh("_")
            elts.append(nodes.make(gast.Starred, value=nodes.store(dname), ctx=gast.Store())
                        if isinstance(elt, gast.Starred) else nodes.store(dname))
        store = nodes.make(gast.Tuple, elts=elts, ctx=gast.Store())
        return [nodes.assign(store, self.rt_call("unpack_tangent", [dvalue, value]))]

    def write_attribute(self, target, value):
        obj = target.value
        dvalue = self.tangent(value)
        if not isinstance(obj, gast.Name) or obj.id not in self.kind:
            if dvalue is not None:
                self.refuse(f"assigning a differentiated value to an attribute of {obj.id!r}, an object "
                            "passed in or shared", "return the new value instead")
            return []
        return [nodes.assign(self.d(obj.id), self.rt_call("set_attr_tangent", [
            self.tangent_or_zero(obj), nodes.load(obj.id), nodes.const(target.attr), dvalue or nodes.const(0)]))]

    def write_item(self, target, value):
        array = target.value
        if array.id not in self.kind:
            return []
        return [nodes.assign(self.d(array.id), self.rt_call("set_item_tangent", [
            self.tangent_or_zero(array), nodes.load(array.id), index_value(target.slice, self),
            self.tangent_or_zero(value)]))]

    def stmt_If(self, stmt):
        body = self.block(stmt.body)
        orelse = self.block(stmt.orelse)
        return [nodes.if_(stmt.test, body or [nodes.pass_()], orelse)]

    def stmt_For(self, stmt):
        target = stmt.target.id
        self.activity.at(stmt)
        dsource = self.tangent(stmt.iter) if getattr(stmt, "zygote_kind", "") == "seq" else None
        body = self.block(stmt.body)
        if dsource is not None and target in self.kind:
            pair = nodes.make(gast.Tuple, elts=[nodes.store(target), nodes.store(self.d(target))],
                              ctx=gast.Store())
            pairs = nodes.call(nodes.load(self.helper(zip, "zip")), [
                stmt.iter, self.rt_call("tangent_list", [dsource, stmt.iter])])
            loop = nodes.make(gast.For, target=pair, iter=pairs, body=body or [nodes.pass_()],
                              orelse=[], type_comment=None)
            return [loop]
        head = self.set_tangent(target, None)
        loop = nodes.make(gast.For, target=nodes.store(target), iter=stmt.iter,
                          body=head + body or [nodes.pass_()], orelse=[], type_comment=None)
        return [loop]

    def stmt_While(self, stmt):
        return [nodes.while_(stmt.test, self.block(stmt.body) or [nodes.pass_()])]

    def stmt_With(self, stmt):
        for item in stmt.items:
            if item.optional_vars is not None and item.optional_vars.id in self.kind:
                self.refuse("a differentiated value bound by with ... as")
        return [nodes.make(gast.With, items=stmt.items, body=self.block(stmt.body) or [nodes.pass_()],
                           type_comment=None)]

    def stmt_FunctionDef(self, stmt):
        return [stmt] + self.set_tangent(stmt.name, self.closure_tangent(stmt))

    def stmt_Assert(self, stmt):
        return [stmt]

    stmt_Raise = stmt_Assert
    stmt_Pass = stmt_Assert
    stmt_Expr = stmt_Assert
    stmt_Break = stmt_Assert

    def stmt_Continue(self, stmt):
        self.refuse("continue in this position")

    def stmt_Return(self, stmt):
        self.refuse("return in this position")

    # -- the tangents of expressions -----------------------------------------------------

    def value_tangent(self, name, value):
        method = getattr(self, "tangent_" + type(value).__name__, None)
        if method is None or getattr(value, "zygote_opaque", False):
            return None
        return method(name, value)

    def tangent_Name(self, name, value):
        return self.tangent(value)

    def tangent_Lambda(self, name, value):
        return self.closure_tangent(value)

    def closure_tangent(self, func):
        """A closure's tangent: its active free variables' tangents, by name."""
        active = [n for n in sorted(outer_names(func)) if self.activity.active(nodes.load(n))]
        if not active:
            return None
        return nodes.make(gast.Dict, keys=[nodes.const(n) for n in active],
                          values=[nodes.load(self.d(n)) for n in active])

    def tangent_UnaryOp(self, name, value):
        d = self.tangent(value.operand)
        if d is None or not isinstance(value.op, gast.USub):
            return None
        return nodes.make(gast.UnaryOp, op=gast.USub(), operand=d)

    def tangent_BinOp(self, name, value):
        left, right = value.left, value.right
        dleft, dright = self.tangent(left), self.tangent(right)
        if dleft is None and dright is None:
            return None
        kinds = (self.activity.kind_of(left), self.activity.kind_of(right))
        if ANY in kinds and isinstance(value.op, (gast.Add, gast.Mult)):
            # a + b or a * n of unknown types may concatenate or repeat sequences.
            key = "add_tangent" if isinstance(value.op, gast.Add) else "mul_tangent"
            return self.rt_call(key, [left, right, dleft or nodes.const(0), dright or nodes.const(0),
                                      nodes.load(name)])
        if isinstance(value.op, gast.MatMult):
            # (a tangent may be the integer 0 at run time, which @ does not take)
            return self.rt_call("matmul_tangent", [left, right, dleft or nodes.const(0),
                                                   dright or nodes.const(0)])
        if isinstance(value.op, gast.Pow) and dright is None and isinstance(right, gast.Constant) \
                and type(right.value) in (int, float) and right.value != 0 and name in self.scalar_closed:
            # x ** c on numbers: c * x ** (c - 1) written out (the rule's power_slope exists to
            # make repeated derivatives of x ** 0 end at exactly 0, which c != 0 never needs)
            slope = nodes.binop(right, "*", nodes.binop(left, "**", nodes.const(right.value - 1)))
            return nodes.binop(dleft, "*", slope)
        rule = lookup(_BINOPS[type(value.op)])
        if rule.kind == "nograd":
            return None
        return self.inline_elementwise(rule, {rule.params[0]: left, rule.params[1]: right}, name)

    def inline_elementwise(self, rule, bound, name):
        """Σ over active arguments of the rule's derivative expression applied to their tangent."""
        helper_names = {}
        for free, obj in free_objects(rule).items():
            shared = self.resolver.static(nodes.load(free))
            if shared is not None and shared.obj is obj and free not in self.helpers \
                    and not any(obj is u for u in UNCONJUGATED):  # (a helper name marks those)
                # the user's own global names the same object (np): read it under that name
                self.resolver.guard(shared)
                helper_names[free] = free
            else:
                helper_names[free] = self.helper(obj, free)
        terms = []
        for param in rule.params:
            dparam = self.tangent(bound[param])
            if dparam is None:
                continue
            parts = instantiate(rule, bound, nodes.load(name), dparam, helper_names.__getitem__)
            part = parts[rule.params.index(param)]
            if part is None:
                continue
            terms.append(self.without_conjugation(part))
        total = _sum(terms)
        if total is None or self.all_scalar or name in self.scalar_closed:
            return total
        # A tangent of a broadcast argument takes the result's shape (x + c with x a number).
        return self.rt_call("fit_tangent", [total, nodes.load(name)])

    def without_conjugation(self, expression):
        """A cotangent expression made a tangent one: a rule's ``holomorphic(f')`` multiplies a
        cotangent by conj(f'(z)), a tangent by f'(z) itself, so such calls go (``UNCONJUGATED``)."""
        markers = {self._helper_ids.get(id(fn)) for fn in UNCONJUGATED} - {None}

        class Unwrap(gast.NodeTransformer):
            def visit_Call(self, node):
                self.generic_visit(node)
                if isinstance(node.func, gast.Name) and node.func.id in markers and len(node.args) == 1:
                    return node.args[0]
                if isinstance(node.func, gast.Attribute) and node.func.attr == "conjugate" \
                        and not node.args and not node.keywords:
                    return node.func.value  # the same conjugation, written as a method
                return node
        return Unwrap().visit(expression)

    def tangent_Attribute(self, name, value):
        dobj = self.tangent(value.value)
        if dobj is None or value.attr in NONDIFF_ATTRIBUTES:
            return None
        return self.rt_call("attr_tangent", [value.value, dobj, nodes.const(value.attr)])

    def tangent_Subscript(self, name, value):
        dobj = self.tangent(value.value)
        keys = [k for k in index_atoms(value.slice) if self.tangent(k) is not None]
        index = index_value(value.slice, self)
        if keys:
            dindex = self.tangent(value.slice) if not isinstance(value.slice, gast.Tuple) else \
                nodes.tuple_load([self.tangent_or_zero(k) for k in value.slice.elts])
            return self.rt_call("keyed_item_tangent", [dobj or nodes.const(0), value.value, index, dindex])
        if dobj is None:
            return None
        return self.rt_call("item_tangent", [dobj, value.value, index])

    def tangent_Tuple(self, name, value):
        elts = self.display(value.elts)
        if elts is None:
            return None
        return nodes.make(type(value), elts=elts, ctx=gast.Load())

    tangent_List = tangent_Tuple

    def display(self, elts):
        out, any_active = [], False
        for elt in elts:
            if isinstance(elt, gast.Starred):
                d = self.tangent(elt.value)
                any_active |= d is not None
                out.append(nodes.make(gast.Starred, value=self.rt_call(
                    "tangent_list", [d or nodes.const(0), elt.value]), ctx=gast.Load()))
            else:
                d = self.tangent(elt)
                any_active |= d is not None
                out.append(d if d is not None else nodes.const(0))
        return out if any_active else None

    def tangent_Dict(self, name, value):
        values = [self.tangent(v) for v in value.values]
        if all(v is None for v in values):
            return None
        return nodes.make(gast.Dict, keys=list(value.keys),
                          values=[v if v is not None else nodes.const(0) for v in values])

    # -- calls ---------------------------------------------------------------------------

    def call(self, stmt, name, call):
        func = call.func
        if name not in self.kind:
            return [stmt] + self.set_tangent(name, None)
        if isinstance(func, gast.Name) and self.intrinsics.get(func.id) in _OWN_TANGENTS:
            return [stmt] + self.set_tangent(name, self.intrinsic(name, self.intrinsics[func.id], call))
        # The other intrinsics of normal form are zygote.runtime's Python functions: their
        # tangents come through the forward call protocol, as any function's.
        static = self.resolver.static(func)
        rule = lookup(static.obj) if static is not None else None
        plain = not any(isinstance(a, gast.Starred) for a in call.args) \
            and all(k.arg is not None for k in call.keywords)
        if rule is not None and rule.kind == "nograd":
            self.resolver.guard(static)
            return [stmt] + self.set_tangent(name, None)
        if rule is not None and rule.kind == "expr" and rule.elementwise and plain \
                and static.obj not in TANGENTS:
            bound = bind(rule, call.args, [(k.arg, k.value) for k in call.keywords])
            if bound is not None and not any(self.tangent(k.value) is not None for k in call.keywords
                                             if k.arg not in rule.params[:2]):
                self.resolver.guard(static)
                return [stmt] + self.set_tangent(name, self.inline_elementwise(rule, bound, name))
        args = self.display(call.args)
        kwargs_tangents = [self.tangent(k.value) for k in call.keywords]
        args_node = self.spread([a.value if isinstance(a, gast.Starred) else a for a in call.args],
                                [isinstance(a, gast.Starred) for a in call.args])
        dparts = args if args is not None else [
            nodes.make(gast.Starred, value=self.rt_call("tangent_list", [nodes.const(0), a.value]),
                       ctx=gast.Load()) if isinstance(a, gast.Starred) else nodes.const(0)
            for a in call.args]
        dargs_node = self.spread([d.value if isinstance(d, gast.Starred) else d for d in dparts],
                                 [isinstance(d, gast.Starred) for d in dparts])
        is_method = isinstance(func, gast.Attribute) and static is None
        if is_method:
            dobj = self.tangent(func.value)
            callee = [func.value, dobj or nodes.const(0), nodes.const(func.attr)]
            key = "jvp_method"
        else:
            dfunc = self.tangent(func) if isinstance(func, gast.Name) else None
            callee = [func, dfunc or nodes.const(0)]
            key = "jvp_call"
        extra = []
        if call.keywords or is_method:
            kwargs = nodes.make(gast.Dict, keys=[None if k.arg is None else nodes.const(k.arg)
                                                 for k in call.keywords],
                                values=[k.value for k in call.keywords])
            dkwargs = nodes.make(gast.Dict, keys=[None if k.arg is None else nodes.const(k.arg)
                                                  for k in call.keywords],
                                 values=[self.rt_call("tangent_dict", [d or nodes.const(0), k.value])
                                         if k.arg is None else (d or nodes.const(0))
                                         for k, d in zip(call.keywords, kwargs_tangents)])
            extra = [kwargs, dkwargs]
            if not is_method:
                key = "jvp_call_kw"
        target = nodes.make(gast.Tuple, elts=[nodes.store(name), nodes.store(self.d(name))], ctx=gast.Store())
        return [nodes.assign(target, self.rt_call(key, callee + [args_node, dargs_node] + extra))]

    def spread(self, elts, starred):
        """A tuple of ``elts``, the starred ones spread: ``(a,) + tuple(rest)`` rather than
        ``(a, *rest)``, so that the forward code can be differentiated in reverse again."""
        groups, plain = [], []
        for elt, star in zip(elts, starred):
            if star:
                if plain:
                    groups.append(nodes.tuple_load(plain))
                    plain = []
                groups.append(nodes.call(nodes.load(self.helper(tuple, "tuple")), [elt]))
            else:
                plain.append(elt)
        if plain or not groups:
            groups.append(nodes.tuple_load(plain))
        total = groups[0]
        for group in groups[1:]:
            total = nodes.binop(total, "+", group)
        return total

    def intrinsic(self, name, key, call):
        args = call.args
        if key == "iterate":
            d = self.tangent(args[0])
            return None if d is None else self.rt_call("iterate_tangent", [d, nodes.load(name)])
        if key == "list_append":
            ditems, dvalue = self.tangent(args[0]), self.tangent(args[1])
            if ditems is None and dvalue is None:
                return None
            return self.rt_call("append_tangent", [ditems or nodes.const(0), nodes.load(name),
                                                   dvalue or nodes.const(0)])
        self.refuse(f"the intrinsic {key} in forward mode")


_OWN_TANGENTS = ("iterate", "list_append")  # intrinsics whose tangents the transform writes itself


def _sum(terms):
    if not terms:
        return None
    total = terms[0]
    for term in terms[1:]:
        total = nodes.binop(total, "+", term)
    return total


