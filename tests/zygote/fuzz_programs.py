"""Random small Python programs for fuzzing zygote: a hypothesis strategy and a loader.

``programs()`` draws a ``Program``: the source of a module defining ``fuzzed(x, y)`` and
two helpers, and values for ``x`` and ``y`` (each a float or an array of shape (3,)).
``fuzzed`` assigns expressions over ``+ - * /`` (divisions guarded as ``a / (1 + b * b)``),
small integer powers, numpy and ``math`` functions with bounded or guarded arguments, calls
to the helpers (one returns a tuple), conditional expressions, tuple packing, unpacking
and swapping, item and augmented assignment, lists filled by ``append`` and summed,
objects of a class ``Vec`` built inside and combined by its operator methods (reflected,
in place, ``NotImplemented``) and a method that writes their attributes,
``if``/``elif``/``else``, ``for`` loops over ranges, arrays, ``enumerate`` and ``zip`` with
``break``/``continue``, counted ``while`` loops, early returns, and the statements of
``fuzz_language`` (comprehensions, ``:=``, loop ``else``, ``try``, ``match``, ``with``,
generators, ``map`` and ``filter``); it returns a scalar that weighs every array entry
differently.

Every program comes in two renderings from one tree. The plain one is what zygote
differentiates; in the traced one each branch condition ``c`` reads ``branch(k, c)`` and
each piecewise function (abs, maximum, max) records which piece it took, so that a test can
reject inputs where a finite-difference step would cross from one piece to another.

Arrays are never mutated unless they were made fresh by the statement just before, so a
program never writes into its arguments or into an array another name still holds.
"""
import functools
import importlib.util
import itertools
import os
import sys
from pathlib import Path

import numpy as np
from hypothesis import strategies as st

SIZE = 3
WEIGHTS = "np.array([0.7, 1.3, 0.9])"
CONSTANTS = [0.5, 1.5, -0.7, 2.0, 0.3, -1.2]
HEADER = (
    "import math\n\nimport numpy as np\n\n\n"
    "class Vec:\n"
    "    __array_ufunc__ = None  # an array on the left defers to Vec's reflected methods\n\n"
    "    def __init__(self, a, b):\n"
    "        self.a = a\n"
    "        self.b = b\n\n"
    "    def __add__(self, other):\n"
    "        if isinstance(other, Vec):\n"
    "            return Vec(self.a + other.a, self.b + other.b)\n"
    "        return Vec(self.a + other, self.b + other)\n\n"
    "    __radd__ = __add__\n\n"
    "    def __sub__(self, other):\n"
    "        return self + (-other)\n\n"
    "    def __rsub__(self, other):\n"
    "        return (-self) + other\n\n"
    "    def __mul__(self, s):\n"
    "        if isinstance(s, Vec):\n"
    "            return NotImplemented\n"
    "        return Vec(self.a * s, self.b * s)\n\n"
    "    def __rmul__(self, s):\n"
    "        return Vec(s * self.a, s * self.b)\n\n"
    "    def __neg__(self):\n"
    "        return Vec(-self.a, -self.b)\n\n"
    "    def __truediv__(self, s):\n"
    "        return Vec(self.a / (1.0 + s * s), self.b / (1.0 + s * s))\n\n"
    "    def scale(self, s):\n"
    "        self.a = self.a * s\n"
    "        self.b = self.b + s\n\n"
    f"    def total(self):\n"
    f"        return np.sum(self.a * {WEIGHTS}) + 0.5 * np.sum(self.b * {WEIGHTS})\n"
)
TRACE_HEADER = (
    "\n\nTRACE = []\n\n\n"
    "def branch(k, taken):\n"
    "    TRACE.append((k, bool(taken)))\n"
    "    return taken\n\n\n"
    "def kink(k, switch, value):\n"
    "    TRACE.append((k, tuple(np.sign(np.ravel(switch)))))\n"
    "    return value\n"
)

# -- the tree ---------------------------------------------------------------------------------
# An expression is an ``Expr``: a template of strings and sub-expressions, and its kind. A
# kind is a frozenset: ``{"A"}`` is an array, ``{}`` a scalar, and inside a helper ``{"p"}``
# is "an array when the parameter p is one".

