"""Closures made in a differentiated function: where their cotangents go, and what is refused.

Python binds late: a closure reads its cells when it is called. Its cotangent (a dict, one
entry per name it reads) is handed to those names where it arrives in the adjoint: where the
closure was called, passed to a call, or returned, which is when it read them. The helpers
here work on the generator of ``transform`` (``gen``), whose names and cotangents they use.
"""
import gast

from .. import nodes
from ..errors import UnsupportedSyntaxError
from .analysis import closure_uses, defined_by, loaded_names, walk_stmts


def through_closure(gen, name, value, out):
    """Hand the cotangent ``value`` of closure ``name`` to the names it reads, here."""
    if not isinstance(value, gast.Name):
        part = gen.fresh_adjoint(f"d{name}_env")
        out.append(nodes.assign(part, value))
        value = nodes.load(part)
    for outer in sorted(gen.closures[name]):
        gen.contribute(outer, gen.rt_call("closure_back", [value, nodes.const(outer)]), out)


def late_read_checks(gen):
    """Refuse what would read a value whose cotangent cannot reach it; return the run-time checks.

    Refused: a differentiated default argument (bound once, when the function is made), and
    a closure kept (in a container, under another name) whose cells change afterwards: its
    cotangent would arrive before the call that reads them. A closure passed to a call and
    rebound afterwards is right when the callee calls it (``apply(g, v)``); whether the
    callee handed it back is checked when the call returns. Returns ``{id(statement):
    [(result, closure, cell)]}`` for those checks.
    """
    for stmt in walk_stmts(gen.tree.body):
        func = defined_by(stmt)[1]
        defaults = [] if func is None else func.args.defaults + func.args.kw_defaults
        if any(n in gen.kind for d in defaults if d is not None for n in loaded_names(d)):
            raise UnsupportedSyntaxError(
                "a default argument computed from a differentiated value",
                gen.parsed.filename, getattr(stmt, "lineno", None),
                "read the value from the enclosing scope or pass it as an argument")
    checks = {}
    for name, stmt, passed in closure_uses(gen.tree.body, gen.closures):
        site = gen.sites.of_stmt[id(stmt)]
        changed = sorted(outer for outer in gen.closures[name]
                         if outer in gen.kind and gen.sites.reassigned_after(outer, site))
        if changed and passed and isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            checks.setdefault(id(stmt), []).append((stmt.targets[0].id, name, changed[0]))
        elif changed:
            raise UnsupportedSyntaxError(
                f"keeping the closure {name!r} (in a container or under another name) while "
                f"{changed[0]!r}, which it reads, is rebound", gen.parsed.filename,
                getattr(stmt, "lineno", None), "call the closure directly, or pass the value as an argument")
    return checks


def escape_checks(gen, checks):
    """Primal statements refusing, when the call has returned, a closure it handed back."""
    return [nodes.expr(gen.rt_call("refuse_returned_closure", [
        nodes.load(result), nodes.load(closure), nodes.const(closure), nodes.const(cell),
        nodes.const(gen.parsed.filename), nodes.const(gen.current_line)]))
        for result, closure, cell in checks]
