"""The adjoint statements that hand an object's cotangent to the code that changed the object,
and the calls that send operators on possible user objects to their class's methods.

An object written by a call (a method that sets ``self.total``, an ``__init__``) is one
object under the caller's name and the callee's parameter. Around each call the caller's
adjoint deposits the cotangent its names hold after the call and reclaims what was not
withdrawn; the callee's adjoint withdraws it at its start (for a parameter) or at an
attribute write (for an object it reached otherwise). See ``zygote.runtime.deposit``.
"""
import os

import gast

from .. import nodes, runtime
from ..activity import ANY, NUMERIC
from ..rules import lookup, objects
from .parse import GENERATED_TREES


def handed_over(gen, atoms):
    """The distinct names among ``atoms`` whose objects a call may change and whose
    cotangent after the call is set."""
    names = []
    for atom in atoms:
        if isinstance(atom, gast.Name) and atom.id not in names and gen.kind.get(atom.id) not in (None, NUMERIC) \
                and atom.id not in gen.scalars and gen.cotangent(atom.id) is not None:
            names.append(atom.id)
    return names


def around_call(gen, names):
    """``(before, after)``: deposit each name's cotangent before the callee's adjoint runs,
    and take back what it left (the callee's own cotangents then add to that)."""
    before = [nodes.assign(gen.d(n), gen.rt_call("deposit", [nodes.load(n), nodes.load(gen.d(n))]))
              for n in names]
    after = []
    for n in names:
        reclaimed = gen.rt_call("reclaim", [nodes.load(n), nodes.load(gen.d(n))])
        if gen.tracked(n):
            # in store mode the object's cotangent is kept by identity, where every name
            # bound to it (an alias, a container holding it) meets it
            reclaimed = gen.store_call("add", [nodes.load(n), nodes.const(0), reclaimed])
        after.append(nodes.assign(gen.d(n), reclaimed))
    return before, after


def at_write(gen, name, out):
    """Before the adjoint of a write to ``name.attr`` in code that did not receive ``name`` as
    a parameter: the cotangent a caller deposited for the object joins the local one."""
    gen.contribute(name, gen.rt_call("withdraw", [nodes.load(name)]), out)


def at_entry(gen, params):
    """Adjoint statements withdrawing what callers deposited for the object parameters
    ``params``; each one's cotangent counts as set from there on."""
    out = []
    for name in params:
        gen.is_set.add(name)
        out.append(nodes.assign(gen.d(name), gen.rt_call("withdraw", [nodes.load(name)])))
    return out


def object_params(gen, names):
    """The parameters among ``names`` that may hold objects the function changes (and that
    the function never rebinds, so that the name is the object throughout)."""
    return [n for n in names if gen.kind.get(n) not in (None, NUMERIC) and n not in gen.scalars
            and len(gen.sites.assigned.get(n, ())) <= 1]


_BINARY = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv",
           gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow", gast.MatMult: "matmul"}
_UNARY = {gast.USub: "neg", gast.UAdd: "pos", gast.Invert: "invert"}


def _operator_of(value):
    """``(operator, operands, in place)`` for a binary or unary operator expression, else None."""
    import operator
    if isinstance(value, gast.BinOp) and type(value.op) in _BINARY:
        return (getattr(operator, _BINARY[type(value.op)]), [value.left, value.right],
                getattr(value, "zygote_inplace", False))
    if isinstance(value, gast.UnaryOp) and type(value.op) in _UNARY:
        return getattr(operator, _UNARY[type(value.op)]), [value.operand], False
    return None


def operator_dispatch(gen, value):
    """``(operator, dispatching function, operands)`` for an operator whose active operand may
    be a user object (``objects.DISPATCH``), or None: for operators on numbers and arrays, and
    in code zygote generated or wrote. Forward mode differentiates the dispatching function."""
    found = _operator_of(value)
    if found is None:
        return None
    op, operands, inplace = found
    fn = objects.DISPATCH_UNARY[op] if len(operands) == 1 else \
        (objects.DISPATCH_IN_PLACE if inplace else objects.DISPATCH)[op]
    active = [atom for atom in operands if gen.activity.active(atom)]
    if own_code(gen.parsed) or not any(gen.activity.kind_of(atom) == ANY for atom in active):
        return None
    return op, fn, operands


def operator_call(gen, value):
    """For ``a * b`` (or ``-a``) of normal form with an operand that may be an object rather
    than a number or array: the call of ``zygote.rules.objects``' function for the operator,
    which dispatches as Python does. None for operators on numbers and arrays, and in code
    zygote generated or wrote (its operands are never user objects)."""
    found = _operator_of(value)
    if found is not None:
        op, operands, inplace = found
        fn = objects.UNARY[op] if len(operands) == 1 else (objects.IN_PLACE if inplace else objects.BINARY)[op]
    elif _calls_abs(gen, value):
        operands = list(value.args)
        fn = objects.UNARY[abs]
    else:
        return None
    active = [atom for atom in operands if gen.activity.active(atom)]
    may_be_object = any(gen.activity.kind_of(atom) == ANY for atom in active) or (
        # a += b on a constant of unknown type: an object's __iadd__ must still run
        getattr(value, "zygote_inplace", False) and active
        and any(isinstance(atom, gast.Name) and gen.activity.kind_of(atom) is None for atom in operands))
    if own_code(gen.parsed) or not may_be_object:
        return None
    return nodes.call(nodes.load(gen.helper(fn, fn.__name__)), operands)


