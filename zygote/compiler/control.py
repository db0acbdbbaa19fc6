"""Adjoints of control flow: branches replayed as the primal took them, loops run as often.

``ControlFlow`` is the part of the generator in ``transform`` that handles ``if``, ``with``,
``for`` and ``while``; the primal pushes what a branch or loop needs on every way out of it.
"""

import gast

from . import handoff

from .. import nodes
from .analysis import loaded_names, outer_names, walk_stmts


class ControlFlow:
    """Methods of the primal/adjoint generator for compound statements."""

    def stmt_If(self, stmt, site):
        test = stmt.test
        copy_test = []
        if isinstance(test, gast.Name) and any(
                s.pos > site.pos for s in self.sites.assigned.get(test.id, ())):
            # The branches overwrite the test's name: keep the value the branch was chosen on.
            taken = self.fresh_primal("branch", site)
            copy_test = [nodes.assign(taken, nodes.load(test.id))]
            stmt.test = nodes.load(taken)
        primal, adjoint = self._branch(stmt, site)
        return copy_test + primal, adjoint

    def _branch(self, stmt, site):
        before = set(self.is_set)
        body_primal, body_adjoint = self.block(stmt.body)
        after_body = self.is_set
        self.is_set = set(before)
        else_primal, else_adjoint = self.block(stmt.orelse)
        self._join(after_body, body_adjoint, self.is_set, else_adjoint)
        if not body_adjoint and not else_adjoint:
            return [nodes.if_(stmt.test, body_primal or [nodes.pass_()], else_primal)], []
        adjoint = [nodes.if_(stmt.test, body_adjoint or [nodes.pass_()], else_adjoint)]
        push, pop = self.save(self.reads([nodes.expr(stmt.test)]), site)
        # The push goes at the end of each branch, ahead of a break that ends it, so that
        # it runs on every path and is popped before the branch's own values.
        primal = [nodes.if_(stmt.test, _before_jump(body_primal, push) or [nodes.pass_()],
                            _before_jump(else_primal, push))]
        return primal, pop + adjoint

    def _join(self, after_body, body_adjoint, after_else, else_adjoint):
        """Make the cotangents set after either branch of an adjoint set after both."""
        for name in sorted(after_body - after_else):
            else_adjoint.append(nodes.assign(self.d(name), nodes.const(0)))
        for name in sorted(after_else - after_body):
            body_adjoint.append(nodes.assign(self.d(name), nodes.const(0)))
        self.is_set = after_body | after_else

    def stmt_With(self, stmt, site):
        if getattr(stmt, "zygote_capture", False):
            return self._guarded(stmt, site)
        body_primal, body_adjoint = self.block(stmt.body)
        return [nodes.make(gast.With, items=stmt.items, body=body_primal)], body_adjoint

    def _guarded(self, stmt, site):
        """A statement of a try body (see ``exceptions``): its adjoint runs when it completed."""
        before = set(self.is_set)
        body_primal, body_adjoint = self.block(stmt.body)
        item = stmt.items[0]
        if self.stack is not None:
            # What the statement pushed before it raised is dropped with it.
            catch = item.context_expr
            item = nodes.make(gast.withitem, optional_vars=item.optional_vars, context_expr=nodes.call(
                catch.func, list(catch.args) + [nodes.load(self.stack)]))
        guard = nodes.make(gast.With, items=[item], body=body_primal)
        guard.zygote_capture = True
        if not body_adjoint and before <= self.is_set:
            return [guard], []
        completed = self.fresh_primal("completed", site)
        attempt = item.optional_vars.id
        self._join(self.is_set, body_adjoint, before, else_adjoint := [])
        push, pop = self.save({completed}, site)
        primal = [guard, nodes.assign(completed, nodes.compare(
            nodes.attribute(nodes.load(attempt), "error"), gast.Is(), nodes.const(None)))]
        return primal + push, pop + [nodes.if_(nodes.load(completed), body_adjoint, else_adjoint)]

    def stmt_Break(self, stmt, site):
        return [stmt], []

    def loop_carried(self, stmt):
        """Active names whose cotangent must persist across iterations of loop ``stmt``."""
        start, end = self.sites.loop_spans[id(stmt)]
        touched = set()
        for node in nodes.walk(stmt):
            if isinstance(node, gast.Name):
                touched.add(node.id)
        pending = list(touched)
        while pending:  # a closure's cotangent goes to the names it reads (transform.contribute)
            for outer in self.closures.get(pending.pop(), ()):
                if outer not in touched:
                    touched.add(outer)
                    pending.append(outer)
        local = set()
        for name in touched:
            sites = self.sites.assigned.get(name, [])
            if name in self.namer.temps and sites and all(start <= s.pos < end for s in sites) \
                    and not self._read_outside(name, start, end):
                local.add(name)
        return {n for n in touched - local if n in self.kind}

    def _read_outside(self, name, start, end):
        return any(not (start <= pos < end) for pos in self._read_positions().get(name, ()))

    def _read_positions(self):
        cached = getattr(self, "_reads_cache", None)
        if cached is None:
            cached = {}
            for stmt in walk_stmts(self.tree.body):
                site = self.sites.of_stmt.get(id(stmt))
                if site is None:
                    continue
                for name in _own_loads(stmt):
                    cached.setdefault(name, []).append(site.pos)
            self._reads_cache = cached
        return cached

    def stmt_For(self, stmt, site):
        return self.loop(stmt, site)

    def stmt_While(self, stmt, site):
        return self.loop(stmt, site)

    def loop(self, stmt, site):
        count = self.fresh_primal("n_iter", site)
        carried = self.loop_carried(stmt)
        entry_set = set(self.is_set)
        before = []
        for name in sorted(carried):
            if name not in self.is_set:
                before.append(nodes.assign(self.d(name), nodes.const(0)))
                self.is_set.add(name)
        outer_set = set(self.is_set)
        body_primal, body_adjoint = self.block(stmt.body)
        seq_target = isinstance(stmt, gast.For) and stmt.zygote_kind == "seq" \
            and stmt.target.id in self.kind and self.activity.active(stmt.iter)
        index = self.fresh_adjoint("k") if seq_target else "_"
        tail = []
        dseq = None
        if seq_target:
            dseq = self.fresh_adjoint(f"d{stmt.iter.id}_list")
            target = stmt.target.id
            if target in self.is_set:
                tail.append(nodes.assign(nodes.make(gast.Subscript, value=nodes.load(dseq),
                                                    slice=nodes.load(index), ctx=gast.Store()),
                                         nodes.load(self.d(target))))
            self.kill(target)
        for name in sorted(carried):
            if name not in self.is_set:
                tail.append(nodes.assign(self.d(name), nodes.const(0)))
                self.is_set.add(name)
        self.is_set = outer_set | (self.is_set & carried)
        increment = nodes.assign(count, nodes.binop(nodes.load(count), "+", nodes.const(1)))
        if isinstance(stmt, gast.For):
            loop_primal = nodes.for_(stmt.target.id, stmt.iter, [increment] + body_primal)
        else:
            loop_primal = nodes.while_(stmt.test, [increment] + body_primal)
        primal = [nodes.assign(count, nodes.const(0)), loop_primal]
        adjoint_body = body_adjoint + tail
        if not body_adjoint and not tail:
            self.is_set = entry_set
            return primal, []
        if seq_target:
            reverse = nodes.call("range", [nodes.binop(nodes.load(count), "-", nodes.const(1)),
                                           nodes.const(-1), nodes.const(-1)])
        else:
            reverse = nodes.call("range", [nodes.load(count)])
        range_name = self.helper(range, "range")
        reverse.func = nodes.load(range_name)
        adjoint = before[:]
        if seq_target:
            adjoint.append(nodes.assign(dseq, nodes.binop(nodes.list_load([nodes.const(0)]), "*",
                                                          nodes.call(nodes.load(self.helper(len, "len")),
                                                                     [nodes.load(stmt.iter.id)]))))
        handed_before, handed_after = handoff.around_loop(self, stmt, self.calls.bound_calls) \
            if seq_target else ([], [])
        adjoint += handed_before
        adjoint.append(nodes.for_(index, reverse, adjoint_body))
        adjoint += handed_after
        if seq_target:
            self.contribute(stmt.iter.id, nodes.load(dseq), adjoint)
        reads = {count} | ({stmt.iter.id} if seq_target else set())
        push, pop = self.save(reads, site)
        return primal + push, pop + adjoint


