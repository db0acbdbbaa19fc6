"""Rules for numpy: elementwise functions, reductions, linear algebra, shapes and array methods."""
import numpy as np

from . import METHOD_RULES, RULES, adjoint, expr_rule, nograd
from .operators import log_positive, matmul_da, matmul_db
from ..runtime import unbroadcast

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))


def expand_reduced(dy, x, axis, keepdims):
    """``dy`` of a reduction over ``axis`` given back the reduced axes, broadcast to ``x``'s shape."""
    if axis is not None and not keepdims:
        dy = np.expand_dims(dy, axis)
    return np.broadcast_to(dy, np.shape(x))


def reduced_count(x, axis):
    shape = np.shape(x)
    if axis is None:
        return int(np.prod(shape))
    axes = axis if isinstance(axis, tuple) else (axis,)
    count = 1
    for a in axes:
        count *= shape[a]
    return count


def extremum_back(dy, x, y, axis, keepdims):
    """Cotangent of max/min: ``dy`` shared equally among the positions that attain ``y``."""
    y_full = expand_reduced(y, x, axis, keepdims)
    mask = x == y_full
    count = mask.sum(axis=axis, keepdims=True)
    return mask * (expand_reduced(dy, x, axis, keepdims) / (count if axis is not None else count.reshape(())))


def clip_mask(x, lo, hi):
    """1 where ``clip`` passed ``x`` through, 0 where it clipped."""
    inside = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    return inside


def transpose_back(dy, axes):
    return np.transpose(dy) if axes is None else np.transpose(dy, np.argsort(axes))


# -- elementwise -----------------------------------------------------------------------------
expr_rule(np.sin, lambda x, y, dy: dy * np.cos(x))
expr_rule(np.cos, lambda x, y, dy: -dy * np.sin(x))
expr_rule(np.tan, lambda x, y, dy: dy * (1 + y * y))
expr_rule(np.exp, lambda x, y, dy: dy * y)
expr_rule(np.exp2, lambda x, y, dy: dy * y * LN2)
expr_rule(np.expm1, lambda x, y, dy: dy * (y + 1))
expr_rule(np.log, lambda x, y, dy: dy / x)
expr_rule(np.log2, lambda x, y, dy: dy / (x * LN2))
expr_rule(np.log10, lambda x, y, dy: dy / (x * LN10))
expr_rule(np.log1p, lambda x, y, dy: dy / (1 + x))
expr_rule(np.sqrt, lambda x, y, dy: dy / (2 * y))
expr_rule(np.cbrt, lambda x, y, dy: dy / (3 * y * y))
expr_rule(np.square, lambda x, y, dy: dy * 2 * x)
expr_rule(np.reciprocal, lambda x, y, dy: -dy * y * y)
expr_rule(np.tanh, lambda x, y, dy: dy * (1 - y * y))
expr_rule(np.sinh, lambda x, y, dy: dy * np.cosh(x))
expr_rule(np.cosh, lambda x, y, dy: dy * np.sinh(x))
expr_rule(np.arcsin, lambda x, y, dy: dy / np.sqrt(1 - x * x))
expr_rule(np.arccos, lambda x, y, dy: -dy / np.sqrt(1 - x * x))
expr_rule(np.arctan, lambda x, y, dy: dy / (1 + x * x))
expr_rule(np.arcsinh, lambda x, y, dy: dy / np.sqrt(x * x + 1))
expr_rule(np.arccosh, lambda x, y, dy: dy / np.sqrt(x * x - 1))
expr_rule(np.arctanh, lambda x, y, dy: dy / (1 - x * x))
expr_rule(np.abs, lambda x, y, dy: dy * np.sign(x))
expr_rule(np.sign, lambda x, y, dy: dy * 0)
expr_rule(np.negative, lambda x, y, dy: -dy)
expr_rule(np.positive, lambda x, y, dy: dy)
expr_rule(np.add, lambda a, b, y, dy: (dy, dy))
expr_rule(np.subtract, lambda a, b, y, dy: (dy, -dy))
expr_rule(np.multiply, lambda a, b, y, dy: (dy * b, dy * a))
expr_rule(np.divide, lambda a, b, y, dy: (dy / b, -dy * y / b))
expr_rule(np.power, lambda a, b, y, dy: (dy * b * a ** (b - 1), dy * y * log_positive(a)))
expr_rule(np.maximum, lambda a, b, y, dy: (dy * (a >= b), dy * (a < b)))
expr_rule(np.minimum, lambda a, b, y, dy: (dy * (a <= b), dy * (a > b)))
expr_rule(np.arctan2, lambda a, b, y, dy: (dy * b / (a * a + b * b), -dy * a / (a * a + b * b)))
expr_rule(np.hypot, lambda a, b, y, dy: (dy * a / y, dy * b / y))
expr_rule(np.logaddexp, lambda a, b, y, dy: (dy * np.exp(a - y), dy * np.exp(b - y)))
expr_rule(np.clip, lambda x, a_min=None, a_max=None, y=None, dy=None: (
    dy * clip_mask(x, a_min, a_max), None, None))
