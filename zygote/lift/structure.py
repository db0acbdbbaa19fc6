"""Rebuilding structured statements (if, while, for, break, continue, return) from the jump graph.

The compiler lays structured code out in a few shapes, and the jumps say which: a
conditional jump forward over a region is an ``if`` (a jump at the region's end over a
second region makes an ``else``); a backward jump closes a loop, ``FOR_ITER`` opens a ``for``,
and a test whose fall-through is a loop head and whose exit is the loop's end is a
``while`` (the compiler repeats the test at the bottom of the loop); inside a loop, a jump to
its head is ``continue`` and a jump to its end is ``break``. A run of conditional jumps is one
``and``/``or`` test, parsed back from where each jump goes. The jump optimiser threads jumps
and copies small exit blocks, so the reading is checked afterwards: ``verify`` compiles the
result and compares instructions, and any wrong guess is caught there.
"""
import gast

from .. import nodes
from .comprehensions import comprehension
from .conditions import Atom, as_truth, boolop, test_from_atoms
from .expressions import Machine, Marker, negate
from .instructions import Unrecoverable, decode

_CONTROL = {"JUMP", "JUMP_IF", "JUMP_IF_OR_POP", "FOR_ITER", "YIELD_VALUE", "WITH", "WITH_EXIT"}
NEXT = Marker("next")  # the value FOR_ITER pushes: the loop target's store takes it


class Loop:
    """The innermost loop around a region: ``head`` is where continue goes, ``exit`` where break goes."""

    __slots__ = ("head", "exit", "kind")

    def __init__(self, head, exit, kind):
        self.head, self.exit, self.kind = head, exit, kind


