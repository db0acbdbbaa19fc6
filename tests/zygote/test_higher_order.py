"""Nested gradients, jacobian and hessian: zygote differentiating its own generated code."""
import math
import traceback

import numpy as np
import pytest

import zygote


def gaussian(x, s):
    return math.exp(-x ** 2 / (2 * s ** 2))


def d1(x, s):
    return zygote.gradient(gaussian, x, s)[0]


def d2(x, s):
    return zygote.gradient(d1, x, s)[0]


def d3(x, s):
    return zygote.gradient(d2, x, s)[0]


@pytest.mark.parametrize("x", [-1.7, -0.4, 0.0, 0.3, 1.1, 2.5])
@pytest.mark.parametrize("s", [0.5, 1.0, 1.8])
def test_gaussian_derivative_family(x, s):
    g = gaussian(x, s)
    assert d1(x, s) == pytest.approx(-x / s ** 2 * g, rel=1e-10, abs=1e-14)
    assert d2(x, s) == pytest.approx((x ** 2 - s ** 2) / s ** 4 * g, rel=1e-10, abs=1e-14)
    # The factor 3 matters: G''' = -(x^3 - 3 x s^2) / s^6 G.
    assert d3(x, s) == pytest.approx(-(x ** 3 - 3 * x * s ** 2) / s ** 6 * g, rel=1e-9, abs=1e-13)


def asinh_antiderivative(x):
    return x * math.log(x + math.sqrt(1 + x ** 2))


@pytest.mark.parametrize("x", [-2.0, -0.3, 0.0, 0.7, 3.0])
def test_asinh_example(x):
    expected = math.asinh(x) + x / math.sqrt(1 + x ** 2)
    assert zygote.gradient(asinh_antiderivative, x)[0] == pytest.approx(expected, rel=1e-12, abs=1e-15)


def cube(t):
    return t * t * t


def branchy_sum(x):
    s = 0.0
    for k in range(1, 4):
        if k % 2:
            s = s + cube(x) / k
        else:
            s = s + math.sin(k * x)
    return s  # x^3 + x^3/3 + sin(2x)


def branchy_sum_1(x):
    return zygote.gradient(branchy_sum, x)[0]


def branchy_sum_2(x):
    return zygote.gradient(branchy_sum_1, x)[0]


def test_second_order_with_control_flow_and_user_calls():
    x = 0.6
    assert branchy_sum_2(x) == pytest.approx(6 * x + 2 * x - 4 * math.sin(2 * x), rel=1e-12)


def test_third_order_with_control_flow_and_user_calls():
    x = 0.6
    assert zygote.gradient(branchy_sum_2, x)[0] == pytest.approx(8 - 8 * math.cos(2 * x), rel=1e-10)


def test_second_derivative_through_numpy_primitives():
    for f, second in ((lambda x: np.tanh(x), lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
                      (lambda x: np.exp(-x) * np.sin(x), lambda x: -2 * np.exp(-x) * np.cos(x)),
                      (lambda x: np.abs(x) ** 3, lambda x: 6 * np.abs(x)),
                      (lambda x: np.maximum(x, 0.2) ** 2, lambda x: 2.0 if x > 0.2 else 0.0),
                      (lambda x: np.sqrt(1 + x * x), lambda x: (1 + x * x) ** -1.5)):
        for x in (-0.7, 0.4, 1.3):
            first = lambda t: zygote.gradient(f, t)[0]
            assert zygote.gradient(first, x)[0] == pytest.approx(second(x), rel=1e-9, abs=1e-12)


def test_closure_capturing_the_outer_variable():
    # d/dx [ d/dy (x * y^2) at y = 1 ] = d/dx (2x) = 2
    outer = lambda x: zygote.gradient(lambda y: x * y ** 2, 1.0)[0]
    assert zygote.gradient(outer, 3.0) == (2.0,)


def test_jacobian():
    x = np.array([0.5, -1.0, 2.0])
    A = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]])
    (J,) = zygote.jacobian(lambda x: np.tanh(A @ x), x)
    t = np.tanh(A @ x)
    np.testing.assert_allclose(J, (1 - t * t)[:, None] * A)
    J_x, J_y = zygote.jacobian(lambda x, y: x * y, x, 2.0)
    np.testing.assert_allclose(J_x, 2.0 * np.eye(3))
    np.testing.assert_allclose(J_y, x)
    with pytest.raises(zygote.GradientUsageError, match="tuple"):
        zygote.jacobian(lambda x: (x, x), x)


