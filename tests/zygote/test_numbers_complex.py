"""Complex numbers: every operator, attribute and rule follows one convention.

The cotangent of a real loss ``L`` of ``z = x + iy`` is ``∂L/∂x + i ∂L/∂y``, so that along a
complex direction ``v`` the loss changes at the rate ``Re Σ conj(g) v``. Each check below
compares that rate with central differences in the real and imaginary parts: for Python
complex scalars through the operators, and for every row of the rule sample tables, run
again with complex arguments.
"""
import cmath
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zygote
from zygote.errors import ZygoteError
from conftest import complete_rows, row_id
from test_rules_registry import sample_tables


def directional(loss, args, i, v, eps=1e-6):
    """``d/dt loss(args with args[i] + t v)`` at 0 by central differences."""
    up, down = list(args), list(args)
    up[i], down[i] = args[i] + eps * v, args[i] - eps * v
    return (loss(*up) - loss(*down)) / (2 * eps)


def check_convention(loss, args, active, rng, rtol=1e-4, atol=1e-6):
    grads = zygote.gradient(loss, *args)
    for i in active:
        g = np.zeros_like(args[i]) if grads[i] is None else np.asarray(grads[i])
        for _ in range(2):
            v = rng.standard_normal(np.shape(args[i])) + 1j * rng.standard_normal(np.shape(args[i]))
            v = complex(v) if np.ndim(v) == 0 else v
            rate = np.real(np.sum(np.conj(g) * v))
            expected = directional(loss, args, i, v)
            if not np.isclose(rate, expected, rtol=rtol, atol=atol):
                return f"argument {i}: Re<g, v> = {rate}, differences give {expected}"
    return None


# -- Python complex scalars through the operators -------------------------------------------------
COMPLEX = st.complex_numbers(min_magnitude=0.3, max_magnitude=2.0, allow_nan=False, allow_infinity=False)
SCALAR_PROGRAMS = {
    "Re z²": lambda z: (z * z).real,
    "Im z²": lambda z: (z ** 2).imag,
    "|z²|": lambda z: abs(z * z),
    "Re 1/z": lambda z: (1 / z).real,
    "Im z/(3+z)": lambda z: (z / (3 + z)).imag,
    "Re z³ + Im 2^z": lambda z: (z ** 3).real + (2.0 ** z).imag,
    "z conj z": lambda z: (z * z.conjugate()).real,
    "Im conj": lambda z: (z.conjugate() * 3j - z).imag,
    "complex()": lambda z: abs(complex(z.real, 2.0) * z),
}


@settings(max_examples=15, deadline=None)
@given(z=COMPLEX, w=COMPLEX)
def test_python_complex_scalars_follow_the_convention(z, w):
    rng = np.random.default_rng(0)
    for name, f in SCALAR_PROGRAMS.items():
        assert check_convention(f, (z,), [0], rng) is None, name
    assert check_convention(lambda z, w: (z * w + z / w).real, (z, w), [0, 1], rng) is None


def test_the_parts_of_holomorphic_functions():
    """``Re exp(z)`` has the gradient ``conj(exp(z))``; ``|exp(z)| = e^x`` has ``e^x``."""
    z = np.array([0.3 + 0.4j, -0.5 + 0.2j])
    np.testing.assert_allclose(zygote.gradient(lambda z: np.sum(np.exp(z).real), z)[0], np.conj(np.exp(z)))
    np.testing.assert_allclose(zygote.gradient(lambda z: np.sum(np.sin(z).real), z)[0], np.conj(np.cos(z)))
    np.testing.assert_allclose(zygote.gradient(lambda z: np.sum(np.exp(z).imag), z)[0],
                               1j * np.conj(np.exp(z)))
    np.testing.assert_allclose(zygote.gradient(lambda z: np.sum(np.abs(np.exp(z))), z)[0], np.exp(z.real))
    (g,) = zygote.gradient(lambda z: (z * z).real, 0.3 + 0.4j)
    assert g == pytest.approx(0.6 - 0.8j)
    assert zygote.gradient(lambda x: (x * (1 + 2j)).imag, 0.5) == (2.0,)  # a real argument: real


