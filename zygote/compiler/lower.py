"""Lowering of early exits: returns inside loops, jumps out of branches, one final return.

After ``lower_loop_returns``, ``lower_jumps`` and ``single_exit``, every path through a block
ends at most in one ``break`` in tail position, and the function ends in one ``return``.
"""
import copy

import gast

from .. import nodes
from ..errors import UnsupportedSyntaxError


def lower_loop_returns(stmts, namer):
    """Turn ``return`` inside loops into a flag, a saved value and ``break``."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            stmt.body = lower_loop_returns(stmt.body, namer)
            stmt.orelse = lower_loop_returns(stmt.orelse, namer)
        elif isinstance(stmt, gast.With):
            stmt.body = lower_loop_returns(stmt.body, namer)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = lower_loop_returns(stmt.body, namer)
            if _contains(stmt.body, gast.Return):
                flag, value = namer.fresh("returned"), namer.fresh("return_value")
                stmt.body = _replace_returns(stmt.body, flag, value)
                line = stmt.lineno
                out.append(_mark(nodes.assign(flag, nodes.const(False)), line))
                out.append(stmt)
                out.append(_mark(nodes.if_(nodes.load(flag), [_mark(nodes.ret(nodes.load(value)), line)], []), line))
                continue
        out.append(stmt)
    return out


def _mark(stmt, line):
    nodes.at_line(stmt, line)
    stmt.zygote_line = line
    return stmt


def _replace_returns(stmts, flag, value):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Return):
            line = stmt.lineno
            out += [_mark(nodes.assign(value, stmt.value), line),
                    _mark(nodes.assign(flag, nodes.const(True)), line),
                    _mark(nodes.break_(), line)]
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _replace_returns(stmt.body, flag, value)
            stmt.orelse = _replace_returns(stmt.orelse, flag, value)
        elif isinstance(stmt, gast.With):
            stmt.body = _replace_returns(stmt.body, flag, value)
        out.append(stmt)
    return out


def _contains(stmts, kind, enter_loops=True):
    for stmt in stmts:
        for node in nodes.walk_scope([stmt]):
            if isinstance(node, kind):
                return True
            if not enter_loops and isinstance(node, (gast.For, gast.While)) and node is not stmt:
                break
    return False


def _jumps(stmt, in_loop):
    """Whether ``stmt`` may leave its block early (return, or break/continue of the current loop)."""
    kinds = (gast.Return, gast.Break, gast.Continue) if in_loop else (gast.Return,)
    if isinstance(stmt, kinds):
        return True
    if isinstance(stmt, gast.If):
        return any(_jumps(s, in_loop) for s in stmt.body + stmt.orelse)
    if isinstance(stmt, gast.With):
        return any(_jumps(s, in_loop) for s in stmt.body)
    if isinstance(stmt, (gast.For, gast.While)):
        # break/continue inside belong to the inner loop; returns were lowered already
        return False
    return False


def lower_jumps(stmts, in_loop):
    """Move the statements after a branch that may jump into the branches that fall through."""
    out = []
    for i, stmt in enumerate(stmts):
        if isinstance(stmt, (gast.For, gast.While)):
            stmt.body = _strip_continue(lower_jumps(stmt.body, in_loop=True))
        if isinstance(stmt, (gast.Return, gast.Break, gast.Continue)) and (in_loop or isinstance(stmt, gast.Return)):
            out.append(stmt)
            return out  # anything after a jump is dead
        if isinstance(stmt, gast.If) and _jumps(stmt, in_loop):
            rest = stmts[i + 1:]
            stmt.body = lower_jumps(stmt.body + _clone(rest, stmt.body), in_loop)
            stmt.orelse = lower_jumps(stmt.orelse + _clone(rest, stmt.orelse), in_loop)
            out.append(stmt)
            return out
        if isinstance(stmt, gast.If):
            stmt.body = lower_jumps(stmt.body, in_loop)
            stmt.orelse = lower_jumps(stmt.orelse, in_loop)
        if isinstance(stmt, gast.With):
            if _jumps(stmt, in_loop):
                raise UnsupportedSyntaxError("return/break/continue inside a with block", None,
                                             stmt.lineno, "leave the with block first")
        out.append(stmt)
    return out


def _clone(rest, branch):
    """The statements ``rest``, copied unless ``branch`` already ends in a jump (then none)."""
    if branch and isinstance(branch[-1], (gast.Return, gast.Break, gast.Continue)):
        return []
    return [copy.deepcopy(s) for s in rest]


def _strip_continue(stmts):
    """Drop ``continue`` statements, which after jump lowering all sit at the end of a path."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Continue):
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _strip_continue(stmt.body) or [nodes.at_line(nodes.pass_(), stmt.lineno)]
            stmt.orelse = _strip_continue(stmt.orelse)
        out.append(stmt)
    return out


def single_exit(stmts, namer):
    """Replace tail ``return v`` by ``result = v`` and end the function with ``return result``."""
    returns = [s for s in nodes.walk_scope(stmts) if isinstance(s, gast.Return)]
    if len(returns) == 1 and stmts and stmts[-1] is returns[0] and isinstance(returns[0].value, gast.Name):
        return stmts
    result = namer.fresh("result")
    line = stmts[0].lineno if stmts else None

    def rewrite(block):
        out = []
        for stmt in block:
            if isinstance(stmt, gast.Return):
                out.append(_copy_marks(nodes.assign(result, stmt.value), stmt))
                continue
            if isinstance(stmt, gast.If):
                stmt.body = rewrite(stmt.body)
                stmt.orelse = rewrite(stmt.orelse)
            out.append(stmt)
        return out

    body = [_mark(nodes.assign(result, nodes.const(None)), line)] + rewrite(stmts)
    last = stmts[-1] if stmts else None
    body.append(_copy_marks(nodes.ret(nodes.load(result)), last) if last is not None
                else _mark(nodes.ret(nodes.load(result)), line))
    return body


def _copy_marks(new, old):
    line = getattr(old, "zygote_line", getattr(old, "lineno", None))
    return _mark(new, line)
