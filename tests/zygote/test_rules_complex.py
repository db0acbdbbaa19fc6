"""The complex parts (real, imag, conj, angle, real_if_close) and complex inputs to elementwise rules.

zygote's convention: a real loss ``L`` of ``z = x + iy`` has the cotangent ``∂L/∂x + i ∂L/∂y``;
the checks below compare with central differences in the real and the imaginary parts.
"""
import numpy as np
import pytest

import zygote
from zygote.rules.complex import conj
from zygote.testing import weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
    test_rule_value_is_the_plain_value,
)

TABLE = SampleTable(20261205)
SAMPLES, sample, u, away, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.away, TABLE.rng

# -- real arguments: the parts of a real number ---------------------------------------------------
sample(np.real, lambda x: weighted_sum(np.real(x)), u(3, 4))
sample(np.imag, lambda x: weighted_sum(np.imag(x) + x), u(3, 4), mirrors=False)
sample(np.conj, lambda x: weighted_sum(np.conj(x)), u(3, 4))
sample(np.conj, lambda x: weighted_sum(np.conjugate(x)), u(3, 4))
sample(np.angle, lambda x: weighted_sum(np.angle(x) * x), away(5), mirrors=False)
sample(np.real_if_close, lambda x: weighted_sum(np.real_if_close(x + 0j)), u(4), mirrors=False)
sample(np.real_if_close, lambda x: weighted_sum(np.real_if_close(x)), u(4))
sample((np.ndarray, "conj"), lambda x: weighted_sum(x.conj()), u(3))
sample((np.ndarray, "conjugate"), lambda x: weighted_sum(x.conjugate()), u(3))
sample((np.generic, "conj"), lambda x: np.sum(x).conj() * 2.0, u(3), mirrors=False, float32=False)
sample((np.generic, "conjugate"), lambda x: np.sum(x).conjugate() * 2.0, u(3), mirrors=False, float32=False)
sample((complex, "conjugate"), lambda x: ((x + 0.5j) * x).conjugate().imag * 2.0, 0.7, mirrors=False)
sample((float, "conjugate"), lambda x: x.conjugate() * x, 0.7)
sample(conj, lambda x: weighted_sum(np.imag(conj(x * (1 + 2j)))), u(3))
sample(conj, lambda x: conj(x) * x * 2.0, 0.7)
sample((int, "conjugate"), lambda x: (x * 3).conjugate() * x, 2, mirrors=False)


# -- complex arguments -------------------------------------------------------------------------


def complex_differences(f, z, eps=1e-6):
    """``∂f/∂x + i ∂f/∂y`` by central differences, entry by entry."""
    z = np.array(z, dtype=complex)
    grad = np.zeros(z.shape, dtype=complex)
    for index in np.ndindex(z.shape):
        for step, unit in ((eps, 1.0), (1j * eps, 1j)):
            up, down = z.copy(), z.copy()
            up[index] += step
            down[index] -= step
            grad[index] += unit * (f(up) - f(down)) / (2 * eps)
    return grad


def parts_loss(fn):
    """A real loss of ``fn(z)`` that weighs the real and imaginary parts unevenly."""
    return lambda z: weighted_sum(np.real(fn(z))) + weighted_sum(np.imag(fn(z)), seed=1)


Z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 0.6 - 0.3j])
HOLOMORPHIC = [np.sin, np.cos, np.tan, np.exp, np.exp2, np.expm1, np.log, np.log2, np.log10, np.log1p,
               np.sqrt, np.square, np.reciprocal, np.tanh, np.sinh, np.cosh, np.arcsin, np.arccos,
               np.arctan, np.arcsinh, np.arccosh, np.arctanh]


# the rules whose complex inputs the tests below check (the coverage table lists them)
COMPLEX_CHECKED = HOLOMORPHIC + [np.multiply, np.divide, np.abs, np.sign, np.real, np.imag, np.conj, np.angle,
                                 np.real_if_close, (np.ndarray, "conj"), (np.ndarray, "conjugate")]


@pytest.mark.parametrize("fn", HOLOMORPHIC, ids=lambda fn: fn.__name__)
def test_holomorphic_rules_follow_the_convention(fn):
    loss = parts_loss(fn)
    (dz,) = zygote.gradient(loss, Z)
    np.testing.assert_allclose(dz, complex_differences(loss, Z), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", [np.multiply, np.divide], ids=lambda fn: fn.__name__)
def test_binary_rules_follow_the_convention(fn):
    w = np.array([1.2 - 0.7j, 0.4 + 1.1j, -0.8 + 0.5j])
    for loss, at in ((parts_loss(lambda z: fn(z, w)), Z), (parts_loss(lambda z: fn(w, z)), Z)):
        (dz,) = zygote.gradient(loss, at)
        np.testing.assert_allclose(dz, complex_differences(loss, at), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name, loss", [
    ("abs", lambda z: weighted_sum(np.abs(z))),
    ("real", lambda z: weighted_sum(np.real(z) ** 2)),
    ("imag", lambda z: weighted_sum(np.imag(z) ** 3)),
    ("conj", parts_loss(lambda z: np.multiply(np.conj(z), np.conj(z)))),
    ("angle", lambda z: weighted_sum(np.angle(z))),
    ("angle in degrees", lambda z: weighted_sum(np.angle(z, deg=True))),
    ("abs of exp", lambda z: weighted_sum(np.abs(np.exp(z)))),
    ("sign", parts_loss(np.sign)),
    ("real_if_close", lambda z: weighted_sum(np.real(np.real_if_close(np.multiply(z, np.conj(z)))))),
    ("conj method", parts_loss(lambda z: np.multiply(z.conj(), z.conjugate()) + z)),
])
def test_parts_follow_the_convention(name, loss):
    (dz,) = zygote.gradient(loss, Z)
    np.testing.assert_allclose(dz, complex_differences(loss, Z), rtol=1e-6, atol=1e-8)


def test_a_real_argument_gets_a_real_cotangent():
    x = np.array([0.3, -1.2, 0.8])
    (dx,) = zygote.gradient(lambda x: weighted_sum(np.abs(np.multiply(x, 1 + 2j))), x)
    assert dx.dtype == np.float64
    np.testing.assert_allclose(dx, np.sign(x) * np.sqrt(5) * np.random.default_rng(0).uniform(0.5, 2.0, 3))
    (d,) = zygote.gradient(lambda t: np.real(np.exp(np.multiply(1j, t))), 0.4)
    assert d == pytest.approx(-np.sin(0.4)) and not np.iscomplexobj(d)
