"""Random programs of closures for fuzzing late binding: a hypothesis strategy and its rendering.

``closure_programs()`` draws the source of a module defining ``fuzzed(x, y)`` and values for
``x`` and ``y`` (each a float or an array of shape (3,)). ``fuzzed`` rebinds a variable ``a``
that closures read, defines closures (``def`` or ``lambda``, some calling another closure),
calls them directly, through a helper (``apply``), or after a loop, and calls a closure that
another function (``make``) returned after rebinding the variable it reads, and, rarely, keep
one in a list or have a call hand it back (which zygote refuses when the variable changes
afterwards);
statements may sit in a ``for`` loop. Where the definition, the rebindings and the calls fall is drawn, so each
call reads whichever value the cell holds at that moment, as Python's late binding says.
Every function is smooth, so central differences can check every gradient.
"""
from hypothesis import strategies as st

WEIGHTS = "np.array([0.7, 1.3, 0.9])"

HEADER = '''import numpy as np


def apply(g, v):
    return g(v)


def identity(g):
    return g


def make(v):
    b = v * 0.5
    def inner(t):
        return b * t + v
{make_rebind}    return inner

'''

REBINDS = ["a = a * 0.9 + x", "a = np.sin(a) + y", "a = 0.5 * a * x", "a = np.cos(a + y)",
           "a = x * y - a"]
BODIES = ["a * t", "np.sin(a) * t + x", "a * a * 0.5 + t", "np.cos(t - a) * y"]
MAKE_REBINDS = ["", "    b = b * v\n", "    b = np.sin(b) + 1.0\n"]


@st.composite
def closure_programs(draw):
    """``(source, x, y)``: a module's source and the two arguments of its ``fuzzed``."""
    lines = ["def fuzzed(x, y):", "    total = 0.0 * x", "    a = x * 1.5"]
    defined, handed = [], []  # closures, and closures a call handed back

    def statement(indent, in_loop):
        pad = " " * indent
        options = ["rebind", "define", "lambda"]
        if defined:
            options += ["call", "call", "apply", "nested"]
        options.append("make")
        if defined and draw(st.integers(0, 9)) == 0:
            # rare: refused when the variable changes after the closure is kept or handed back
            options += ["keep", "hand back"]
        if not in_loop:
            options.append("loop")
        kind = draw(st.sampled_from(options))
        if kind == "rebind":
            return [pad + draw(st.sampled_from(REBINDS))]
        if kind in ("define", "lambda", "nested"):
            name = f"c{len(defined)}"
            body = draw(st.sampled_from(BODIES))
            if kind == "nested":
                body = f"{draw(st.sampled_from(defined))}(t) * a"
            defined.append(name)
            if kind == "lambda":
                return [f"{pad}{name} = lambda t: {body}"]
            return [f"{pad}def {name}(t):", f"{pad}    return {body}"]
        if kind == "call":
            closure = draw(st.sampled_from(defined + handed))
            arg = draw(st.sampled_from(["x", "y", "a"]))
            return [f"{pad}total = total + {closure}({arg})"]
        if kind == "apply":
            return [f"{pad}total = total + apply({draw(st.sampled_from(defined))}, y)"]
        if kind == "hand back":
            handed.append(f"held{len(handed)}")
            return [f"{pad}{handed[-1]} = identity({draw(st.sampled_from(defined))})"]
        if kind == "keep":
            return [f"{pad}kept = [{draw(st.sampled_from(defined))}]",
                    f"{pad}total = total + kept[0](y)"]
        if kind == "make":
            return [f"{pad}made = make({draw(st.sampled_from(['x', 'a']))})",
                    f"{pad}total = total + made(y)"]
        body = [f"{pad}for i in range({draw(st.integers(1, 3))}):"]
        for _ in range(draw(st.integers(1, 3))):
            body += statement(indent + 4, True)
        return body

    for _ in range(draw(st.integers(2, 7))):
        lines += statement(4, False)
    if defined:
        lines.append(f"    total = total + {defined[-1]}(x)")  # after every rebinding
    lines.append(f"    return np.sum(total * {WEIGHTS})")
    header = HEADER.format(make_rebind=draw(st.sampled_from(MAKE_REBINDS)))
    source = header + "\n" + "\n".join(lines) + "\n"
    x, y = (draw(st.one_of(
        st.floats(-1.5, 1.5),
        st.lists(st.floats(-1.5, 1.5), min_size=3, max_size=3).map(_array))) for _ in range(2))
    return source, x, y


def _array(values):
    import numpy as np
    return np.array(values, dtype=np.float64)