SCALAR = frozenset()
ARRAY = frozenset({"A"})


def is_array(kind):
    return "A" in kind


class Expr:
    """Source text with holes: ``parts`` mixes strings and sub-expressions (``Expr``, ``Cond``, ``Kink``)."""

    def __init__(self, kind, *parts, fresh=True):
        self.kind = kind
        self.parts = parts
        self.fresh = fresh  # evaluates to a new object (safe to mutate in place)

    def render(self, traced):
        return "".join(p if isinstance(p, str) else p.render(traced) for p in self.parts)


class Cond:
    """A comparison ``left op right`` of scalars; traced, it reads ``branch(k, left op right)``."""

    def __init__(self, index, left, op, right):
        self.index, self.left, self.op, self.right = index, left, op, right

    def render(self, traced):
        text = f"{self.left.render(traced)} {self.op} {self.right.render(traced)}"
        return f"branch({self.index}, {text})" if traced else text


class Kink:
    """A piecewise function (abs, maximum, max); traced, it records the sign pattern of ``switch``.

    ``switch`` is the expression whose sign chooses the piece: ``e - 0.25`` for ``abs(e - 0.25)``,
    ``a - b`` for ``np.maximum(a, b)``, ``v - np.max(v)`` for ``np.max(v)``.
    """

    def __init__(self, index, switch, plain):
        self.index, self.switch, self.plain = index, switch, plain

    def render(self, traced):
        if traced:
            return f"kink({self.index}, {self.switch.render(traced)}, {self.plain.render(traced)})"
        return self.plain.render(traced)


class Line:
    def __init__(self, indent, *parts):
        self.indent = indent
        self.parts = parts

    def render(self, traced):
        body = "".join(p if isinstance(p, str) else p.render(traced) for p in self.parts)
        return "    " * self.indent + body


class Program:
    """A generated module and the arguments ``fuzzed`` is called with."""

    def __init__(self, lines, args, language=True):
        self.lines = lines
        self.args = args
        self.language = language
        self.source = self.render(traced=False)
        self.traced_source = self.render(traced=True)

    def render(self, traced):
        from fuzz_language import HELPERS, TRACED_HELPERS
        body = "\n".join(line.render(traced) if isinstance(line, Line) else line for line in self.lines)
        if not self.language:
            HELPERS, TRACED_HELPERS = "", ""
        return HEADER + HELPERS + (TRACE_HEADER + TRACED_HELPERS if traced else "") + body + "\n"

    def args_source(self):
        """The arguments as Python source that rebuilds them exactly (numpy's repr rounds)."""
        parts = [f"np.array({a.tolist()!r})" if isinstance(a, np.ndarray) else repr(a) for a in self.args]
        return f"({', '.join(parts)})"

    def __repr__(self):
        return f"Program(args={self.args_source()}, source=\n{self.source})"


# -- drawing --------------------------------------------------------------------------------


class Drawer:
    """Draws through hypothesis with a few cached strategies (building strategies is slow)."""

    def __init__(self, draw):
        self.draw = draw

    def integer(self, low, high):
        return self.draw(_integers(low, high))

    def boolean(self):
        return self.integer(0, 1) == 1

    def choice(self, options):
        return options[self.integer(0, len(options) - 1)]


@functools.lru_cache(maxsize=None)
def _integers(low, high):
    return st.integers(low, high)


# -- scopes -----------------------------------------------------------------------------------


