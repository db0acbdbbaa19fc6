"""``zygote.grad`` and ``value_and_grad``: the same gradients as ``gradient`` on the first call
and on the compiled entry point after it, against central differences; what the entry point
must notice (globals, closure cells, replaced code, redefined callees, new rules); nesting."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import zygote
from zygote.errors import GradientUsageError, NonScalarOutputError, ZygoteError

from fuzz_programs import load, programs

SCALE = 2.0
LOG = []


def central(f, args, i, h=1e-6):
    """Central difference of scalar ``f`` in Python-float argument ``i``."""
    up, down = list(args), list(args)
    up[i] += h
    down[i] -= h
    return (f(*up) - f(*down)) / (2 * h)


def polynomial(x):
    return 3.0 * x ** 4 - 2.0 * x ** 3 + x ** 2 - 5.0 * x + 7.0


def scaled(x, y):
    return SCALE * math.sin(x) * y


def helper(x):
    return x * x


def calls_helper(x):
    return helper(x) + x


def logs_each_call(x):
    LOG.append(len(LOG))
    return x * x


SCALARS = [(polynomial, (1.3,)), (scaled, (0.4, 1.5)), (calls_helper, (0.7,)),
           (lambda x, n: x ** n, (1.2, 3)), (lambda x: math.exp(-x * x / 2.0), (0.4,))]


@pytest.mark.parametrize("f, args", SCALARS)
def test_grad_matches_central_differences_on_every_call(f, args):
    g = zygote.grad(f, argnums=tuple(range(len(args))))
    for call in range(3):  # the general path, then the compiled entry point
        got = g(*args)
        assert got == zygote.gradient(f, *args)
        for i, gi in enumerate(got):
            if isinstance(args[i], float):
                assert gi == pytest.approx(central(f, args, i), rel=1e-6, abs=1e-8)


fuzz_settings = settings(max_examples=15, deadline=None, derandomize=True, database=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                HealthCheck.data_too_large,
                                                HealthCheck.function_scoped_fixture])


@fuzz_settings
@given(program=programs())
def test_grad_agrees_with_gradient_on_random_programs(tmp_path, program):
    module = load(program.source, tmp_path)
    args = program.args
    with np.errstate(all="ignore"):
        try:
            want = zygote.gradient(module.fuzzed, *args)
        except (OverflowError, ZeroDivisionError, ValueError):
            return
        for argnums in ((0, 1), 0, 1):
            g = zygote.grad(module.fuzzed, argnums=argnums)
            for _ in range(2):
                got = g(*args)
                if argnums == (0, 1):
                    assert len(got) == 2
                    same(got[0], want[0])
                    same(got[1], want[1])
                else:
                    same(got, want[argnums])


def same(got, want):
    # Where no cotangent reaches an argument, one transform may say None and another, whose
    # activity pattern differs (argnums leaves the other arguments constant), an array of zeros.
    if want is None or got is None:
        other = got if want is None else want
        assert other is None or (isinstance(other, np.ndarray) and not np.any(other))
    else:
        assert type(got) is type(want)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_argnums_picks_and_keeps_the_other_arguments_constant():
    f = lambda x, y: x * y * y  # noqa: E731
    assert zygote.grad(f)(3.0, 2.0) == 4.0
    assert zygote.grad(f, argnums=1)(3.0, 2.0) == 12.0
    assert zygote.grad(f, argnums=(1, 0))(3.0, 2.0) == (12.0, 4.0)
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([0.5, -1.0])
    dW = zygote.grad(lambda W, x: np.sum(np.tanh(W @ x)))(W, x)
    np.testing.assert_allclose(dW, zygote.gradient(lambda W, x: np.sum(np.tanh(W @ x)), W, x)[0])


def test_keywords_reach_f_and_are_not_differentiated():
    def f(x, *, power=2):
        return x ** power
    g = zygote.grad(f)
    assert g(3.0, power=3) == 27.0
    assert g(3.0) == 6.0


def test_value_and_grad_and_aux():
    f = lambda x: (x ** 2, {"x": x})  # noqa: E731
    assert zygote.grad(f, has_aux=True)(3.0) == (6.0, {"x": 3.0})
    assert zygote.value_and_grad(f, has_aux=True)(3.0) == ((9.0, {"x": 3.0}), 6.0)
    vg = zygote.value_and_grad(lambda x, y: x * y, argnums=(0, 1))
    assert vg(2.0, 5.0) == (10.0, (5.0, 2.0))
    assert vg(2.0, 5.0) == (10.0, (5.0, 2.0))


def test_f_runs_once_per_call():
    LOG.clear()
    g = zygote.grad(logs_each_call)
    for x in (1.0, 2.0, 3.0):
        assert g(x) == 2 * x
    v = zygote.value_and_grad(logs_each_call)
    assert v(4.0) == (16.0, 8.0)
    assert LOG == [0, 1, 2, 3]


def test_globals_are_read_when_the_gradient_runs():
    global SCALE
    g = zygote.grad(scaled)
    try:
        for scale in (2.0, 2.0, 5.0, 5.0, -1.0):
            SCALE = scale
            assert g(0.0, 1.5) == pytest.approx(scale * 1.5)
    finally:
        SCALE = 2.0


def test_closure_cells_are_read_when_the_gradient_runs():
    k = 2.0

    def f(x):
        return k * x * x
    g = zygote.grad(f)
    assert g(1.0) == 4.0
    assert g(1.0) == 4.0
    k = 3.0
    assert g(1.0) == 6.0


def test_replaced_code_and_redefined_callees_take_effect():
    global helper
    g = zygote.grad(calls_helper)
    assert g(2.0) == g(2.0) == 5.0
    original = helper
    try:
        def helper(x):  # noqa: F811 -- the global the gradient calls is rebound
            return x * x * x
        assert g(2.0) == 13.0
    finally:
        helper = original
    assert g(2.0) == 5.0

    def cube(x):
        return x * x * x

    def square(x):
        return x * x
    h = zygote.grad(square)
    assert h(2.0) == h(2.0) == 4.0
    square.__code__ = cube.__code__
    assert h(2.0) == 12.0


def test_a_rule_registered_later_takes_over():
    def softplus_like(x):
        return math.log(1.0 + math.exp(x))

    def uses_it(x):
        return softplus_like(x) * 2.0
    g = zygote.grad(uses_it)
    first = g(0.0)
    assert g(0.0) == first == pytest.approx(1.0)

    @zygote.adjoint(softplus_like)
    def softplus_rule(x):
        return softplus_like(x), lambda dy: (dy * 10.0,)
    assert g(0.0) == pytest.approx(20.0)


def test_transforms_nest():
    f = lambda x: x ** 3 * math.sin(x)  # noqa: E731
    d2 = zygote.grad(zygote.grad(f))
    x = 0.7
    want = 6 * x * math.sin(x) + 6 * x ** 2 * math.cos(x) - x ** 3 * math.sin(x)
    assert d2(x) == pytest.approx(want, rel=1e-10)
    assert d2(x) == pytest.approx(want, rel=1e-10)
    df = zygote.grad(f)
    assert zygote.gradient(lambda x: df(x) * x, x)[0] == pytest.approx(want * x + df(x), rel=1e-10)
    mixed = zygote.grad(zygote.grad(lambda x, y: x * x * y, argnums=0), argnums=1)
    assert mixed(3.0, 2.0) == pytest.approx(6.0)
    h = zygote.jacobian(zygote.grad(lambda u: np.sum(np.sin(u) * u[0])), np.array([1.0, 2.0]))[0]
    want = zygote.hessian(lambda u: np.sum(np.sin(u) * u[0]), np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, want, rtol=1e-12)


def test_what_is_refused_says_so():
    with pytest.raises(GradientUsageError, match="argnums"):
        zygote.grad(polynomial, argnums=1)(1.0)
    with pytest.raises(GradientUsageError, match="argnums"):
        zygote.grad(polynomial, argnums="x")
    with pytest.raises(GradientUsageError):
        zygote.grad(3.0)
    with pytest.raises(NonScalarOutputError):
        zygote.grad(lambda x: x * np.ones(3))(1.0)
    with pytest.raises(NonScalarOutputError, match="has_aux"):
        zygote.grad(lambda x: x, has_aux=True)(1.0)
    with pytest.raises(ZygoteError, match="value_and_grad"):
        zygote.gradient(lambda x: zygote.value_and_grad(math.sin)(x)[1], 1.0)


def test_float_arrays_take_the_entry_point_and_other_arrays_give_way():
    from zygote import api

    def layer(W, x, b):
        return np.sum(np.tanh(W @ x + b) * np.arange(1.0, 4.0))
    rng = np.random.default_rng(0)
    W, x, b = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=3)
    want = zygote.gradient(layer, W, x, b)
    g = zygote.grad(layer, argnums=(0, 1, 2))
    for _ in range(api._CALLS_BEFORE_ENTRY + 2):
        for got, expected in zip(g(W, x, b), want):
            np.testing.assert_array_equal(got, expected)
        for got, expected in zip(zygote.gradient(layer, W, x, b), want):
            np.testing.assert_array_equal(got, expected)
    assert layer in api._HOT and g.args[0].fast is not None
    as_float32 = g(W.astype(np.float32), x, b)[0]
    assert as_float32.dtype == np.float32
    np.testing.assert_allclose(as_float32, want[0], rtol=1e-5)
    integer_x = np.array([1, 2])  # integers are numbers: the general path gives them a float gradient
    np.testing.assert_allclose(g(W, integer_x, b)[1], zygote.gradient(layer, W, integer_x.astype(float), b)[1])
    assert g(W, integer_x, b)[1].dtype == np.float64
    np.testing.assert_array_equal(zygote.gradient(layer, W, integer_x, b)[1], g(W, integer_x, b)[1])
    with pytest.raises(ValueError):
        g(W, np.ones(3), b)  # the same error as the plain call: shapes that do not match


def test_a_body_that_rebinds_its_parameters_keeps_each_gradient_for_its_argument():
    from zygote import api

    def swapped(x, y):
        x, y = y, x
        return np.sum(x * np.array([0.7, 1.3, 0.9])) + 2.0 * y
    args = (0.5, np.array([1.0, 2.0, 3.0]))
    g = zygote.grad(swapped, argnums=(0, 1))
    for _ in range(api._CALLS_BEFORE_ENTRY + 2):
        dx, dy = g(*args)
        assert dx == 2.0
        np.testing.assert_array_equal(dy, [0.7, 1.3, 0.9])
        dx, dy = zygote.gradient(swapped, *args)
        assert dx == 2.0
        np.testing.assert_array_equal(dy, [0.7, 1.3, 0.9])
