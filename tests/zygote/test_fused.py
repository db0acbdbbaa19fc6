"""Fused gradients, per-function entry points, copy propagation and planned nested gradients.

These are the fast paths: each must give exactly what the general path gives, and give way
to it (or to a fresh transform) whenever what it assumed stops holding.
"""
import importlib
import math
import types

import gast
import numpy as np
import pytest

import zygote
from zygote import api
from zygote.protocol import TRANSFORMS
from zygote.compiler.codegen import render
from zygote.compiler.fused import fused_gradient
from zygote.compiler.simplify import propagate_copies

from corpus_functions import CORPUS


def numbers_only(args):
    return all(type(a) in (float, int) for a in args)


SCALAR_CORPUS = [pytest.param(f, args, id=name) for name, f, args in CORPUS
                 if numbers_only(args) and name != "accumulator_object"]


@pytest.mark.parametrize("function, args", SCALAR_CORPUS)
def test_fused_gradient_equals_the_pullback(function, args):
    mask = "".join("f" for _ in args)
    expected = zygote.pullback(function, *args)[1](1.0)
    fused = fused_gradient(function, TRANSFORMS.entry_for(function, mask, ""))
    got = fused(*args)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert (g or 0.0) == pytest.approx(e or 0.0, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("function, args", SCALAR_CORPUS[:12])
def test_repeated_gradients_take_the_entry_point_and_agree(function, args):
    first = zygote.gradient(function, *args)
    for _ in range(api._CALLS_BEFORE_ENTRY + 1):
        assert zygote.gradient(function, *args) == first
    assert function in api._HOT or function.__closure__ is not None


def rebound_to_complex(x):
    x = x * (1.0 + 2.0j)
    return (x * x).real + abs(x)


def products_of_a_float(x, y):
    return x * y * x + y ** 3 * x


def complex_by_a_fractional_power(x):
    z = (x - 1.0) ** 0.5  # complex for x < 1
    w = z * z * x
    return abs(w * z) + (w * x).real


def complex_on_one_branch(x, y):
    z = x * y if x > 0.0 else x * 1j
    s = 0.0
    for k in range(3):
        s = s + (z * z).real * k + abs(z) * y
    return s


def loop_of_reals(x, y):
    s = x
    for k in range(4):
        s = s * y + math.sin(s) / (1.0 + k)
    return s ** 2 - x ** 3


@pytest.mark.parametrize("function, args", [(rebound_to_complex, (0.7,)), (products_of_a_float, (0.7, 1.3)),
                                            (products_of_a_float, (2, 1.3)),
                                            (complex_by_a_fractional_power, (0.4,)),
                                            (complex_by_a_fractional_power, (1.7,)),
                                            (complex_on_one_branch, (0.6, 1.2)),
                                            (complex_on_one_branch, (-0.6, 1.2)),
                                            (loop_of_reals, (0.3, 1.1))])
def test_the_entry_point_of_numbers_agrees_with_central_differences(function, args):
    h = 1e-6
    for _ in range(api._CALLS_BEFORE_ENTRY + 2):
        got = zygote.gradient(function, *args)
    assert function in api._HOT
    for i, g in enumerate(got):
        up = list(args)
        down = list(args)
        up[i] = up[i] + h
        down[i] = down[i] - h
        assert g == pytest.approx((function(*up) - function(*down)) / (2 * h), rel=1e-6)


def test_entry_point_gives_way_to_other_argument_types():
    def f(x, y):
        return x * y + math.sin(x)

    for _ in range(3):
        assert zygote.gradient(f, 2.0, 3.0) == pytest.approx((3.0 + math.cos(2.0), 2.0))
    assert zygote.gradient(f, 2, 3.0) == pytest.approx((3.0 + math.cos(2.0), 2.0))
    g = zygote.gradient(f, np.array(2.0), 3.0)
    assert isinstance(g[0], np.ndarray) and g[0] == pytest.approx(3.0 + math.cos(2.0))
    with pytest.raises(TypeError):
        zygote.gradient(f, 2.0)


def test_a_rule_registered_later_takes_over_from_the_entry_point():
    def cube(x):
        return x * x * x

    for _ in range(3):
        assert zygote.gradient(cube, 2.0) == (12.0,)

    @zygote.adjoint(cube)
    def cube_rule(x):
        return x ** 3, lambda dy: (100.0 * dy,)
    try:
        assert zygote.gradient(cube, 2.0) == (100.0,)
    finally:
        del zygote.rules.RULES[cube]


scale = 2.0


def scaled(x):
    return scale * x * x


def test_entry_point_rechecks_the_globals_the_transform_read():
    global scale
    for _ in range(3):
        assert zygote.gradient(scaled, 1.5) == (6.0,)
    scale = 3.0
    try:
        assert zygote.gradient(scaled, 1.5) == (9.0,)
    finally:
        scale = 2.0
    assert zygote.gradient(scaled, 1.5) == (6.0,)


# -- nested gradients planned at transform time ----------------------------------------------


def gaussian(x):
    return math.exp(-x * x / 2.0)


def first(x):
    return zygote.gradient(gaussian, x)[0]


def second(x):
    return zygote.gradient(first, x)[0]


def test_nested_gradient_calls_the_planned_code_directly():
    source = zygote.adjoint_source(first, 0.3)
    assert "gaussian_grad_primal(x)" in source and "call(" not in source
    for x in (-1.2, 0.0, 0.3, 2.0):
        g = gaussian(x)
        assert zygote.gradient(first, x)[0] == pytest.approx((x * x - 1.0) * g, rel=1e-12)
        assert zygote.gradient(second, x)[0] == pytest.approx((3 * x - x ** 3) * g, rel=1e-12, abs=1e-15)


def test_planned_gradient_follows_a_rebinding_of_the_callee():
    global gaussian
    original = gaussian
    assert zygote.gradient(first, 0.5) == pytest.approx(((0.25 - 1.0) * original(0.5),))
    gaussian = lambda x: x ** 3  # noqa: E731
    try:
        assert zygote.gradient(first, 0.5) == pytest.approx((3.0,))
    finally:
        gaussian = original
    assert zygote.gradient(first, 0.5) == pytest.approx(((0.25 - 1.0) * original(0.5),))


def curve_slope(x):
    return zygote.gradient(curve, x)[0]  # noqa: F821 -- set by the test below


def test_planned_gradient_follows_the_callees_module(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.py").write_text("import math\nm = math\n\n\ndef curve(x):\n"
                                           "    return m.sin(x) * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("elsewhere")
    monkeypatch.setitem(globals(), "curve", module.curve)
    x = 0.7
    for _ in range(3):
        assert zygote.gradient(curve_slope, x)[0] == pytest.approx(2 * math.cos(x) - x * math.sin(x))
    # The callee's module now reads cos for sin: the guard of the planned code sees it.
    monkeypatch.setattr(module, "m", types.SimpleNamespace(sin=math.cos))
    assert zygote.gradient(curve_slope, x)[0] == pytest.approx(-2 * math.sin(x) - x * math.cos(x))


def test_nested_gradient_of_several_arguments_and_constants():
    def f(x, y, n):
        return x * y ** 2 + n * x

    def g(x, y):
        dx, dy, dn = zygote.gradient(f, x, y, 3)
        return dx * dy + dn

    x, y = 0.4, 1.3
    # dx = y² + 3, dy = 2xy, dn = x: g = (y² + 3)·2xy + x
    assert zygote.gradient(g, x, y) == pytest.approx((2 * y * (y * y + 3) + 1.0, 2 * x * (3 * y * y + 3)))


# -- copy propagation ------------------------------------------------------------------------


def simplified(source):
    tree = gast.parse(source).body[0]
    return render(propagate_copies(tree)).strip()


def test_copies_are_propagated_within_their_block():
    assert simplified("def f(x):\n    y = x\n    z = y + y\n    return z") == \
        "def f(x):\n    z = x + x\n    return z"


def test_a_copy_whose_source_changes_before_a_read_stays():
    source = "def f(x):\n    y = x\n    x = 2\n    return y"
    assert simplified(source) == source


def test_a_copy_read_by_the_next_loop_iteration_stays():
    source = ("def f(x, n):\n    y = 0\n    for i in range(n):\n        z = y\n"
              "        y = x\n    return y")
    assert "z = y" in simplified(source)
    source = "def f(x, n):\n    for i in range(n):\n        print(y)\n        y = x\n    return 1"
    assert "y = x" in simplified(source)


def test_a_copy_read_after_its_block_stays():
    source = "def f(x, c):\n    if c:\n        y = x\n    else:\n        y = 1\n    return y"
    assert simplified(source).count("y = ") == 2


def test_names_used_in_nested_scopes_are_left_alone():
    source = "def f(x):\n    y = x\n    g = lambda: y\n    return g()"
    assert "y = x" in simplified(source)


def test_a_copy_back_is_dropped_and_an_emptied_block_keeps_a_pass():
    assert simplified("def f(x):\n    t = x\n    x = t\n    return t") == "def f(x):\n    return x"
    out = simplified("def f(x, c):\n    if c:\n        t = x\n    return x")
    assert "pass" in out and "t = x" not in out


def test_globals_are_not_propagated():
    source = "def f(x):\n    y = g\n    h()\n    return y"
    assert "y = g" in simplified(source)


def planned_square(x):
    return x * x


def calls_planned_square(x):
    return planned_square(x) + 1.0


def test_a_rule_registered_for_a_planned_callee_takes_over():
    assert "planned_square_primal(x)" in zygote.adjoint_source(calls_planned_square, 2.0)
    assert zygote.gradient(calls_planned_square, 2.0) == (4.0,)

    @zygote.adjoint(planned_square)
    def planned_square_rule(x):
        return x * x, lambda dy: (10.0 * dy,)
    try:
        assert zygote.gradient(calls_planned_square, 2.0) == (10.0,)
    finally:
        del zygote.rules.RULES[planned_square]
        TRANSFORMS.clear()