expr_rule(np.where, lambda condition, x, y_, y, dy: (None, np.where(condition, dy, 0), np.where(condition, 0, dy)))

# -- reductions ----------------------------------------------------------------------------------
expr_rule(np.sum, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          expand_reduced(dy, x, axis, keepdims), elementwise=False)
expr_rule(np.mean, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          expand_reduced(dy, x, axis, keepdims) / reduced_count(x, axis), elementwise=False)
expr_rule(np.max, lambda x, axis=None, out=None, keepdims=False, y=None, dy=None:
          extremum_back(dy, x, y, axis, keepdims), elementwise=False)
expr_rule(np.min, lambda x, axis=None, out=None, keepdims=False, y=None, dy=None:
          extremum_back(dy, x, y, axis, keepdims), elementwise=False)

# -- linear algebra ------------------------------------------------------------------------------
expr_rule(np.matmul, lambda a, b, y, dy: (matmul_da(dy, a, b), matmul_db(dy, a, b)), elementwise=False)
expr_rule(np.dot, lambda a, b, y, dy: (
    dy * b if np.ndim(b) == 0 else (np.sum(dy * a) if np.ndim(a) == 0 else matmul_da(dy, a, b)),
    dy * a if np.ndim(a) == 0 else (np.sum(dy * b) if np.ndim(b) == 0 else matmul_db(dy, a, b))),
    elementwise=False)
expr_rule(np.transpose, lambda x, axes=None, y=None, dy=None: transpose_back(dy, axes), elementwise=False)

# -- shapes --------------------------------------------------------------------------------------
expr_rule(np.reshape, lambda x, shape=None, order="C", newshape=None, y=None, dy=None:
          np.reshape(dy, np.shape(x)), elementwise=False)
expr_rule(np.ravel, lambda x, order="C", y=None, dy=None: np.reshape(dy, np.shape(x)), elementwise=False)
expr_rule(np.broadcast_to, lambda x, shape, subok=False, y=None, dy=None: unbroadcast(dy, x),
          elementwise=False)


@adjoint(np.asarray)
def asarray_rule(a, dtype=None, order=None):
    y = np.asarray(a, dtype=dtype)
    return y, lambda dy: (unbroadcast(dy, a) if not isinstance(a, (list, tuple)) else list(dy),)


@adjoint(np.array)
def array_rule(a, dtype=None, copy=True, order="K", ndmin=0):
    y = np.array(a, dtype=dtype, copy=copy, ndmin=ndmin)
    return y, lambda dy: (np.reshape(dy, np.shape(a)) if isinstance(a, np.ndarray) else list(np.reshape(dy, np.shape(a))),)


# -- array methods -------------------------------------------------------------------------------
for _name, _fn in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min),
                   ("dot", np.dot), ("ravel", np.ravel), ("clip", np.clip)):
    METHOD_RULES[(np.ndarray, _name)] = RULES[_fn]
    METHOD_RULES[(np.generic, _name)] = RULES[_fn]


@adjoint(None, method_of=(np.ndarray, "reshape"))
def reshape_method_rule(x, *shape, order="C"):
    return x.reshape(*shape, order=order), lambda dy: (np.reshape(dy, x.shape),) + (0,) * len(shape)


@adjoint(None, method_of=(np.ndarray, "transpose"))
def transpose_method_rule(x, *axes):
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    y = x.transpose(*axes) if axes else x.T
    return y, lambda dy: (transpose_back(dy, axes or None),) + (0,) * (len(axes) if axes else 0)


@adjoint(None, method_of=(np.ndarray, "astype"))
def astype_method_rule(x, dtype, *args, **kwargs):
    return x.astype(dtype, *args, **kwargs), lambda dy: (
        np.asarray(dy).astype(x.dtype) if x.dtype.kind in "fc" else 0, 0)


@adjoint(None, method_of=(np.ndarray, "copy"))
def copy_method_rule(x, order="C"):
    return x.copy(order=order), lambda dy: (dy,)


for _rule in (reshape_method_rule, transpose_method_rule, astype_method_rule, copy_method_rule):
    _rule.zygote_output_kind = "n"

# -- no derivative -------------------------------------------------------------------------------
nograd(np.shape, np.ndim, np.size, np.zeros, np.ones, np.zeros_like, np.ones_like, np.empty,
       np.empty_like, np.full, np.arange, np.linspace, np.eye, np.identity, np.argmax, np.argmin,
       np.argsort, np.floor, np.ceil, np.round, np.rint, np.trunc, np.isnan, np.isinf,
       np.isfinite, np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
       np.logical_and, np.logical_or, np.logical_not, np.all, np.any, np.count_nonzero,
       np.nonzero, np.allclose, np.isclose, np.array_equal, np.result_type, np.dtype)
nograd(None, method_of=(np.ndarray, ("argmax", "argmin", "argsort", "nonzero", "all", "any", "tolist",
                                     "item")))
