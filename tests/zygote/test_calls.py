"""Calls to user functions: arguments, defaults, keywords, *args, recursion, closures, higher order."""
import functools
import math

import numpy as np

import zygote
from zygote.testing import check_grad


def helper(a, b=2.0):
    return a * b + math.exp(a)


def test_positional_keyword_default():
    check_grad(lambda x: helper(x) + helper(x, b=x) + helper(b=3.0, a=x), 0.3)


def star(*xs):
    return xs[0] * xs[1] + sum(xs)


def starstar(x, **options):
    return x * options["scale"] + options.get("shift", 0.0)


def test_varargs_and_kwargs():
    check_grad(lambda x, y: star(x, y, 1.0), 0.3, 2.0)
    check_grad(lambda x, s: starstar(x, scale=s, shift=s * s), 0.3, 2.0)


def power(x, n):
    if n == 0:
        return 1.0
    return x * power(x, n - 1)


def is_even_poly(x, n):
    if n == 0:
        return x
    return is_odd_poly(x * x, n - 1)


def is_odd_poly(x, n):
    if n == 0:
        return x * 3.0
    return is_even_poly(math.sin(x), n - 1)


def test_recursion_and_mutual_recursion():
    check_grad(lambda x: power(x, 5), 1.3)
    check_grad(lambda x: is_even_poly(x, 4), 0.7)
    check_grad(lambda x: is_even_poly(x, 3), 0.7)


def test_closures_receive_adjoints():
    def f(x):
        w = x * 2.0
        g = lambda t: t * w
        return g(3.0) + g(x)

    def h(x):
        def inner(t):
            return t * x + math.sin(x)
        return inner(2.0) * inner(x)
    check_grad(f, 0.8)
    check_grad(h, 0.8)


def apply(fn, x):
    return fn(x)


def test_higher_order_functions():
    check_grad(lambda x: apply(math.sin, x) + apply(lambda t: t * t, x), 0.4)
    check_grad(lambda x: sum(map(lambda t: t * t, [x, 2 * x])), 0.4)
    check_grad(lambda x: apply(np.tanh, x), 0.4)


def test_gradient_with_respect_to_a_function_argument():
    scale = 3.0
    g = zygote.gradient(lambda f, x: apply(f, x), lambda t: t * scale, 2.0)
    assert g[1] == 3.0


def test_partial_objects():
    p = functools.partial(helper, b=4.0)
    check_grad(lambda x: p(x), 0.3)
    assert zygote.gradient(p, 0.3)[0] == 4.0 + math.exp(0.3)


def test_closure_redefined_between_calls():
    def make(k):
        return lambda x: x * k
    assert zygote.gradient(make(2.0), 1.0) == (2.0,)
    assert zygote.gradient(make(5.0), 1.0) == (5.0,)


def test_functions_defined_in_a_loop():
    fs = [lambda x, k=k: x ** k for k in range(1, 5)]
    for k, f in enumerate(fs, start=1):
        assert abs(zygote.gradient(f, 2.0)[0] - k * 2.0 ** (k - 1)) < 1e-12


def scaled(x, factor=1.0):
    return x * factor


@zygote.adjoint(scaled)
def scaled_rule(x, factor=1.0):
    return x * factor, lambda dy: (dy * factor, dy * x)


def test_a_pullback_rule_gives_a_keyword_argument_the_cotangent_listed_at_its_place():
    assert zygote.gradient(lambda x, f: scaled(x, f), 2.0, 3.0) == (3.0, 2.0)
    assert zygote.gradient(lambda x, f: scaled(x, factor=f), 2.0, 3.0) == (3.0, 2.0)
    assert zygote.gradient(lambda x, f: scaled(x=x, factor=f), 2.0, 3.0) == (3.0, 2.0)
    call = zygote.gradient(lambda g, x, f: g(x, factor=f), scaled, 2.0, 3.0)   # called as a value
    assert call[1:] == (3.0, 2.0)
