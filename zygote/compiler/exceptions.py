"""Lowering ``try``/``except``/``else``/``finally`` to guarded statements, branches and regions.

Inside a ``try`` body each statement runs in a ``with catch(...) as attempt:`` block that keeps
the exception it raises (``zygote.runtime.catch``); ``attempt.error`` is copied into the
``try``'s ``caught`` name, and the rest of the body is skipped when it is set. The transform
gives such a block an adjoint that runs only when its statement completed, so the adjoint
covers exactly the statements that ran, as a branch's does. Then::

    if caught is not None:                  # the except clauses, in order
        if exception_matches(caught, E1):
            name = caught; caught = None
            HANDLER1
        ...
    else:
        ELSE
    FINALLY
    if caught is not None:
        raise caught                        # not handled: propagates unchanged

A ``return``, ``break`` or ``continue`` in the body (or, with a ``finally``, in a handler or
the ``else``) is recorded and taken after the ``finally`` (``lower.lower_regions``).
``ExceptionStatements`` is the part of the normaliser in ``normalise`` that does this.
"""
import contextlib

import gast

from .. import nodes
from .lower import Region, region_dispatch, region_stop

# Statements whose own evaluation is guarded in parts (their header, their blocks).
_COMPOUND = (gast.If, gast.For, gast.While, gast.With, gast.Try, gast.FunctionDef,
             *(t for t in (getattr(gast, "Match", None),) if t is not None))


