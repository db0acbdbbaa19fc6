"""Decoding a code object into version-neutral instructions: the one place that knows opcode details.

CPython's bytecode changes with every minor version. This module turns the instructions of
one code object into a flat list of ``Instruction`` records whose names and arguments the
rest of the lifter understands, whatever the version; the structurer and the expression
builder never look at ``dis`` themselves. Only Python 3.11 is decoded today: for any other
version ``decode`` raises ``Unrecoverable``, and zygote says so instead of guessing.

>>> def double(x):
...     return x + x
>>> [(i.op, i.arg) for i in decode(double.__code__)]
[('LOAD', 'x'), ('LOAD', 'x'), ('BINARY', '+'), ('RETURN', None)]
"""
import dis
import sys

SUPPORTED = ((3, 11),)


class Unrecoverable(Exception):
    """A construct the lifter cannot rebuild; ``construct`` names it and ``line`` is where it is."""

    def __init__(self, construct, line=None):
        super().__init__(construct)
        self.construct = construct
        self.line = line


class Instruction:
    """One decoded instruction.

    ``op`` is the neutral name, ``arg`` its resolved argument (a name, a constant, a count, an
    operator symbol), ``target`` the index of the instruction a jump goes to, ``line`` and
    ``position`` (line, end line, column, end column) where it came from.
    """

    __slots__ = ("op", "arg", "target", "line", "position", "kind")

    def __init__(self, op, arg=None, target=None, line=None, position=None, kind=None):
        self.op, self.arg, self.target = op, arg, target
        self.line, self.position = line, position
        self.kind = kind  # LOAD and STORE: "fast", "deref", "global", "name"; jumps: the condition

    def __repr__(self):
        extra = f" ->{self.target}" if self.target is not None else ""
        return f"{self.op}({self.kind or ''} {self.arg!r}){extra}"


# Opcodes with no counterpart in source: the prologue of a frame and the interpreter's caches.
_SKIPPED = {"NOP", "RESUME", "PRECALL", "CACHE", "EXTENDED_ARG", "MAKE_CELL", "COPY_FREE_VARS"}

_LOADS = {"LOAD_FAST": "fast", "LOAD_DEREF": "deref", "LOAD_GLOBAL": "global",
          "LOAD_NAME": "name", "LOAD_CLOSURE": "closure"}
_STORES = {"STORE_FAST": "fast", "STORE_DEREF": "deref", "STORE_GLOBAL": "global",
           "STORE_NAME": "name"}
_CONDITIONAL = {
    "POP_JUMP_FORWARD_IF_FALSE": "false", "POP_JUMP_BACKWARD_IF_FALSE": "false",
    "POP_JUMP_FORWARD_IF_TRUE": "true", "POP_JUMP_BACKWARD_IF_TRUE": "true",
    "POP_JUMP_FORWARD_IF_NONE": "none", "POP_JUMP_BACKWARD_IF_NONE": "none",
    "POP_JUMP_FORWARD_IF_NOT_NONE": "not none", "POP_JUMP_BACKWARD_IF_NOT_NONE": "not none",
}
_JUMPS = {"JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT"}
_KEEP = {"JUMP_IF_FALSE_OR_POP": "false", "JUMP_IF_TRUE_OR_POP": "true"}
_UNARY = {"UNARY_NEGATIVE": "-", "UNARY_POSITIVE": "+", "UNARY_NOT": "not", "UNARY_INVERT": "~"}


def check_version():
    """Raise ``Unrecoverable`` unless this interpreter's bytecode is one ``decode`` knows."""
    if sys.version_info[:2] not in SUPPORTED:
        known = ", ".join(f"{major}.{minor}" for major, minor in SUPPORTED)
        raise Unrecoverable(f"bytecode of Python {sys.version_info[0]}.{sys.version_info[1]} "
                            f"(the lifter reads Python {known})")


