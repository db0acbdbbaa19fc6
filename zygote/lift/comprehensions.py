"""Rebuilding a list comprehension or generator expression from the code object the compiler made for it."""
import gast

from .. import nodes
from .expressions import Machine, Marker


def comprehension(structurer, iterable):
    """The comprehension ``structurer``'s code object computes, over ``iterable`` (its ``.0``).

    The code is one loop per ``for``, each ``if`` a jump back to its loop's head when false,
    and the element appended (``LIST_APPEND``) or yielded at the innermost level.
    """
    ins, name = structurer.ins, structurer.code.co_name
    k = 0
    if name == "<genexpr>":
        if [x.op for x in ins[:2]] != ["RETURN_GENERATOR", "POP_TOP"]:
            structurer.fail("a generator expression", 0)
        k = 2
    elif not (ins and ins[0].op == "BUILD_LIST" and ins[0].arg == 0):
        structurer.fail("a list comprehension", 0)
    else:
        k = 1
    machine = Machine([], structurer.lift_code)
    generators, head, element = [], None, None
    while element is None and k < len(ins):
        op = ins[k].op
        if op == "FOR_ITER":
            source = machine.pop()
            if isinstance(source, gast.Name) and source.id == ".0":
                source = iterable
            elif isinstance(source, Marker) and source.kind == "iterator":
                source = source.value
            else:
                structurer.fail("a comprehension's loop", k)
            head = k
            target, k = structurer.loop_target(k + 1, machine.stack)
            generators.append(nodes.make(gast.comprehension, target=target, iter=source, ifs=[], is_async=0))
            machine = Machine([], structurer.lift_code)
        elif op == "JUMP_IF":
            test, fall, false_target, after = structurer.condition(k, machine)
            if structurer.destination(false_target) == head:
                generators[-1].ifs.append(test)
                machine, k = after, fall
                continue
            value = structurer.conditional_value(test, fall, false_target, after)
            if value is None:
                structurer.fail("a condition in a comprehension", k)
            machine = after
            machine.push(value[0])
            k = value[1]
        elif op == "JUMP_IF_OR_POP":
            k = structurer.boolean_value(k, machine)
        elif op in ("LIST_APPEND", "YIELD_VALUE"):
            element = machine.pop_expression()
        else:
            if machine.step(ins[k]) is not None:
                structurer.fail("a statement inside a comprehension", k)
            k += 1
    if element is None:
        structurer.fail("a comprehension", k)
    kind = gast.GeneratorExp if name == "<genexpr>" else gast.ListComp
    return nodes.make(kind, elt=element, generators=generators)