# -- every rule of the sample tables, with complex arguments ---------------------------------------
# The rules whose pullbacks are still written for real arguments only: with complex ones they
# would give a wrong number, listed here so that the test notices both a regression and a fix
# (none at the moment).
NOT_YET_COMPLEX = {}
TABLES = sample_tables()


def complexify(a, rng):
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a + 1j * rng.uniform(-0.3, 0.3, a.shape)
    if type(a) is float:
        return complex(a, rng.uniform(-0.3, 0.3))
    return a


def parts_loss(static):
    def loss(*args):
        s = static(*args)
        return np.real(s) + 0.6 * np.imag(s)
    return loss


@pytest.mark.parametrize("table", sorted(TABLES))
def test_every_rule_follows_the_convention_with_complex_arguments(table):
    """Rows whose function takes complex arguments and returns a number: zygote gives the
    convention's gradient or a clear error, never a wrong number (but for NOT_YET_COMPLEX)."""
    rng = np.random.default_rng(20261203)
    wrong = {}
    for row in complete_rows(TABLES[table]):
        args = tuple(complexify(a, rng) for a in row["args"])
        active = [i for i, (a, b) in enumerate(zip(row["args"], args)) if a is not b]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                value = row["static"](*args)
            except Exception:
                continue  # not defined for complex arguments
            if not active or np.ndim(value) != 0:
                continue
            try:
                failure = check_convention(parts_loss(row["static"]), args, active, rng)
            except (ZygoteError, NotImplementedError):
                continue  # refused clearly
            except Exception as error:  # an error from inside a rule counts as wrong
                failure = f"{type(error).__name__}: {error}"
        if failure:
            wrong.setdefault(row_id(row).rsplit("-", 1)[0], []).append(failure)
    assert set(wrong) == NOT_YET_COMPLEX.get(table, set()), \
        {name: wrong.get(name) for name in set(wrong) ^ NOT_YET_COMPLEX.get(table, set())}


def test_nan_to_num_of_complex_values_replaces_each_part_on_its_own():
    rng = np.random.default_rng(5)
    z = np.array([complex(1.0, np.nan), complex(np.inf, 0.5), complex(0.3, -0.2), complex(np.nan, np.inf)])
    w = rng.standard_normal(4) + 1j * rng.standard_normal(4)

    def loss(z, fill, big):
        out = np.nan_to_num(z, nan=fill, posinf=big)
        return np.real(np.sum(w * out))
    gz, gfill, gbig = zygote.gradient(loss, z, 0.25, 7.0)
    finite = np.array([1, 0, 1, 0]) + 1j * np.array([0, 1, 1, 0])
    np.testing.assert_allclose(gz, np.real(w) * np.real(finite) - 1j * np.imag(w) * np.imag(finite))
    h = 1e-6
    assert gfill == pytest.approx((loss(z, 0.25 + h, 7.0) - loss(z, 0.25 - h, 7.0)) / (2 * h), rel=1e-6)
    assert gbig == pytest.approx((loss(z, 0.25, 7.0 + h) - loss(z, 0.25, 7.0 - h)) / (2 * h), rel=1e-6)


def test_complex_and_float_of_complex_parts_follow_the_convention():
    rng = np.random.default_rng(6)
    def both(a, b):
        return abs(complex(a, b)) + complex(a, b).imag

    def real_part(a, b):
        return (float(a) * complex(b, 1.5)).real  # float of a numpy complex: its real part
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's ComplexWarning for float(a)
        assert check_convention(both, (complex(0.4, -0.3), complex(-0.2, 0.7)), [0, 1], rng) is None
        assert check_convention(real_part, (np.complex128(0.4 - 0.3j), complex(-0.2, 0.7)), [0, 1], rng) is None


@pytest.mark.parametrize("loss", [
    lambda a: np.sum(np.linalg.eigvalsh(a) * np.array([1.0, -2.0, 0.5])),
    lambda a: np.real(np.sum(np.linalg.cholesky(a) * np.array([[1.0, 0, 0], [0.3j, 2.0, 0], [-1.0, 0.5j, 1.5]]))),
])
def test_hermitian_matrix_functions_follow_the_convention(loss):
    rng = np.random.default_rng(7)
    b = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    a = b @ b.conj().T + 3 * np.eye(3)  # Hermitian, positive definite
    assert check_convention(loss, (a,), [0], rng) is None