def decode(code):
    """The instructions of ``code`` as a list of ``Instruction``, jump targets as list indices."""
    check_version()
    raw = list(dis.get_instructions(code))
    handlers = _with_handlers(code, raw) if code.co_exceptiontable else set()
    positions = list(code.co_positions())
    out, index_at, jumps = [], {}, []
    line = code.co_firstlineno
    for instruction in raw:
        index_at[instruction.offset] = len(out)
        name = instruction.opname
        if instruction.starts_line is not None:
            line = instruction.starts_line
        if name in _SKIPPED or instruction.offset in handlers:
            continue
        where = dict(line=line, position=positions[instruction.offset // 2])
        arg = instruction.argval
        if name in _LOADS:
            if name == "LOAD_GLOBAL" and instruction.arg & 1:
                out.append(Instruction("PUSH_NULL", **where))
            out.append(Instruction("LOAD", arg, kind=_LOADS[name], **where))
        elif name in _STORES:
            out.append(Instruction("STORE", arg, kind=_STORES[name], **where))
        elif name == "LOAD_CONST":
            out.append(Instruction("CONST", arg, **where))
        elif name in _CONDITIONAL:
            jumps.append(len(out))
            out.append(Instruction("JUMP_IF", arg, kind=_CONDITIONAL[name], **where))
        elif name in _KEEP:
            jumps.append(len(out))
            out.append(Instruction("JUMP_IF_OR_POP", arg, kind=_KEEP[name], **where))
        elif name in _JUMPS:
            jumps.append(len(out))
            out.append(Instruction("JUMP", arg, **where))
        elif name == "FOR_ITER":
            jumps.append(len(out))
            out.append(Instruction("FOR_ITER", arg, **where))
        elif name == "BINARY_OP":
            symbol = instruction.argrepr
            kind = "inplace" if symbol.endswith("=") else None
            out.append(Instruction("BINARY", symbol.rstrip("=") if kind else symbol, kind=kind, **where))
        elif name in _UNARY:
            out.append(Instruction("UNARY", _UNARY[name], **where))
        elif name == "COMPARE_OP":
            out.append(Instruction("COMPARE", arg, **where))
        elif name == "IS_OP":
            out.append(Instruction("COMPARE", "is not" if instruction.arg else "is", **where))
        elif name == "CONTAINS_OP":
            out.append(Instruction("COMPARE", "not in" if instruction.arg else "in", **where))
        elif name == "LOAD_METHOD":
            out.append(Instruction("LOAD_METHOD", arg, **where))
        elif name == "RETURN_VALUE":
            out.append(Instruction("RETURN", **where))
        elif name == "BINARY_SUBSCR":
            out.append(Instruction("SUBSCR", **where))
        elif name == "STORE_SUBSCR":
            out.append(Instruction("STORE_SUBSCR", **where))
        elif name in ("KW_NAMES", "MAKE_FUNCTION", "FORMAT_VALUE"):
            # KW_NAMES's argument indexes co_consts; the others' are flags
            value = code.co_consts[instruction.arg] if name == "KW_NAMES" else instruction.arg
            out.append(Instruction(name, value, **where))
        elif name == "BEFORE_WITH":
            out.append(Instruction("WITH", **where))
        elif name in _CONSTRUCTS:
            raise Unrecoverable(_CONSTRUCTS[name], line)
        else:
            out.append(Instruction(name, arg, **where))
    for i in jumps:
        out[i].target = index_at[out[i].arg]  # a NOP's offset maps to the next kept instruction
    _mark_chained_comparisons(out)
    if handlers:
        _mark_with_exits(out)
    return out


# Instructions that only a construct zygote does not lift compiles to, by that construct.
_CONSTRUCTS = {
    "DELETE_FAST": "del", "DELETE_NAME": "del", "DELETE_GLOBAL": "del", "DELETE_DEREF": "del",
    "DELETE_SUBSCR": "del", "DELETE_ATTR": "del", "IMPORT_NAME": "an import statement",
    "LOAD_BUILD_CLASS": "a class definition", "BUILD_SET": "a set display",
    "SET_ADD": "a set comprehension", "MAP_ADD": "a dict comprehension",
    "BEFORE_ASYNC_WITH": "async with",
    "GET_AWAITABLE": "await", "MATCH_CLASS": "a match statement", "MATCH_SEQUENCE": "a match statement",
    "MATCH_MAPPING": "a match statement",
}


_LOAD_GLOBAL, _LOAD_ATTR = dis.opmap["LOAD_GLOBAL"], dis.opmap["LOAD_ATTR"]
_CACHE, _EXTENDED_ARG = dis.opmap["CACHE"], dis.opmap["EXTENDED_ARG"]


def called_through_attribute(code):
    """Globals of ``code`` loaded with a NULL and then an attribute: ``np`` in ``np.sum(x)``.

    The compiler uses that form instead of LOAD_METHOD when the name was bound by an
    import statement. A scan of the raw bytes: this runs on every verification.
    """
    found, previous, extended = set(), None, 0
    raw = code.co_code
    for i in range(0, len(raw), 2):
        op, arg = raw[i], raw[i + 1] | extended
        if op == _CACHE:
            continue
        if op == _EXTENDED_ARG:
            extended = arg << 8
            continue
        extended = 0
        if op == _LOAD_ATTR and previous is not None:
            found.add(code.co_names[previous >> 1])
        previous = arg if op == _LOAD_GLOBAL and arg & 1 else None
    return found


def _with_handlers(code, raw):
    """Offsets of the exception handlers ``with`` blocks compile to, which source does not show.

    3.11 follows a ``with`` body by the normal exit (``__exit__(None, None, None)``), a jump
    over the handler that calls ``__exit__`` with the exception, and the handler. Any other
    handler belongs to a ``try`` statement, which is refused.
    """
    skipped, line = set(), code.co_firstlineno
    for k, instruction in enumerate(raw):
        line = instruction.starts_line or line
        if instruction.opname != "PUSH_EXC_INFO":
            continue
        jump = raw[k - 1] if k else None
        if k + 1 >= len(raw) or raw[k + 1].opname != "WITH_EXCEPT_START":
            raise Unrecoverable("a try statement", _try_line(code, raw))
        if jump is None or jump.opname != "JUMP_FORWARD":
            with_line = max((i.positions.lineno for i in raw[:k] if i.opname == "BEFORE_WITH"), default=line)
            raise Unrecoverable("a return or break inside a with statement", with_line)
        skipped.add(jump.offset)
        skipped.update(i.offset for i in raw[k:] if i.offset < jump.argval)
    return skipped


def _try_line(code, raw):
    """The line of the ``try`` whose protected block starts first."""
    start = min(entry.start for entry in dis.Bytecode(code).exception_entries)
    line, found = code.co_firstlineno, code.co_firstlineno
    for instruction in raw:
        line = instruction.starts_line or line
        if instruction.offset < start:
            found = line  # the try's own line is on the NOP just before its block
    return found


def _mark_with_exits(out):
    """Turn each ``with`` block's normal exit, ``__exit__(None, None, None)``, into WITH_EXIT."""
    for k in range(len(out) - 4):
        nones = all(out[k + j].op == "CONST" and out[k + j].arg is None for j in range(3))
        if nones and _is(out[k + 3], "CALL", 2) and out[k + 4].op == "POP_TOP":
            out[k].op, out[k].arg = "WITH_EXIT", None
            _skip(*out[k + 1:k + 5])


def _mark_chained_comparisons(out):
    """Rewrite the layout of ``a < b < c`` into CHAIN, CHAIN_MORE and CHAIN_END on the comparisons.

    Python 3.11 compiles a chained comparison as ``a; b; SWAP 2; COPY 2; COMPARE; jump to
    cleanup if false`` per link, then the last comparison, and a cleanup block that pops the
    kept operand. The bookkeeping instructions become SKIP, so the comparisons read as one.
    """
    for i in range(len(out) - 3):
        if not (_is(out[i], "SWAP", 2) and _is(out[i + 1], "COPY", 2) and out[i + 2].op == "COMPARE"
                and out[i + 3].op in ("JUMP_IF", "JUMP_IF_OR_POP") and out[i + 3].kind == "false"):
            continue
        cleanup = out[i + 3].target
        value = out[i + 3].op == "JUMP_IF_OR_POP"
        last = cleanup - (2 if value else 3)
        if last <= i + 3 or cleanup + 1 >= len(out) or out[last].op != "COMPARE":
            continue
        if value:
            shape = out[last + 1].op == "JUMP" and _is(out[cleanup], "SWAP", 2) and out[cleanup + 1].op == "POP_TOP"
        else:
            # After the last link: the test's own jump, a jump over the cleanup to where the
            # test falls through, and the cleanup, which jumps where a false chain goes (or,
            # for ``not a < b < c``, falls through).
            shape = out[last + 1].op == "JUMP_IF" and out[last + 2].op == "JUMP" \
                and out[cleanup].op == "POP_TOP" and (
                    out[last + 2].target == cleanup + 1
                    or out[last + 2].target == cleanup + 2 and out[cleanup + 1].op == "JUMP")
        if not shape:
            continue
        links = [k for k in range(i + 4, last - 3) if _is(out[k], "SWAP", 2) and _is(out[k + 1], "COPY", 2)
                 and out[k + 2].op == "COMPARE" and out[k + 3].target == cleanup]
        for k in (i, *links):
            _skip(out[k], out[k + 1], out[k + 3])
            out[k + 2].op = "CHAIN" if k == i else "CHAIN_MORE"
        out[last].op = "CHAIN_END"
        if value:
            _skip(out[cleanup], out[cleanup + 1], out[last + 1])
        else:
            _skip(out[cleanup], out[last + 2], *([out[cleanup + 1]] if out[last + 2].target == cleanup + 2 else []))


def _is(ins, op, arg):
    return ins.op == op and ins.arg == arg


def _skip(*instructions):
    for ins in instructions:
        ins.op, ins.target = "SKIP", None