def operator_statements(gen, stmt, name, call, site, dy):
    """``name = a op b`` through ``call`` (``operator_call``'s): the primal gets ``(y, back)``,
    ``back`` None for plain operands; the adjoint applies the operator's own rule in place
    when ``back`` is None, and calls ``back`` otherwise."""
    back = gen.fresh_primal(f"{name}_back", site)
    primal = [nodes.assign([name, back], call)]
    gen.kill(name)
    operands = [a for a in call.args if gen.activity.active(a)]
    if dy is None or not operands:
        return primal, []
    before = set(gen.is_set)
    inline = []
    if isinstance(stmt.value, gast.Call):  # abs(x)
        rule = lookup(abs)
        gen.calls.inline(rule, {rule.params[0]: stmt.value.args[0]}, name, dy, inline)
    else:
        getattr(gen, "adjoint_" + type(stmt.value).__name__)(name, stmt.value, dy, inline)
    set_inline, gen.is_set = gen.is_set, set(before)
    parts = [gen.fresh_adjoint(f"d{a.id}_part" if isinstance(a, gast.Name) else "_") for a in call.args]
    dispatched = [nodes.assign(nodes.tuple_store([gen.fresh_adjoint("_")] + parts),
                               nodes.call(nodes.load(back), [dy]))]
    for atom, part in zip(call.args, parts):
        if gen.activity.active(atom):
            gen.contribute(atom.id, nodes.load(part), dispatched)
    # A cotangent set in one branch only starts at 0 in the other.
    for missing, branch in ((set_inline - gen.is_set, dispatched), (gen.is_set - set_inline, inline)):
        branch.extend(nodes.assign(gen.d(n), nodes.const(0)) for n in sorted(missing))
    gen.is_set |= set_inline
    is_plain = nodes.make(gast.Compare, left=nodes.load(back), ops=[gast.Is()], comparators=[nodes.const(None)])
    adjoint = [nodes.if_(is_plain, inline or [nodes.pass_()], dispatched)]
    return gen.with_saves(stmt, primal, adjoint, site)


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def own_code(parsed):
    """Whether ``parsed`` is zygote's own code: generated, or a helper of its rules."""
    if parsed.code in GENERATED_TREES:
        return True
    filename = os.path.abspath(parsed.filename or "")
    return filename.startswith(_PACKAGE + os.sep)


def always_pulled(fn):
    """Whether a call of ``fn`` in code being differentiated needs its adjoint even when its
    result has no cotangent: a deposit, whose value reaches the callee's withdrawal through
    the table rather than through a name."""
    return fn is runtime.deposit


def _calls_abs(gen, value):
    """Whether ``value`` is ``abs(x)`` of the built-in ``abs``."""
    if not (isinstance(value, gast.Call) and len(value.args) == 1 and not value.keywords
            and isinstance(value.args[0], gast.Name)):
        return False
    static = gen.resolver.static(value.func)
    if static is None or static.obj is not abs:
        return False
    gen.resolver.guard(static)
    return True


def around_loop(gen, stmt, bound_calls):
    """``(before, after)`` around the adjoint of ``for item in items:`` whose body writes the
    attributes of ``item`` (directly or through a call): the cotangents that later reads of
    ``items`` left for each object are deposited for the body's writes, and what they did not
    take is reclaimed."""
    if own_code(gen.parsed):
        return [], []
    call = bound_calls.get(stmt.iter.id) if isinstance(stmt.iter, gast.Name) else None
    if call is None or len(call.args) != 1 or not isinstance(call.args[0], gast.Name) \
            or getattr(call.func, "id", None) is None or gen.helpers.get(call.func.id) is not runtime.iterate:
        return [], []
    items = call.args[0].id
    if gen.kind.get(items) != ANY or gen.cotangent(items) is None or not _changes(stmt.body, stmt.target.id) \
            or _rebinds(stmt.body, items):
        return [], []  # (a body that rebinds items leaves its cotangent to the other object)
    dseq = gen.d(items)
    # The list the loop runs over (saved for its adjoint) holds the same objects as ``items``,
    # which the body may rebind and the adjoint may not hold by then.
    listed = stmt.iter.id
    before = [nodes.assign(dseq, gen.rt_call("deposit_items", [nodes.load(listed), nodes.load(dseq)]))]
    after = [nodes.assign(dseq, gen.rt_call("reclaim_items", [nodes.load(listed), nodes.load(dseq)]))]
    return before, after


def _rebinds(body, name):
    """Whether statements ``body`` bind ``name`` to another object."""
    return any(isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Store)
               for stmt in body for node in gast.walk(stmt))


def _changes(body, name):
    """Whether statements ``body`` may write an attribute of ``name``'s object."""
    for node in (n for stmt in body for n in gast.walk(stmt)):
        if isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Store) \
                and isinstance(node.value, gast.Name) and node.value.id == name:
            return True
        if isinstance(node, gast.Call) and any(isinstance(a, gast.Name) and a.id == name
                                               for a in list(node.args) + [getattr(node.func, "value", None)]):
            return True
    return False