class ExceptionStatements:
    """Methods of the normaliser for ``try`` statements and the statements inside them."""

    capture = None      # the name that keeps the exception of the innermost try body, if any
    handling = ()       # names of the exceptions being handled, innermost last

    def stmt_Try(self, node):
        caught = self.namer.fresh("caught")
        region = Region(self.namer.fresh("exit_kind"), self.namer.fresh("exit_value"))
        final = bool(node.finalbody)
        self.emit(nodes.assign(caught, nodes.const(None)))
        self.emit(nodes.assign(region.exit, nodes.const(None)))
        outer = self.capture
        self.capture = caught
        self._region(node.body, region)
        self.capture = caught if final else outer
        if not final:
            self.emit(region_dispatch(region))
        handlers = self._handlers(node.handlers, caught, region if final else None)
        orelse = []
        if node.orelse:
            orelse = self._part(node.orelse, region if final else None)
            if final:
                outer_out, self.out = self.out, []
                went_on = self.assign_temp(nodes.compare(nodes.load(region.exit), gast.Is(), nodes.const(None)),
                                           "went_on")
                self.emit(nodes.if_(went_on, orelse))
                orelse, self.out = self.out, outer_out
        if handlers or orelse:
            self.emit(nodes.if_(self._raised(caught), handlers or [nodes.pass_()], orelse))
        self.capture = outer
        for stmt in self.block(node.finalbody):
            self.out.append(stmt)
        reraise = nodes.make(gast.Raise, exc=nodes.load(caught), cause=None)
        self.stmt(self._at(nodes.if_(nodes.is_not_none(nodes.load(caught)), [self._at(reraise)])))
        if final:
            self.emit(region_dispatch(region))

    def _region(self, stmts, region):
        block = self.block(stmts)
        stmt = self.emit(nodes.if_(nodes.const(True), block or [nodes.pass_()]))
        stmt.zygote_region = region

    def _part(self, stmts, region):
        """A handler's or the else clause's statements: a region of their own under a finally."""
        if region is None:
            return self.block(stmts)
        outer, self.out = self.out, []
        self._region(stmts, region)
        part, self.out = self.out, outer
        return part

    def _handlers(self, handlers, caught, region):
        """The except clauses as an ``if`` chain, first match first."""
        chain = []
        for handler in reversed(handlers):
            self.line = getattr(handler, "lineno", self.line)
            outer, self.out = self.out, []
            handled = self.namer.fresh("handled")
            self.emit(nodes.assign(handled, nodes.load(caught)))
            self.emit(nodes.assign(caught, nodes.const(None)))
            if handler.name is not None:
                self.emit(nodes.assign(handler.name.id, nodes.load(handled)))
            self.handling = self.handling + (handled,)
            self.out += self._part(handler.body, region)
            self.handling = self.handling[:-1]
            body, self.out = self.out, []
            if handler.type is None:
                chain, self.out = body, outer
                continue
            kinds = self.atom(handler.type)
            test = self.assign_temp(nodes.call(self.helper("exception_matches"), [nodes.load(caught), kinds]),
                                    "handles")
            self.emit(nodes.if_(test, body, chain))
            chain, self.out = self.out, outer
        return chain

    def with_in_try(self, node, items):
        """A ``with`` inside a try body, spelled out as Python runs it, so that an exception in
        its body reaches ``__exit__`` before the try: ``__exit__(kind, error, traceback)``
        when the body raised (a true result suppresses the error), ``__exit__(None, None,
        None)`` when it did not; a jump out of the body is taken after ``__exit__``."""
        item, rest = items[0], items[1:]
        manager = item.context_expr
        with self.guarded():
            entered = self.assign_temp(nodes.call(nodes.attribute(manager, "__enter__")), "entered")
            if item.optional_vars is not None:
                self.emit(nodes.assign(item.optional_vars.id, entered))
        caught = self.namer.fresh("caught")
        region = Region(self.namer.fresh("exit_kind"), self.namer.fresh("exit_value"))
        self.emit(nodes.assign(caught, nodes.const(None)))
        self.emit(nodes.assign(region.exit, nodes.const(None)))
        outer, self.capture = self.capture, caught
        if rest:
            outer_out, self.out = self.out, []
            self.with_in_try(node, rest)
            inner, self.out = self.out, outer_out
            self.emit(nodes.if_(nodes.const(True), inner)).zygote_region = region
        else:
            self._region(node.body, region)
        self.capture = outer
        error = nodes.load(caught)
        exit_method = nodes.attribute(manager, "__exit__")
        failed = nodes.call(exit_method, [nodes.make(gast.Starred, ctx=gast.Load(), value=nodes.call(
            self.helper("exit_arguments"), [error]))])
        reraise = self._at(nodes.make(gast.Raise, exc=nodes.load(caught), cause=None))
        self.stmt(self._at(nodes.if_(
            nodes.is_not_none(nodes.load(caught)), [self._at(nodes.if_(nodes.not_(failed), [reraise]))],
            [self._at(nodes.expr(nodes.call(exit_method, [nodes.const(None)] * 3)))])))
        self.emit(region_dispatch(region))

    def _at(self, stmt):
        nodes.at_line(stmt, self.line)
        stmt.zygote_line = self.line
        return stmt

    def stmt_Raise(self, node):
        if node.exc is None and self.handling:
            # A bare raise in a handler re-raises the exception that handler caught.
            node = nodes.make(gast.Raise, exc=nodes.load(self.handling[-1]), cause=None)
        elif node.exc is not None:
            node = nodes.make(gast.Raise, exc=self.atom(node.exc),
                              cause=None if node.cause is None else self.atom(node.cause))
        self.emit(node)

    def guarded_stmt(self, stmt):
        """Lower ``stmt``; inside a try body, a simple statement runs guarded."""
        if self.capture is None or isinstance(stmt, _COMPOUND):
            self.stmt(stmt)
            return
        with self.guarded():
            self.stmt(stmt)

    @contextlib.contextmanager
    def guarded(self):
        """Statements emitted inside run as one guarded statement of the current try body."""
        if self.capture is None:
            yield
            return
        outer, self.out = self.out, []
        capture, self.capture = self.capture, None  # the group is guarded as a whole
        yield
        self.capture = capture
        group, self.out = self.out, outer
        # A jump is guarded only in evaluating its value; it is taken after the guard.
        jump = group.pop() if group and isinstance(group[-1], (gast.Return, gast.Break, gast.Continue)) else None
        if all(_cannot_raise(s) for s in group):
            self.out.extend(group)
        else:
            attempt = self.namer.fresh("attempt")
            item = nodes.make(gast.withitem, context_expr=nodes.call(self.helper("catch")),
                              optional_vars=nodes.store(attempt))
            guard = self.emit(nodes.make(gast.With, items=[item], body=group))
            guard.zygote_capture = True
            self.emit(nodes.assign(self.capture, nodes.attribute(nodes.load(attempt), "error")))
            self.emit(nodes.if_(self._raised(self.capture), [region_stop()]))
        if jump is not None:
            self.out.append(jump)

    def guarded_again(self, node):
        """A guarded statement of generated code being differentiated again stays guarded."""
        guard = self.emit(nodes.make(gast.With, items=node.items, body=self.block(node.body)))
        guard.zygote_capture = True

    def _raised(self, caught):
        return self.assign_temp(nodes.is_not_none(nodes.load(caught)), "raised")


def _cannot_raise(stmt):
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return False
    value = stmt.value
    if isinstance(value, gast.Compare):
        return all(isinstance(op, (gast.Is, gast.IsNot)) for op in value.ops)
    return isinstance(value, (gast.Name, gast.Constant))
