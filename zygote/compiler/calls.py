"""Adjoints of calls: expression rules copied in, pullback rules and the run-time call protocol,
and direct calls of other functions' generated code.

``CallAdjoints`` is the part of the generator in ``transform`` that handles ``y = f(...)``;
it works on the generator's names, cotangents and saves, which it is given.
"""
import types

import gast

from .. import nodes
from ..activity import NUMERIC, SCALAR, category
from ..errors import UnsupportedSyntaxError
from ..rules import lookup, lookup_as_method
from . import handoff
from .inline import bind, free_objects, instantiate, rule_body


class CallAdjoints:
    """The primal and adjoint statements of calls, for one generator ``gen``.

    ``bound_calls`` maps each name to the call or attribute it is assigned from (the analysis's);
    ``plan_call(fn, kinds, active)`` plans a direct call of a global Python function.
    """

    def __init__(self, gen, bound_calls, plan_call):
        self.gen = gen
        self.bound_calls = bound_calls
        self.plan_call = plan_call

    def inline(self, rule, bound, name, dy, out):
        """Copy expression rule ``rule``'s adjoint into ``out`` for the result ``name``."""
        active = [p for p in rule.params if self.gen.activity.active(bound[p])]
        if not active:
            return
        objects = free_objects(rule)
        helper_names = {}

        def helper_name(free):
            # Only the free names the instantiated adjoint keeps become helpers (and guards).
            if free in helper_names:
                return helper_names[free]
            obj = objects[free]
            shared = self.gen.resolver.static(nodes.load(free))
            if shared is not None and shared.obj is obj and free in self.gen.resolver.fixed:
                helper_names[free] = free  # generated code: already a helper cell of its own
            elif shared is not None and shared.obj is obj and free not in self.gen.helpers:
                # The user's own global names the same object: bind it under that name (the
                # guard makes a rebinding of the global retransform the function).
                self.gen.resolver.guard(shared)
                self.gen.helpers[free] = obj
                self.gen._helper_ids[id(obj)] = free
                helper_names[free] = free
            elif free in self.gen.helpers and self.gen.helpers[free] is obj:
                helper_names[free] = free
            else:
                helper_names[free] = self.gen.helper(obj, free)
            return helper_names[free]
        if not rule.elementwise:
            dy = self.gen.rt_call("unbroadcast", [dy, nodes.load(name)])
            if _reads_of_dy(rule, active) > 1:
                # Summed down to the result's shape once, however many adjoints read it.
                exact = self.gen.fresh_adjoint(f"d{name}")
                out.append(nodes.assign(exact, dy))
                dy = nodes.load(exact)
        parts = instantiate(rule, bound, nodes.load(name), dy, helper_name, self.numeric)
        for param, part in zip(rule.params, parts):
            if part is not None and param in active:
                self.gen.contribute(bound[param].id, part, out)

    def numeric(self, atom):
        """Whether ``atom`` is a differentiated number or array (not a list or an object)."""
        return self.gen.activity.active(atom) and self.gen.kind.get(atom.id) == NUMERIC

    def call(self, stmt, name, call, site, dy):
        static = self.gen.resolver.static(call.func)
        if isinstance(call.func, gast.Name) and call.func.id in self.gen.helpers:
            static = _Fixed(self.gen.helpers[call.func.id])
        rule = lookup(static.obj) if static is not None else None
        active = name in self.gen.kind
        if active and static is None and isinstance(call.func, gast.Attribute) and not call.args \
                and not call.keywords and self.numeric(call.func.value):
            # x.conjugate() of a number or array: the rule of the function it computes (generated
            # adjoints call it, so higher orders meet it at every multiplication); an object's
            # own method of that name is called as any method is
            method_form = lookup_as_method(call.func.attr)
            if method_form is not None:
                self.gen.kill(name)
                if dy is None:
                    return [stmt], []
                adjoint = []
                self.inline(method_form, {method_form.params[0]: call.func.value}, name, dy, adjoint)
                return self.gen.with_saves(stmt, [stmt], adjoint, site)
        if rule is not None and not isinstance(static, _Fixed):
            self.gen.resolver.guard(static)
        if not active or (rule is not None and rule.kind == "nograd"):
            self.gen.kill(name)
            return [stmt], []
        positional = call.args
        if any(isinstance(a, gast.Starred) for a in positional) or any(k.arg is None for k in call.keywords):
            if dy is None and not self.may_mutate(call):
                self.gen.kill(name)
                return [stmt], []
            return self.starred_call(stmt, name, call, site, dy)
        keywords = [(k.arg, k.value) for k in call.keywords]
        if rule is not None and rule.kind == "expr":
            bound = bind(rule, positional, keywords)
            if bound is not None:
                self.gen.kill(name)
                if dy is None:
                    return [stmt], []
                adjoint = []
                self.inline(rule, bound, name, dy, adjoint)
                return self.gen.with_saves(stmt, [stmt], adjoint, site)
        if dy is None and static is not None and handoff.always_pulled(static.obj):
            dy = nodes.const(0)  # what it deposited comes back through its adjoint
        if dy is None and not self.may_mutate(call):
            self.gen.kill(name)
            return [stmt], []
        if not keywords and call.args and rule is not None and rule.plan is not None:
            # gradient(f, *args): the transform of f's fused gradient, called directly.
            planned = self.planned_call(stmt, name, site, dy, rule.plan,
                                        self.static_callee(call.args[0]), call.args[1:])
            if planned is not None:
                return planned
        if not keywords and rule is None and static is not None and not isinstance(static, _Fixed) \
                and self.plan_call is not None:
            # A global Python function: its own primal and adjoint, called directly.
            planned = self.planned_call(stmt, name, site, dy, self.plan_call, static, call.args)
            if planned is not None:
                return planned
        back = self.gen.fresh_primal(f"{name}_back", site)
        if rule is not None and rule.kind == "pullback" and not keywords and not rule.calls_back:
            func = nodes.load(self.gen.helper(rule.impl, rule.impl.__name__))
            primal_call = nodes.call(func, positional)
            parts_for = list(positional)
            lead = []
        else:
            primal_call, parts_for, lead = self.dynamic_call(call)
        primal = nodes.assign([name, back], primal_call)
        self.gen.kill(name)
        handed = handoff.handed_over(self.gen, lead + parts_for)
        if dy is None and not handed:
            return [primal], []
        dy = nodes.const(0) if dy is None else dy
        part_names = [self.gen.fresh_adjoint(f"d{a.id}_part" if isinstance(a, gast.Name) else "_")
                      for a in lead + parts_for]
        targets = [nodes.store(n) for n in part_names]
        if rule is not None and rule.kind == "pullback" and _takes_more(rule.impl, len(parts_for)):
            targets.append(nodes.make(gast.Starred, value=nodes.store(self.gen.fresh_adjoint("_rest")),
                                      ctx=gast.Store()))
        if rule is not None and rule.kind == "pullback":
            # A pullback rule wants a cotangent of exactly its output's shape.
            dy = self.gen.rt_call("unbroadcast", [dy, nodes.load(name)])
        before, after = handoff.around_call(self.gen, handed)
        adjoint = before + [nodes.assign(nodes.make(gast.Tuple, elts=targets, ctx=gast.Store()),
                                         nodes.call(nodes.load(back), [dy]))] + after
        for atom, part in zip(lead + parts_for, part_names):
            if self.gen.activity.active(atom):
                self.gen.contribute(atom.id, nodes.load(part), adjoint)
        if keywords:
            for key, atom in keywords:
                if self.gen.activity.active(atom):
                    self.gen.contribute(atom.id, self.gen.rt_call("dict_back", [nodes.load(part_names[-1]),
                                                                        nodes.const(key)]), adjoint)
        return self.gen.with_saves(stmt, [primal], adjoint, site)

    def planned_call(self, stmt, name, site, dy, planner, target, args):
        """A call whose callee (``target``) and argument kinds are known now, made by direct
        calls of the code ``planner(callee, kinds, active)`` plans; None if it plans none."""
        if target is None or target.key is None or any(isinstance(a, gast.Starred) for a in args):
            return None
        categories = [self.static_category(a) for a in args]
        if None in categories:
            return None
        plan = planner(target.obj, categories, [self.gen.activity.active(a) for a in args])
        if plan is None:
            return None
        self.gen.resolver.guard(target)
        root, path = target.key
        self.gen.resolver.guard_in(self.gen.resolver.globals, root, path + ("__code__",), target.obj.__code__)
        for namespace, root, path, obj in plan.guards:
            self.gen.resolver.guard_in(namespace, root, path, obj)
        saved = self.gen.fresh_primal(f"{name}_saved", site)
        primal_fn = self.gen.helper(plan.primal, plan.hint + "_primal")
        primal = nodes.assign([name, saved], nodes.call(nodes.load(primal_fn), args))
        self.gen.kill(name)
        handed = handoff.handed_over(self.gen, args)
        if dy is None and not handed:
            return [primal], []
        dy = nodes.const(0) if dy is None else dy
        parts = [self.gen.fresh_adjoint("_")] + [
            self.gen.fresh_adjoint(f"d{a.id}_part" if isinstance(a, gast.Name) else "_") for a in args]
        adjoint_fn = self.gen.helper(plan.adjoint, plan.hint + "_adjoint")
        before, after = handoff.around_call(self.gen, handed)
        adjoint = before + [nodes.assign(nodes.tuple_store(parts),
                                         nodes.call(nodes.load(adjoint_fn), [nodes.load(saved), dy]))] + after
        for atom, part in zip(args, parts[1:]):
            if self.gen.activity.active(atom):
                self.gen.contribute(atom.id, nodes.load(part), adjoint)
        return self.gen.with_saves(stmt, [primal], adjoint, site)

    def result_size(self, name):
        """The length of the tuple ``name`` holds when it is bound once by a gradient-like call
        (a rule with a static plan: one result per argument after the callee), else None."""
        call = self.bound_calls.get(name)
        if not isinstance(call, gast.Call) or len(self.gen.sites.assigned.get(name, ())) != 1 \
                or call.keywords:
            return None
        static = self.gen.resolver.static(call.func)
        rule = lookup(static.obj) if static is not None else None
        if rule is None or rule.plan is None or not call.args:
            return None
        args = call.args[1:]
        if any(isinstance(a, gast.Starred) for a in args) or None in map(self.static_category, args):
            return None  # a Params argument, for one, gives Grads
        return len(args)

    def static_callee(self, atom):
        """What a function argument (``gradient(f, x)``'s ``f``) denotes when globals fix it: a
        global, or a module's attribute that normal form named once (``mod_f = mod.f``)."""
        static = self.gen.resolver.static(atom)
        if static is None and isinstance(atom, gast.Name) \
                and len(self.gen.sites.assigned.get(atom.id, ())) == 1 \
                and isinstance(self.bound_calls.get(atom.id), gast.Attribute):
            static = self.gen.resolver.static(self.bound_calls[atom.id])
        return static

    def static_category(self, atom):
        """The run-time category of ``atom`` when this transform fixes it, else None."""
        if isinstance(atom, gast.Constant):
            return category(atom.value)
        if not isinstance(atom, gast.Name):
            return None
        if atom.id in self.gen.scalars and len(self.gen.sites.assigned.get(atom.id, ())) <= 1:
            return SCALAR  # a parameter passed a Python number and never rebound
        if self.gen.activity.active(atom) and self.gen.kind.get(atom.id) == NUMERIC:
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
        if not any(self.gen.activity.active(a) for a in names):
            return False
        return any(self.gen.kind.get(a.id) != NUMERIC for a in names)

    def dynamic_call(self, call):
        """A call through ``protocol.call``: (primal call node, atoms per cotangent, leading atoms)."""
        keywords = call.keywords
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, (gast.Name, gast.Constant)) \
                and not isinstance(self.gen.resolver.static(func.value) and self.gen.resolver.static(func.value).obj,
                                   types.ModuleType):
            # obj.method(...) on anything but a module: the object's cotangent must flow back.
            obj = func.value
            mask = self.mask([obj] + call.args + [k.value for k in keywords])
            args = [nodes.const(mask), obj, nodes.const(func.attr)] + list(call.args)
            primal = nodes.call(nodes.load(self.gen.helper(self.gen.rt.call_method, "call_method")), args,
                                [(k.arg, k.value) for k in keywords])
            lead = [obj]
        else:
            callee = func if isinstance(func, gast.Name) else None
            mask = self.mask([callee] + call.args + [k.value for k in keywords])
            args = [nodes.const(mask), func] + list(call.args)
            primal = nodes.call(nodes.load(self.gen.helper(self.gen.rt.call, "call")), args,
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
        owner = None
        if callee is None and self.gen.resolver.static(func) is None:
            if not (isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name)):
                raise UnsupportedSyntaxError("*args in a call of a computed function on a differentiated path",
                                             self.gen.parsed.filename, getattr(stmt, "lineno", None),
                                             "name the function first: f = ...; f(*args)")
            owner = func.value  # obj.method(*args): the object's cotangent comes first
        len_name = self.gen.helper(len, "len")
        mask = nodes.const(self.mask([owner if owner is not None else callee]))
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
        back = self.gen.fresh_primal(f"{name}_back", site)
        keywords = [(k.arg, k.value) for k in call.keywords]
        if owner is not None:
            primal_call = nodes.call(nodes.load(self.gen.helper(self.gen.rt.call_method, "call_method")),
                                     [mask, owner, nodes.const(func.attr)] + list(call.args), keywords)
        else:
            primal_call = nodes.call(nodes.load(self.gen.helper(self.gen.rt.call, "call")),
                                     [mask, func] + list(call.args), keywords)
        self.gen.kill(name)
        parts = self.gen.fresh_adjoint(f"d{name}_parts")
        atoms = [owner if owner is not None else callee if callee is not None else nodes.const(None)]
        atoms += [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        before, after = handoff.around_call(self.gen, handoff.handed_over(
            self.gen, [a for a, s in zip(atoms, [False] + [isinstance(a, gast.Starred) for a in call.args])
                       if not s]))
        adjoint = before + [nodes.assign(parts, self.gen.rt_call("regroup", [
            nodes.call(nodes.load(back), [nodes.const(0) if dy is None else dy]),
            nodes.tuple_load(layout)]))] + after
        for i, atom in enumerate(atoms):
            if self.gen.activity.active(atom):
                self.gen.contribute(atom.id, nodes.subscript(nodes.load(parts), nodes.const(i)), adjoint)
        if call.keywords:
            dkw = self.gen.rt_call("keyword_part", [nodes.load(parts), nodes.const(len(atoms))])
            for key, atom in [(k.arg, k.value) for k in call.keywords]:
                if self.gen.activity.active(atom):
                    part = dkw if key is None else self.gen.rt_call("dict_back", [dkw, nodes.const(key)])
                    self.gen.contribute(atom.id, part, adjoint)
        return self.gen.with_saves(stmt, [nodes.assign([name, back], primal_call)], adjoint, site)

    def mask(self, atoms):
        return "".join(self.gen.kind[a.id] if self.gen.activity.active(a) else "-" for a in atoms)


def _reads_of_dy(rule, active):
    """How many times the adjoints of ``rule`` for the ``active`` parameters read ``dy``."""
    parts, _ = rule_body(rule)
    return sum(1 for param, part in zip(rule.params, parts) if part is not None and param in active
               for node in gast.walk(part) if isinstance(node, gast.Name) and node.id == "dy")


class _Fixed:
    """A callee that is one of the generated code's own helpers (no guard needed)."""

    def __init__(self, obj):
        self.obj = obj


def _takes_more(fn, n):
    """Whether ``fn`` may return more cotangents than the ``n`` arguments a call passes it."""
    code = getattr(fn, "__wrapped__", fn).__code__
    return code.co_argcount > n or bool(code.co_flags & 0x04)
