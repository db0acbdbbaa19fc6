"""Inlining expression rules: a rule's conditional expression decided by call-site constants,
tree in and tree out, and the folded adjoints against central differences for any exponent."""
import ast
import operator

import gast
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote import nodes, rules
from zygote.compiler.inline import bind, instantiate
from zygote.testing import check_grad

from fuzz_programs import load


def adjoint_of(fn, *atoms):
    """The rule's adjoint expressions at a call site with these atoms, as source text."""
    rule = rules.lookup(fn)
    parts = instantiate(rule, bind(rule, list(atoms), []), nodes.load("y"), nodes.load("dy"),
                        lambda free: free)
    return [None if p is None else ast.unparse(nodes.to_ast(p)) for p in parts]


def test_a_constant_integer_exponent_folds_to_its_polynomial():
    da, db = adjoint_of(operator.pow, nodes.load("x"), nodes.const(3))
    assert da == "dy * (3 * x.conjugate() ** 2)"
    assert db == "dy * exponent_slope(x, y)"
    assert adjoint_of(operator.pow, nodes.load("x"), nodes.const(2))[0] == "dy * (2 * x.conjugate())"


@pytest.mark.parametrize("exponent", [nodes.load("n"), nodes.const(0), nodes.const(-2), nodes.const(0.5),
                                      nodes.const(True)])
def test_other_exponents_keep_the_general_slope(exponent):
    da, _ = adjoint_of(operator.pow, nodes.load("x"), exponent)
    assert da.startswith("dy * power_slope(x, ")


def test_a_test_on_a_name_is_left_alone():
    # A rule written without constant(...) keeps its conditional where nothing decides it.
    rule = rules.Rule(None, "expr", lambda a, b, y, dy: (dy if b is None else dy * b, None),
                      params=("a", "b"))
    decided = instantiate(rule, {"a": nodes.load("x"), "b": nodes.const(None)}, nodes.load("y"),
                          nodes.load("dy"), lambda free: free)[0]
    assert isinstance(decided, gast.Name) and decided.id == "dy"
    kept = instantiate(rule, {"a": nodes.load("x"), "b": nodes.load("k")}, nodes.load("y"),
                       nodes.load("dy"), lambda free: free)[0]
    assert isinstance(kept, gast.IfExp)


def test_only_the_names_kept_become_helpers():
    asked = []
    rule = rules.lookup(operator.pow)
    instantiate(rule, bind(rule, [nodes.load("x"), nodes.const(2)], []), nodes.load("y"),
                nodes.load("dy"), lambda free: asked.append(free) or free)
    assert "power_slope" not in asked and "constant" not in asked and "type" not in asked


@settings(max_examples=30, deadline=None)
@given(exponent=st.one_of(st.integers(-3, 6), st.sampled_from([0.5, 1.5, -0.5, 2.0])),
       x=st.floats(0.3, 2.5), use_array=st.booleans(), spelling=st.sampled_from(["x ** {k}", "np.power(x, {k})"]))
def test_folded_powers_match_central_differences(tmp_path_factory, exponent, x, use_array, spelling):
    source = ("import numpy as np\n\n\ndef f(x):\n"
              f"    return np.sum(np.sin({spelling.format(k=exponent)}))\n")
    f = load(source, tmp_path_factory.mktemp("powers")).f
    arg = np.array([x, x + 0.25, 1.1 * x]) if use_array else x
    check_grad(f, arg)
    if not use_array:
        # The folded adjoint is itself differentiated for the second derivative.
        check_grad(lambda v: zygote.gradient(f, v)[0], arg)