class Scope:
    """Variables in reach and their kinds, and which of them a block may rebind.

    Inside a block (an ``if`` branch or a loop body) a variable from outside keeps its kind,
    so that after the block, and in the next iteration, its kind does not depend on the path
    taken; names first bound in a block are forgotten after it.
    """

    def __init__(self, kinds, helper_kinds=None, in_helper=False):
        self.kinds = dict(kinds)
        self.helper_kinds = helper_kinds
        self.in_helper = in_helper
        self.loop_vars = []  # names a for loop binds: read-only in its body
        self.index_vars = []  # the int ones among them
        self.outer = set()  # names bound outside the current block
        self.counter = itertools.count()
        self.language = True  # draw the statements of fuzz_language too

    def child(self):
        inner = Scope(self.kinds, self.helper_kinds, self.in_helper)
        inner.language = self.language
        inner.loop_vars = list(self.loop_vars)
        inner.index_vars = list(self.index_vars)
        inner.outer = set(self.kinds)
        inner.counter = self.counter
        return inner

    def names(self, kind=None):
        return sorted(n for n, k in self.kinds.items() if kind is None or k == kind)

    def writable(self, kind):
        """Names a value of ``kind`` may be assigned to here (loop indices are read-only)."""
        return [n for n in self.names() if n not in self.loop_vars
                and (n not in self.outer or self.kinds[n] == kind)]

    def bind(self, name, kind):
        assert name not in self.outer or self.kinds[name] == kind, f"{name} changes kind in a block"
        self.kinds[name] = kind

    def new_name(self, prefix="t"):
        return f"{prefix}{next(self.counter)}"


# -- expressions ------------------------------------------------------------------------------

SMOOTH = ["sin", "cos", "tanh", "exp_tanh", "log_square", "sqrt_square"]


def maybe_array(kind):
    """Whether a value of ``kind`` may be an array (in a helper, it depends on the arguments)."""
    return bool(kind)


def as_kind(e, kind):
    """``e`` made a scalar (``np.sum``) or an array (times ``np.ones``) to match ``kind``."""
    if is_array(kind) and not is_array(e.kind):
        return Expr(ARRAY, "(", e, f" * np.ones({SIZE}))")
    if not maybe_array(kind) and maybe_array(e.kind):
        return Expr(SCALAR, "np.sum(", e, ")")
    return e


def fresh(e):
    """``e``, or ``1.0 * e`` when ``e`` may evaluate to an object that another name holds."""
    return e if e.fresh else Expr(e.kind, "(1.0 * ", e, ")")


def smooth(module, name, e):
    """``module.name`` applied to ``e``, its argument kept where the function is smooth and finite."""
    if name == "exp_tanh":
        return Expr(e.kind, f"{module}.exp({module}.tanh(", e, "))")
    if name == "log_square":
        return Expr(e.kind, f"{module}.log(1 + ", e, " * ", e, ")")
    if name == "sqrt_square":
        return Expr(e.kind, f"{module}.sqrt(1 + ", e, " * ", e, ")")
    return Expr(e.kind, f"{module}.{name}(", e, ")")


def index_text(d, scope):
    if scope.index_vars and d.boolean():
        return f"{scope.index_vars[-1]} % {SIZE}"
    return str(d.integer(-SIZE, SIZE - 1))


def atoms(d, scope):
    """A variable, a constant, an entry or a reduction of an array, or a loop index."""
    arrays = [n for n, k in scope.kinds.items() if is_array(k)]
    choices = ["const", "var", "var", "var"]
    if arrays:
        choices += ["entry", "reduce"]
    if scope.index_vars:
        choices.append("loop")
    choice = d.choice(choices)
    if choice == "const":
        return Expr(SCALAR, repr(d.choice(CONSTANTS)), fresh=False)
    if choice == "var":
        name = d.choice(scope.names())
        return Expr(scope.kinds[name], name, fresh=False)
    name = d.choice(sorted(arrays)) if arrays else None
    if choice == "entry":
        return Expr(SCALAR, f"{name}[{index_text(d, scope)}]", fresh=False)
    if choice == "reduce":
        reduction = d.choice(["sum", "mean", "max"])
        plain = Expr(SCALAR, f"np.{reduction}({name})")
        if reduction == "max":
            return Expr(SCALAR, Kink(next(scope.counter), Expr(ARRAY, f"{name} - np.max({name})"), plain))
        return plain
    return Expr(SCALAR, f"({d.choice(scope.index_vars)} + 1)", fresh=False)


