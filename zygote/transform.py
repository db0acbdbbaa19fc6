"""Generation of the primal and the adjoint function trees from a function in normal form.

The primal runs the user's statements and keeps what the adjoint reads: values that are
final when the function returns travel in one ``saved`` tuple; values that a later
statement or a later loop iteration overwrites are pushed on a stack right after the
statement that computed them and popped by its adjoint. The adjoint walks the statements
backwards, replaying the branches the primal took and running each loop as many times as
the primal did, and accumulates cotangents named after the primal values (``dx``).
"""
import operator
import types

import gast

from . import nodes
from .analysis import (ANY, NUMERIC, SCALAR, Activity, Site, Sites, assigned_by, category, index_atoms,
                       loaded_names, local_objects, outer_names, scalar_closed, walk_stmts)
from .control import ControlFlow
from .errors import UnsupportedSyntaxError
from .inline import bind, free_objects, instantiate
from .names import adjoint_name, names_in
from .normalise import source_line
from .rules import lookup

_BINOPS = {
    gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
    gast.Div: operator.truediv, gast.FloorDiv: operator.floordiv, gast.Mod: operator.mod,
    gast.Pow: operator.pow, gast.MatMult: operator.matmul,
}
_UNARY = {gast.USub: operator.neg, gast.Invert: operator.invert}


class Transformed:
    """The generated primal and adjoint trees and what they need bound at compile time.

    ``stack`` names the primal's stack of overwritten values, if it has one (the adjoint
    starts by copying it, so that its pullback can run more than once).
    """

    def __init__(self, primal, adjoint, helpers, guards, stack=None):
        self.primal = primal
        self.adjoint = adjoint
        self.helpers = helpers
        self.guards = guards
        self.stack = stack


def transform(nf, parsed, resolver, initial_kinds, runtime, scalars=frozenset()):
    """Generate primal and adjoint for normal form ``nf``.

    ``initial_kinds`` maps the active parameters and environment names to their kind;
    ``runtime`` is the module of helpers the generated code calls.
    """
    return _Generator(nf, parsed, resolver, initial_kinds, runtime, scalars).run()


