"""A second derivative however the inner function is reached: a global, a module's attribute,
``hessian`` of a number, ``grad(grad(f))``; each against central differences of the first
derivative, planned as direct calls where the spelling allows, and rebuilt when what the
plan relied on changes."""
import math
import sys
import types

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import zygote

from fuzz_programs import load, programs

inner = types.ModuleType("inner")
exec("import math\n\ndef f(x):\n    return x * math.log(x + math.sqrt(1.0 + x * x))\n", inner.__dict__)  # noqa: S102


def asinh_like(x):
    return x * math.log(x + math.sqrt(1.0 + x * x))


def through_global(x):
    return zygote.gradient(asinh_like, x)[0]


def through_module(x):
    return zygote.gradient(inner.f, x)[0]


def central(f, x, h=1e-5):
    return (f(x + h) - f(x - h)) / (2 * h)


SPELLINGS = {
    "global": lambda x: zygote.gradient(through_global, x)[0],
    "module attribute": lambda x: zygote.gradient(through_module, x)[0],
    "hessian": lambda x: zygote.hessian(asinh_like, x),
    "grad of grad": zygote.grad(zygote.grad(asinh_like)),
}


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_every_spelling_gives_the_second_derivative(spelling):
    second = SPELLINGS[spelling]
    for x in (0.3, 1.3, 1.3, -0.7):  # repeated: the compiled entry points answer too
        want = central(lambda v: zygote.gradient(asinh_like, v)[0], x)
        assert second(x) == pytest.approx(want, rel=1e-7)


def test_a_module_attribute_is_planned_like_a_global():
    assert "call(" not in zygote.adjoint_source(through_module, 1.0)
    assert "call(" not in zygote.adjoint_source(through_global, 1.0)


def test_rebinding_the_module_attribute_takes_effect():
    second = SPELLINGS["module attribute"]
    assert second(1.0) == pytest.approx(central(lambda v: zygote.gradient(inner.f, v)[0], 1.0), rel=1e-7)
    original = inner.f
    try:
        inner.f = lambda x: x ** 4
        assert second(1.0) == second(1.0) == pytest.approx(12.0)
    finally:
        inner.f = original


def test_hessian_and_grad_of_grad_follow_a_redefined_callee():
    module = types.ModuleType("redefined")
    exec("def g(x):\n    return x * x\n\ndef f(x):\n    return g(x) * x\n", module.__dict__)  # noqa: S102
    d2 = zygote.grad(zygote.grad(module.f))
    assert zygote.hessian(module.f, 2.0) == d2(2.0) == d2(2.0) == pytest.approx(12.0)
    exec("def g(x):\n    return x * x * x\n", module.__dict__)  # noqa: S102
    assert zygote.hessian(module.f, 2.0) == d2(2.0) == pytest.approx(48.0)
    replacement = types.ModuleType("replacement")
    exec("def f(x):\n    return x ** 5\n", replacement.__dict__)  # noqa: S102
    module.f.__code__ = replacement.f.__code__
    assert zygote.hessian(module.f, 2.0) == d2(2.0) == pytest.approx(160.0)


@settings(max_examples=15, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])
@given(program=programs())
def test_spellings_agree_on_random_programs(tmp_path, program):
    module = load(program.source, tmp_path)
    x, y = program.args
    if not isinstance(x, float):
        return
    sys.modules[module.__name__] = module
    try:
        caller = load(f"import zygote\nimport {module.__name__} as m\n\n\n"
                      "def first(x, y):\n    return zygote.gradient(m.fuzzed, x, y)[0]\n", tmp_path)
    finally:
        del sys.modules[module.__name__]
    with np.errstate(all="ignore"):
        try:
            want = zygote.gradient(lambda x: zygote.gradient(module.fuzzed, x, y)[0], x)[0]
        except (OverflowError, ZeroDivisionError, ValueError, zygote.ZygoteError):
            return  # not a program this test is about: the general path refuses it too
        through_attribute = zygote.gradient(caller.first, x, y)[0]
        d2 = zygote.grad(zygote.grad(module.fuzzed))
        for got in (through_attribute, d2(x, y), d2(x, y)):
            if want is None or got is None:
                assert got in (None, 0.0) and want in (None, 0.0)
            else:
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
