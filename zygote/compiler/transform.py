"""Generation of the primal and the adjoint function trees from a function in normal form.

The primal runs the user's statements and keeps what the adjoint reads: values that are
final when the function returns travel in one ``saved`` tuple; values that a later
statement or a later loop iteration overwrites are pushed on a stack right after the
statement that computed them and popped by its adjoint. The adjoint walks the statements
backwards, replaying the branches the primal took and running each loop as many times as
the primal did, and accumulates cotangents named after the primal values (``dx``).
"""
import operator

import gast

from .. import nodes
from .analysis import (ANY, NUMERIC, Site, assigned_by, closures, index_atoms, loaded_names,
                       other_params, outer_names)
from .calls import CallAdjoints
from .closures import escape_checks, late_read_checks, through_closure
from .control import ControlFlow
from . import handoff
from ..errors import UnsupportedSyntaxError
from .names import adjoint_name, names_in
from .writing import Writing, index_value as _index_value
from ..rules import lookup

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


def transform(nf, parsed, analysis, resolver, helpers, plan_call=None, writes_through=False):
    """Generate primal and adjoint for normal form ``nf``, given its ``analysis``.

    ``helpers`` names the functions the generated code calls (``zygote.protocol.HELPERS``);
    ``plan_call(fn, kinds, active)`` plans direct calls of global functions (see ``calls``);
    ``writes_through`` says that a function it calls writes into objects it did not make.
    """
    generator = _Generator(nf, parsed, analysis, resolver, helpers, plan_call)
    generator.writes_through = writes_through
    return generator.run()