def expressions(d, scope, depth=2):
    """An expression over the variables in ``scope``, at most ``depth`` operators deep."""
    if depth == 0 or d.integer(0, 3) == 0:
        return atoms(d, scope)

    def sub():
        return expressions(d, scope, depth - 1)

    choices = ["binop", "binop", "binop", "divide", "power", "negate", "smooth", "smooth", "abs", "maximum"]
    if not scope.in_helper:
        choices += ["call", "call", "pair_part", "ifexp", "vector", "matmul", "reverse"]
    choice = d.choice(choices)
    if choice == "binop":
        a, b = sub(), sub()
        return Expr(a.kind | b.kind, "(", a, f" {d.choice(['+', '-', '*'])} ", b, ")")
    if choice == "divide":
        a, b = sub(), sub()
        return Expr(a.kind | b.kind, "(", a, " / (1 + ", b, " * ", b, "))")
    if choice == "power":
        a = sub()
        return Expr(a.kind, "(", a, f" ** {d.choice([2, 3])})")
    if choice == "negate":
        a = sub()
        return Expr(a.kind, "(-", a, ")")
    if choice == "smooth":
        a = sub()
        module = "np" if maybe_array(a.kind) else d.choice(["np", "math"])
        return smooth(module, d.choice(SMOOTH), a)
    if choice == "abs":
        # abs(e - 0.25): its kink is away from the zeros that shrinking likes
        a = sub()
        switch = Expr(a.kind, "(", a, " - 0.25)")
        spellings = ["np.abs"]
        if not scope.in_helper:
            spellings.append("abs")
            if not maybe_array(a.kind):
                spellings.append("math.fabs")
        plain = Expr(a.kind, f"{d.choice(spellings)}(", switch, ")")
        return Expr(a.kind, Kink(next(scope.counter), switch, plain))
    if choice == "maximum":
        a, b = sub(), sub()
        plain = Expr(a.kind | b.kind, "np.maximum(", a, ", ", b, ")")
        return Expr(a.kind | b.kind, Kink(next(scope.counter), Expr(a.kind | b.kind, "(", a, " - ", b, ")"), plain))
    if choice == "call":
        a, b = sub(), sub()
        kind = call_kind(scope.helper_kinds["helper"], a.kind, b.kind)
        if d.boolean():
            return Expr(kind, "helper(", a, ", ", b, ")")
        return Expr(kind, "helper(", a, ", q=", b, ")")
    if choice == "pair_part":
        a, b = sub(), sub()
        k = d.integer(0, 1)
        return Expr(call_kind(scope.helper_kinds["pair"][k], a.kind, b.kind), "pair(", a, ", ", b, f")[{k}]")
    if choice == "ifexp":
        a, b = sub(), sub()
        kind = a.kind | b.kind
        return Expr(kind, "(", as_kind(a, kind), " if ", conditions(d, scope), " else ", as_kind(b, kind), ")",
                    fresh=a.fresh and b.fresh)
    if choice == "vector":
        parts = [as_kind(sub(), SCALAR) for _ in range(SIZE)]
        return Expr(ARRAY, "np.array([", parts[0], ", ", parts[1], ", ", parts[2], "])")
    if choice == "matmul":
        a, b = as_kind(sub(), ARRAY), as_kind(sub(), ARRAY)
        return Expr(SCALAR, "(", a, " @ ", b, ")")
    a = as_kind(sub(), ARRAY)
    if d.boolean():
        return Expr(ARRAY, "(", a, ")[::-1]", fresh=False)  # a view
    return Expr(ARRAY, "(", a, ")[[2, 0, 1]]")


def conditions(d, scope):
    left = as_kind(expressions(d, scope, 1), SCALAR)
    right = as_kind(expressions(d, scope, 1), SCALAR)
    return Cond(next(scope.counter), left, d.choice([">", "<"]), right)


def call_kind(template, kind_p, kind_q):
    """The kind of a helper's result, from its kind template and the kinds of its arguments."""
    array = "A" in template or ("p" in template and is_array(kind_p)) or ("q" in template and is_array(kind_q))
    return ARRAY if array else SCALAR


# -- statements -------------------------------------------------------------------------------
# A statement is a list of ``Line``s; blocks are lists of statements, so that a loop's
# ``break`` can be put between two of its statements.


def flat(block):
    return [line for stmt in block for line in stmt]


def blocks(d, scope, indent, most):
    return [statement(d, scope, indent) for _ in range(d.integer(1, most))]


