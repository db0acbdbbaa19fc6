"""Rules for ``scipy.linalg``: the matrix exponential, square root and logarithm, triangular
solves and the Cholesky factor-and-solve pair.
"""
import numpy as np
import scipy.linalg as linalg

from .. import adjoint
from ..numpy import adjoint_matrix, float_dtype, lower_halving_diagonal, lower_triangle_back, matrix_transpose
from ...runtime import is_zero


# -- matrix functions ---------------------------------------------------------------------------


def matrix_function_back(f, a, dy):
    """The cotangent of ``a`` for ``y = f(a)``, a matrix function given by a real power series.

    ``f`` of the block matrix ``[[Aᴴ, dY], [0, Aᴴ]]`` holds the Fréchet derivative
    ``L_f(Aᴴ, dY)`` in its upper right block, and that derivative at ``Aᴴ`` is the adjoint of
    the one at ``A`` (``Aᵀ`` for a real matrix). Written with ``f`` itself, so that it can be
    differentiated again.
    """
    n = np.shape(a)[-1]
    a_t = adjoint_matrix(a)
    top = np.concatenate([a_t, dy], axis=-1)
    bottom = np.concatenate([np.zeros_like(a_t), a_t], axis=-1)
    part = f(np.concatenate([top, bottom], axis=-2))[..., :n, n:]
    if part.dtype.kind == "c":
        return part  # a matrix whose square root or logarithm is complex
    return part.astype(float_dtype(a))  # logm computes float32 in float64


@adjoint(linalg.expm)
def expm_rule(A):
    """``exp(A)`` of a square matrix, or of a stack of them."""
    y = linalg.expm(A)
    return y, lambda dy: (matrix_function_back(linalg.expm, A, dy),)


@adjoint(linalg.sqrtm)
def sqrtm_rule(A):
    """The principal square root of a matrix without eigenvalues on the closed negative axis."""
    y = linalg.sqrtm(A)
    return y, lambda dy: (matrix_function_back(linalg.sqrtm, A, dy),)


@adjoint(linalg.logm)
def logm_rule(A):
    """The principal logarithm of a well-conditioned matrix without eigenvalues on the closed
    negative axis; near such eigenvalues ``logm`` itself loses accuracy, and so does this."""
    y = linalg.logm(A)
    return y, lambda dy: (matrix_function_back(linalg.logm, A, dy),)


# -- triangular systems -----------------------------------------------------------------------------


def triangle(m, lower, unit_diagonal=False):
    """The triangle of ``m`` that a triangular routine reads (without the diagonal if unit)."""
    part = np.tril(m) if lower else np.triu(m)
    if unit_diagonal:
        part = np.where(np.eye(np.shape(m)[-1], dtype=bool), 0, part)
    return part


def outer_columns(u, v):
    """``u vᴴ`` for vectors, ``u @ vᴴ`` for matrices of columns (or stacks of them: scipy
    takes a stack of right-hand sides as matrices, never as vectors)."""
    return np.outer(u, np.conj(v)) if np.ndim(u) == 1 else u @ adjoint_matrix(v)


TRANSPOSES = {0: "N", "N": "N", 1: "T", "T": "T", 2: "C", "C": "C"}


@adjoint(linalg.solve_triangular)
def solve_triangular_rule(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                          check_finite=True):
    """``x = op(T)⁻¹ b`` with ``T`` the triangle of ``a`` that ``lower`` names and ``op`` the
    transpose when ``trans`` is 1 or 'T', the conjugate transpose when it is 2 or 'C':
    ``db = op(T)⁻ᴴ dx`` and ``dT = -db xᴴ`` (taken back through ``op``), on T's triangle."""
    kind = TRANSPOSES[trans]
    x = linalg.solve_triangular(a, b, trans, lower, unit_diagonal, False, check_finite)

    def solve_triangular_back(dx):
        if kind == "N":
            db = linalg.solve_triangular(a, dx, "C", lower, unit_diagonal)
        elif kind == "T":  # op(T)⁻ᴴ = conj(T)⁻¹
            db = linalg.solve_triangular(np.conj(a), dx, "N", lower, unit_diagonal)
        else:
            db = linalg.solve_triangular(a, dx, "N", lower, unit_diagonal)
        dop = -outer_columns(db, x)
        da = {"N": dop, "T": matrix_transpose(dop), "C": adjoint_matrix(dop)}[kind]
        return (triangle(da, lower, unit_diagonal), db) + (None,) * 5
    return x, solve_triangular_back


# -- Cholesky factor and solve -----------------------------------------------------------------------


@adjoint(linalg.cho_factor, output_kind="a")  # a (c, lower) pair, not an array
def cho_factor_rule(a, lower=False, overwrite_a=False, check_finite=True):
    """``(c, lower)``: the factor in c's ``lower`` (or upper) triangle, a's own entries in the other.

    scipy reads only that triangle of ``a``; its cotangent comes from the Cholesky adjoint
    ``L⁻ᴴ Φ(Lᴴ dL) L⁻¹`` (Φ: the lower triangle, diagonal halved), and the entries that
    ``c`` copies from the other triangle of ``a`` hand their cotangents straight back. An
    upper factor ``U`` is ``Lᴴ``.
    """
    c, is_lower = result = linalg.cho_factor(a, lower, False, check_finite)
    chol = np.tril(c) if lower else adjoint_matrix(np.triu(c))

    def cho_factor_back(dresult):
        dc = dresult[0]
        if is_zero(dc):
            return 0, None, None, None
        dchol = np.tril(dc) if lower else adjoint_matrix(np.triu(dc))
        inverse = np.linalg.inv(chol)
        grad = adjoint_matrix(inverse) @ lower_halving_diagonal(adjoint_matrix(chol) @ dchol) @ inverse
        read = lower_triangle_back(grad)
        if lower:
            return read + np.triu(dc, 1), None, None, None
        return adjoint_matrix(read) + np.tril(dc, -1), None, None, None
    return result, cho_factor_back



@adjoint(linalg.cho_solve)
def cho_solve_rule(c_and_lower, b, overwrite_b=False, check_finite=True):
    """``x = A⁻¹ b`` with ``A = L Lᴴ`` and ``L`` read from ``cho_factor``'s ``(c, lower)``
    (an upper factor is ``Lᴴ``): ``db = A⁻¹ dx``, ``dA = -db xᴴ`` and so
    ``dL = (dA + dAᴴ) L`` on c's triangle."""
    c, lower = c_and_lower
    x = linalg.cho_solve(c_and_lower, b, False, check_finite)
    chol = np.tril(c) if lower else adjoint_matrix(np.triu(c))

    def cho_solve_back(dx):
        db = linalg.cho_solve(c_and_lower, dx)
        da = -outer_columns(db, x)
        dchol = (da + adjoint_matrix(da)) @ chol
        dc = np.tril(dchol) if lower else np.triu(adjoint_matrix(dchol))
        return (dc, 0), db, None, None
    return x, cho_solve_back
