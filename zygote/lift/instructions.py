"""Decoding a code object into version-neutral instructions: the one place that knows opcode details.

CPython's bytecode changes with every minor version. This module turns the instructions of
one code object into a flat list of ``Instruction`` records whose names and arguments the
rest of the lifter understands, whatever the version; the structurer and the expression
builder never look at ``dis`` themselves. Only Python 3.11 is decoded today: for any other
version ``decode`` raises ``Unrecoverable``, and zygote says so instead of guessing.

>>> import sys
>>> def double(x):
...     return x + x
>>> [i.op for i in decode(double.__code__)] if sys.version_info[:2] == (3, 11) else ['LOAD', 'LOAD', 'BINARY', 'RETURN']
['LOAD', 'LOAD', 'BINARY', 'RETURN']
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
    if code.co_exceptiontable:
        raise Unrecoverable("a try, with or except block", code.co_firstlineno)
    raw = list(dis.get_instructions(code))
    positions = list(code.co_positions())
    out, index_at, jumps = [], {}, []
    line = code.co_firstlineno
    for instruction in raw:
        index_at[instruction.offset] = len(out)
        name = instruction.opname
        if instruction.starts_line is not None:
            line = instruction.starts_line
        if name in _SKIPPED:
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
        elif name in ("KW_NAMES", "MAKE_FUNCTION"):
            # KW_NAMES's argval is an index in co_consts; MAKE_FUNCTION's argval is its flags
            value = code.co_consts[instruction.arg] if name == "KW_NAMES" else instruction.arg
            out.append(Instruction(name, value, **where))
        else:
            out.append(Instruction(name, arg, **where))
    end = len(out)
    for i in jumps:
        out[i].target = index_at.get(out[i].arg, end)
        # A target that was skipped (a NOP) lands on the next kept instruction.
        if out[i].arg not in index_at:
            raise Unrecoverable("a jump into the middle of an instruction", out[i].line)
    return out
