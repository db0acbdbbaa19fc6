"""Lowering of early exits: jumps out of regions, returns inside loops, jumps out of branches,
one final return.

A region is a block that must be left through its end: the body of a ``with`` (its
``__exit__`` runs) and the parts of a lowered ``try`` (its ``finally`` runs). After
``lower_regions``, a ``return``, ``break``, ``continue`` or caught exception inside a region
sets the region's exit name and skips the rest of it, and the jump is taken after the region.
After ``lower_loop_returns``, ``lower_jumps`` and ``single_exit``, every path through a block
ends at most in one ``break`` in tail position, and the function ends in one ``return``.
"""

import gast

from .. import nodes
from ..errors import UnsupportedSyntaxError


class Region:
    """What a region's jumps record: the exit name (which jump), the value name (a return's
    value), and the kinds of jump found in it, for the dispatch that follows it."""

    def __init__(self, exit_name, value_name):
        self.exit = exit_name
        self.value = value_name
        self.kinds = set()


def region_stop():
    """The statement that leaves the current region at once (after a caught exception)."""
    stop = nodes.pass_()
    stop.zygote_stop = True
    return stop


def region_dispatch(region):
    """The placeholder, after a region, where its recorded jumps are taken."""
    placeholder = nodes.pass_()
    placeholder.zygote_dispatch = region
    return placeholder


def lower_regions(stmts, namer):
    """Turn the jumps inside regions into exit records, and dispatch them after each region."""
    out = []
    for stmt in stmts:
        for block in _blocks(stmt):
            block[:] = lower_regions(block, namer)
        region = getattr(stmt, "zygote_region", None)
        if region is not None:
            stmt.body = _skip_after_stop(_record_jumps(stmt.body, region, False, namer))
        dispatch = getattr(stmt, "zygote_dispatch", None)
        if dispatch is not None:
            out.extend(_dispatch(dispatch, getattr(stmt, "lineno", None), namer))
            continue
        if isinstance(stmt, gast.If) and getattr(stmt, "zygote_region", None) is not None:
            out.extend(stmt.body)  # a region that was only a block: ``if True:``
            continue
        out.append(stmt)
    return out


def _blocks(stmt):
    if isinstance(stmt, gast.FunctionDef):
        return []
    return [getattr(stmt, f) for f in ("body", "orelse") if isinstance(getattr(stmt, f, None), list)]


def _record_jumps(stmts, region, in_loop, namer):
    """Replace each jump that leaves ``region`` by ``exit = kind`` (and the value) and a stop;
    inside an inner loop, a stop or return breaks out of that loop, which stops after it."""
    out = []
    for stmt in stmts:
        line = getattr(stmt, "zygote_line", getattr(stmt, "lineno", None))
        if isinstance(stmt, gast.Return):
            out += _exit(region, "return", line, in_loop, stmt.value)
            continue
        if isinstance(stmt, (gast.Break, gast.Continue)) and not in_loop:
            out += _exit(region, "break" if isinstance(stmt, gast.Break) else "continue", line, in_loop)
            continue
        if getattr(stmt, "zygote_stop", False):
            out += _exit(region, "raise", line, in_loop) if in_loop else [stmt]
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _record_jumps(stmt.body, region, in_loop, namer)
            stmt.orelse = _record_jumps(stmt.orelse, region, in_loop, namer)
        elif isinstance(stmt, gast.With):
            stmt.body = _record_jumps(stmt.body, region, in_loop, namer)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = _record_jumps(stmt.body, region, True, namer)
            if _leaves(stmt.body):
                out.append(stmt)
                left = namer.fresh("left")
                out.append(_mark(nodes.assign(left, nodes.is_not_none(nodes.load(region.exit))), line))
                out.append(_mark(nodes.if_(nodes.load(left), _exit_now(line, in_loop)), line))
                continue
        out.append(stmt)
    return out


