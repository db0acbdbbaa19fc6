"""Which names of a generated function hold real numbers (zygote.compiler.reals)."""
import builtins
import math

import pytest

from zygote import nodes
from zygote.compiler.reals import real_names

KNOWN = {("math", ()): math, ("math", ("sin",)): math.sin, ("range", ()): builtins.range,
         ("abs", ()): builtins.abs}


def reals(source, params=("x",)):
    (tree,) = nodes.quote(source)
    return real_names(tree, set(params), KNOWN.get)


@pytest.mark.parametrize("source, real, unknown", [
    ("def f(x):\n    y = math.sin(x) * 2.0 - x / 3\n    return y", {"y"}, set()),
    ("def f(x):\n    y = x ** 2\n    z = x ** 0.5\n    return y + z", {"y"}, {"z"}),
    ("def f(x):\n    y = x if x > 0 else x * 1j\n    return y", set(), {"y"}),
    ("def f(x):\n    s = x\n    for i in range(3):\n        s = s * i + abs(s)\n    return s", {"s", "i"}, set()),
    ("def f(x):\n    s = x\n    for i in range(3):\n        s = s * 1j\n    return s", {"i"}, {"s"}),
    ("def f(x):\n    a, b = x, x\n    return a", set(), {"a", "b"}),
    ("def f(x):\n    y = g(x)\n    return y", set(), {"y"}),
    ("def f(x):\n    s = []\n    s.append(x)\n    y = s.pop()\n    return y", {"y"}, {"s"}),
    ("def f(x):\n    s = []\n    s.append(x)\n    t = s\n    t.insert(0, 1j)\n    y = s.pop()\n    return y",
     set(), {"y", "t", "s"}),
    ("def f(x):\n    s = []\n    s.append(x)\n    s[0] = 1j\n    y = s.pop()\n    return y", set(), {"y"}),
    ("def f(x):\n    s = []\n    s.append(x * 1j)\n    y = s.pop()\n    return y", set(), {"y"}),
])
def test_real_names(source, real, unknown):
    found = reals(source)
    assert real <= found
    assert not (unknown & found)


def test_a_parameter_not_known_real_and_a_nested_scope():
    assert "x" not in reals("def f(x, y):\n    z = y * 2.0\n    return z", params=("y",))
    assert reals("def f(x):\n    g = lambda t: t * 1j\n    y = x * 2.0\n    return y") == set()
