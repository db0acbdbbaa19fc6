"""Gradient checks of the operator rules: as infix operators, as ``operator`` calls, and as values."""
import operator

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zygote
from zygote.rules import ieee
from zygote.testing import check_grad, weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
)

TABLE = SampleTable(7)
SAMPLES, sample, u, away, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.away, TABLE.rng






sample(operator.add, lambda a, b: weighted_sum(a + b), u(3, 1), u(1, 4))
sample(operator.add, lambda a, b: weighted_sum(operator.add(a, b)), u(3, 4), 0.5)
sample(operator.sub, lambda a, b: weighted_sum(a - b), u(3, 4), u(4))
sample(operator.sub, lambda a, b: weighted_sum(operator.sub(a, b)), 0.3, u(2, 2))
sample(operator.mul, lambda a, b: weighted_sum(a * b), u(3, 1), u(1, 4))
sample(operator.mul, lambda a, b: a * b * 2.0, 0.3, -1.4)
sample(operator.truediv, lambda a, b: weighted_sum(a / b), u(3, 4), away(3, 1))
sample(operator.truediv, lambda a, b: weighted_sum(operator.truediv(a, b)), 1.5, away(4))
sample(operator.mod, lambda a, b: weighted_sum(a % b), np.array([1.1, 2.3, -0.4, 3.2]), 0.7)
sample(operator.mod, lambda a, b: (a % b) * 3.0, 2.5, 0.7)
sample(operator.pow, lambda a, b: weighted_sum(a ** b), u(3, 4, lo=0.5), u(4))
sample(operator.pow, lambda a, n: weighted_sum(a ** n), u(3, 4), 3)
sample(operator.pow, lambda a, b: (a ** b) * 2.0, 1.7, -0.6)
sample(operator.pow, lambda a, b: weighted_sum(a ** b), 1.7, u(3))
sample(operator.neg, lambda a: weighted_sum(-a), u(3, 4))
sample(operator.neg, lambda a: weighted_sum(operator.neg(a)), u(3, 4))
sample(operator.pos, lambda a: weighted_sum(operator.pos(a)), u(3, 4))
sample(operator.abs, lambda a: weighted_sum(operator.abs(a)), away(3, 4))
sample(operator.abs, lambda a: weighted_sum(operator.abs(a) * np.ones(4)), away(3, 4))
sample(operator.matmul, lambda a, b: weighted_sum(a @ b), u(3, 4), u(4, 2))
sample(operator.matmul, lambda a, b: weighted_sum(a @ b), u(2, 1, 3, 4), u(5, 4, 2))
sample(operator.matmul, lambda a, b: weighted_sum(a @ b), u(4), u(2, 4, 3))
sample(operator.matmul, lambda a, b: weighted_sum(a @ b), u(2, 3, 4), u(4))
sample(operator.matmul, lambda a, b: (a @ b) * 2.0, u(4), u(4))
sample(operator.matmul, lambda a, b: weighted_sum(operator.matmul(a, b)), u(2, 3), u(3, 3))

# -- the IEEE division and power of rule expressions (zygote.rules.ieee) -------------------------
sample(ieee.divide, lambda a, b: ieee.divide(a, b) * 1.5, 0.7, -1.3)
sample(ieee.divide, lambda a, b: weighted_sum(ieee.divide(a, b)), u(3, 4), away(4))
sample(ieee.power, lambda a, b: ieee.power(a, b) * 1.5, 0.7, -1.3)
sample(ieee.power, lambda a, b: weighted_sum(ieee.power(a, b)), u(3, 4, lo=0.5), u(4))


# -- broadcasting, with hypothesis ---------------------------------------------------------------
ANY = st.floats(-2.0, 2.0)
AWAY = st.one_of(st.floats(0.5, 2.0), st.floats(-2.0, -0.5))
INFIX = {
    "+": (lambda a, b: weighted_sum(a + b), ANY, ANY), "-": (lambda a, b: weighted_sum(a - b), ANY, ANY),
    "*": (lambda a, b: weighted_sum(a * b), ANY, ANY), "/": (lambda a, b: weighted_sum(a / b), ANY, AWAY),
    "**": (lambda a, b: weighted_sum(a ** b), st.floats(0.5, 2.0), ANY),
    "%": (lambda a, b: weighted_sum(a % b), ANY, st.floats(0.5, 2.0)),
}
SHAPES = [((3, 1), (1, 4)), ((), (3,)), ((2, 3), ()), ((2, 3), (3,)), ((2, 1, 3), (4, 1)), ((1,), (2, 2))]


def draw_operand(data, shape, elements):
    if shape == ():
        return data.draw(elements)
    return data.draw(hnp.arrays(np.float64, shape, elements=elements))


@pytest.mark.parametrize("op", sorted(INFIX))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_infix_operator_broadcasts(op, data):
    f, a_values, b_values = INFIX[op]
    a_shape, b_shape = data.draw(st.sampled_from(SHAPES + [(b, a) for a, b in SHAPES]))
    a, b = draw_operand(data, a_shape, a_values), draw_operand(data, b_shape, b_values)
    if op == "%":
        quotient = np.divide(a, b)
        assume(np.all(np.abs(quotient - np.round(quotient)) > 1e-3))
    grads = check_grad(f, a, b)
    assert np.shape(grads[0]) == np.shape(a) and np.shape(grads[1]) == np.shape(b)


def test_power_of_zero_base_has_finite_exponent_gradient():
    grads = zygote.gradient(lambda a, b: np.sum(a ** b), np.array([0.0, 2.0]), 2.0)
    np.testing.assert_allclose(grads[0], [0.0, 4.0])
    assert np.isfinite(grads[1]) and grads[1] == pytest.approx(4.0 * np.log(2.0))


def test_rule_free_name_shared_with_an_unused_global():
    """The abs rule reads ``np``, which this module binds but ``f`` never mentions."""
    def f(a):
        return operator.abs(a) * 2.0
    assert zygote.gradient(f, -1.5) == (-2.0,)