def _leaves(stmts):
    """Whether a loop body holds a break that leaves the region (not one of an inner loop)."""
    for stmt in stmts:
        if getattr(stmt, "zygote_leaves", False):
            return True
        if isinstance(stmt, (gast.If, gast.With)) and _leaves(getattr(stmt, "body", []) + getattr(stmt, "orelse", [])):
            return True
    return False


def _exit(region, kind, line, in_loop, value=None):
    out = []
    if kind != "raise":
        region.kinds.add(kind)
    out.append(_mark(nodes.assign(region.exit, nodes.const(kind)), line))
    if value is not None:
        out.append(_mark(nodes.assign(region.value, value), line))
    return out + _exit_now(line, in_loop)


def _exit_now(line, in_loop):
    if not in_loop:
        return [region_stop()]
    leave = _mark(nodes.break_(), line)
    leave.zygote_leaves = True
    return [leave]


def _skip_after_stop(stmts):
    """Move what follows a statement that may stop into its branches that go on."""
    out = []
    for i, stmt in enumerate(stmts):
        if getattr(stmt, "zygote_stop", False):
            return out  # the rest of the region is skipped
        if isinstance(stmt, gast.If) and _may_stop(stmt):
            rest = stmts[i + 1:]
            stmt.body = _skip_after_stop(stmt.body + _clone_unless_stopped(rest, stmt.body))
            stmt.orelse = _skip_after_stop(stmt.orelse + _clone_unless_stopped(rest, stmt.orelse))
            if not stmt.body:
                stmt.body = [_mark(nodes.pass_(), getattr(stmt, "lineno", None))]
            out.append(stmt)
            return out
        out.append(stmt)
    return out


def _may_stop(stmt):
    if getattr(stmt, "zygote_stop", False):
        return True
    return isinstance(stmt, gast.If) and any(_may_stop(s) for s in stmt.body + stmt.orelse)


def _clone_unless_stopped(rest, branch):
    if branch and getattr(branch[-1], "zygote_stop", False):
        return []
    return [nodes.clone(s) for s in rest]


def _dispatch(region, line, namer):
    """After a region: take the jump it recorded."""
    out = []
    for kind in ("return", "break", "continue"):
        if kind not in region.kinds:
            continue
        jump = {"return": lambda: nodes.ret(nodes.load(region.value)),
                "break": nodes.break_, "continue": nodes.continue_}[kind]()
        test = namer.fresh(f"exit_{kind}")
        out.append(_mark(nodes.assign(test, nodes.compare(nodes.load(region.exit), gast.Eq(),
                                                          nodes.const(kind))), line))
        out.append(_mark(nodes.if_(nodes.load(test), [_mark(jump, line)]), line))
    return out


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
                line = getattr(stmt, "lineno", None)
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
            line = getattr(stmt, "lineno", None)
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
            stmt.body = lower_jumps(stmt.body, in_loop)  # its own loops' jumps
        out.append(stmt)
    return out


def _clone(rest, branch):
    """The statements ``rest``, copied unless ``branch`` already ends in a jump (then none)."""
    if branch and isinstance(branch[-1], (gast.Return, gast.Break, gast.Continue)):
        return []
    return [nodes.clone(s) for s in rest]


def _strip_continue(stmts):
    """Drop ``continue`` statements, which after jump lowering all sit at the end of a path."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.Continue):
            continue
        if isinstance(stmt, gast.If):
            stmt.body = _strip_continue(stmt.body) or [nodes.at_line(nodes.pass_(), getattr(stmt, "lineno", None))]
            stmt.orelse = _strip_continue(stmt.orelse)
        out.append(stmt)
    return out


def single_exit(stmts, namer):
    """Replace tail ``return v`` by ``result = v`` and end the function with ``return result``."""
    returns = [s for s in nodes.walk_scope(stmts) if isinstance(s, gast.Return)]
    if len(returns) == 1 and stmts and stmts[-1] is returns[0] and isinstance(returns[0].value, gast.Name):
        return stmts
    result = namer.fresh("result")
    line = getattr(stmts[0], "lineno", None) if stmts else None

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
