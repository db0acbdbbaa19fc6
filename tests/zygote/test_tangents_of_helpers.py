"""Tangent rules of the helpers that generated adjoints call, against central differences.

Forward over reverse (``hvp``, ``hessian``) differentiates reverse mode's generated code, so
these rules are what its second derivatives are made of."""
import numpy as np
import pytest

from zygote.rules.complex import holomorphic
from zygote.rules.operators import matmul_da, matmul_db
from zygote.rules.tangents import lookup_tangent

SHAPES = [((3, 4), (4,)), ((3, 4), (4, 2)), ((4,), (4, 3)), ((4,), (4,)), ((2, 3, 4), (4, 5)),
          ((3, 4), (2, 4, 5))]


def _draw(rng, shape, complex_):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


@pytest.mark.parametrize("fn", [matmul_da, matmul_db])
@pytest.mark.parametrize("a_shape, b_shape", SHAPES)
@pytest.mark.parametrize("complex_", [False, True])
def test_matmul_cotangent_helpers(fn, a_shape, b_shape, complex_):
    rng = np.random.default_rng(len(a_shape) * 10 + len(b_shape) + complex_)
    a, b = _draw(rng, a_shape, complex_), _draw(rng, b_shape, complex_)
    dy = _draw(rng, np.shape(a @ b), complex_)
    primals = (dy, a, b)
    tangents = tuple(_draw(rng, np.shape(p), complex_) for p in primals)
    y, dy_out = lookup_tangent(fn)(tangents, *primals)
    np.testing.assert_allclose(y, fn(*primals), rtol=1e-12)
    h = 1e-6
    up = fn(*(p + h * t for p, t in zip(primals, tangents)))
    down = fn(*(p - h * t for p, t in zip(primals, tangents)))
    np.testing.assert_allclose(dy_out, (up - down) / (2 * h), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("complex_", [False, True])
def test_holomorphic_is_linear(complex_):
    rng = np.random.default_rng(3)
    s, d = _draw(rng, (5,), complex_), _draw(rng, (5,), complex_)
    y, dy = lookup_tangent(holomorphic)((d,), s)
    np.testing.assert_allclose(y, holomorphic(s))
    np.testing.assert_allclose(dy, (holomorphic(s + 1e-6 * d) - holomorphic(s - 1e-6 * d)) / 2e-6, rtol=1e-6)