def _before_jump(block, extra):
    """``block`` with ``extra`` run on every way out of it: before each ``break`` inside it
    (however deeply nested in ``if``s, but not in inner loops) and at its end."""
    if not extra:
        return block
    out = _before_breaks(block, extra)
    if not (out and isinstance(out[-1], gast.Break)):
        out.extend(nodes.clone(s) for s in extra)
    return out


def _before_breaks(block, extra):
    out = []
    for stmt in block:
        if isinstance(stmt, gast.Break):
            out.extend(nodes.clone(s) for s in extra)
        elif isinstance(stmt, gast.If):
            stmt.body = _before_breaks(stmt.body, extra)
            stmt.orelse = _before_breaks(stmt.orelse, extra)
        elif isinstance(stmt, gast.With):
            stmt.body = _before_breaks(stmt.body, extra)
        out.append(stmt)
    return out


def _own_loads(stmt):
    """Names a statement reads itself (for compound statements: only their header)."""
    if isinstance(stmt, gast.If):
        return loaded_names(stmt.test)
    if isinstance(stmt, gast.For):
        return loaded_names(stmt.iter)
    if isinstance(stmt, gast.While):
        return set()
    if isinstance(stmt, gast.With):
        return set().union(*(loaded_names(i.context_expr) for i in stmt.items))
    if isinstance(stmt, gast.FunctionDef):
        return outer_names(stmt)
    return loaded_names(stmt)