class _Generator(ControlFlow, Writing):
    def __init__(self, nf, parsed, analysis, resolver, helpers, plan_call):
        self.nf = nf
        self.scalars = analysis.scalars
        self.parsed = parsed
        self.namer = nf.namer
        self.resolver = resolver
        self.rt = helpers
        self.tree = nf.tree
        self.params = nf.params
        self.activity = analysis.activity
        self.kind = analysis.kind
        self.scalar_closed = analysis.scalar_closed
        self.local_objects = analysis.local_objects
        self.sites = analysis.sites
        self.primal_names = set(names_in(self.tree)) | set(nf.helpers)
        self.helpers = {name: getattr(helpers, key) for name, key in nf.helpers.items()}
        self._helper_ids = {id(obj): name for name, obj in self.helpers.items()}
        self.adjoint_vars = {}
        self.is_set = set()
        self.saved_end = []
        self.stack = None
        self.carried = []
        self.last_comment = None
        self.entry_aliases = []
        self.input_aliases = {}
        self.calls = CallAdjoints(self, analysis.bound_calls, plan_call)
        self.closures = {name: reads for name, (reads, _) in closures(self.tree.body, self.params).items()}
        self.escape_checks = late_read_checks(self)

    def _other_params(self):
        return other_params(self.tree)

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
        if name in self.closures:
            through_closure(self, name, value, out)
            return
        if self.tracked(name):
            self.add_to_store(name, value, out)
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
        self.start_writing()
        adjoint = []
        result = ret.value
        entry = handoff.at_entry(self, handoff.object_params(self, self.params + self._other_params()))
        self.save(self.reads(entry), _ENTRY)
        adjoint += entry
        if isinstance(result, gast.Name) and result.id in self.kind:
            line = getattr(ret, "zygote_line", None)
            if line is not None:
                adjoint.append(nodes.comment_line(line, self.parsed.line_text(line)))
                self.last_comment = line
            if self.tracked(result.id) and result.id not in self.saved_end:
                self.saved_end.append(result.id)
            self.contribute(result.id, nodes.load(dout), adjoint)
        primal, adjoint_body = self.block(body[:-1])
        adjoint += adjoint_body
        adjoint += self.gradient_takes()
        adjoint.append(nodes.ret(self.gradients()))
        adjoint = self.wrap_adjoint(adjoint)

        primal = self.entry_aliases + primal
        if self.log is not None:
            inputs = [nodes.load(n) for n in self.params + self._other_params()]
            primal.insert(0, nodes.assign(self.log, self.rt_call("write_log", inputs)))
            if self.log not in self.saved_end:
                self.saved_end.append(self.log)
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

    def is_input_env(self, name):
        """Whether ``name`` is a differentiated closure or global (one written to is not)."""
        return self.resolver.is_env(name) and (self.store is None or name in self.activity.inputs)

    def gradient_takes(self):
        """In store mode, the statements that read the whole cotangent of each input."""
        if self.store is None:
            return []
        takes = []
        env = [n for n in self.kind if self.is_input_env(n)]
        for name in env + self.params + self._other_params():
            if self.tracked(name):
                value = self.input_alias(name) if name not in env else name
                takes.append(nodes.assign(self.d(name), self.store_call(
                    "take" if name not in env else "take_env", [nodes.load(value), self.own_cotangent(name)])))
                self.is_set.add(name)
        self.save(self.reads(takes), _ENTRY)
        return takes

    def gradients(self):
        """The adjoint's return value: (environment cotangents, one cotangent per parameter)."""
        env = [(n, self.cotangent(n)) for n in self.kind
               if self.is_input_env(n) and self.cotangent(n) is not None]
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
        known = self.input_aliases.get(name)
        if known is not None:
            return known
        alias = self.input_aliases[name] = self.namer.fresh(f"{name}_input")
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
        if id(stmt) in self.escape_checks:
            primal = primal + escape_checks(self, self.escape_checks[id(stmt)])
        self.activity.at(None)
        line = getattr(stmt, "zygote_line", getattr(stmt, "lineno", None))
        for s in primal:
            nodes.at_line(s, line)
        if adjoint:
            if line is not None and line != self.last_comment and not isinstance(stmt, (gast.If, gast.For, gast.While)):
                text = self.parsed.line_text(line)
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
        if self.store is not None and isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
                and value.func.id in self.augment_names:
            return self.augmented(stmt, name, value, site)
        if self.tracked(name):
            return self.taking(name, site, lambda dy: self.assign_value(stmt, name, value, site, dy))
        return self.assign_value(stmt, name, value, site, self.cotangent(name))

    def assign_value(self, stmt, name, value, site, dy):
        dispatched = handoff.operator_call(self, value)
        if dispatched is not None:
            # An operand may be a user object: its class's operator method is differentiated.
            return handoff.operator_statements(self, stmt, name, dispatched, site, dy)
        if isinstance(value, gast.Call):
            return self.calls.call(stmt, name, value, site, dy)
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
        self.calls.inline(rule, {rule.params[0]: value.left, rule.params[1]: value.right}, name, dy, out)

    def adjoint_UnaryOp(self, name, value, dy, out):
        fn = _UNARY.get(type(value.op))
        if fn is None:
            return
        rule = lookup(fn)
        self.calls.inline(rule, {rule.params[0]: value.operand}, name, dy, out)

    def adjoint_Attribute(self, name, value, dy, out):
        obj = value.value
        if self.activity.active(obj):
            # The value read is passed along: a later write may have replaced the attribute.
            self.contribute(obj.id, self.rt_call("attr_back", [nodes.load(obj.id), nodes.const(value.attr), dy,
                                                               nodes.load(name)]), out)

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
        size = self.calls.result_size(obj.id)
        at = value.slice.value if isinstance(value.slice, gast.Constant) else None
        if size is not None and type(at) is int and -size <= at < size:
            # An item of a tuple of known length (a nested gradient's): its cotangent is a
            # tuple with dy in that place, built here rather than by getitem_back.
            parts = [nodes.const(0)] * size
            parts[at] = dy
            self.contribute(obj.id, nodes.tuple_load(parts), out)
        elif self.tracked(obj.id):
            # an item's cotangent is added where it belongs: O(size of the item)
            index = _index_value(value.slice, self)
            fallback = nodes.load(self.helper(self.rt.getitem_back, "getitem_back"))
            out.append(nodes.assign(self.d(obj.id), self.store_call("add_item", [
                nodes.load(obj.id), index, self.own_cotangent(obj.id), dy, fallback])))
            self.is_set.add(obj.id)
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
        takes = [self.take(n) for n in names if self.tracked(n)]
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
        adjoint = takes
        dvalue = nodes.tuple_load(elts)
        if not any(starred) and self.kind.get(value.id) == ANY and not handoff.own_code(self.parsed):
            # an object that iterates itself: each item's cotangent goes where it is held
            dvalue = self.rt_call("unpack_back", [nodes.load(value.id), dvalue,
                                                  nodes.tuple_load([nodes.load(n) for n in names])])
        self.contribute(value.id, dvalue, adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def write_attribute(self, stmt, target, value, site):
        obj = target.value
        adjoint = []
        if isinstance(obj, gast.Name) and obj.id in self.kind and obj.id not in self.local_objects \
                and obj.id not in self.params + self._other_params():
            # An object reached otherwise than as a parameter may be a caller's: its cotangent
            # after the call joins here (a parameter's joined at the adjoint's start).
            handoff.at_write(self, obj.id, adjoint)
        if self.store is not None and isinstance(obj, gast.Name) and self.tracked(obj.id):
            primal, rest = self.write_attribute_by_identity(stmt, target, value, site)
            return primal, adjoint + rest if rest else rest
        dobj = self.cotangent(obj.id) if isinstance(obj, gast.Name) else None
        if dobj is None:
            return [stmt], []
        part = self.fresh_adjoint("dvalue_part")
        adjoint.append(nodes.assign([part, self.d(obj.id)],
                                    self.rt_call("setattr_back", [dobj, nodes.const(target.attr)])))
        if self.activity.active(value):
            self.contribute(value.id, nodes.load(part), adjoint)
        return self.with_saves(stmt, [stmt], adjoint, site)

    def write_item(self, stmt, target, value, site):
        if self.store is not None:
            return Writing.write_item(self, stmt, target, value, site)
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

    def stmt_Return(self, stmt, site):
        raise UnsupportedSyntaxError("return in this position", self.parsed.filename, stmt.lineno)


# The site of values that exist when the function starts (parameters, environment).
_ENTRY = Site(-1, (), True)


def _at(new, old):
    return nodes.at_line(new, getattr(old, "lineno", None))