def target(d, scope, kind, taken=()):
    """A name to bind a value of ``kind`` to: an existing one that may take it, or a new one."""
    names = [n for n in scope.writable(kind) if n not in taken]
    if names and d.boolean():
        return d.choice(names)
    return scope.new_name()


def rebound(scope, name, e):
    """``e`` coerced to the kind ``name`` must keep in this block."""
    return as_kind(e, scope.kinds[name]) if name in scope.outer else e


def assign(d, scope, indent):
    e = expressions(d, scope)
    name = target(d, scope, e.kind)
    e = rebound(scope, name, fresh(e))
    scope.bind(name, e.kind)
    return [Line(indent, f"{name} = ", e)]


def statement(d, scope, indent):
    from fuzz_language import COMPOUND, STATEMENTS  # the rest of the language (it builds on this module)
    choices = ["assign", "assign", "assign", "augment", "tuple", "swap", "pair", "setitem", "return", "listsum", "object"]
    extra = sorted(STATEMENTS) if scope.language else []
    choices += [name for name in extra if name not in COMPOUND]
    if indent < 3:
        choices += ["if", "for", "for", "while"] + [name for name in extra if name in COMPOUND]
    choice = d.choice(choices)
    if choice in STATEMENTS:
        return STATEMENTS[choice](d, scope, indent)
    if choice == "assign":
        return assign(d, scope, indent)
    if choice == "augment":
        scalars = [n for n in scope.writable(SCALAR) if scope.kinds[n] == SCALAR]
        if not scalars:
            return assign(d, scope, indent)
        e = as_kind(expressions(d, scope), SCALAR)
        return [Line(indent, f"{d.choice(scalars)} {d.choice(['+=', '-=', '*='])} ", e)]
    if choice == "tuple":
        a, b = expressions(d, scope), expressions(d, scope)
        first = target(d, scope, a.kind)
        second = target(d, scope, b.kind, taken=(first,))
        a, b = rebound(scope, first, fresh(a)), rebound(scope, second, fresh(b))
        scope.bind(first, a.kind)
        scope.bind(second, b.kind)
        return [Line(indent, f"{first}, {second} = ", a, ", ", b)]
    if choice == "swap":
        names = [n for n in scope.names() if n not in scope.loop_vars]
        pairs = [(m, n) for m in names for n in names if m < n
                 and (scope.kinds[m] == scope.kinds[n] or (m not in scope.outer and n not in scope.outer))]
        if not pairs:
            return assign(d, scope, indent)
        m, n = d.choice(pairs)
        scope.kinds[m], scope.kinds[n] = scope.kinds[n], scope.kinds[m]
        return [Line(indent, f"{m}, {n} = {n}, {m}")]
    if choice == "pair":
        a, b = expressions(d, scope, 1), expressions(d, scope, 1)
        kinds = [call_kind(scope.helper_kinds["pair"][k], a.kind, b.kind) for k in (0, 1)]
        first = target(d, scope, kinds[0])
        second = target(d, scope, kinds[1], taken=(first,))
        scope.bind(first, kinds[0])
        scope.bind(second, kinds[1])
        return [Line(indent, f"{first}, {second} = pair(", a, ", ", b, ")")]
    if choice == "setitem":
        # a fresh array, then a write into it: into one entry, or in place into all of it
        e = fresh(as_kind(expressions(d, scope), ARRAY))
        name = target(d, scope, ARRAY)
        scope.bind(name, ARRAY)
        if d.integer(0, 2) == 0:
            write = Line(indent, f"{name} {d.choice(['+=', '-=', '*='])} ", expressions(d, scope, 1))
        else:
            value = as_kind(expressions(d, scope, 1), SCALAR)
            write = Line(indent, f"{name}[{index_text(d, scope)}] {d.choice(['=', '+=', '*='])} ",
                         value)
        return [Line(indent, f"{name} = ", e), write]
    if choice == "return":
        # an early return of a scalar: weighted like the final one
        e = expressions(d, scope, 1)
        value = Expr(SCALAR, "np.sum(", e, f" * {WEIGHTS})") if is_array(e.kind) else e
        return [Line(indent, "if ", conditions(d, scope), ":"), Line(indent + 1, "return ", value)]
    if choice == "if":
        lines = [Line(indent, "if ", conditions(d, scope), ":")]
        lines += flat(blocks(d, scope.child(), indent + 1, 2))
        if d.boolean():
            lines.append(Line(indent, "elif ", conditions(d, scope), ":"))
            lines += flat(blocks(d, scope.child(), indent + 1, 2))
        if d.boolean():
            lines.append(Line(indent, "else:"))
            lines += flat(blocks(d, scope.child(), indent + 1, 2))
        return lines
    if choice == "for":
        inner = scope.child()
        header = Line(indent, loop_header(d, scope, inner))
        size = d.integer(1, 3)
        jump = d.choice([None, None, "break", "continue"])
        at = d.integer(0, size) if jump else -1
        body = []
        for k in range(size + 1):
            if k == at:  # its condition reads only names bound before it
                body.append([Line(indent + 1, "if ", conditions(d, inner), ":"), Line(indent + 2, jump)])
            if k < size:
                body.append(statement(d, inner, indent + 1))
        return [header] + flat(body)
    if choice == "object":
        return vector_statements(d, scope, indent)
    if choice == "listsum":
        # a list filled by append in a loop, then summed
        items, inner = scope.new_name("l"), scope.child()
        header = loop_header(d, scope, inner)
        e = expressions(d, inner, 1)
        name = target(d, scope, e.kind)
        e = rebound(scope, name, e)
        scope.bind(name, e.kind)
        return [Line(indent, f"{items} = []"), Line(indent, header),
                Line(indent + 1, f"{items}.append(", e, ")"), Line(indent, f"{name} = sum({items})")]
    # a counted while loop that may also stop early on a data-dependent condition
    counter = scope.new_name("n")
    inner = scope.child()
    lines = [Line(indent, f"{counter} = 0"),
             Line(indent, f"while {counter} < {d.integer(1, 4)} and ", conditions(d, inner), ":")]
    lines += flat(blocks(d, inner, indent + 1, 2))
    lines.append(Line(indent + 1, f"{counter} += 1"))
    return lines


