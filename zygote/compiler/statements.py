"""Lowering the statements that normal form spells with others: a loop's ``else``, ``del`` of
names, ``global`` and ``nonlocal`` declarations, the jumps out of a ``with`` block, and the
``yield`` statements of a generator function.

A generator function called from differentiated code runs to its end when it is called:
each ``yield v`` appends ``v`` to a list, ``yield from it`` appends the items of ``it``, and
the call returns an iterator over that list (``zygote.runtime.generated``), so the gradient
of each item consumed flows back to the ``yield`` that produced it.

``SimpleStatements`` is the part of the normaliser in ``normalise`` that handles them; it
emits statements through the normaliser's ``emit``, ``atom`` and ``stmt``.
"""
import gast

from .. import nodes
from .lower import Region, region_dispatch


class SimpleStatements:
    """Methods of the normaliser for statements lowered to assignments, flags and regions."""

    def loop_else(self, node):
        """``for``/``while`` with ``else``: a flag set before each ``break`` of the loop, and the
        ``else`` block run when the loop ended without one."""
        broke = self.namer.fresh("broke")
        self.emit(nodes.assign(broke, nodes.const(False)))
        orelse = node.orelse
        node.orelse = []
        node.body = _before_breaks(node.body, lambda: nodes.at_line(
            nodes.assign(broke, nodes.const(True)), self.line))
        self.stmt(node)
        self.stmt(nodes.at_line(nodes.if_(nodes.not_(nodes.load(broke)), orelse), self.line))

    def stmt_Global(self, node):
        self.declared.setdefault("global", []).extend(n for n in node.names if n not in self.declared_names())

    def stmt_Nonlocal(self, node):
        self.declared.setdefault("nonlocal", []).extend(n for n in node.names if n not in self.declared_names())

    def declared_names(self):
        return {n for names in self.declared.values() for n in names}

    def start_generator(self):
        """Begin the body of a generator function: the list its yields append to."""
        self.yielded = self.namer.fresh("yielded")
        self.emit(nodes.assign(self.yielded, nodes.list_load([])))

    def yield_stmt(self, value):
        if isinstance(value, gast.YieldFrom):
            item = self.namer.fresh("item")
            loop = nodes.for_(item, value.value, [nodes.at_line(nodes.expr(nodes.make(
                gast.Yield, value=nodes.load(item))), self.line)])
            self.stmt(nodes.at_line(loop, self.line))
            return
        item = nodes.const(None) if value.value is None else value.value
        self.assign_to(self.yielded, nodes.call(self.helper("list_append"), [nodes.load(self.yielded), item]))

    def generator_result(self):
        """What a generator function's call gives: an iterator over the values it yielded."""
        return self.assign_temp(nodes.call(self.helper("generated"), [nodes.load(self.yielded)]), "generated")

    def expr_Yield(self, node):
        self.refuse("a yield whose sent value is used", node, "use yield as a statement")

    expr_YieldFrom = expr_Yield

    def with_region(self, node, items):
        """A ``with`` whose body jumps out: the jump is taken after ``__exit__`` has run."""
        region = Region(self.namer.fresh("exit_kind"), self.namer.fresh("exit_value"))
        self.emit(nodes.assign(region.exit, nodes.const(None)))
        stmt = self.emit(nodes.make(gast.With, items=items, body=self.block(node.body)))
        stmt.zygote_region = region
        self.emit(region_dispatch(region))


def jumps_out(stmts, in_loop=False):
    """Whether ``stmts`` hold a ``return``, or a ``break``/``continue`` of an enclosing loop."""
    for stmt in stmts:
        if isinstance(stmt, gast.Return):
            return True
        if isinstance(stmt, (gast.Break, gast.Continue)) and not in_loop:
            return True
        if isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
            continue
        if isinstance(stmt, (gast.For, gast.While)):
            if jumps_out(stmt.body, True) or jumps_out(stmt.orelse, in_loop):
                return True
            continue
        for block in _statement_blocks(stmt):
            if jumps_out(block, in_loop):
                return True
    return False


def _statement_blocks(stmt):
    """The statement lists directly inside a compound statement of the user's code."""
    blocks = [getattr(stmt, f) for f in ("body", "orelse", "finalbody")
              if isinstance(getattr(stmt, f, None), list)]
    blocks += [h.body for h in getattr(stmt, "handlers", ())]
    blocks += [c.body for c in getattr(stmt, "cases", ())]
    return blocks


def _before_breaks(stmts, make):
    """``stmts`` with ``make()`` run before each ``break`` that leaves the loop they are the body of."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Break):
            out.append(make())
        elif isinstance(stmt, (gast.For, gast.While)):
            # A break in an inner loop's body is its own; one in its else leaves ours.
            stmt.orelse = _before_breaks(stmt.orelse, make)
        elif not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(stmt, field, None), list):
                    setattr(stmt, field, _before_breaks(getattr(stmt, field), make))
            for part in list(getattr(stmt, "handlers", ())) + list(getattr(stmt, "cases", ())):
                part.body = _before_breaks(part.body, make)
        out.append(stmt)
    return out