class _Generator(ControlFlow):
    def __init__(self, nf, parsed, resolver, initial_kinds, runtime, scalars):
        self.nf = nf
        self.scalars = scalars
        self.parsed = parsed
        self.namer = nf.namer
        self.resolver = resolver
        self.rt = runtime
        self.tree = nf.tree
        self.params = nf.params
        self.activity = Activity(self.tree.body, resolver, initial_kinds)
        self.kind = self.activity.kind
        self.scalar_closed = scalar_closed(self.tree.body, scalars, self.kind, resolver)
        self.local_objects = local_objects(self.tree.body, set(self.params + self._other_params()))
        self.sites = Sites(self.tree.body, self.params + self._other_params())
        self.primal_names = set(names_in(self.tree)) | set(nf.helpers)
        self.helpers = {name: getattr(runtime, key) for name, key in nf.helpers.items()}
        self._helper_ids = {id(obj): name for name, obj in self.helpers.items()}
        self.adjoint_vars = {}
        self.is_set = set()
        self.saved_end = []
        self.stack = None
        self.carried = []
        self.last_comment = None
        self.entry_aliases = []
        self.bound_calls = {s.targets[0].id: s.value for s in walk_stmts(self.tree.body)
                            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                            and isinstance(s.value, gast.Call)}

    def _other_params(self):
        args = self.tree.args
        extra = [a.id for a in args.kwonlyargs]
        extra += [a.id for a in (args.vararg, args.kwarg) if a is not None]
        return extra

    # -- names ---------------------------------------------------------------------------

    def helper(self, obj, hint):
        name = self._helper_ids.get(id(obj))
        if name is None and hint in ("range", "len", "slice", "list"):
            shared = self.resolver.static(nodes.load(hint))
            if shared is not None and shared.obj is obj:
                self.resolver.guard(shared)  # the user's own name for the same builtin
                return hint
        if name is None:
            name = self.namer.fresh(hint)
            self.helpers[name] = obj
            self._helper_ids[id(obj)] = name
        return name

    def rt_call(self, key, args):
        return nodes.call(nodes.load(self.helper(getattr(self.rt, key), key)), args)

    def d(self, name):
        found = self.adjoint_vars.get(name)
        if found is None:
            found = adjoint_name(name, self.namer.taken)
            self.namer.reserve(found)
            self.adjoint_vars[name] = found
        return found

    def fresh_adjoint(self, hint):
        name = self.namer.fresh(hint)
        self.adjoint_vars[name] = name
        return name

    def fresh_primal(self, hint, site):
        name = self.namer.fresh(hint)
        self.primal_names.add(name)
        self.sites.add(name, site)
        return name

    # -- cotangent bookkeeping ----------------------------------------------------------

    def cotangent(self, name):
        """The node reading ``name``'s cotangent, or None if nothing has reached it."""
        if name in self.kind and name in self.is_set:
            return nodes.load(self.d(name))
        return None

    def contribute(self, name, value, out):
        if name not in self.kind:
            return
        dname = self.d(name)
        if name in self.is_set:
            if name in self.scalar_closed:
                value = nodes.binop(nodes.load(dname), "+", value)
            else:
                helper = "add_cotangent" if self.kind[name] == NUMERIC else "accum"
                value = self.rt_call(helper, [nodes.load(dname), value, nodes.load(name)])
        else:
            self.is_set.add(name)
        out.append(nodes.assign(dname, value))

    def kill(self, name):
        self.is_set.discard(name)

    # -- saving values for the adjoint --------------------------------------------------

    def reads(self, stmts):
        found = set()
        for stmt in stmts:
            found |= loaded_names(stmt)
        adjoint_names = set(self.adjoint_vars.values())
        return {n for n in found if n in self.primal_names and n not in adjoint_names
                and n not in self.helpers}

    def save(self, names, site):
        """Push/pop statements that make ``names`` hold their value at ``site`` in the adjoint."""
        pushed = []
        for name in sorted(names):
            if self.sites.final_at_end(name, site) or name not in self.sites.assigned:
                if name not in self.saved_end:
                    self.saved_end.append(name)
            else:
                pushed.append(name)
        if not pushed:
            return [], []
        if self.stack is None:
            self.stack = self.namer.fresh("stack")
        stack = nodes.load(self.stack)
        if len(pushed) == 1:
            value, target = nodes.load(pushed[0]), pushed[0]
        else:
            value, target = nodes.tuple_load([nodes.load(n) for n in pushed]), pushed
        push = nodes.expr(nodes.call(nodes.attribute(stack, "append"), [value]))
        pop = nodes.assign(target, nodes.call(nodes.attribute(nodes.load(self.stack), "pop")))
        return [push], [pop]

    # -- driver --------------------------------------------------------------------------

    def run(self):
        body = self.tree.body
        ret = body[-1]
        assert isinstance(ret, gast.Return) and isinstance(ret.value, (gast.Name, gast.Constant))
        dout = self.fresh_adjoint("dout")
        saved = self.fresh_adjoint("saved")
        adjoint = []
        result = ret.value
        if isinstance(result, gast.Name) and result.id in self.kind:
            line = getattr(ret, "zygote_line", None)
            if line is not None:
                adjoint.append(nodes.comment_line(line, source_line(self.parsed.filename, line)))
                self.last_comment = line
            self.is_set.add(result.id)
            adjoint.append(nodes.assign(self.d(result.id), nodes.load(dout)))
        primal, adjoint_body = self.block(body[:-1])
        adjoint += adjoint_body
        adjoint.append(nodes.ret(self.gradients()))

        primal = self.entry_aliases + primal
        if self.stack is not None:
            primal.insert(0, nodes.assign(self.stack, nodes.list_load([])))
            if self.stack not in self.saved_end:
                self.saved_end.append(self.stack)
        saved_tuple = nodes.tuple_load([nodes.load(n) for n in self.saved_end])
        primal.append(_at(nodes.ret(nodes.tuple_load([result, saved_tuple])), ret))
        unpack = [nodes.assign(list(self.saved_end), nodes.load(saved))] if self.saved_end else []
        if len(self.saved_end) == 1:
            unpack = [nodes.assign(nodes.make(gast.Tuple, elts=[nodes.store(self.saved_end[0])],
                                              ctx=gast.Store()), nodes.load(saved))]
        if self.stack is not None:
            # Pop from a copy, so that the pullback can be called more than once.
            unpack.append(nodes.assign(self.stack, nodes.call(
                nodes.load(self.helper(list, "list")), [nodes.load(self.stack)])))

        name = self.tree.name if self.tree.name != "lambda" else "lambda_"
        primal_fn = nodes.function(name + "_primal", self.tree.args, primal or [nodes.pass_()])
        adjoint_fn = nodes.function(name + "_adjoint", [saved, dout], unpack + adjoint)
        for fn in (primal_fn, adjoint_fn):
            nodes.at_line(fn, self.tree.lineno)
        return Transformed(primal_fn, adjoint_fn, self.helpers, dict(self.resolver.guards), self.stack)

    def gradients(self):
        """The adjoint's return value: (environment cotangents, one cotangent per parameter)."""
        env = [(n, self.cotangent(n)) for n in self.kind
               if self.resolver.is_env(n) and self.cotangent(n) is not None]
        if env:
            denv = nodes.make(gast.Dict, keys=[nodes.const(n) for n, _ in env],
                              values=[self.rt_call("unbroadcast", [v, nodes.load(n)]) for n, v in env])
        else:
            denv = nodes.const(0)
        parts = [denv]
        for name in self.params + self._other_params():
            value = self.cotangent(name)
            if value is None:
                parts.append(nodes.const(0))
            elif name in self.scalars:
                parts.append(value)  # the caller sums any broadcast dimensions lazily
            else:
                parts.append(self.rt_call("unbroadcast", [value, nodes.load(self.input_alias(name))]))
        result = nodes.tuple_load(parts)
        self.save(self.reads([nodes.expr(result)]), _ENTRY)
        return result

    def input_alias(self, name):
        """A name still holding parameter ``name``'s input value when the function returns."""
        if len(self.sites.assigned.get(name, ())) <= 1:
            return name
        alias = self.namer.fresh(f"{name}_input")
        self.primal_names.add(alias)
        self.sites.add(alias, _ENTRY)
        self.entry_aliases.append(nodes.assign(alias, nodes.load(name)))
        return alias

    def block(self, stmts):
        primal_parts = []
        adjoint = []
        for stmt in reversed(stmts):
            primal, adj = self.stmt(stmt)
            primal_parts.append(primal)
            adjoint += adj
        primal = [s for part in reversed(primal_parts) for s in part]
        return primal, adjoint

    def stmt(self, stmt):
        site = self.sites.of_stmt[id(stmt)]
        method = getattr(self, "stmt_" + type(stmt).__name__)
        self.activity.at(stmt)
        self.current_line = getattr(stmt, "zygote_line", getattr(stmt, "lineno", None))
        primal, adjoint = method(stmt, site)
        self.activity.at(None)
        line = getattr(stmt, "zygote_line", getattr(stmt, "lineno", None))
        for s in primal:
            nodes.at_line(s, line)
        if adjoint:
            if line is not None and line != self.last_comment and not isinstance(stmt, (gast.If, gast.For, gast.While)):
                text = source_line(self.parsed.filename, line)
                adjoint.insert(0, nodes.comment_line(line, text))
                self.last_comment = line
            for s in adjoint:
                nodes.at_line(s, line)
        return primal, adjoint

    def with_saves(self, stmt, primal, adjoint, site):
        """Attach pushes after ``primal`` and pops before ``adjoint`` for what the adjoint reads."""
        if not adjoint:
            return primal, adjoint
        push, pop = self.save(self.reads(adjoint), site)
        return primal + push, pop + adjoint

    # -- simple statements ---------------------------------------------------------------

    def stmt_Assign(self, stmt, site):
        target = stmt.targets[0]
        value = stmt.value
        if isinstance(target, gast.Name):
            return self.assign_name(stmt, target.id, value, site)
        if isinstance(target, gast.Tuple):
            return self.unpack(stmt, target, value, site)
        if isinstance(target, gast.Attribute):
            return self.write_attribute(stmt, target, value, site)
        if isinstance(target, gast.Subscript):
            return self.write_item(stmt, target, value, site)
        raise AssertionError(type(target))

    def assign_name(self, stmt, name, value, site):
        dy = self.cotangent(name)
        if isinstance(value, gast.Call):
            return self.call(stmt, name, value, site, dy)
        if dy is None or name not in self.kind:
            self.kill(name)
            return [stmt], []
        adjoint = []
        self.kill(name)
        handler = getattr(self, "adjoint_" + type(value).__name__, None)
        if handler is None:
            return [stmt], []
        handler(name, value, dy, adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def adjoint_Name(self, name, value, dy, out):
        if value.id != name and self.activity.active(value):
            self.contribute(value.id, dy, out)

    def adjoint_Constant(self, name, value, dy, out):
        pass

    def adjoint_BinOp(self, name, value, dy, out):
        if isinstance(value.op, gast.Add) and ANY in (self.activity.kind_of(value.left),
                                                      self.activity.kind_of(value.right)):
            # a + b of unknown types may concatenate sequences: split dy at run time.
            parts = [self.fresh_adjoint("dleft_part"), self.fresh_adjoint("dright_part")]
            out.append(nodes.assign(parts, self.rt_call("add_back", [dy, value.left, value.right])))
            for atom, part in zip((value.left, value.right), parts):
                if self.activity.active(atom):
                    self.contribute(atom.id, nodes.load(part), out)
            return
        rule = lookup(_BINOPS[type(value.op)])
        if rule.kind == "nograd":
            return  # a // b is piecewise constant: nothing flows back
        self.inline(rule, {rule.params[0]: value.left, rule.params[1]: value.right}, name, dy, out)

    def adjoint_UnaryOp(self, name, value, dy, out):
        fn = _UNARY.get(type(value.op))
        if fn is None:
            return
        rule = lookup(fn)
        self.inline(rule, {rule.params[0]: value.operand}, name, dy, out)

    def adjoint_Attribute(self, name, value, dy, out):
        obj = value.value
        if self.activity.active(obj):
            self.contribute(obj.id, self.rt_call("attr_back", [nodes.load(obj.id), nodes.const(value.attr), dy]), out)

    def adjoint_Subscript(self, name, value, dy, out):
        obj = value.value
        if any(self.activity.active(atom) for atom in index_atoms(value.slice)):
            # a differentiated key: the object's rule or __getitem__ says what reaches it
            dindex = self.fresh_adjoint("dindex")
            out.append(nodes.assign(dindex, self.rt_call("index_back", [
                nodes.load(obj.id), _index_value(value.slice, self), dy])))
            if isinstance(value.slice, gast.Tuple):
                self._display(value.slice.elts, nodes.load(dindex), out)
            else:
                self.contribute(value.slice.id, nodes.load(dindex), out)
        if not self.activity.active(obj):
            return
        size = self.result_size(obj.id)
        at = value.slice.value if isinstance(value.slice, gast.Constant) else None
        if size is not None and type(at) is int and -size <= at < size:
            # An item of a tuple of known length (a nested gradient's): its cotangent is a
            # tuple with dy in that place, built here rather than by getitem_back.
            parts = [nodes.const(0)] * size
            parts[at] = dy
            self.contribute(obj.id, nodes.tuple_load(parts), out)
        else:
            index = _index_value(value.slice, self)
            self.contribute(obj.id, self.rt_call("getitem_back", [nodes.load(obj.id), index, dy]), out)

    def adjoint_Tuple(self, name, value, dy, out):
        self._display(value.elts, dy, out)

    adjoint_List = adjoint_Tuple

    def _display(self, elts, dy, out):
        if any(isinstance(e, gast.Starred) for e in elts):
            if any(self.activity.active(e.value if isinstance(e, gast.Starred) else e) for e in elts):
                raise UnsupportedSyntaxError("a starred element in a differentiated tuple or list",
                                             self.parsed.filename, self.current_line,
                                             "build it with + of tuples or lists instead")
            return
        active = [i for i, e in enumerate(elts) if self.activity.active(e)]
        if not active:
            return
        parts = [self.fresh_adjoint(f"d{elts[i].id}_part" if i in active else "_") for i in range(len(elts))]
        out.append(nodes.assign(parts, self.rt_call("split_cotangent", [dy, nodes.const(len(elts))])))
        for i in active:
            self.contribute(elts[i].id, nodes.load(parts[i]), out)

    def adjoint_Dict(self, name, value, dy, out):
        for key, item in zip(value.keys, value.values):
            if self.activity.active(item):
                self.contribute(item.id, self.rt_call("dict_back", [dy, key]), out)

    def adjoint_Lambda(self, name, value, dy, out):
        for outer in sorted(outer_names(value)):
            if outer in self.kind:
                self.contribute(outer, self.rt_call("closure_back", [dy, nodes.const(outer)]), out)

    def stmt_FunctionDef(self, stmt, site):
        dy = self.cotangent(stmt.name)
        self.kill(stmt.name)
        if dy is None:
            return [stmt], []
        adjoint = []
        self.adjoint_Lambda(stmt.name, stmt, dy, adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def unpack(self, stmt, target, value, site):
        names = assigned_by(stmt)
        starred = [isinstance(e, gast.Starred) for e in target.elts]
        parts = [self.cotangent(n) for n in names]
        for n in names:
            self.kill(n)
        if not self.activity.active(value) or all(p is None for p in parts):
            return [stmt], []
        if any(starred):
            i = starred.index(True)
            rest = parts[i] if parts[i] is not None else self.rt_call(
                "zeros_like_list", [nodes.load(names[i])])
            elts = [p if p is not None else nodes.const(0) for p in parts]
            elts[i] = nodes.make(gast.Starred, value=rest, ctx=gast.Load())
        else:
            elts = [p if p is not None else nodes.const(0) for p in parts]
        adjoint = []
        self.contribute(value.id, nodes.tuple_load(elts), adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def write_attribute(self, stmt, target, value, site):
        obj = target.value
        if self.activity.active(value) and isinstance(obj, gast.Name) and obj.id not in self.local_objects:
            # The object outlives this call: its new attribute would be read where its
            # cotangent cannot reach back here. Refuse rather than lose the gradient.
            raise UnsupportedSyntaxError(
                f"assigning a differentiated value to an attribute of {obj.id!r}, an object "
                "passed in or shared", self.parsed.filename, self.current_line,
                "return the new value and assign it where the object is made")
        dobj = self.cotangent(obj.id) if isinstance(obj, gast.Name) else None
        if dobj is None:
            return [stmt], []
        part = self.fresh_adjoint("dvalue_part")
        adjoint = [nodes.assign([part, self.d(obj.id)],
                                self.rt_call("setattr_back", [dobj, nodes.const(target.attr)]))]
        if self.activity.active(value):
            self.contribute(value.id, nodes.load(part), adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def write_item(self, stmt, target, value, site):
        array = target.value.id
        copy_stmt = nodes.assign(array, self.rt_call("copy_for_write", [nodes.load(array)]))
        primal = [copy_stmt, stmt]
        darray = self.cotangent(array)
        if darray is None:
            return primal, []
        part = self.fresh_adjoint("dvalue_part")
        index = _index_value(target.slice, self)
        exact = self.rt_call("unbroadcast", [darray, nodes.load(array)])
        adjoint = [nodes.assign([part, self.d(array)],
                                self.rt_call("setitem_back", [exact, index, value]))]
        if self.activity.active(value):
            self.contribute(value.id, nodes.load(part), adjoint)
        return self.with_saves(stmt, primal, adjoint, site)

    def stmt_Assert(self, stmt, site):
        return [stmt], []

    stmt_Raise = stmt_Assert
    stmt_Pass = stmt_Assert

    def stmt_Expr(self, stmt, site):
        return [stmt], []

    # -- calls ---------------------------------------------------------------------------

    def inline(self, rule, bound, name, dy, out):
        """Copy expression rule ``rule``'s adjoint into ``out`` for the result ``name``."""
        active = [p for p in rule.params if self.activity.active(bound[p])]
        if not active:
            return
        helper_names = {}
        for free, obj in free_objects(rule).items():
            shared = self.resolver.static(nodes.load(free))
            if shared is not None and shared.obj is obj and free in self.resolver.fixed:
                helper_names[free] = free  # generated code: already a helper cell of its own
            elif shared is not None and shared.obj is obj and free not in self.helpers:
                # The user's own global names the same object: bind it under that name (the
                # guard makes a rebinding of the global retransform the function).
                self.resolver.guard(shared)
                self.helpers[free] = obj
                self._helper_ids[id(obj)] = free
                helper_names[free] = free
            elif free in self.helpers and self.helpers[free] is obj:
                helper_names[free] = free
            else:
                helper_names[free] = self.helper(obj, free)
        if not rule.elementwise:
            dy = self.rt_call("unbroadcast", [dy, nodes.load(name)])
        parts = instantiate(rule, bound, nodes.load(name), dy, helper_names)
        for param, part in zip(rule.params, parts):
            if part is not None and param in active:
                self.contribute(bound[param].id, part, out)

    def call(self, stmt, name, call, site, dy):
        static = self.resolver.static(call.func)
        if isinstance(call.func, gast.Name) and call.func.id in self.helpers:
            static = _Fixed(self.helpers[call.func.id])
        rule = lookup(static.obj) if static is not None else None
        active = name in self.kind
        if rule is not None and not isinstance(static, _Fixed):
            self.resolver.guard(static)
        if not active or (rule is not None and rule.kind == "nograd"):
            self.kill(name)
            return [stmt], []
        positional = call.args
        if any(isinstance(a, gast.Starred) for a in positional) or any(k.arg is None for k in call.keywords):
            if dy is None:
                self.kill(name)
                return [stmt], []
            return self.starred_call(stmt, name, call, site, dy)
        keywords = [(k.arg, k.value) for k in call.keywords]
        if rule is not None and rule.kind == "expr":
            bound = bind(rule, positional, keywords)
            if bound is not None:
                self.kill(name)
                if dy is None:
                    return [stmt], []
                adjoint = []
                self.inline(rule, bound, name, dy, adjoint)
                return self.with_saves(stmt, [stmt], adjoint, site)
        if dy is None and not self.may_mutate(call):
            self.kill(name)
            return [stmt], []
        if not keywords and call.args and rule is not None and rule.static is not None:
            # gradient(f, *args): the transform of f's fused gradient, called directly.
            planned = self.planned_call(stmt, name, site, dy, rule.static,
                                        self.resolver.static(call.args[0]), call.args[1:])
            if planned is not None:
                return planned
        if not keywords and rule is None and static is not None and not isinstance(static, _Fixed) \
                and self.rt.plan_call is not None:
            # A global Python function: its own primal and adjoint, called directly.
            planned = self.planned_call(stmt, name, site, dy, self.rt.plan_call, static, call.args)
            if planned is not None:
                return planned
        back = self.fresh_primal(f"{name}_back", site)
        if rule is not None and rule.kind == "pullback" and not keywords:
            func = nodes.load(self.helper(rule.impl, rule.impl.__name__))
            primal_call = nodes.call(func, positional)
            parts_for = list(positional)
            lead = []
        else:
            primal_call, parts_for, lead = self.dynamic_call(call)
        primal = nodes.assign([name, back], primal_call)
        self.kill(name)
        if dy is None:
            return [primal], []
        part_names = [self.fresh_adjoint(f"d{a.id}_part" if isinstance(a, gast.Name) else "_")
                      for a in lead + parts_for]
        targets = [nodes.store(n) for n in part_names]
        if rule is not None and rule.kind == "pullback" and _takes_more(rule.impl, len(parts_for)):
            targets.append(nodes.make(gast.Starred, value=nodes.store(self.fresh_adjoint("_rest")),
                                      ctx=gast.Store()))
        if rule is not None and rule.kind == "pullback":
            # A pullback rule wants a cotangent of exactly its output's shape.
            dy = self.rt_call("unbroadcast", [dy, nodes.load(name)])
        adjoint = [nodes.assign(nodes.make(gast.Tuple, elts=targets, ctx=gast.Store()),
                                nodes.call(nodes.load(back), [dy]))]
        for atom, part in zip(lead + parts_for, part_names):
            if self.activity.active(atom):
                self.contribute(atom.id, nodes.load(part), adjoint)
        if keywords:
            for key, atom in keywords:
                if self.activity.active(atom):
                    self.contribute(atom.id, self.rt_call("dict_back", [nodes.load(part_names[-1]),
                                                                        nodes.const(key)]), adjoint)
        return self.with_saves(stmt, [primal], adjoint, site)

    def planned_call(self, stmt, name, site, dy, planner, target, args):
        """A call whose callee (``target``) and argument kinds are known now, made by direct
        calls of the code ``planner(callee, kinds, active)`` plans; None if it plans none."""
        if target is None or target.key is None or any(isinstance(a, gast.Starred) for a in args):
            return None
        categories = [self.static_category(a) for a in args]
        if None in categories:
            return None
        plan = planner(target.obj, categories, [self.activity.active(a) for a in args])
        if plan is None:
            return None
        self.resolver.guard(target)
        root, path = target.key
        self.resolver.guard_in(self.resolver.globals, root, path + ("__code__",), target.obj.__code__)
        for namespace, root, path, obj in plan.guards:
            self.resolver.guard_in(namespace, root, path, obj)
        saved = self.fresh_primal(f"{name}_saved", site)
        primal_fn = self.helper(plan.primal, plan.hint + "_primal")
        primal = nodes.assign([name, saved], nodes.call(nodes.load(primal_fn), args))
        self.kill(name)
        if dy is None:
            return [primal], []
        parts = [self.fresh_adjoint("_")] + [
            self.fresh_adjoint(f"d{a.id}_part" if isinstance(a, gast.Name) else "_") for a in args]
        adjoint_fn = self.helper(plan.adjoint, plan.hint + "_adjoint")
        adjoint = [nodes.assign(nodes.tuple_store(parts),
                                nodes.call(nodes.load(adjoint_fn), [nodes.load(saved), dy]))]
        for atom, part in zip(args, parts[1:]):
            if self.activity.active(atom):
                self.contribute(atom.id, nodes.load(part), adjoint)
        return self.with_saves(stmt, [primal], adjoint, site)

    def result_size(self, name):
        """The length of the tuple ``name`` holds when it is bound once by a gradient-like call
        (a rule with a static plan: one result per argument after the callee), else None."""
        call = self.bound_calls.get(name)
        if call is None or len(self.sites.assigned.get(name, ())) != 1 or call.keywords:
            return None
        static = self.resolver.static(call.func)
        rule = lookup(static.obj) if static is not None else None
        if rule is None or rule.static is None or not call.args:
            return None
        args = call.args[1:]
        if any(isinstance(a, gast.Starred) for a in args) or None in map(self.static_category, args):
            return None  # a Params argument, for one, gives Grads
        return len(args)

    def static_category(self, atom):
        """The run-time category of ``atom`` when this transform fixes it, else None."""
        if isinstance(atom, gast.Constant):
            return category(atom.value)
        if not isinstance(atom, gast.Name):
            return None
        if atom.id in self.scalars and len(self.sites.assigned.get(atom.id, ())) <= 1:
            return SCALAR  # a parameter passed a Python number and never rebound
        if self.activity.active(atom) and self.kind.get(atom.id) == NUMERIC:
            return NUMERIC
        return None

    def may_mutate(self, call):
        """Whether a call whose result is unused hands a differentiated value to user code along
        with an object that could keep it (``box.add(x * x)``). Such a call still goes through
        ``call``, so that the callee is transformed and an attribute write it makes is refused
        rather than lost."""
        atoms = [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        atoms += [k.value for k in call.keywords]
        if isinstance(call.func, gast.Attribute):
            atoms.append(call.func.value)
        names = [a for a in atoms if isinstance(a, gast.Name)]
        if not any(self.activity.active(a) for a in names):
            return False
        return any(self.kind.get(a.id) != NUMERIC for a in names)

    def dynamic_call(self, call):
        """A call through ``runtime.call``: (primal call node, atoms per cotangent, leading atoms)."""
        keywords = call.keywords
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, (gast.Name, gast.Constant)) \
                and not isinstance(self.resolver.static(func.value) and self.resolver.static(func.value).obj,
                                   types.ModuleType):
            # obj.method(...) on anything but a module: the object's cotangent must flow back.
            obj = func.value
            mask = self.mask([obj] + call.args + [k.value for k in keywords])
            args = [nodes.const(mask), obj, nodes.const(func.attr)] + list(call.args)
            primal = nodes.call(nodes.load(self.helper(self.rt.call_method, "call_method")), args,
                                [(k.arg, k.value) for k in keywords])
            lead = [obj]
        else:
            callee = func if isinstance(func, gast.Name) else None
            mask = self.mask([callee] + call.args + [k.value for k in keywords])
            args = [nodes.const(mask), func] + list(call.args)
            primal = nodes.call(nodes.load(self.helper(self.rt.call, "call")), args,
                                [(k.arg, k.value) for k in keywords])
            lead = [func if isinstance(func, gast.Name) else nodes.const(None)]
        parts = list(call.args)
        if keywords:
            parts = parts + [nodes.const("**")]
        return primal, parts, lead

    def starred_call(self, stmt, name, call, site, dy):
        """A call with ``*args``: the mask and the regrouping of cotangents happen at run time."""
        func = call.func
        callee = func if isinstance(func, gast.Name) else None
        if callee is None and self.resolver.static(func) is None:
            raise UnsupportedSyntaxError("*args in a method call on a differentiated path",
                                         self.parsed.filename, getattr(stmt, "lineno", None))
        len_name = self.helper(len, "len")
        mask = nodes.const(self.mask([callee]))
        layout = []
        for arg in call.args:
            if isinstance(arg, gast.Starred):
                inner = arg.value
                kind = nodes.const(self.mask([inner]) if isinstance(inner, gast.Name) else "-")
                size = nodes.call(nodes.load(len_name), [inner])
                mask = nodes.binop(mask, "+", nodes.binop(kind, "*", size))
                layout.append(nodes.tuple_load([size, nodes.const(True)]))
            else:
                mask = nodes.binop(mask, "+", nodes.const(self.mask([arg])))
                layout.append(nodes.tuple_load([nodes.const(1), nodes.const(False)]))
        for keyword in call.keywords:
            if keyword.arg is None:
                size = nodes.call(nodes.load(len_name), [keyword.value])
                mask = nodes.binop(mask, "+", nodes.binop(nodes.const("a"), "*", size))
            else:
                mask = nodes.binop(mask, "+", nodes.const("a"))
        back = self.fresh_primal(f"{name}_back", site)
        primal_call = nodes.call(nodes.load(self.helper(self.rt.call, "call")),
                                 [mask, func] + list(call.args), [(k.arg, k.value) for k in call.keywords])
        self.kill(name)
        parts = self.fresh_adjoint(f"d{name}_parts")
        adjoint = [nodes.assign(parts, self.rt_call("regroup", [
            nodes.call(nodes.load(back), [dy]), nodes.tuple_load(layout)]))]
        atoms = [callee if callee is not None else nodes.const(None)]
        atoms += [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        for i, atom in enumerate(atoms):
            if self.activity.active(atom):
                self.contribute(atom.id, nodes.subscript(nodes.load(parts), nodes.const(i)), adjoint)
        if call.keywords:
            dkw = self.rt_call("keyword_part", [nodes.load(parts), nodes.const(len(atoms))])
            for key, atom in [(k.arg, k.value) for k in call.keywords]:
                if self.activity.active(atom):
                    part = dkw if key is None else self.rt_call("dict_back", [dkw, nodes.const(key)])
                    self.contribute(atom.id, part, adjoint)
        return self.with_saves(stmt, [nodes.assign([name, back], primal_call)], adjoint, site)

    def mask(self, atoms):
        return "".join(self.kind[a.id] if self.activity.active(a) else "-" for a in atoms)

    def stmt_Return(self, stmt, site):
        raise UnsupportedSyntaxError("return in this position", self.parsed.filename, stmt.lineno)


# The site of values that exist when the function starts (parameters, environment).
_ENTRY = Site(-1, (), True)


class _Fixed:
    """A callee that is one of the generated code's own helpers (no guard needed)."""

    def __init__(self, obj):
        self.obj = obj


def _takes_more(fn, n):
    """Whether ``fn`` may return more cotangents than the ``n`` arguments a call passes it."""
    code = getattr(fn, "__wrapped__", fn).__code__
    return code.co_argcount > n or bool(code.co_flags & 0x04)


def _at(new, old):
    return nodes.at_line(new, getattr(old, "lineno", None))


def _index_value(index, gen):
    """An expression that evaluates to the index object of a subscript (slices become slice())."""
    if isinstance(index, gast.Slice):
        parts = [p if p is not None else nodes.const(None) for p in (index.lower, index.upper, index.step)]
        return nodes.call(nodes.load(gen.helper(slice, "slice")), parts)
    if isinstance(index, gast.Tuple):
        return nodes.tuple_load([_index_value(e, gen) for e in index.elts])
    return index
