"""Rules for Python's arithmetic operators (``+ - * / // % ** @`` and unary minus)."""
import operator

import numpy as np

from . import expr_rule, nograd


def log_positive(a):
    """log(a) where a > 0 and 0 elsewhere: the exponent's derivative of a ** b where it exists."""
    if isinstance(a, np.ndarray):
        return np.log(np.where(a > 0, a, 1))
    return np.log(a) if a > 0 else 0.0 * a


def matmul_da(dy, a, b):
    """Cotangent of ``a`` in ``a @ b``."""
    if np.ndim(b) == 1:
        if np.ndim(a) == 1:
            return dy * b
        return np.multiply.outer(dy, b)
    if np.ndim(a) == 1:
        return b @ dy
    return unbroadcast_batch(dy @ np.swapaxes(b, -1, -2), a)


def matmul_db(dy, a, b):
    """Cotangent of ``b`` in ``a @ b``."""
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return dy * a
        return np.multiply.outer(a, dy)
    if np.ndim(b) == 1:
        return unbroadcast_batch(np.swapaxes(a, -1, -2) @ dy[..., None], b[:, None])[..., 0] \
            if np.ndim(a) > 2 else a.T @ dy
    return unbroadcast_batch(np.swapaxes(a, -1, -2) @ dy, b)


def unbroadcast_batch(g, x):
    """Sum leading batch dimensions of ``g`` that ``x`` does not have."""
    extra = np.ndim(g) - np.ndim(x)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    return g


# -- arithmetic ----------------------------------------------------------------------------
expr_rule(operator.add, lambda a, b, y, dy: (dy, dy))
expr_rule(operator.sub, lambda a, b, y, dy: (dy, -dy))
expr_rule(operator.mul, lambda a, b, y, dy: (dy * b, dy * a))
expr_rule(operator.truediv, lambda a, b, y, dy: (dy / b, -dy * y / b))
expr_rule(operator.mod, lambda a, b, y, dy: (dy, -dy * (a // b)))
expr_rule(operator.pow, lambda a, b, y, dy: (dy * b * a ** (b - 1), dy * y * log_positive(a)))
expr_rule(operator.neg, lambda a, y, dy: -dy)
expr_rule(operator.pos, lambda a, y, dy: dy)
expr_rule(operator.matmul, lambda a, b, y, dy: (matmul_da(dy, a, b), matmul_db(dy, a, b)),
          elementwise=False)

# -- piecewise constant --------------------------------------------------------------------
nograd(operator.floordiv, operator.invert, operator.not_, operator.lt, operator.le, operator.eq,
       operator.ne, operator.gt, operator.ge, operator.is_, operator.is_not, operator.contains)
