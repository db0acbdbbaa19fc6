"""The one extension API: rules registered with expr_rule, adjoint and nograd, and their keywords."""
import math

import numpy as np
import pytest

import zygote
from zygote import protocol, rules
from zygote.testing import check_grad


def pair_of(x):
    return np.sin(x), np.cos(x)


@zygote.adjoint(pair_of, output_kind="a")
def pair_of_rule(x):
    def pair_of_back(dy):
        ds, dc = dy
        return (ds * np.cos(x) - dc * np.sin(x),)
    return pair_of(x), pair_of_back


def apply(g, x):
    return g(x)


@zygote.adjoint(apply, calls_back=True)
def apply_rule(protocol_given, g, x):
    assert protocol_given is protocol
    y, back = protocol_given.call("aa", g, x)

    def apply_back(dy):
        dg, dx = back(dy)
        return dg, dx
    return y, apply_back


def test_output_kind_is_registration_metadata():
    assert rules.lookup(pair_of).output_kind == "a"
    assert rules.lookup(np.concatenate).output_kind == "n"
    with pytest.raises(ValueError, match="output_kind"):
        zygote.adjoint(pair_of, output_kind="tuple")


def test_a_container_result_used_twice_adds_structurally():
    def f(x):
        pair = pair_of(x)
        again = pair
        s, c = pair
        s2, c2 = again
        return s * c2 + c * s2

    check_grad(f, 0.3)
    check_grad(lambda x: np.sum(f(x)), np.array([0.1, 0.7]))


def test_a_rule_that_calls_back_gets_the_protocol_and_differentiates_its_function():
    scale = 3.0
    (dx,) = zygote.gradient(lambda x: apply(lambda v: scale * v * v, x), 0.5)
    assert dx == pytest.approx(3.0)
    check_grad(lambda x: apply(np.tanh, x) * x, 0.4)


def test_a_rule_that_calls_back_places_keyword_cotangents_by_its_own_parameters():
    y, back = protocol.call("-a", apply, math.sin, x=0.2)
    assert y == math.sin(0.2)
    assert back(1.0)[-1] == {"x": pytest.approx(math.cos(0.2))}


def test_the_attribute_of_older_rules_is_still_read():
    def older(x):
        return [x, x]

    @zygote.adjoint(older)
    def older_rule(x):
        return [x, x], lambda dy: (dy[0] + dy[1],)
    older_rule.zygote_output_kind = "a"
    assert rules.lookup(older).output_kind == "a"
    assert zygote.gradient(lambda x: sum(older(x)) * 2.0, 1.5) == (4.0,)


def test_keeps_numbers_keeps_code_on_numbers_on_numbers():
    def rounded(x):
        return float(round(x, 3))

    zygote.nograd(rounded, keeps_numbers=True)
    assert rules.lookup(rounded).keeps_numbers
    assert zygote.gradient(lambda x: x * rounded(x), 2.0) == (2.0,)


def test_expr_rule_is_public():
    def cubed(x):
        return x * x * x

    zygote.expr_rule(cubed, lambda x, y, dy: dy * 3 * x * x)
    assert rules.lookup(cubed).kind == "expr"
    assert "dx = dout * 3 * x * x" in zygote.adjoint_source(lambda x: cubed(x), 2.0)  # copied in
    assert zygote.gradient(lambda x: cubed(x), 2.0) == (12.0,)