@pytest.mark.parametrize("n", [1, 4, 10])
def test_hessian_of_sum_tanh(n):
    rng = np.random.default_rng(n)
    A = rng.standard_normal((n, n))
    x = rng.standard_normal(n)
    H = zygote.hessian(lambda x: np.sum(np.tanh(A @ x)), x)
    t = np.tanh(A @ x)
    np.testing.assert_allclose(H, A.T @ np.diag(-2 * t * (1 - t * t)) @ A, atol=1e-12)
    np.testing.assert_allclose(H, H.T, atol=1e-12)


def test_hessian_of_a_scalar_function():
    assert zygote.hessian(lambda x: x ** 4, 2.0) == pytest.approx(48.0)


def make_scaled_cube(k):
    def scaled_cube(t):
        return k * t * t * t
    return scaled_cube


def test_third_order_through_a_closure_called_at_run_time():
    def branchy(x):
        cube = make_scaled_cube(1.0)  # a local closure: called through the run time
        s = 0.0
        for k in range(1, 4):
            s = s + (cube(x) / k if k % 2 else math.sin(k * x))
        return s

    d1 = lambda x: zygote.gradient(branchy, x)[0]  # noqa: E731
    d2 = lambda x: zygote.gradient(d1, x)[0]  # noqa: E731
    d3 = lambda x: zygote.gradient(d2, x)[0]  # noqa: E731
    x = 0.6
    assert d3(x) == pytest.approx(8 - 8 * math.cos(2 * x), rel=1e-10)


def test_fourth_order():
    def quartic(x):
        return x ** 4 + math.exp(-x)

    def derivative(f):
        return lambda x: zygote.gradient(f, x)[0]

    ds = [quartic]
    for _ in range(4):
        ds.append(derivative(ds[-1]))
    x = 1.5
    assert ds[3](x) == pytest.approx(24 * x - math.exp(-x), rel=1e-10)
    assert ds[4](x) == pytest.approx(24 + math.exp(-x), rel=1e-10)


def test_gaussian_fourth_derivative():
    s = 0.8

    def g(x):
        return math.exp(-x * x / (2 * s * s))

    d = g
    for _ in range(4):
        d = (lambda f: lambda x: zygote.gradient(f, x)[0])(d)
    for x in (-1.1, 0.0, 0.4, 2.0):
        # G'''' = (x^4 - 6 x^2 s^2 + 3 s^4) / s^8 G
        want = (x ** 4 - 6 * x * x * s * s + 3 * s ** 4) / s ** 8 * g(x)
        assert d(x) == pytest.approx(want, rel=1e-9, abs=1e-12)


def smooth_step(x):
    return math.log1p(math.exp(x))


@zygote.adjoint(smooth_step)
def smooth_step_rule(x):
    s = 1.0 / (1.0 + math.exp(-x))
    return math.log1p(math.exp(x)), lambda dy: (dy * s,)


def odd_step(x):
    return math.tanh(x)


@zygote.adjoint(odd_step)
def odd_step_rule(x):
    y = math.tanh(x)
    return y, lambda dy: (dy * math.lgamma(2.0 - y * y),)  # lgamma has no rule


def test_nested_gradient_differentiates_a_functions_rule():
    x = 0.3
    s = 1 / (1 + math.exp(-x))
    assert zygote.gradient(lambda v: zygote.gradient(smooth_step, v)[0], x)[0] == pytest.approx(s * (1 - s))


def test_nested_gradient_through_a_rule_without_a_second_order_names_the_missing_rule():
    assert zygote.gradient(odd_step, 0.3)[0] == pytest.approx(math.lgamma(2.0 - math.tanh(0.3) ** 2))
    with pytest.raises(zygote.MissingRuleError, match="lgamma") as info:
        zygote.gradient(lambda v: zygote.gradient(odd_step, v)[0], 0.3)
    assert any(f.name.startswith("odd_step_rule") or "lgamma" in (f.line or "")
               for f in traceback.extract_tb(info.tb))


def test_hessians_through_the_matrix_function_rules():
    """The rules for det, slogdet and inv are written in differentiable numpy: they nest."""
    a = np.array([[2.0, 0.5, 0.1], [0.3, 1.5, -0.2], [0.0, 0.4, 1.8]])

    def f(m):
        return np.linalg.det(m) + np.linalg.slogdet(m)[1] + np.sum(np.linalg.inv(m) * a)

    def grad(m):
        return zygote.gradient(f, m)[0]

    hessian = np.reshape(zygote.hessian(f, a), (9, 9))
    eps, expected = 1e-5, np.zeros((9, 9))
    for i in range(9):
        step = np.zeros(9)
        step[i] = eps
        step = step.reshape(3, 3)
        expected[:, i] = ((grad(a + step) - grad(a - step)) / (2 * eps)).ravel()
    np.testing.assert_allclose(hessian, expected, atol=1e-6)
