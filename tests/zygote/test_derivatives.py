"""The forward-mode transforms: jvp, pushforward, Jacobians, Hessians, and checkpointing.

Each result is checked against reverse mode and against central differences; the
transforms are also composed with each other and with ``gradient``.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote import api
from zygote.testing import check_grad


def central(f, x, v, eps=1e-6):
    return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)


# -- jvp and pushforward ---------------------------------------------------------------------------


def test_jvp_of_numbers_and_arrays():
    y, dy = zygote.jvp(lambda x, y: x * y + math.sin(x), (0.0, 3.0), (1.0, 0.0))
    assert (y, dy) == (0.0, 4.0)
    x, v = np.array([0.3, -1.2, 2.0]), np.array([1.0, 0.5, -2.0])
    y, dy = zygote.jvp(lambda x: np.tanh(x) * x, (x,), (v,))
    np.testing.assert_allclose(dy, ((1 - np.tanh(x) ** 2) * x + np.tanh(x)) * v, rtol=1e-12)


def test_a_tangent_of_zeros_where_nothing_flows():
    y, dy = zygote.jvp(lambda x, w: x * 2.0, (np.ones(3), 1.0), (np.zeros(3), 1.0))
    assert dy.shape == (3,) and not dy.any()
    y, dy = zygote.jvp(lambda x: (x, 2.0), (1.5,), (1.0,))
    assert dy == (1.0, 0.0)


def test_pushforward_is_linear_in_the_tangent():
    push = zygote.pushforward(lambda x: np.sum(np.sin(x) ** 2), np.array([0.2, 0.9]))
    a, b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    assert push(a + 2 * b) == pytest.approx(push(a) + 2 * push(b), rel=1e-12)


def closures_and_control_flow(x, w):
    def scaled(t):
        return w * t  # w is read from the enclosing call

    total = 0.0
    items = []
    for k in range(3):
        if k % 2:
            total = total + np.sum(scaled(x) ** 2)
        else:
            items.append(np.sin(x * k))
    n = 0
    while n < 2:
        total = total + np.sum(items[0] * x)
        n += 1
    y = np.zeros(3)
    y[1] = total
    pairs = {"first": y, "second": x}
    squares = list(map(lambda t: t * w, [x, y]))
    return np.sum(pairs["first"] * squares[0]) + np.sum(squares[1] ** 2)


def test_jvp_through_closures_loops_branches_and_writes():
    x, w = np.array([0.5, -0.3, 1.1]), 0.7
    rng = np.random.default_rng(0)
    dx, dw = rng.normal(size=3), 0.4
    y, dy = zygote.jvp(closures_and_control_flow, (x, w), (dx, dw))
    assert y == closures_and_control_flow(x, w)
    gx, gw = zygote.gradient(closures_and_control_flow, x, w)
    assert dy == pytest.approx(np.dot(gx, dx) + gw * dw, rel=1e-10)
    eps = 1e-6
    difference = (closures_and_control_flow(x + eps * dx, w + eps * dw)
                  - closures_and_control_flow(x - eps * dx, w - eps * dw)) / (2 * eps)
    assert dy == pytest.approx(difference, rel=1e-6)


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    @property
    def bias(self):
        return self.b * 1.0

    def __call__(self, x):
        return np.tanh(self.W @ x + self.bias)


def test_jvp_through_an_object_with_call_and_a_property():
    rng = np.random.default_rng(1)
    layer = Affine(rng.normal(size=(2, 3)), rng.normal(size=2))
    x, v = rng.normal(size=3), rng.normal(size=3)
    y, dy = zygote.jvp(lambda x: np.sum(layer(x) * [1.0, 2.0]), (x,), (v,))
    (g,) = zygote.gradient(lambda x: np.sum(layer(x) * [1.0, 2.0]), x)
    assert dy == pytest.approx(np.dot(g, v), rel=1e-12)


def test_a_function_without_a_tangent_rule_is_named():
    with pytest.raises(zygote.MissingTangentError, match="frexp"):
        zygote.jvp(lambda x: math.frexp(x)[0] * x, (1.5,), (1.0,))


def test_jvp_checks_its_arguments():
    with pytest.raises(zygote.GradientUsageError, match="tuples"):
        zygote.jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(zygote.GradientUsageError, match="shape"):
        zygote.jvp(lambda x: x, (np.ones(3),), (np.ones(2),))


def test_forward_source_reads_like_the_function():
    def f(x):
        y = np.sin(x) * x
        return y

    text = zygote.forward_source(f)
    assert text.splitlines()[0] == "def f_jvp(denv, x, dx):"
    assert "return y, dy" in text


# -- Jacobians ---------------------------------------------------------------------------------------


@settings(max_examples=15, deadline=None, derandomize=True, database=None)
@given(m=st.integers(1, 5), n=st.integers(1, 5))
def test_jacfwd_jacrev_and_jacobian_agree(m, n):
    rng = np.random.default_rng(m * 10 + n)
    A, x = rng.normal(size=(m, n)), rng.normal(size=n)

    def f(x):
        return np.sin(A @ x) * np.sum(x ** 2)

    forward = zygote.jacfwd(f)(x)[0]
    reverse = zygote.jacrev(f)(x)[0]
    np.testing.assert_allclose(forward, reverse, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(zygote.jacobian(f, x)[0], reverse, rtol=1e-10, atol=1e-12)
    assert forward.shape == (m, n)
    v = rng.normal(size=n)
    np.testing.assert_allclose(forward @ v, central(f, x, v), rtol=1e-6, atol=1e-8)


def test_jacobian_with_several_arguments_and_argnums():
    f = lambda a, b: a * b  # noqa: E731
    J_a, J_b = zygote.jacobian(f, np.array([1.0, 2.0]), 3.0)
    assert J_a.tolist() == [[3.0, 0.0], [0.0, 3.0]] and J_b.tolist() == [1.0, 2.0]
    assert zygote.jacfwd(f, argnums=1)(np.array([1.0, 2.0]), 3.0).tolist() == [1.0, 2.0]


# -- Hessians ----------------------------------------------------------------------------------------


@settings(max_examples=12, deadline=None, derandomize=True, database=None)
@given(n=st.integers(1, 6), spelling=st.sampled_from(["matmul", "dot"]))
def test_hessian_forward_over_reverse_matches_reverse_over_reverse(n, spelling):
    rng = np.random.default_rng(n)
    A, x = rng.normal(size=(n, n)), rng.normal(size=n)
    product = (lambda x: A @ x) if spelling == "matmul" else (lambda x: np.dot(A, x))

    def f(x):
        return np.sum(np.tanh(product(x))) + np.sum(x ** 3) * 0.1

    H = zygote.hessian(f, x)
    np.testing.assert_allclose(H, api.hessian(f, x), rtol=1e-10, atol=1e-12)
    t = np.tanh(A @ x)
    np.testing.assert_allclose(H, A.T @ np.diag(-2 * t * (1 - t * t)) @ A + np.diag(0.6 * x), atol=1e-10)
    v = rng.normal(size=n)
    np.testing.assert_allclose(zygote.hvp(f, x, v), H @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(zygote.diaghessian(f, x), np.diag(H), rtol=1e-10, atol=1e-12)


def test_hessian_of_numbers_and_of_a_matrix_argument():
    assert zygote.hessian(lambda x: x ** 4, 2.0) == pytest.approx(48.0)
    X = np.array([[1.0, 2.0], [0.5, -1.0]])
    H = zygote.hessian(lambda X: np.sum(X ** 3), X)
    assert H.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(H.reshape(4, 4), np.diag(6 * X.ravel()))


# -- composition ---------------------------------------------------------------------------------------


def rosenbrock(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_jvp_of_gradient_is_hvp_and_jacfwd_of_jacrev_is_the_hessian():
    x = np.array([0.3, 0.8, -0.5, 1.2])
    v = np.array([1.0, -2.0, 0.5, 0.3])
    _, dg = zygote.jvp(lambda x: zygote.gradient(rosenbrock, x)[0], (x,), (v,))
    H = api.hessian(rosenbrock, x)
    np.testing.assert_allclose(dg, H @ v, rtol=1e-12)
    np.testing.assert_allclose(zygote.jacfwd(zygote.jacrev(rosenbrock))(x)[0][0], H, rtol=1e-12)


def test_derivatives_of_a_hessian_vector_product():
    x, v, w = np.array([0.3, 0.8, -0.5]), np.array([1.0, -2.0, 0.5]), np.array([0.2, 0.7, -1.1])

    def along(x):
        return np.dot(w, zygote.hvp(rosenbrock, x, v))  # a third derivative contracted twice

    check_grad(along, x)  # reverse over forward over reverse
    # forward over forward over reverse: the Jacobian of the product is the Hessian of along
    J = zygote.jacfwd(lambda x: zygote.hvp(rosenbrock, x, v))(x)[0]
    for k in range(3):
        e = np.eye(3)[k]
        np.testing.assert_allclose(J[:, k], central(lambda t: zygote.hvp(rosenbrock, t, v), x, e),
                                   rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(zygote.gradient(along, x)[0], J.T @ w, rtol=1e-10)


@pytest.mark.xfail(strict=True, raises=zygote.ZygoteError,
                   reason="forward over reverse over forward over reverse meets a bound built-in "
                   "method (float.conjugate) called through the call protocol; an open limit")
def test_hessian_of_a_hessian_vector_product():
    x, v, w = np.array([0.3, 0.8, -0.5]), np.array([1.0, -2.0, 0.5]), np.array([0.2, 0.7, -1.1])

    def along(x):
        return np.dot(w, zygote.hvp(rosenbrock, x, v))

    H = zygote.hessian(along, x)  # forward over reverse over forward over reverse
    for k in range(3):
        e = np.eye(3)[k]
        np.testing.assert_allclose(H[:, k], central(lambda t: zygote.gradient(along, t)[0], x, e),
                                   rtol=1e-5, atol=1e-5)


def test_third_order_through_calls_of_other_user_functions():
    def inner(t):
        return t ** 3 + math.sin(2 * t)

    def outer(x):
        s = 0.0
        for k in range(1, 3):
            s = s + inner(x) / k
        return s

    d2 = lambda x: zygote.gradient(lambda t: zygote.gradient(outer, t)[0], x)[0]  # noqa: E731
    x = 0.6
    _, d3 = zygote.jvp(d2, (x,), (1.0,))
    assert d3 == pytest.approx(1.5 * (6 - 8 * math.cos(2 * x)), rel=1e-10)


def test_fourth_derivative_of_array_code_through_numpy_rules():
    s = 1.3

    def gaussian(x):
        return np.exp(-x ** 2 / (2 * s ** 2)) / (s * np.sqrt(2 * np.pi))

    def derivative(f):
        return lambda x: zygote.gradient(lambda v: np.sum(f(v)), x)[0]

    third = derivative(derivative(derivative(gaussian)))
    xs = np.linspace(-3.0, 3.0, 7)
    _, fourth = zygote.jvp(third, (xs,), (np.ones_like(xs),))
    G = gaussian(xs)
    np.testing.assert_allclose(fourth, (xs ** 4 - 6 * xs ** 2 * s ** 2 + 3 * s ** 4) / s ** 8 * G,
                               rtol=1e-9, atol=1e-12)


# -- checkpointing -------------------------------------------------------------------------------------

CALLS = []


def segment(x, w):
    CALLS.append(1)  # counts the runs
    for _ in range(5):
        x = np.tanh(w * x)
    return x


def test_checkpointed_gradient_is_the_plain_gradient_and_recomputes():
    x, w = np.array([0.3, -0.4, 0.8]), 1.3

    def plain(x, w):
        for _ in range(3):
            x = segment(x, w)
        return np.sum(x * [1.0, 2.0, 3.0])

    def checkpointed(x, w):
        for _ in range(3):
            x = zygote.checkpointed(segment, x, w)
        return np.sum(x * [1.0, 2.0, 3.0])

    assert checkpointed(x, w) == plain(x, w)
    CALLS.clear()
    y, back = zygote.pullback(checkpointed, x, w)
    forward_calls = len(CALLS)
    grads = back(1.0)
    assert len(CALLS) == 2 * forward_calls  # each segment ran again in the backward pass
    expected = zygote.gradient(plain, x, w)
    np.testing.assert_allclose(grads[0], expected[0], rtol=1e-12)
    assert grads[1] == pytest.approx(expected[1], rel=1e-12)
    check_grad(checkpointed, x, w)
    _, dy = zygote.jvp(checkpointed, (x, w), (np.ones(3), 0.5))
    assert dy == pytest.approx(np.dot(expected[0], np.ones(3)) + 0.5 * expected[1], rel=1e-10)


def test_checkpointed_closure_passes_its_environment_back():
    w = np.array([0.5, -1.5])

    def loss(w):
        def layer(x):
            return np.sin(w * x)
        return np.sum(zygote.checkpointed(layer, np.array([1.0, 2.0])))

    check_grad(loss, w)