@pytest.mark.parametrize("trans", [0, 1, 2])
@pytest.mark.parametrize("lower", [True, False])
def test_solve_triangular_of_complex_matrices_in_every_orientation(trans, lower):
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(8)
    a = np.triu(rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))) + 3 * np.eye(3)
    a = a.T if lower else a
    b = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))
    w = rng.standard_normal((3, 2)) + 1j * rng.standard_normal((3, 2))

    def loss(a, b):
        return np.real(np.sum(w * linalg.solve_triangular(a, b, trans=trans, lower=lower)))
    assert check_convention(loss, (a, b), [0, 1], rng) is None


@pytest.mark.parametrize("lower", [True, False])
def test_cholesky_factor_and_solve_of_a_complex_hermitian_matrix(lower):
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(9)
    m = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    a = m @ m.conj().T + 3 * np.eye(3)
    b = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    w = rng.standard_normal(3) + 1j * rng.standard_normal(3)

    def loss(a, b):
        return np.real(np.sum(w * linalg.cho_solve(linalg.cho_factor(a, lower=lower), b)))
    assert check_convention(loss, (a, b), [0, 1], rng) is None


def test_correlate_is_conjugate_linear_in_its_second_argument():
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(10)
    a = rng.standard_normal(6) + 1j * rng.standard_normal(6)
    b = rng.standard_normal(3) + 1j * rng.standard_normal(3)
    w = rng.standard_normal(8) + 1j * rng.standard_normal(8)
    for mode, n in (("full", 8), ("same", 6), ("valid", 4)):
        def loss(a, b):
            return np.real(np.sum(w[:n] * signal.correlate(a, b, mode)))
        assert check_convention(loss, (a, b), [0, 1], rng) is None


def test_digamma_at_a_complex_argument_says_what_is_missing():
    special = pytest.importorskip("scipy.special")
    with pytest.raises(NotImplementedError, match="polygamma"):
        zygote.gradient(lambda z: np.real(special.digamma(z)), np.array([1.5 + 0.5j]))


def test_eigh_of_a_complex_hermitian_matrix_through_phase_free_forms():
    rng = np.random.default_rng(11)
    m = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    a = m + m.conj().T
    c = rng.standard_normal((4, 4))

    def loss(a):
        w, v = np.linalg.eigh(a)
        return np.sum(c * np.abs(v) ** 2) + np.sum(w * np.arange(4.0))
    assert check_convention(loss, (a,), [0], rng) is None


def test_eigh_refuses_a_loss_of_the_eigenvectors_phases():
    rng = np.random.default_rng(12)
    m = rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))
    a = m + m.conj().T
    with pytest.raises(zygote.errors.ZygoteError, match="phases"):
        zygote.gradient(lambda a: np.real(np.sum(np.linalg.eigh(a)[1])), a)


@pytest.mark.parametrize("complex_matrix", [False, True])
def test_eig_gives_phase_free_losses_and_refuses_the_phases(complex_matrix):
    rng = np.random.default_rng(13)
    a = np.array([[0.5, -2.0, 0.1], [1.5, 0.3, 0.2], [0.1, 0.4, -1.0]])  # complex eigenvalues
    if complex_matrix:
        a = a + 0.3j * rng.standard_normal((3, 3))
    c = np.array([[1.0], [2.0], [3.0]])

    def phase_free(a):
        w, v = np.linalg.eig(a)
        return np.sum(np.abs(v) ** 2 * c) + np.real(np.sum(w * np.array([1.0, 2.0, -1.0])))
    grads = zygote.gradient(phase_free, a)[0]
    for _ in range(2):
        d = rng.standard_normal((3, 3)) + (1j * rng.standard_normal((3, 3)) if complex_matrix else 0)
        expected = (phase_free(a + 1e-6 * d) - phase_free(a - 1e-6 * d)) / 2e-6
        assert np.real(np.sum(np.conj(grads) * d)) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(zygote.errors.ZygoteError, match="phases"):
        zygote.gradient(lambda a: np.real(np.sum(np.linalg.eig(a)[1] * c.T)), a)
