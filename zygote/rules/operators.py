"""Rules for Python's arithmetic operators (``+ - * / // % ** @``, unary minus and abs)."""
import math
import operator

import numpy as np

from . import constant, expr_rule, nograd
from ..cotangents import unbroadcast
from .complex import conj, holomorphic
from .ieee import divide, power


def log_positive(a):
    """log(a) where a > 0 and 0 elsewhere: the exponent's derivative of a ** b where it exists;
    for complex ``a`` the principal log(a), 0 at 0."""
    if isinstance(a, np.ndarray):
        if a.dtype.kind == "c":
            return np.log(np.where(a == 0, 1, a))
        return np.log(np.where(a > 0, a, 1))
    if isinstance(a, (complex, np.complexfloating)):
        return np.log(a) if a != 0 else 0.0 * a
    return math.log(a) if a > 0 else 0.0 * a  # a Python float stays weakly typed next to float32


def exponent_slope(a, y):
    """``y · log(a)``, the derivative of ``y = a ** b`` in ``b``, as it multiplies a cotangent."""
    return (y * log_positive(a)).conjugate()


def power_slope(a, b):
    """``b * a ** (b - 1)``, exactly 0 where ``b == 0``, so that repeated derivatives of ``x ** n``
    end at 0; conjugated for complex ``a`` or ``b``, as it multiplies a cotangent."""
    kind = type(b)
    if kind is int or kind is float or np.ndim(b) == 0:  # a Python exponent skips numpy's dispatch
        if b == 0:
            return 0.0 * a
        return (b * power(a, b - 1)).conjugate()
    return np.where(b == 0, 0.0, b * a ** (b - 1)).conjugate()


_NDARRAY = np.ndarray
_MULTIPLY_OUTER = np.multiply.outer


def as_matrices(dy, a, b):
    """``a``, ``b`` and ``dy`` of ``a @ b`` with 1-d operands promoted to matrices, as numpy does."""
    a2 = a if np.ndim(a) > 1 else np.reshape(a, (1, -1))
    b2 = b if np.ndim(b) > 1 else np.reshape(b, (-1, 1))
    if np.ndim(a) == 1 and np.ndim(b) == 1:
        return np.reshape(dy, (1, 1)), a2, b2
    if np.ndim(a) == 1:
        return np.expand_dims(dy, -2), a2, b2
    if np.ndim(b) == 1:
        return np.expand_dims(dy, -1), a2, b2
    return dy, a2, b2


def matmul_da(dy, a, b):
    """Cotangent of ``a`` in ``a @ b``: ``dy @ bᵀ``, summed over broadcast batch dimensions."""
    b = holomorphic(b)
    if type(a) is _NDARRAY and type(b) is _NDARRAY and type(dy) is _NDARRAY \
            and a.ndim == 2 and b.ndim == 1 and dy.ndim == 1:
        # Matrix times vector: an outer product, not a k=1 matmul (the ufunc's own outer,
        # without np.outer's flattening of its operands, which are vectors already).
        return _MULTIPLY_OUTER(dy, b)
    if np.ndim(a) == 2 and np.ndim(b) == 1:
        return np.outer(dy, b)
    dy2, a2, b2 = as_matrices(dy, a, b)
    da = unbroadcast(dy2 @ np.swapaxes(b2, -1, -2), a2)
    return np.reshape(da, np.shape(a))


def matmul_db(dy, a, b):
    """Cotangent of ``b`` in ``a @ b``: ``aᵀ @ dy``, summed over broadcast batch dimensions."""
    a = holomorphic(a)
    if (a.ndim == 2 and b.ndim == 1) if type(a) is _NDARRAY and type(b) is _NDARRAY \
            else (np.ndim(a) == 2 and np.ndim(b) == 1):
        return dy @ a  # a vector-matrix product reads a in place (no transposed copy)
    dy2, a2, b2 = as_matrices(dy, a, b)
    if b2.ndim == 2 and a2.ndim == 2 and b2.flags.f_contiguous and not b2.flags.c_contiguous:
        # b is a transposed view (W.T in x @ W.T): lay the cotangent out the same way, so
        # that W's own cotangent comes out contiguous, as W is.
        return (dy2.T @ a2).T
    db = unbroadcast(np.swapaxes(a2, -1, -2) @ dy2, b2)
    return np.reshape(db, np.shape(b))


# -- arithmetic ----------------------------------------------------------------------------
expr_rule(operator.add, lambda a, b, y, dy: (dy, dy))
expr_rule(operator.sub, lambda a, b, y, dy: (dy, -dy))
expr_rule(operator.mul, lambda a, b, y, dy: (dy * conj(b), dy * conj(a)))
expr_rule(operator.truediv, lambda a, b, y, dy: (dy / conj(b), -dy * conj(y) / conj(b)))
expr_rule(operator.mod, lambda a, b, y, dy: (dy, -dy * (a // b)))
# A constant exponent (``x ** 3``) gives ``3 * x.conjugate() ** 2`` in the adjoint, without a
# call (the conjugate, a method call on a number, keeps the complex convention).
expr_rule(operator.pow, lambda a, b, y, dy: (
    dy * ((2 * a.conjugate() if b == 2 else b * a.conjugate() ** (b - 1)) if constant(b) and type(b) is int
          and b > 0 else power_slope(a, b)),
    dy * exponent_slope(a, y)))
expr_rule(operator.neg, lambda a, y, dy: -dy)
expr_rule(operator.pos, lambda a, y, dy: dy)
expr_rule(operator.abs, lambda a, y, dy: dy * np.sign(a))
# (the IEEE forms of / and ** that rule expressions use, differentiable for higher orders)
expr_rule(divide, lambda a, b, y, dy: (divide(dy, holomorphic(b)), -dy * holomorphic(divide(y, b))))
expr_rule(power, lambda a, b, y, dy: (dy * power_slope(a, b), dy * exponent_slope(a, y)))
expr_rule(operator.matmul, lambda a, b, y, dy: (matmul_da(dy, a, b), matmul_db(dy, a, b)),
          elementwise=False)

# -- piecewise constant --------------------------------------------------------------------
nograd(operator.floordiv, operator.invert, operator.not_, operator.lt, operator.le, operator.eq,
       operator.ne, operator.gt, operator.ge, operator.is_, operator.is_not, operator.contains,
       operator.and_, operator.or_, operator.xor, operator.truth, operator.index)
