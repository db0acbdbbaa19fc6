"""Gradient checks of every ``math`` rule: called by name and called as a value."""
import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zygote.testing import check_grad
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
)

TABLE = SampleTable(0)
SAMPLES, sample = TABLE.rows, TABLE.add




# -- one argument --------------------------------------------------------------------------------
sample(math.sin, lambda x: math.sin(x) * 1.5, 0.7)
sample(math.cos, lambda x: math.cos(x) * 1.5, 0.7)
sample(math.tan, lambda x: math.tan(x) * 1.5, 0.7)
sample(math.exp, lambda x: math.exp(x) * 1.5, 0.7)
sample(math.exp2, lambda x: math.exp2(x) * 1.5, 0.7)
sample(math.cbrt, lambda x: math.cbrt(x) * 1.5, -0.7)
sample(math.degrees, lambda x: math.degrees(x) * 1.5, 0.7)
sample(math.radians, lambda x: math.radians(x) * 1.5, 40.0)
sample(math.expm1, lambda x: math.expm1(x) * 1.5, 0.7)
sample(math.log, lambda x: math.log(x) * 1.5, 0.7)
sample(math.log, lambda x, base: math.log(x, base) * 1.5, 0.7, 3.0)
sample(math.log1p, lambda x: math.log1p(x) * 1.5, -0.3)
sample(math.log2, lambda x: math.log2(x) * 1.5, 0.7)
sample(math.log10, lambda x: math.log10(x) * 1.5, 0.7)
sample(math.sqrt, lambda x: math.sqrt(x) * 1.5, 0.7)
sample(math.tanh, lambda x: math.tanh(x) * 1.5, 0.7)
sample(math.sinh, lambda x: math.sinh(x) * 1.5, 0.7)
sample(math.cosh, lambda x: math.cosh(x) * 1.5, 0.7)
sample(math.asin, lambda x: math.asin(x) * 1.5, 0.6)
sample(math.acos, lambda x: math.acos(x) * 1.5, -0.6)
sample(math.atan, lambda x: math.atan(x) * 1.5, 0.7)
sample(math.asinh, lambda x: math.asinh(x) * 1.5, -0.7)
sample(math.acosh, lambda x: math.acosh(x) * 1.5, 1.7)
sample(math.atanh, lambda x: math.atanh(x) * 1.5, 0.6)
sample(math.erf, lambda x: math.erf(x) * 1.5, 0.7)
sample(math.erfc, lambda x: math.erfc(x) * 1.5, -0.4)
sample(math.fabs, lambda x: math.fabs(x) * 1.5, -0.7)

# -- two or more arguments -----------------------------------------------------------------------
sample(math.pow, lambda a, b: math.pow(a, b) * 1.5, 0.7, 2.3)
sample(math.pow, lambda a, n: math.pow(a, n) * 1.5, -0.7, 3)
sample(math.atan2, lambda a, b: math.atan2(a, b) * 1.5, 0.7, -1.3)
sample(math.fmod, lambda a, b: math.fmod(a, b) * 1.5, 2.5, 0.7)
sample(math.copysign, lambda a, b: math.copysign(a, b) * 1.5, 0.7, -1.3)
sample(math.hypot, lambda a, b: math.hypot(a, b) * 1.5, 0.7, -1.3)
sample(math.hypot, lambda a, b, c: math.hypot(a, b, c) * 1.5, 0.7, -1.3, 0.4)
sample(math.dist, lambda p, q: math.dist(p, q) * 1.5, [0.7, -1.3], (0.2, 0.5))
sample(math.fsum, lambda xs: math.fsum(xs) * math.fsum(xs), [0.7, -1.3, 0.4])
sample(math.prod, lambda xs: math.prod(xs), [0.7, -1.3, 0.4])
sample(math.prod, lambda a, b: math.prod([a, b, a], start=0.5), 0.7, -1.3, mirrors=False)


# -- a range of values, with hypothesis ----------------------------------------------------------
VALUES = st.floats(-3.0, 3.0)
BINARY = {"pow": (math.pow, st.floats(0.2, 3.0), VALUES), "atan2": (math.atan2, VALUES, VALUES),
          "hypot": (math.hypot, VALUES, VALUES), "fmod": (math.fmod, VALUES, st.floats(0.5, 2.0)),
          "copysign": (math.copysign, VALUES, VALUES)}


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_rule_over_values(name, data):
    fn, a_values, b_values = BINARY[name]
    a, b = data.draw(a_values), data.draw(b_values)
    assume(math.hypot(a, b) > 0.1 and abs(a) > 1e-3 and abs(b) > 1e-3)
    if name == "fmod":
        assume(abs(a / b - round(a / b)) > 1e-3)
    check_grad(lambda a, b: fn(a, b) * 1.5, a, b)
