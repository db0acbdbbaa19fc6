"""The lifter construct by construct: bytecode in, syntax tree out, verified, and its errors.

Each case is compiled from text under a file name that has no source, lifted, and compared
with the syntax tree of its text (both rendered by ``ast.unparse``). Where the compiler
makes two spellings into one bytecode (``elif`` after a branch that jumps away and ``if``),
the case gives the spelling the lifter reads back. Differentiable cases are also checked against central
differences.
"""
import ast
import math
import sys
import textwrap

import gast
import numpy as np
import pytest

import zygote
from zygote import nodes
from zygote.errors import SourceUnavailableError
from zygote.compiler import parse
from zygote.lift import expressions, instructions, lift_function, verify
from zygote.testing import check_grad

NO_TEXT = "<no source>"


def define(source, name="f", namespace=None):
    namespace = {"np": np, "math": __import__("math"), **(namespace or {})}
    exec(compile(textwrap.dedent(source), NO_TEXT, "exec"), namespace)
    return namespace[name]


def text(tree):
    return ast.unparse(nodes.to_ast(tree))


# name: (source, what the lifter reads back: None for the source itself, a text, or (old, new)
# replacements in the source; arguments to check the gradient at, or None)
CASES = {
    "while with continue and break": ("""
        def f(x, n):
            total = 0.0
            i = 0
            while i < n:
                i += 1
                if i % 2 == 0:
                    continue
                elif i > 7:
                    break
                total = total + x ** i
            return total
        """, [("elif i > 7", "if i > 7")], (0.7, 10)),
    "break as the last statement of a while": ("""
        def f(x):
            while x > 1:
                x = x / 2
                if x < 3:
                    break
            return x
        """, None, (40.0,)),
    "break inside an elif inside a for": ("""
        def f(x, n):
            for i in range(n):
                if i == 0:
                    x = x * 2
                elif i > 3:
                    break
                else:
                    x = x * x + 1
            return x
        """, """
        def f(x, n):
            for i in range(n):
                if i == 0:
                    x = x * 2
                    continue
                if i > 3:
                    break
                x = x * x + 1
            return x
        """, (0.3, 6)),
    "dead code after continue is gone": ("""
        def f(x):
            for i in range(3):
                x = x + math.sin(x)
                continue
                x = x * 100
            return x
        """, """
        def f(x):
            for i in range(3):
                x = x + math.sin(x)
            return x
        """, (0.4,)),
    "return inside nested loops": ("""
        def f(x, ys):
            for y in ys:
                for k in range(3):
                    if x * y > k:
                        return x * y * k
            return x
        """, None, (0.9, [0.5, 2.0])),
    "and, or and not in tests": ("""
        def f(x, y):
            if (x > 0 and y > 0) or not x < -1:
                z = x * y
            elif x is None or y > 2 and x < 3:
                z = x
            else:
                z = y
            while x < 5 and (y > 0 or x < 0):
                x = x + 1.5
            return z + x
        """, None, (0.6, 1.5)),
    "values of and, or and conditional expressions": ("""
        def f(x, y):
            z = x > 0 and y or 3.0
            w = x or y
            return (z if w else x) + (x if (x and y) else y * y)
        """, None, (0.5, 1.5)),
    "conditional expressions inside tests and inside each other": ("""
        def f(x, y):
            n = 0
            while n < 2 and (x if y > 2 else y) > -3.0:
                n += 1
                x = (y * x if x < 0.5 else 0.3 * x) if y ** 2 < 4.0 else x
            return x
        """, None, (0.7, 1.5)),
    "chained comparisons": ("""
        def f(x):
            inside = 0 < x <= 2
            if not -5.0 <= x < 5.0:
                raise ValueError(x)
            if -1.0 < x < 1.0 < 2.0:
                return x * x
            return x * float(inside)
        """, None, (0.5,)),
    "a test that jumps to two copies of the implicit return": ("""
        def f(x, table):
            if x is not None and x in table:
                table[x] = 1.0
        """, None, None),
    "assignments": ("""
        def f(a, x):
            a = list(a)
            b = c = x * 2
            p, (q, r) = x, (x + 1, a[0])
            first, *rest = a
            a[1] += x
            a[0], a[2] = a[2], a[0]
            q, r = r, q
            return b + c + p * q + r * first + a[0] * a[1] + sum(rest)
        """, None, ([1.0, 2.0, 3.0], 0.5)),
    "calls, keywords, slices and displays": ("""
        def f(x, w):
            s = np.sum(x[1:, ::2] * w[None, :2], axis=0, keepdims=True)
            parts = [1.0, 2.0, x[0, 0]]
            table = {"a": x[0, 1], "b": 2.0}
            args = (x[1, 1], 3.0)
            return float(np.sum(s)) + max(*args) * table["a"] + parts[2] * math.pow(*args)
        """, None, (np.arange(1.0, 7.0).reshape(2, 3) / 4, np.array([0.5, -1.0, 2.0]))),
    "comprehensions, lambdas and closures": ("""
        def f(x, ys):
            scale = 2.0
            squares = [y * x for y in ys if y > 0 if y < 10]
            pairs = [a * b for a in ys for b in squares]
            shift = lambda t, s=1.0: t * scale + s
            def inner(u, *, k=3.0):
                return u * x + k
            return sum(squares) + sum(pairs) + shift(x) + inner(x) + sum(y * scale for y in ys)
        """, [("if y > 0 if y < 10", "if y > 0 and y < 10")], (0.7, [1.0, -2.0, 3.0])),
    "assert, raise and f-strings": ("""
        def f(x):
            assert x > 0, "needs a positive x"
            if x > 100:
                raise ValueError(f"too large: {x!r:>8} of {x:.3f}")
            return x * x
        """, None, (2.0,)),
    "with blocks": ("""
        def f(x):
            with np.errstate(over="ignore") as state:
                y = np.exp(x)
                with np.errstate(divide="ignore"):
                    y = y / (1.0 + x * x)
            if x > 0:
                with np.errstate(all="ignore"):
                    y = y * x
            return y
        """, None, (0.7,)),
    "a global statement": ("""
        def f(x):
            global COUNT
            COUNT = 1
            return x
        """, None, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_lifted_tree_reads_like_the_source(name):
    source, expected, args = CASES[name]
    f = define(source)
    tree = lift_function(f)
    if isinstance(expected, list):
        for old, new in expected:
            assert old in source
            source = source.replace(old, new)
        expected = None
    want = ast.unparse(ast.parse(textwrap.dedent(expected or source)).body[0])
    assert text(tree) == want
    assert verify.difference(tree, f.__code__) is None
    if args is not None:
        check_grad(f, *args)


def test_a_lambda_lifts_to_a_function_returning_its_expression():
    f = define("g = lambda x, y=2.0: x * y if x > 0 else -x", "g")
    tree = lift_function(f)
    assert text(tree) == "def lambda(x, y):\n    return x * y if x > 0 else -x"
    check_grad(f, 1.5)
    check_grad(f, -1.5, 3.0)


def test_statements_keep_their_lines_and_tracebacks_point_at_them():
    f = define("""
        def f(x):
            y = x * 2.0

            return math.log(y)
        """)
    tree = lift_function(f)
    assert [s.lineno for s in tree.body] == [3, 5]
    with pytest.raises(ValueError) as info:
        zygote.gradient(f, -1.0)
    frame = info.traceback[-1]
    assert (frame.path, frame.lineno + 1) == (NO_TEXT, 5)


def test_adjoint_source_of_a_lifted_function_shows_the_recovered_text():
    f = define("""
        def f(x, y):
            z = math.sin(x) * y
            return z + y
        """)
    source = zygote.adjoint_source(f, 0.5, 2.0)
    assert "# line 4: return z + y" in source
    assert "# line 3: z = math.sin(x) * y" in source


# -- what cannot be lifted, and the checks that catch a wrong reading ----------------------


@pytest.mark.parametrize("source, construct, line", [
    ("def f(x):\n    y = x\n    try:\n        y = 1 / x\n    except ZeroDivisionError:\n        pass\n    return y\n",
     "a try statement", 3),
    ("def f(x):\n    y = x\n    del y\n    return x\n", "del", 3),
    ("def f(x):\n    with x:\n        return x\n", "a return or break inside a with statement", 2),
    ("def f(x):\n    return {k: x for k in range(3)}\n", "a dict comprehension", 2),
])
def test_constructs_that_cannot_be_lifted_are_named_with_their_line(source, construct, line):
    f = define(source)
    with pytest.raises(SourceUnavailableError, match=f"{construct} at {NO_TEXT}:{line} could not be rebuilt"):
        zygote.gradient(f, 1.0)


def test_a_wrong_reading_is_caught_by_verification(monkeypatch):
    f = define("def f(x, y):\n    z = x * y\n    return z + y\n")
    monkeypatch.setitem(expressions._BINARY, "+", gast.Sub)  # the lifter now misreads +
    with pytest.raises(SourceUnavailableError, match="a return statement at line 3 compiles differently"):
        lift_function(f)


def test_verification_compares_instructions_not_text():
    f = define("def f(x):\n    return x + 1\n")
    same = gast.ast_to_gast(ast.parse("def f(x):\n    return (x + 1)")).body[0]
    other = gast.ast_to_gast(ast.parse("def f(x):\n    return x + 1.0")).body[0]
    assert verify.difference(same, f.__code__) is None
    assert verify.difference(other, f.__code__) == "a return statement at line 2 compiles differently"


def test_an_unknown_python_version_is_refused_not_guessed(monkeypatch):
    f = define("def f(x):\n    return x * x\n")
    monkeypatch.setattr(instructions, "SUPPORTED", ((3, 99),))
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    with pytest.raises(SourceUnavailableError, match=f"bytecode of Python {version} .the lifter reads Python 3.99."):
        zygote.gradient(f, 2.0)


def test_a_generator_without_source_is_refused_naming_what_cannot_be_lifted():
    f = define("def f(x):\n    yield x\n")
    with pytest.raises(zygote.UnsupportedSyntaxError, match="generator .yield. without source"):
        zygote.gradient(f, 1.0)


def test_a_test_module_rewritten_by_pytest_is_still_read_from_its_source():
    # pytest compiles this module with each assert expanded; the text is checked against
    # the code after the same rewrite, so it is used, not lifted.
    def f(x):
        assert x > 0, "a positive x"
        return x * math.sin(x)

    parsed = parse.parse_function(f)
    assert parsed.lines is None and isinstance(parsed.tree.body[0], gast.Assert)
    check_grad(f, 1.5)