def vector_statements(d, scope, indent):
    """A ``Vec`` built from two expressions, combined by its operator methods (with numbers,
    arrays and another ``Vec``, either side, in place too), maybe changed by a method that
    writes its attributes, and reduced to a scalar by ``total()``."""
    vec = scope.new_name("o")
    lines = [Line(indent, f"{vec} = Vec(", expressions(d, scope, 1), ", ", expressions(d, scope, 1), ")")]
    for _ in range(d.integer(1, 3)):
        form = d.choice(["add", "radd", "sub", "rsub", "mul", "rmul", "neg", "div", "iadd", "scale"])
        e = expressions(d, scope, 1)
        if form == "add":
            lines.append(Line(indent, f"{vec} = {vec} + Vec(", e, ", ", expressions(d, scope, 1), ")"))
        elif form == "radd":
            lines.append(Line(indent, f"{vec} = ", e, f" + {vec}"))
        elif form == "sub":
            lines.append(Line(indent, f"{vec} = {vec} - ", e))
        elif form == "rsub":
            lines.append(Line(indent, f"{vec} = ", e, f" - {vec}"))
        elif form == "mul":
            lines.append(Line(indent, f"{vec} = {vec} * ", e))
        elif form == "rmul":
            lines.append(Line(indent, f"{vec} = ", e, f" * {vec}"))
        elif form == "neg":
            lines.append(Line(indent, f"{vec} = -{vec}"))
        elif form == "div":
            lines.append(Line(indent, f"{vec} = {vec} / ", as_kind(e, SCALAR)))
        elif form == "iadd":
            lines.append(Line(indent, f"{vec} += ", e))
        else:
            lines.append(Line(indent, f"{vec}.scale(", e, ")"))
    name = target(d, scope, SCALAR)
    scope.bind(name, SCALAR)
    lines.append(Line(indent, f"{name} = {vec}.total()"))
    return lines