class Structurer:
    """The statements of one code object, rebuilt region by region."""

    def __init__(self, code, lift_code):
        self.code = code
        self.ins = decode(code)
        self.lift_code = lift_code
        self.back = {}  # loop head -> index of the last backward jump to it
        for i, ins in enumerate(self.ins):
            if ins.op in ("JUMP", "JUMP_IF") and ins.target <= i:
                self.back[ins.target] = max(self.back.get(ins.target, i), i)

    def _same_exits(self, atoms):
        """``atoms`` with jumps to where the last one goes sent to the last one's target.

        The compiler copies a small block that returns (the implicit ``return None`` above
        all) into each place that jumps to it, so one test can jump to two copies; and a
        jump to a jump may or may not have been threaded to the second one's target.
        """
        target = atoms[-1].target
        block, destination = self._exit_block(target), self.destination(target)

        def goes_there(atom):
            if block is not None and self._exit_block(atom.target) == block:
                return True
            return self.destination(atom.target) == destination

        return [Atom(a.start, a.jump, a.expr, a.when, target, a.after)
                if a.target != target and goes_there(a) else a for a in atoms]

    def destination(self, target):
        """Where control goes from ``target``, through unconditional jumps (the compiler
        threads a jump to a jump only when both are on one line)."""
        seen = set()
        while target < len(self.ins) and self.ins[target].op == "JUMP" and target not in seen:
            seen.add(target)
            target = self.ins[target].target
        return target

    def _exit_block(self, start):
        """The instructions from ``start`` to a RETURN, when they are a few plain ones."""
        block = []
        for ins in self.ins[start:start + 4]:
            if ins.op in _CONTROL or ins.op == "SKIP":
                return None
            block.append((ins.op, ins.kind, repr(ins.arg)))
            if ins.op == "RETURN":
                return tuple(block)
        return None

    def fail(self, construct, i):
        line = self.ins[min(i, len(self.ins) - 1)].line if self.ins else self.code.co_firstlineno
        raise Unrecoverable(construct, line)

    def body(self):
        body = self.block(0, len(self.ins), [], None, None) or [nodes.pass_()]
        declared = sorted({i.arg for i in self.ins if i.op == "STORE" and i.kind == "global"})
        if declared:  # a function that assigns a global says so
            body.insert(0, nodes.at_line(nodes.make(gast.Global, names=declared), self.code.co_firstlineno))
        return body

    # -- regions ----------------------------------------------------------------------

    def block(self, start, stop, stack, loop, follow):
        """Statements of instructions ``start:stop`` entered with ``stack``; falling off goes to ``follow``."""
        out = []
        machine = Machine(stack, self.lift_code)
        i = start
        while i < stop:
            ins = self.ins[i]
            statement = None
            if machine.idle() and (i in self.back or self._may_open_while(i)):
                found = self.while_loop(i, stop, machine, follow)
                if found is not None:
                    statement, i = found
                    out.append(statement)
                    continue
            if ins.op == "JUMP_IF":
                statement, i = self.branch(i, stop, machine, loop, follow)
            elif ins.op == "JUMP_IF_OR_POP":
                i = self.boolean_value(i, machine)
            elif ins.op == "FOR_ITER":
                statement, i = self.for_loop(i, machine)
            elif ins.op == "WITH":
                statement, i = self.with_block(i, machine, loop)
            elif ins.op == "JUMP":
                statement = self.jump(i, stop, machine, loop, follow)
                i += 1
            elif ins.op == "POP_TOP" and loop is not None and loop.kind == "for" and machine.idle() \
                    and machine.stack and _is_iterator(machine.stack[-1]):
                statement, i = self.break_to_exit_copy(i, machine, loop)
            else:
                statement = machine.step(ins)
                i += 1
            if statement is not None:
                out.append(statement)
        if not machine.idle() and not machine.popped_iterator:
            self.fail("a statement that does not end where its block ends", stop - 1)
        return out

    def _may_open_while(self, i):
        """Whether a test starts at ``i`` (it may be the test of a ``while``)."""
        for k in range(i, len(self.ins)):
            op = self.ins[k].op
            if op == "JUMP_IF":
                return True
            if op in _CONTROL or op in ("STORE", "STORE_ATTR", "STORE_SUBSCR", "RETURN", "POP_TOP"):
                return False
        return False

    def jump(self, i, stop, machine, loop, follow):
        ins = self.ins[i]
        at_rest = machine.idle() or (machine.popped_iterator and len(machine.stack) == machine.base - 1)
        if not at_rest:
            self.fail("a jump inside an expression", i)
        line = ins.line if machine.idle() else machine.line
        if loop is not None and ins.target == loop.exit and (loop.kind == "while" or machine.popped_iterator):
            return nodes.at_line(machine.finish(nodes.break_()), line)
        if machine.popped_iterator:
            self.fail("a jump out of a for loop", i)
        if loop is not None and ins.target == loop.head:
            return nodes.at_line(machine.finish(nodes.continue_()), line)
        if (ins.target == follow or ins.target == stop) and i == stop - 1:
            return None  # the end of a branch, jumping where falling off would go
        self.fail("a jump that is not a break, a continue or the end of a branch", i)

    def break_to_exit_copy(self, i, machine, loop):
        """``break`` where the compiler copied the loop's exit block (ending in a return) into the loop."""
        k = i + 1
        while k < len(self.ins) and self.ins[k].op not in ("RETURN", *_CONTROL):
            k += 1
        copied, exit_block = self.ins[i + 1:k + 1], self.ins[loop.exit:loop.exit + k - i]
        same = len(copied) == len(exit_block) and k < len(self.ins) and self.ins[k].op == "RETURN" and all(
            a.op == b.op and a.kind == b.kind and a.arg == b.arg and a.line == b.line
            for a, b in zip(copied, exit_block))  # a copy keeps its lines; a return has its own
        if not same:
            return machine.step(self.ins[i]), i + 1
        line = self.ins[i].line
        machine.step(self.ins[i])
        return nodes.at_line(machine.finish(nodes.break_()), line), k + 1

    # -- loops ------------------------------------------------------------------------

    def while_loop(self, i, stop, machine, follow):
        test = self.condition(i, machine, speculative=True)
        if test is not None:
            expr, fall, false_target, _ = test
            last = self.back.get(fall)
            if last is not None and last < stop and false_target == last + 1 \
                    and self.ins[last].op == "JUMP_IF":
                bottom = last + 1 - (fall - i)
                if bottom >= fall:
                    body = self.block(fall, bottom, machine.stack, Loop(i, last + 1, "while"), bottom)
                    line = self.ins[i].line
                    return nodes.at_line(nodes.while_(expr, body or [nodes.pass_()]), line), last + 1
        last = self.back.get(i)
        if last is not None and last < stop and self.ins[last].op == "JUMP":
            body = self.block(i, last, machine.stack, Loop(i, last + 1, "while"), i)
            line = self.ins[i].line
            return nodes.at_line(nodes.while_(nodes.const(True), body or [nodes.pass_()]), line), last + 1
        return None

    def for_loop(self, i, machine):
        iterator = machine.stack[-1] if machine.stack else None
        if not _is_iterator(iterator) \
                or len(machine.stack) != machine.base + 1 or machine.stores:
            self.fail("a for loop", i)
        exit = self.ins[i].target
        end = exit
        if self.ins[exit - 1].op == "JUMP" and self.ins[exit - 1].target == i:
            end = exit - 1
        target, start = self.loop_target(i + 1, machine.stack)
        body = self.block(start, end, machine.stack, Loop(i, exit, "for"), i)
        machine.pop()
        line = machine.line
        statement = nodes.for_(target, iterator.value, body or [nodes.pass_()])
        return nodes.at_line(machine.finish(statement), line), exit

    def loop_target(self, i, stack):
        """The target a loop assigns its items to, read from the stores after ``FOR_ITER``."""
        machine = Machine(stack, self.lift_code)
        machine.push(NEXT)
        while i < len(self.ins):
            statement = machine.step(self.ins[i])
            i += 1
            if statement is not None:
                if not getattr(statement, "zygote_loop_target", False):
                    self.fail("the target of a for loop", i - 1)
                return statement.targets[0], i
        self.fail("the target of a for loop", i)

    def with_block(self, i, machine, loop):
        """``with context as target:`` from BEFORE_WITH to the matching normal exit."""
        context = machine.pop_expression()
        depth, end = 0, None
        for k in range(i + 1, len(self.ins)):
            if self.ins[k].op == "WITH":
                depth += 1
            elif self.ins[k].op == "WITH_EXIT":
                if depth == 0:
                    end = k
                    break
                depth -= 1
        if end is None or len(machine.stack) != machine.base or machine.stores:
            self.fail("a with statement", i)
        inside = machine.stack + [Marker("with", context)]
        if self.ins[i + 1].op == "POP_TOP":
            target, start = None, i + 2
        else:
            target, start = self.loop_target(i + 1, inside)
        body = self.block(start, end, inside, loop, end)
        item = nodes.make(gast.withitem, context_expr=context, optional_vars=target)
        statement = nodes.make(gast.With, items=[item], body=body or [nodes.pass_()])
        return nodes.at_line(machine.finish(statement), machine.line), end + 1

    # -- conditions -------------------------------------------------------------------

    def condition(self, i, machine, speculative=False):
        """The test whose conditional jumps start at ``i`` (or at the first one after it).

        Returns ``(test, fall, false_target, machine)``: control reaches ``fall`` when the
        test holds and ``false_target`` when not; ``machine`` is past the test. ``None`` when
        ``speculative`` and no test starts here.
        """
        if self.ins[i].op == "JUMP_IF":
            k, probe = i, machine.copy()
        else:
            found = self.run_to_test(i, machine)
            if found is None:
                if speculative:
                    return None
                self.fail("a condition", i)
            k, probe = found
        atoms = self.atoms(i, k, probe)
        for n in range(len(atoms), 0, -1):
            chosen = self._same_exits(atoms[:n])
            fall = chosen[-1].jump + 1
            labels = [a.start for a in chosen[1:]] + [fall]
            test = test_from_atoms(chosen, 0, n, chosen[-1].target, False, labels)
            if test is not None:
                return test, fall, chosen[-1].target, chosen[-1].after
        if speculative:
            return None
        self.fail("a condition with and/or", i)

    def atoms(self, start, jump, probe):
        """The tests of one condition: each ends in a conditional jump; the first one's is ``jump``."""
        out = []
        while True:
            ins = self.ins[jump]
            expr, when = as_truth(probe.pop_expression(), ins.kind)
            out.append(Atom(start, jump, expr, when, ins.target, probe))
            start = jump + 1
            if start in self.back:
                return out
            found = self.run_to_test(start, probe)
            if found is None:
                return out
            jump, probe = found

    def run_to_test(self, k, machine, depth=None):
        """Run a copy of ``machine`` from ``k`` to the next test that is not inside a conditional expression.

        Returns ``(index of its jump, machine)``, or None when a statement, another kind of jump
        or anything but one more value comes first.
        """
        probe = machine.copy()
        depth = len(probe.stack) if depth is None else depth
        try:
            while k < len(self.ins):
                ins = self.ins[k]
                if ins.op == "JUMP_IF":
                    if len(probe.stack) < depth + 1:
                        return None
                    test, fall, false_target, after = self.condition(k, probe)
                    value = self.conditional_value(test, fall, false_target, after)
                    if value is None:
                        return (k, probe) if len(probe.stack) == depth + 1 else None
                    inside = probe.copy()
                    _adopt(inside, after)
                    inside.push(value[0])
                    if len(probe.stack) > depth + 1:
                        probe, k = inside, value[1]
                        continue
                    # The tested value is a whole test: it may be the next one of a condition,
                    # or a conditional expression whose value a later jump tests.
                    later = self.run_to_test(value[1], inside, depth)
                    return later if later is not None else (k, probe)
                if ins.op == "JUMP_IF_OR_POP":
                    k = self.boolean_value(k, probe)
                    continue
                if ins.op in _CONTROL or probe.step(ins) is not None:
                    return None
                k += 1
        except Unrecoverable:
            return None
        return None

    def branch(self, i, stop, machine, loop, follow):
        """A conditional jump at ``i``: a conditional expression, or an if statement."""
        test, fall, false_target, after = self.condition(i, machine)
        value = self.conditional_value(test, fall, false_target, after)
        if value is not None:
            expression, resume = value
            _adopt(machine, after)
            machine.push(expression)
            return None, resume
        if len(after.stack) != machine.base or after.stores:
            self.fail("a conditional jump inside an expression", i)
        _adopt(machine, after)
        line = machine.line
        body_stop, else_range, resume = None, None, None
        if fall < false_target <= stop:
            body_stop, resume = false_target, false_target
            last = self.ins[false_target - 1]
            if last.op == "JUMP" and false_target - 1 >= fall and last.target > false_target:
                if last.target <= stop:
                    body_stop, else_range, resume = false_target - 1, (false_target, last.target), last.target
                elif last.target == follow:
                    body_stop, else_range, resume = false_target - 1, (false_target, stop), stop
        elif follow is not None and false_target == follow:
            body_stop, resume = stop, stop
        elif loop is not None and false_target == loop.exit:
            body_stop, resume, else_range = stop, stop, "break"
        else:
            self.fail("an if statement", i)
        inner_follow = follow if resume == stop else resume
        body = self.block(fall, body_stop, after.stack, loop, inner_follow)
        if else_range == "break":
            orelse = [nodes.at_line(nodes.break_(), self.ins[i].line)]
        elif else_range is not None:
            orelse = self.block(else_range[0], else_range[1], after.stack, loop, inner_follow)
        else:
            orelse = []
        statement = _if_statement(test, body, orelse)
        return nodes.at_line(machine.finish(statement), line), resume

    def conditional_value(self, test, fall, false_target, machine):
        """``a if test else b`` (or ``test and a or b``) when the two branches each push one value."""
        last = self.ins[false_target - 1] if 0 < false_target <= len(self.ins) else None
        if last is None or false_target <= fall:
            return None
        if last.op == "JUMP" and last.target > false_target:
            end = last.target
            body = self.expression(fall, false_target - 1, machine, end)
            orelse = body is not None and self.expression(false_target, end, machine, end)
            if orelse:
                node = nodes.make(gast.IfExp, test=test, body=body.stack[-1], orelse=orelse.stack[-1])
                return node, last.target
        if last.op == "JUMP_IF_OR_POP" and last.kind == "true" and last.target > false_target:
            body = self.expression(fall, false_target - 1, machine)
            orelse = body is not None and self.expression(false_target, last.target, machine)
            if orelse:
                both = boolop(gast.And, [test, body.stack[-1]])
                return boolop(gast.Or, [both, orelse.stack[-1]]), last.target
        return None

    def expression(self, start, stop, machine, exit=None):
        """The machine after instructions ``start:stop`` push exactly one value, or None.

        A jump to ``exit`` ends the run early: the branch of a conditional expression whose
        own end jump the compiler sent straight to the end of an enclosing one.
        """
        probe = machine.copy()
        depth = len(probe.stack)
        k = start
        try:
            while k < stop:
                ins = self.ins[k]
                if ins.op == "JUMP_IF":
                    test, fall, false_target, after = self.condition(k, probe)
                    value = self.conditional_value(test, fall, false_target, after)
                    if value is None:
                        return None
                    _adopt(probe, after)
                    probe.push(value[0])
                    k = stop if value[1] == exit else value[1]
                elif ins.op == "JUMP_IF_OR_POP":
                    k = self.boolean_value(k, probe)
                elif ins.op == "JUMP" and exit is not None and ins.target == exit:
                    k = stop
                elif ins.op in _CONTROL:
                    return None
                else:
                    if probe.step(ins) is not None:
                        return None
                    k += 1
        except Unrecoverable:
            return None
        if k != stop or len(probe.stack) != depth + 1:
            return None
        return probe

    def boolean_value(self, i, machine):
        """``a and b`` / ``a or b`` as a value: the jump keeps ``a`` when it decides the result."""
        ins = self.ins[i]
        left = machine.pop_expression()
        right = self.expression(i + 1, ins.target, machine)
        if right is None:
            self.fail("an and/or expression", i)
        value = right.stack[-1]
        _adopt(machine, right)
        machine.pop()
        machine.push(boolop(gast.And if ins.kind == "false" else gast.Or, [left, value]))
        return ins.target

    # -- comprehensions ---------------------------------------------------------------

    def comprehension(self, iterable):
        return comprehension(self, iterable)


def _is_iterator(item):
    return isinstance(item, Marker) and item.kind == "iterator"


def _adopt(machine, other):
    """Make ``machine`` continue from the state of ``other`` (a probe that ran ahead of it)."""
    machine.stack[:] = other.stack
    machine.kwnames, machine.stores = other.kwnames, list(other.stores)
    machine.popped_iterator = other.popped_iterator


def _if_statement(test, body, orelse):
    if not orelse and len(body) == 1 and getattr(body[0], "zygote_assertion", False):
        statement = nodes.make(gast.Assert, test=negate(test), msg=body[0].exc)
        return statement
    return nodes.if_(test, body or [nodes.pass_()], orelse)