def loop_header(d, scope, inner):
    """``for ... in ...:`` over a range, an array, ``enumerate`` or ``zip`` of arrays; binds in ``inner``."""
    arrays = sorted(n for n, k in scope.kinds.items() if is_array(k))
    form = d.choice(["range", "range", "elements", "enumerate", "zip"] if arrays else ["range"])
    index = "ijk"[len(scope.index_vars)]
    value, other = scope.new_name("v"), scope.new_name("v")
    if form in ("range", "enumerate"):
        inner.loop_vars.append(index)
        inner.index_vars.append(index)
        inner.kinds[index] = SCALAR
    for name in {"range": [], "elements": [value], "enumerate": [value], "zip": [value, other]}[form]:
        inner.loop_vars.append(name)
        inner.kinds[name] = SCALAR
    if form == "range":
        return f"for {index} in range({d.integer(1, 4)}):"
    if form == "elements":
        return f"for {value} in {d.choice(arrays)}:"
    if form == "enumerate":
        return f"for {index}, {value} in enumerate({d.choice(arrays)}):"
    return f"for {value}, {other} in zip({d.choice(arrays)}, {d.choice(arrays)}):"


# -- helpers and programs ---------------------------------------------------------------------


def helper_scope():
    return Scope({"p": frozenset({"p"}), "q": frozenset({"q"})}, in_helper=True)


def helpers(d):
    """``helper(p, q)`` (one value) and ``pair(p, q)`` (two), and the kinds of their results.

    Helpers are called with floats and arrays alike, so their kinds are templates over ``p``
    and ``q``; an ``if`` in ``helper`` updates ``r`` in a way that keeps its kind.
    """
    scope = helper_scope()
    first = fresh(expressions(d, scope, 2))
    scope.kinds["r"] = first.kind
    lines = ["", "", "def helper(p, q):", Line(1, "r = ", first)]
    if d.boolean():
        update = expressions(d, scope, 1)
        if not update.kind <= first.kind:
            update = Expr(SCALAR, "np.sum(", update, ")")
        op = d.choice(["+", "-", "*"])
        lines += [Line(1, "if ", conditions(d, scope), ":"), Line(2, f"r = r {op} ", update)]
    result = fresh(expressions(d, scope, 2))
    lines.append(Line(1, "return ", result))
    scope = helper_scope()
    a, b = fresh(expressions(d, scope, 2)), fresh(expressions(d, scope, 2))
    lines += ["", "", "def pair(p, q):", Line(1, "return ", a, ", ", b)]
    return lines, {"helper": result.kind, "pair": (a.kind, b.kind)}


ELEMENT = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
VALUES = {
    SCALAR: ELEMENT,
    ARRAY: st.lists(ELEMENT, min_size=SIZE, max_size=SIZE).map(lambda v: np.array(v, dtype=np.float64)),
}


def values(kind):
    return VALUES[kind]


@st.composite
def programs(draw, language=True):
    """A ``Program``: the helpers, ``fuzzed(x, y)``, and float64 arguments for it; with
    ``language=False``, without the statements of ``fuzz_language``."""
    d = Drawer(draw)
    helper_lines, helper_kinds = helpers(d)
    kinds = {"x": d.choice([SCALAR, ARRAY]), "y": d.choice([SCALAR, ARRAY])}
    scope = Scope(kinds, helper_kinds)
    scope.language = language
    body = flat(blocks(d, scope, 1, 6))
    live = [n for n in scope.names() if n not in ("x", "y")] or ["x"]
    terms = []
    for k in range(d.integer(1, min(3, len(live)))):
        name = live.pop(d.integer(0, len(live) - 1))
        weight = f"{0.5 + 0.3 * k:.1f} * " if k else ""
        value = f"np.sum({name} * {WEIGHTS})" if is_array(scope.kinds[name]) else name
        terms.append(weight + value)
    lines = helper_lines + ["", "", "def fuzzed(x, y):"] + body + [Line(1, "return " + " + ".join(terms))]
    return Program(lines, (draw(values(kinds["x"])), draw(values(kinds["y"]))), language)


# -- loading ----------------------------------------------------------------------------------

_loaded = itertools.count()


def load(source, directory, stem="fuzzed"):
    """Write ``source`` to a new file in ``directory`` and import it as a new module."""
    name = f"{stem}_{os.getpid()}_{next(_loaded)}"
    path = Path(directory) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module
