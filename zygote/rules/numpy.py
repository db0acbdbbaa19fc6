"""Rules for numpy: elementwise functions, reductions, linear algebra, shapes and array methods."""
import math
import string

import numpy as np

from . import METHOD_RULES, RULES, adjoint, constant, expr_rule, nograd
from .complex import holomorphic
from .operators import exponent_slope, log_positive, matmul_da, matmul_db, power_slope
from ..cotangents import is_zero, unbroadcast
from ..errors import ZygoteError
from ..runtime import getitem_back

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))
DEGREE = float(np.pi / 180.0)


# -- helpers: elementwise ------------------------------------------------------------------------


def float_dtype(value):
    """``value``'s dtype if it is a float or complex array or numpy scalar, else float64: the
    dtype of a cotangent of ``value`` (a complex value's cotangent is complex)."""
    dtype = getattr(value, "dtype", None)
    return dtype if dtype is not None and dtype.kind in "fc" else np.dtype(np.float64)


def abs_slope(x, y):
    """d|x|/dx as it multiplies a cotangent: ``sign(x)``, for complex ``x`` the unit ``x / |x|``."""
    dtype = getattr(x, "dtype", None)
    if type(x) is complex or dtype is not None and dtype.kind == "c":
        return x / np.where(y == 0, 1, y)
    return np.sign(x)


def sign_back(dy, x, y):
    """Cotangent of ``np.sign``: 0 for real ``x`` (piecewise constant); for complex ``x`` the unit
    ``y = x / |x|`` moves with the part of ``dy`` across it, ``(dy - Re(conj(dy) y) y) / |x|``."""
    dtype = getattr(x, "dtype", None)
    if type(x) is complex or dtype is not None and dtype.kind == "c":
        magnitude = np.abs(x)
        return (dy - np.real(np.conj(dy) * y) * y) / np.where(magnitude == 0, 1, magnitude)
    return dy * 0


def clip_mask(x, lo, hi):
    """1 where ``clip`` passed ``x`` through, 0 where it clipped."""
    inside = np.ones(np.shape(x), dtype=bool)
    if lo is not None:
        inside = inside & (x >= lo)
    if hi is not None:
        inside = inside & (x <= hi)
    return inside


def sinc_slope(x, y):
    """d sinc(x)/dx = (cos(πx) - sinc(x)) / x, which is 0 at x = 0."""
    nonzero = x != 0
    safe_x = np.where(nonzero, x, 1)
    return np.where(nonzero, (np.cos(np.pi * x) - y) / safe_x, 0)


# -- helpers: reductions -------------------------------------------------------------------------


def expand_reduced(dy, x, axis, keepdims):
    """``dy`` of a reduction over ``axis`` given back the reduced axes, broadcast to ``x``'s shape."""
    if type(x) is np.ndarray:
        shape = x.shape
        if axis is None and x.size <= _SMALL:
            # A small array is filled sooner than numpy builds a view (np.full, without its
            # Python-level steps, for the cotangents of floats that reach it).
            dtype = _FILL_DTYPES.get(type(dy))
            if dtype is None:
                return np.full(shape, dy)
            filled = np.empty(shape, dtype)
            filled.fill(dy)
            return filled
    else:
        shape = np.shape(x)
        if axis is None and math.prod(shape) <= _SMALL:
            return np.full(shape, dy)
    if axis is not None and not keepdims:
        dy = np.expand_dims(dy, axis)
    return np.broadcast_to(dy, shape)


_SMALL = 4096  # elements up to which expand_reduced fills a new array instead of a broadcast view
# The dtype np.full gives a filled array for a fill value of each of these types.
_FILL_DTYPES = {float: np.dtype(np.float64), np.float64: np.dtype(np.float64),
                np.float32: np.dtype(np.float32), np.float16: np.dtype(np.float16)}


def reduced_count(x, axis):
    """How many entries of ``x`` a reduction over ``axis`` combines into each output."""
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
    mask = x == expand_reduced(y, x, axis, keepdims)
    count = np.sum(mask, axis=axis, keepdims=True, dtype=float_dtype(dy))
    return mask * (expand_reduced(dy, x, axis, keepdims) / count)


def reduced_last(x, axis):
    """``x`` with the axes of ``axis`` (all if None) moved to the end and merged into one."""
    ndim = np.ndim(x)
    axes = tuple(range(ndim)) if axis is None else tuple(np.atleast_1d(axis) % ndim)
    moved = np.moveaxis(x, axes, tuple(range(ndim - len(axes), ndim)))
    return np.reshape(moved, np.shape(moved)[:ndim - len(axes)] + (-1,)), axes


def prod_others(x, axis):
    """For each entry of ``x``, the product of the other entries reduced with it (exact with zeros)."""
    ndim = np.ndim(x)
    flat, axes = reduced_last(x, axis)
    n = np.shape(flat)[-1]
    others = np.where(np.eye(n, dtype=bool), 1, np.expand_dims(flat, -2))
    merged = np.prod(others, axis=-1)
    moved_shape = tuple(np.shape(x)[i] for i in range(ndim) if i not in axes) + \
        tuple(np.shape(x)[i] for i in axes)
    return np.moveaxis(np.reshape(merged, moved_shape), tuple(range(ndim - len(axes), ndim)), axes)


def prod_back(dy, x, y, axis, keepdims):
    """Cotangent of ``prod``: ``dy·y/x``, or products of the other entries where ``x`` has zeros."""
    dy_full = expand_reduced(dy, x, axis, keepdims)
    if np.all(x != 0):
        return dy_full * holomorphic(expand_reduced(y, x, axis, keepdims) / x)
    return dy_full * holomorphic(prod_others(x, axis))


def centred(x, axis):
    """``x`` minus its mean over ``axis``."""
    return x - np.mean(x, axis=axis, keepdims=True)


def cumsum_back(dy, x, axis):
    """Cotangent of ``cumsum``: the reversed cumulative sum of ``dy``."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(dy))), np.shape(x))
    return np.flip(np.cumsum(np.flip(dy, axis), axis), axis)


def diff_back(dy, n, axis):
    """Cotangent of ``np.diff(x, n, axis)``: ``n`` times the negated backward difference."""
    for _ in range(n):
        widths = [(0, 0)] * np.ndim(dy)
        widths[axis] = (1, 0)
        before = np.pad(dy, widths)
        widths[axis] = (0, 1)
        dy = before - np.pad(dy, widths)
    return dy


# -- helpers: linear algebra ---------------------------------------------------------------------


def tensordot_axes(a, b, axes):
    """``np.tensordot``'s ``axes`` as two lists of non-negative axes of ``a`` and ``b``."""
    if isinstance(axes, (int, np.integer)):
        return list(range(np.ndim(a) - axes, np.ndim(a))), list(range(axes))
    axes_a, axes_b = axes
    axes_a = [int(i) % np.ndim(a) for i in np.atleast_1d(axes_a)]
    axes_b = [int(i) % np.ndim(b) for i in np.atleast_1d(axes_b)]
    return axes_a, axes_b


def tensordot_da(dy, a, b, axes):
    """Cotangent of ``a`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    free_b = [j for j in range(np.ndim(b)) if j not in axes_b]
    da = np.tensordot(dy, holomorphic(b), (list(range(len(free_a), np.ndim(dy))), free_b))
    order = free_a + [axes_a[axes_b.index(j)] for j in sorted(axes_b)]
    return np.transpose(da, np.argsort(order))


def tensordot_db(dy, a, b, axes):
    """Cotangent of ``b`` in ``np.tensordot(a, b, axes)``."""
    axes_a, axes_b = tensordot_axes(a, b, axes)
    free_a = [i for i in range(np.ndim(a)) if i not in axes_a]
    free_b = [j for j in range(np.ndim(b)) if j not in axes_b]
    db = np.tensordot(holomorphic(a), dy, (free_a, list(range(len(free_a)))))
    order = [axes_b[axes_a.index(i)] for i in sorted(axes_a)] + free_b
    return np.transpose(db, np.argsort(order))


def dot_axes(a, b):
    """The ``tensordot`` axes that ``np.dot(a, b)`` contracts."""
    return [np.ndim(a) - 1], [0 if np.ndim(b) == 1 else np.ndim(b) - 2]


def dot_da(dy, a, b):
    """Cotangent of ``a`` in ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * holomorphic(b), a)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_da(dy, a, b)
    return tensordot_da(dy, a, b, dot_axes(a, b))


def dot_db(dy, a, b):
    """Cotangent of ``b`` in ``np.dot(a, b)``."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(dy * holomorphic(a), b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return matmul_db(dy, a, b)
    return tensordot_db(dy, a, b, dot_axes(a, b))


def inner_axes(a, b):
    """The ``tensordot`` axes that ``np.inner(a, b)`` contracts: the last of each."""
    return [np.ndim(a) - 1], [np.ndim(b) - 1]


def diagonal_back(dy, x, offset, axis1, axis2):
    """Cotangent of ``np.diagonal(x, offset, axis1, axis2)``: ``dy`` written onto that diagonal."""
    n, m = np.shape(x)[axis1], np.shape(x)[axis2]
    length = np.shape(dy)[-1]
    k = np.arange(length)
    on_diagonal = np.zeros((length, n, m), dtype=bool)
    on_diagonal[k, k + max(-offset, 0), k + max(offset, 0)] = True
    spread = np.tensordot(dy, on_diagonal.astype(float_dtype(dy)), 1)
    return np.moveaxis(spread, (-2, -1), (axis1, axis2))


def trace_back(dy, x, offset, axis1, axis2):
    """Cotangent of ``np.trace``: ``dy`` on the traced diagonal of every matrix."""
    shape = np.shape(x)
    eye = np.eye(shape[axis1], shape[axis2], k=offset, dtype=float_dtype(dy))
    return np.moveaxis(np.expand_dims(dy, (-2, -1)) * eye, (-2, -1), (axis1, axis2))


def einsum_parse(subscripts, operands):
    """(input subscripts, output subscripts) of an einsum, with ``...`` spelt as spare letters."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, out = subscripts.partition("->")
    inputs = lhs.split(",")
    spare = [c for c in string.ascii_letters if c not in subscripts]
    dims = [np.ndim(op) - (len(s) - 3) for s, op in zip(inputs, operands) if "..." in s]
    ellipsis = "".join(spare[:max(dims, default=0)])
    inputs = [s.replace("...", ellipsis[len(ellipsis) - (np.ndim(op) - len(s) + 3):]) if "..." in s else s
              for s, op in zip(inputs, operands)]
    if arrow:
        return inputs, out.replace("...", ellipsis)
    letters = "".join(inputs)
    return inputs, ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                             and c not in ellipsis))


def einsum_operand_back(dy, k, inputs, out, operands):
    """Cotangent of operand ``k`` of ``einsum(inputs -> out)``: swap its subscripts with the output's.

    Letters that only operand ``k`` sums over come back through a vector of ones, and a
    letter repeated in operand ``k`` (a diagonal) through an identity matrix.
    """
    target = inputs[k]
    others = [j for j in range(len(inputs)) if j != k]
    available = set(out).union(*(inputs[j] for j in others))
    sizes = dict(zip(target, np.shape(operands[k])))
    dtype = float_dtype(dy)
    spare = iter(c for c in string.ascii_letters if c not in "".join(inputs) + out)
    result, extra_subscripts, extras = "", [], []
    for c in target:
        if c in result:
            fresh = next(spare)
            result += fresh
            extra_subscripts.append(c + fresh)
            extras.append(np.eye(sizes[c], dtype=dtype))
        else:
            result += c
            if c not in available:
                extra_subscripts.append(c)
                extras.append(np.ones(sizes[c], dtype=dtype))
    spec = ",".join([out] + [inputs[j] for j in others] + extra_subscripts) + "->" + result
    grad = np.einsum(spec, dy, *[holomorphic(operands[j]) for j in others], *extras)
    return unbroadcast(grad, operands[k])


# -- helpers: shapes -----------------------------------------------------------------------------


def transpose_back(dy, axes):
    """Cotangent of ``np.transpose(x, axes)``: ``dy`` under the inverse permutation."""
    return np.transpose(dy) if axes is None else np.transpose(dy, np.argsort(axes))


def tile_back(dy, x, reps):
    """Cotangent of ``np.tile``: the sum of ``dy`` over all tiles."""
    reps = tuple(np.atleast_1d(reps))
    ndim = max(np.ndim(x), len(reps))
    shape = (1,) * (ndim - np.ndim(x)) + np.shape(x)
    reps = (1,) * (ndim - len(reps)) + reps
    tiled = np.reshape(dy, [n for pair in zip(reps, shape) for n in pair])
    return np.reshape(np.sum(tiled, axis=tuple(range(0, 2 * ndim, 2))), np.shape(x))


def repeat_back(dy, x, repeats, axis):
    """Cotangent of ``np.repeat``: each entry collects the cotangents of its copies."""
    if axis is None:
        return np.reshape(repeat_back(dy, np.ravel(x), repeats, 0), np.shape(x))
    n = np.shape(x)[axis]
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:
        r = int(np.reshape(repeats, -1)[0])
        split = np.shape(dy)[:axis % np.ndim(dy)] + (n, r) + np.shape(dy)[axis % np.ndim(dy) + 1:]
        return np.sum(np.reshape(dy, split), axis=axis % np.ndim(dy) + 1)
    source = np.repeat(np.arange(n), repeats)
    gather = (source[:, None] == np.arange(n)[None, :]).astype(float_dtype(dy))
    return np.moveaxis(np.tensordot(gather, np.moveaxis(dy, axis, 0), (0, 0)), 0, axis)


def pad_back(dy, pad_width, mode):
    """Cotangent of a constant ``np.pad``: the unpadded block of ``dy``."""
    if mode != "constant":
        raise NotImplementedError(f"the gradient of np.pad with mode={mode!r} is not implemented")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (np.ndim(dy), 2))
    return dy[tuple(slice(int(lo), n - int(hi)) for (lo, hi), n in zip(widths, np.shape(dy)))]


def sort_back(dy, x, axis):
    """Cotangent of ``np.sort``: ``dy`` sent back through the inverse of the sorting permutation."""
    if axis is None:
        return np.reshape(sort_back(dy, np.ravel(x), -1), np.shape(x))
    order = np.argsort(x, axis=axis, kind="stable")
    return np.take_along_axis(dy, np.argsort(order, axis=axis), axis=axis)


def like_sequence(seq, parts):
    """Cotangents ``parts`` of the items of ``seq``, as a list, tuple or array like ``seq``."""
    parts = [unbroadcast(p, item) for p, item in zip(parts, seq)]
    if isinstance(seq, np.ndarray):
        return np.stack(parts) if parts else np.zeros(np.shape(seq))
    return tuple(parts) if isinstance(seq, tuple) else parts


def split_back(dy, arrays, axis, promote):
    """Cotangents of ``arrays`` joined along ``axis`` after ``promote`` (e.g. ``np.atleast_2d``)."""
    shapes = [np.shape(promote(a)) for a in arrays]
    ends = np.cumsum([s[axis] for s in shapes])[:-1]
    pieces = np.split(dy, ends, axis=axis)
    return like_sequence(arrays, [np.reshape(p, np.shape(a)) for p, a in zip(pieces, arrays)])


def unsplit(dy, pieces):
    """Cotangent of the array that ``np.split`` cut into ``pieces`` (a zero piece: zeros)."""
    return [np.zeros(np.shape(p), dtype=float_dtype(p)) if is_zero(d) else d
            for d, p in zip(dy, pieces)]


def nested_array(dy, like):
    """The cotangent of ``x.tolist()`` (nested lists, zero where unused) as an array like ``x``."""
    if is_zero(dy):
        return np.zeros(np.shape(like), dtype=float_dtype(like))
    if np.ndim(like) == 0:
        return np.asarray(dy, dtype=float_dtype(like))
    return np.stack([nested_array(d, row) for d, row in zip(dy, like)])


def take_index(x, indices, axis):
    """The subscript ``x[index]`` that ``np.take(x, indices, axis)`` reads."""
    if axis is None:
        return np.unravel_index(indices, np.shape(x))
    return (slice(None),) * (axis % np.ndim(x)) + (indices,)


def along_axis_index(x, indices, axis):
    """The subscript ``x[index]`` that ``np.take_along_axis(x, indices, axis)`` reads."""
    if axis is None:
        return np.unravel_index(indices, np.shape(x))
    ndim = np.ndim(x)
    axis = axis % ndim
    # numpy broadcasts the indices and x against each other along the other axes
    shape = [np.shape(x)[d] if d != axis and np.shape(indices)[d] == 1 else np.shape(indices)[d]
             for d in range(ndim)]
    return tuple(np.broadcast_to(indices, shape) if d == axis else
                 np.reshape(np.arange(shape[d]) if np.shape(x)[d] != 1 else np.zeros(shape[d], dtype=int),
                            [-1 if e == d else 1 for e in range(ndim)])
                 for d in range(ndim))


# -- elementwise ---------------------------------------------------------------------------------
expr_rule(np.sin, lambda x, y, dy: dy * holomorphic(np.cos(x)))
expr_rule(np.cos, lambda x, y, dy: -dy * holomorphic(np.sin(x)))
expr_rule(np.tan, lambda x, y, dy: dy * holomorphic(1 + y * y))
expr_rule(np.exp, lambda x, y, dy: dy * holomorphic(y))
expr_rule(np.exp2, lambda x, y, dy: dy * holomorphic(y) * LN2)
expr_rule(np.expm1, lambda x, y, dy: dy * holomorphic(y + 1))
expr_rule(np.log, lambda x, y, dy: dy / holomorphic(x))
expr_rule(np.log2, lambda x, y, dy: dy / (holomorphic(x) * LN2))
expr_rule(np.log10, lambda x, y, dy: dy / (holomorphic(x) * LN10))
expr_rule(np.log1p, lambda x, y, dy: dy / holomorphic(1 + x))
expr_rule(np.sqrt, lambda x, y, dy: dy / holomorphic(2 * y))
expr_rule(np.cbrt, lambda x, y, dy: dy / (3 * y * y))
expr_rule(np.square, lambda x, y, dy: dy * 2 * holomorphic(x))
expr_rule(np.reciprocal, lambda x, y, dy: -dy * holomorphic(y * y))
expr_rule(np.tanh, lambda x, y, dy: dy * holomorphic(1 - y * y))
expr_rule(np.sinh, lambda x, y, dy: dy * holomorphic(np.cosh(x)))
expr_rule(np.cosh, lambda x, y, dy: dy * holomorphic(np.sinh(x)))
expr_rule(np.arcsin, lambda x, y, dy: dy / holomorphic(np.sqrt(1 - x * x)))
expr_rule(np.arccos, lambda x, y, dy: -dy / holomorphic(np.sqrt(1 - x * x)))
expr_rule(np.arctan, lambda x, y, dy: dy / holomorphic(1 + x * x))
expr_rule(np.arcsinh, lambda x, y, dy: dy / holomorphic(np.sqrt(x * x + 1)))
# (arccosh: sqrt(x - 1) sqrt(x + 1), the branch numpy takes for complex x)
expr_rule(np.arccosh, lambda x, y, dy: dy / holomorphic(np.sqrt(x - 1) * np.sqrt(x + 1)))
expr_rule(np.arctanh, lambda x, y, dy: dy / holomorphic(1 - x * x))
expr_rule(np.sinc, lambda x, y, dy: dy * holomorphic(sinc_slope(x, y)))
expr_rule(np.deg2rad, lambda x, y, dy: dy * DEGREE)
expr_rule(np.radians, lambda x, y, dy: dy * DEGREE)
expr_rule(np.rad2deg, lambda x, y, dy: dy / DEGREE)
expr_rule(np.degrees, lambda x, y, dy: dy / DEGREE)
expr_rule(np.abs, lambda x, y, dy: dy * abs_slope(x, y))
expr_rule(np.fabs, lambda x, y, dy: dy * np.sign(x))
expr_rule(np.sign, lambda x, y, dy: sign_back(dy, x, y))
expr_rule(np.negative, lambda x, y, dy: -dy)
expr_rule(np.positive, lambda x, y, dy: dy)
expr_rule(np.add, lambda a, b, y, dy: (dy, dy))
expr_rule(np.subtract, lambda a, b, y, dy: (dy, -dy))
expr_rule(np.multiply, lambda a, b, y, dy: (dy * holomorphic(b), dy * holomorphic(a)))
expr_rule(np.divide, lambda a, b, y, dy: (dy / holomorphic(b), -dy * holomorphic(y / b)))
expr_rule(np.power, lambda a, b, y, dy: (
    dy * ((2 * a.conjugate() if b == 2 else b * a.conjugate() ** (b - 1)) if constant(b) and type(b) is int
          and b > 0 else power_slope(a, b)),
    dy * exponent_slope(a, y)))
expr_rule(np.float_power, lambda a, b, y, dy: (dy * holomorphic(b * np.float_power(a, b - 1)), dy * exponent_slope(a, y)))
expr_rule(np.remainder, lambda a, b, y, dy: (dy, -dy * np.floor_divide(a, b)))
expr_rule(np.fmod, lambda a, b, y, dy: (dy, -dy * np.trunc(a / b)))
expr_rule(np.maximum, lambda a, b, y, dy: (dy * (a >= b), dy * (a < b)))
expr_rule(np.minimum, lambda a, b, y, dy: (dy * (a <= b), dy * (a > b)))
expr_rule(np.fmax, lambda a, b, y, dy: (dy * (y == a), dy * (y != a)))
expr_rule(np.fmin, lambda a, b, y, dy: (dy * (y == a), dy * (y != a)))
expr_rule(np.arctan2, lambda a, b, y, dy: (dy * b / (a * a + b * b), -dy * a / (a * a + b * b)))
expr_rule(np.hypot, lambda a, b, y, dy: (dy * a / y, dy * b / y))
expr_rule(np.copysign, lambda a, b, y, dy: (dy * np.sign(a) * np.sign(y), None))
expr_rule(np.logaddexp, lambda a, b, y, dy: (dy * np.exp(a - y), dy * np.exp(b - y)))
expr_rule(np.logaddexp2, lambda a, b, y, dy: (dy * np.exp2(a - y), dy * np.exp2(b - y)))
expr_rule(np.clip, lambda x, a_min=None, a_max=None, out=None, min=None, max=None, y=None, dy=None: (
    dy * clip_mask(x, a_min if min is None else min, a_max if max is None else max),
    None if a_min is None else dy * (x < a_min),
    None if a_max is None else dy * (x > a_max),
    None,
    None if min is None else dy * (x < min),
    None if max is None else dy * (x > max)))
expr_rule(np.heaviside, lambda x1, x2, y, dy: (None, dy * (x1 == 0)))
expr_rule(np.where, lambda condition, x, y_, y, dy: (
    None, np.where(condition, dy, 0), np.where(condition, 0, dy)))
for _cast in (np.float64, np.float32, np.float16):
    expr_rule(_cast, lambda x=0.0, y=None, dy=None: dy)

# -- reductions ----------------------------------------------------------------------------------
expr_rule(np.sum, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          expand_reduced(dy, x, axis, keepdims), elementwise=False)
expr_rule(np.mean, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          expand_reduced(dy, x, axis, keepdims) / reduced_count(x, axis), elementwise=False)
expr_rule(np.prod, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          prod_back(dy, x, y, axis, keepdims), elementwise=False)
for _fn in (np.max, np.min, np.amax, np.amin):
    expr_rule(_fn, lambda x, axis=None, out=None, keepdims=False, y=None, dy=None:
              extremum_back(dy, x, y, axis, keepdims), elementwise=False)
expr_rule(np.var, lambda x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, y=None, dy=None:
          expand_reduced(dy, x, axis, keepdims) * (2 * centred(x, axis) / (reduced_count(x, axis) - ddof)),
          elementwise=False)
expr_rule(np.std, lambda x, axis=None, dtype=None, out=None, ddof=0, keepdims=False, y=None, dy=None:
          expand_reduced(dy / np.where(y == 0, 1, y), x, axis, keepdims)
          * (centred(x, axis) / (reduced_count(x, axis) - ddof)), elementwise=False)
expr_rule(np.nansum, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          np.where(np.isnan(x), 0.0, expand_reduced(dy, x, axis, keepdims)).astype(float_dtype(x)),
          elementwise=False)
expr_rule(np.nanmean, lambda x, axis=None, dtype=None, out=None, keepdims=False, y=None, dy=None:
          nanmean_back(dy, x, axis, keepdims), elementwise=False)
expr_rule(np.cumsum, lambda x, axis=None, dtype=None, out=None, y=None, dy=None: cumsum_back(dy, x, axis),
          elementwise=False)
expr_rule(np.diff, lambda x, n=1, axis=-1, y=None, dy=None: diff_back(dy, n, axis), elementwise=False)

# -- linear algebra ------------------------------------------------------------------------------
expr_rule(np.matmul, lambda a, b, y, dy: (matmul_da(dy, a, b), matmul_db(dy, a, b)), elementwise=False)
expr_rule(np.dot, lambda a, b, out=None, y=None, dy=None: (dot_da(dy, a, b), dot_db(dy, a, b), None),
          elementwise=False)
expr_rule(np.inner, lambda a, b, y, dy: (
    dot_da(dy, a, b) if np.ndim(a) == 0 or np.ndim(b) == 0 else tensordot_da(dy, a, b, inner_axes(a, b)),
    dot_db(dy, a, b) if np.ndim(a) == 0 or np.ndim(b) == 0 else tensordot_db(dy, a, b, inner_axes(a, b))),
    elementwise=False)
expr_rule(np.outer, lambda a, b, out=None, y=None, dy=None: (
    np.reshape(dy @ holomorphic(np.ravel(b)), np.shape(a)), np.reshape(holomorphic(np.ravel(a)) @ dy, np.shape(b)),
    None),
    elementwise=False)
expr_rule(np.tensordot, lambda a, b, axes=2, y=None, dy=None: (
    tensordot_da(dy, a, b, axes), tensordot_db(dy, a, b, axes), None), elementwise=False)
expr_rule(np.trace, lambda x, offset=0, axis1=0, axis2=1, dtype=None, out=None, y=None, dy=None:
          trace_back(dy, x, offset, axis1, axis2), elementwise=False)
expr_rule(np.diagonal, lambda x, offset=0, axis1=0, axis2=1, y=None, dy=None:
          diagonal_back(dy, x, offset, axis1, axis2), elementwise=False)
expr_rule(np.diag, lambda x, k=0, y=None, dy=None:
          np.diagonal(dy, k) if np.ndim(x) == 1 else diagonal_back(dy, x, k, 0, 1), elementwise=False)


def sublist_letters(sublist):
    """An einsum operand-list subscript (``[0, 1]``, ``[Ellipsis, 0]``) as letters."""
    return "".join("..." if axis is Ellipsis else string.ascii_letters[axis] for axis in sublist)


def einsum_as_string(arguments):
    """``(subscripts, operands, places)`` of an einsum call in either form; ``places`` are the
    positions of the operands among the call's arguments."""
    if isinstance(arguments[0], str):
        return arguments[0], arguments[1:], range(1, len(arguments))
    operands = arguments[0:-1:2] if len(arguments) % 2 else arguments[0::2]
    spec = ",".join(sublist_letters(sub) for sub in arguments[1::2])
    places = range(0, 2 * len(operands), 2)
    if len(arguments) % 2:      # an output sublist ends the call
        spec += "->" + sublist_letters(arguments[-1])
    return spec, operands, places


@adjoint(np.einsum)
def einsum_rule(*arguments, **options):
    """``np.einsum`` in its subscript-string form, explicit (``->``) or implicit, with ``...``,
    or in its operand-list form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``."""
    y = np.einsum(*arguments, **options)
    subscripts, operands, places = einsum_as_string(arguments)
    inputs, out = einsum_parse(subscripts, operands)

    def einsum_back(dy):
        grads = [None] * len(arguments)
        for k, place in enumerate(places):
            grads[place] = einsum_operand_back(dy, k, inputs, out, operands)
        return tuple(grads)
    return y, einsum_back


def nanmean_back(dy, x, axis, keepdims):
    """``dy`` shared among the entries of each slice that are not NaN."""
    present = ~np.isnan(x)
    count = np.sum(present, axis=axis, keepdims=True)
    share = expand_reduced(dy, x, axis, keepdims) / np.maximum(count, 1)
    return np.where(present, share, 0.0).astype(float_dtype(x))


@adjoint(np.average)
def average_rule(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """``Σ w a / Σ w`` over ``axis``; ``weights`` shaped like ``a`` or 1-d along ``axis``."""
    if returned:
        raise NotImplementedError("the gradient of np.average(..., returned=True) is not "
                                  "implemented; divide np.sum(w * a) by np.sum(w) instead")
    y = np.average(a, axis=axis, weights=weights, keepdims=keepdims)
    if weights is None:
        return y, lambda dy: (expand_reduced(dy, a, axis, keepdims) / reduced_count(a, axis),
                              None, None, None)
    w = np.asarray(weights)
    along = None
    if w.shape != np.shape(a):
        along = axis % np.ndim(a)       # 1-d weights laid along that axis of a
        w = np.reshape(w, [len(w) if i == along else 1 for i in range(np.ndim(a))])
    total = np.sum(w, axis=axis, keepdims=True)
    y_kept = np.sum(w * a, axis=axis, keepdims=True) / total

    def average_back(dy):
        dy_kept = expand_reduced(dy, a, axis, keepdims)
        da = dy_kept * holomorphic(w / total)
        dw = dy_kept * holomorphic((a - y_kept) / total)
        if along is not None:
            dw = np.sum(dw, axis=tuple(i for i in range(np.ndim(a)) if i != along))
        return da, None, dw, None
    return y, average_back


# (vdot conjugates its first argument: y is antiholomorphic in a, holomorphic in b)
expr_rule(np.vdot, lambda a, b, y, dy: (np.reshape(holomorphic(dy) * np.ravel(b), np.shape(a)),
                                        np.reshape(dy * np.ravel(a), np.shape(b))), elementwise=False)


@adjoint(np.convolve)
def convolve_rule(a, v, mode="full"):
    """1-d convolution: the cotangent of the full result, read back by correlation."""
    y = np.convolve(a, v, mode=mode)
    n, m = len(a), len(v)
    offset = {"full": 0, "same": (min(n, m) - 1) // 2, "valid": min(n, m) - 1}[mode]

    def convolve_back(dy):
        full = np.zeros(n + m - 1, dtype=float_dtype(dy))
        full[offset:offset + len(y)] = dy
        return np.correlate(full, v, mode="valid"), np.correlate(full, a, mode="valid"), None
    return y, convolve_back


@adjoint(np.median)
def median_rule(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """The middle entry gets ``dy``, or each of the two middle entries half of it."""
    if isinstance(axis, tuple) or out is not None:
        raise NotImplementedError("the gradient of np.median is implemented for one axis or "
                                  "all of them, without out=")
    y = np.median(a, axis=axis, keepdims=keepdims)

    def median_back(dy):
        x = np.asarray(a)
        work, along = (np.ravel(x), 0) if axis is None else (x, axis)
        n = np.shape(work)[along]
        order = np.argsort(work, axis=along, kind="stable")
        dy = np.asarray(dy, dtype=float_dtype(x))
        if axis is None:
            dy = np.reshape(dy, ())
        elif not keepdims:
            dy = np.expand_dims(dy, along)
        grad = np.zeros(np.shape(work), dtype=float_dtype(x))
        for k in sorted({(n - 1) // 2, n // 2}):
            picks = np.take(order, [k], axis=along)
            share = dy if n % 2 else 0.5 * dy
            np.put_along_axis(grad, picks, np.take_along_axis(grad, picks, axis=along) + share,
                              axis=along)
        return np.reshape(grad, np.shape(x)), None, None, None, None
    return y, median_back


def cumprod_back(dy, x, y, axis):
    """Cotangent of ``np.cumprod``: ``dx_i = Σ_{j≥i} dy_j y_j / x_i``, computed without the
    division (one pass per position along the axis) where ``x`` has zeros."""
    if axis is None:
        return np.reshape(cumprod_back(dy, np.ravel(x), y, 0), np.shape(x))
    if np.all(x != 0):
        tail = np.flip(np.cumsum(np.flip(dy * holomorphic(y), axis), axis=axis), axis)
        return tail / holomorphic(x)
    grad = np.zeros(np.shape(x), dtype=float_dtype(x))
    for i in range(np.shape(x)[axis]):
        without = np.array(x, dtype=float_dtype(x))
        index = [slice(None)] * np.ndim(x)
        index[axis] = i
        without[tuple(index)] = 1.0
        products = np.cumprod(without, axis=axis)
        later = [slice(None)] * np.ndim(x)
        later[axis] = slice(i, None)
        grad[tuple(index)] = np.sum((dy * holomorphic(products))[tuple(later)], axis=axis)
    return grad


expr_rule(np.cumprod, lambda x, axis=None, dtype=None, out=None, y=None, dy=None:
          cumprod_back(dy, x, y, axis), elementwise=False)
expr_rule(np.ptp, lambda x, axis=None, out=None, keepdims=False, y=None, dy=None:
          extremum_back(dy, x, np.max(x, axis=axis, keepdims=keepdims), axis, keepdims)
          - extremum_back(dy, x, np.min(x, axis=axis, keepdims=keepdims), axis, keepdims),
          elementwise=False)


@adjoint(np.interp)
def interp_rule(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation: ``y = fp_k (1 - t) + fp_{k+1} t`` with
    ``t = (x - xp_k) / (xp_{k+1} - xp_k)``; outside ``xp`` the end values (or left, right)."""
    if period is not None:
        raise NotImplementedError("the gradient of np.interp with period= is not implemented")
    y = np.interp(x, xp, fp, left=left, right=right)
    xs, knots, values = np.asarray(x, dtype=float), np.asarray(xp, dtype=float), np.asarray(fp)
    k = np.clip(np.searchsorted(knots, xs, side="right") - 1, 0, len(knots) - 2)
    a, b = knots[k], knots[k + 1]
    width = b - a
    t = (xs - a) / width
    below, above = xs < knots[0], xs > knots[-1]
    inside = ~(below | above)
    slope = (values[k + 1] - values[k]) / width

    def interp_back(dy):
        dy = np.broadcast_to(np.asarray(dy, dtype=float_dtype(values)), np.shape(xs))
        dfp = np.zeros(np.shape(values), dtype=float_dtype(values))
        dxp = np.zeros(np.shape(knots))
        np.add.at(dfp, k[inside], (dy * (1 - t))[inside])
        np.add.at(dfp, k[inside] + 1, (dy * t)[inside])
        if left is None:
            dfp[0] += np.sum(dy[below])
        if right is None:
            dfp[-1] += np.sum(dy[above])
        dslope = (dy * slope)[inside]
        np.add.at(dxp, k[inside], dslope * ((xs - b) / width)[inside])
        np.add.at(dxp, k[inside] + 1, -dslope * t[inside])
        dx = np.where(inside, dy * slope, 0.0)
        return (np.reshape(dx, np.shape(x)).astype(float_dtype(x)), dxp.astype(float_dtype(xp)),
                dfp, dy[below].sum() if left is not None else None,
                dy[above].sum() if right is not None else None, None)
    return y, interp_back


@adjoint(np.polyval)
def polyval_rule(p, x):
    """``Σ p_i x^(n-1-i)``: ``dp_i = Σ dy x^(n-1-i)`` and ``dx = dy p'(x)``."""
    y = np.polyval(p, x)
    n = len(p)

    def polyval_back(dy):
        powers = [holomorphic(np.power(x, n - 1 - i)) * dy for i in range(n)]
        dp = np.array([np.sum(term) for term in powers], dtype=float_dtype(p))
        dx = dy * holomorphic(np.polyval(np.polyder(p), x)) if n > 1 else np.zeros_like(dy * x)
        return dp, unbroadcast(dx, x)
    return y, polyval_back


# -- matrix functions: stacks of square matrices in the last two axes, as numpy.linalg takes ---

def matrix_transpose(a):
    return np.swapaxes(a, -1, -2)


def adjoint_matrix(a):
    """The conjugate transpose ``aᴴ`` of (a stack of) matrices: ``aᵀ`` for real ``a``."""
    return holomorphic(np.swapaxes(a, -1, -2))


@adjoint(np.linalg.inv)
def inv_rule(a):
    y = np.linalg.inv(a)

    def inv_back(dy):
        y_h = adjoint_matrix(y)
        return (-(y_h @ dy @ y_h),)
    return y, inv_back


@adjoint(np.linalg.solve)
def solve_rule(a, b):
    """``x = a⁻¹ b``: ``db = a⁻ᵀ dx`` and ``da = -db xᵀ``. A 1-d ``b`` is one vector."""
    x = np.linalg.solve(a, b)
    vector = np.ndim(b) == 1

    def solve_back(dx):
        dx_columns = dx[..., None] if vector else dx
        db = np.linalg.solve(adjoint_matrix(a), dx_columns)
        x_columns = x[..., None] if vector else x
        da = -(db @ adjoint_matrix(x_columns))
        return unbroadcast(da, a), unbroadcast(db[..., 0] if vector else db, b)
    return x, solve_back


@adjoint(np.linalg.det)
def det_rule(a):
    """``d det(a) = det(a) tr(a⁻¹ da)``; a singular ``a`` raises numpy's LinAlgError."""
    y = np.linalg.det(a)

    def det_back(dy):
        scale = np.asarray(dy * holomorphic(y))[..., None, None]
        return (scale * adjoint_matrix(np.linalg.inv(a)),)
    return y, det_back


@adjoint(np.linalg.slogdet, output_kind="a")
def slogdet_rule(a):
    """``(sign, log|det a|)``: the log's cotangent gives ``a⁻ᵀ`` times it; the sign has none."""
    result = np.linalg.slogdet(a)

    def slogdet_back(dresult):
        if isinstance(dresult, dict):
            dlog = dresult.get("logabsdet", 0)
        else:
            dlog = dresult[1]
        if is_zero(dlog):
            return (0,)
        return (np.asarray(dlog)[..., None, None] * adjoint_matrix(np.linalg.inv(a)),)
    return result, slogdet_back


@adjoint(np.linalg.matrix_power)
def matrix_power_rule(a, n):
    """``aⁿ``: ``da = Σₖ (aᵏ)ᵀ dy (aⁿ⁻¹⁻ᵏ)ᵀ``; a negative ``n`` goes through ``a⁻¹``."""
    base = np.linalg.inv(a) if n < 0 else a
    powers = [np.broadcast_to(np.eye(np.shape(a)[-1], dtype=base.dtype), np.shape(a))]
    for _ in range(abs(n) - 1):
        powers.append(powers[-1] @ base)
    y = np.linalg.matrix_power(a, n)

    def matrix_power_back(dy):
        m = abs(n)
        dbase = sum(adjoint_matrix(powers[k]) @ dy @ adjoint_matrix(powers[m - 1 - k])
                    for k in range(m)) if m else np.zeros_like(base)
        if n < 0:
            base_h = adjoint_matrix(base)
            return -(base_h @ dbase @ base_h), 0
        return dbase, 0
    return y, matrix_power_back


def lower_halving_diagonal(m):
    """The lower triangle of ``m`` with its diagonal halved."""
    return np.tril(m) - 0.5 * np.tril(np.triu(m))


def lower_triangle_back(grad):
    """The cotangent of a matrix read through its lower triangle, as numpy's symmetric and
    Cholesky routines read it, from the gradient ``grad`` with respect to the symmetric
    (Hermitian) matrix: the two halves of an off-diagonal pair both land below the diagonal,
    the second conjugated, once on it (where only the real part is read)."""
    return lower_halving_diagonal(grad + adjoint_matrix(grad))


def triangle_back(grad, UPLO):
    """``lower_triangle_back`` for ``UPLO='L'``; for ``'U'`` the same in the upper triangle."""
    if UPLO == "L":
        return lower_triangle_back(grad)
    return matrix_transpose(lower_triangle_back(matrix_transpose(grad)))


@adjoint(np.linalg.eigvalsh)
def eigvalsh_rule(a, UPLO="L"):
    """Eigenvalues of a symmetric (Hermitian) matrix: ``dA = V diag(dw) Vᴴ``; they are real,
    and so is their cotangent."""
    w, v = np.linalg.eigh(a, UPLO=UPLO)

    def eigvalsh_back(dw):
        grad = (v * np.real(np.asarray(dw))[..., None, :]) @ adjoint_matrix(v)
        return triangle_back(grad, UPLO), None
    return w, eigvalsh_back


@adjoint(np.linalg.eigh, output_kind="a")
def eigh_rule(a, UPLO="L"):
    """Eigenvalues and eigenvectors of a symmetric (Hermitian) matrix with distinct
    eigenvalues: ``dA = V (diag(dw) + F ∘ Vᴴ dV) Vᴴ``, ``F_ij = 1 / (w_j - w_i)`` off the
    diagonal.

    A complex eigenvector is defined up to a phase ``e^{iφ}``; LAPACK picks one. A loss that
    depends on that choice has no gradient (``Im diag(Vᴴ dV)`` is not zero): it is refused
    with an error instead of a number for LAPACK's choice of the moment.
    """
    w, v = result = np.linalg.eigh(a, UPLO=UPLO)

    def eigh_back(dresult):
        dw, dv = (dresult.get("eigenvalues", 0), dresult.get("eigenvectors", 0)) \
            if isinstance(dresult, dict) else dresult
        inner = np.zeros(np.shape(a), dtype=float_dtype(a))
        if not is_zero(dw):
            inner = inner + np.real(np.asarray(dw))[..., None, :] * np.eye(np.shape(a)[-1])
        if not is_zero(dv):
            gaps = w[..., None, :] - w[..., :, None]
            off = ~np.eye(np.shape(a)[-1], dtype=bool)
            f = np.where(off, 1.0 / np.where(off, gaps, 1.0), 0.0)
            projected = adjoint_matrix(v) @ dv
            if np.iscomplexobj(projected):
                phase = np.abs(np.imag(np.diagonal(projected, axis1=-2, axis2=-1)))
                if np.max(phase, initial=0.0) > 1e-8 * max(1.0, float(np.max(np.abs(projected)))):
                    raise ZygoteError(
                        "the loss depends on the phases of np.linalg.eigh's complex eigenvectors, "
                        "which are arbitrary (any v·e^{iφ} is an eigenvector): its gradient is not "
                        "defined; use the eigenvectors through |v|², v vᴴ or other phase-free forms")
            inner = inner + f * projected
        grad = v @ inner @ adjoint_matrix(v)
        return triangle_back(grad, UPLO), None
    return result, eigh_back


@adjoint(np.linalg.cholesky)
def cholesky_rule(a):
    """``A = L Lᴴ``: ``dA = L⁻ᴴ Φ(Lᴴ dL) L⁻¹`` with Φ the lower triangle, diagonal halved."""
    chol = np.linalg.cholesky(a)

    def cholesky_back(dchol):
        phi = lower_halving_diagonal(adjoint_matrix(chol) @ dchol)
        inverse = np.linalg.inv(chol)
        grad = adjoint_matrix(inverse) @ phi @ inverse
        return (lower_triangle_back(grad),)
    return chol, cholesky_back


expr_rule(np.triu, lambda x, k=0, y=None, dy=None: np.triu(dy, k), elementwise=False)
expr_rule(np.tril, lambda x, k=0, y=None, dy=None: np.tril(dy, k), elementwise=False)


# -- shapes --------------------------------------------------------------------------------------
expr_rule(np.reshape, lambda x, shape=None, order="C", newshape=None, y=None, dy=None:
          np.reshape(dy, np.shape(x)), elementwise=False)
for _fn in (np.ravel, np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d):
    expr_rule(_fn, lambda x, axis=None, y=None, dy=None: np.reshape(dy, np.shape(x)), elementwise=False)
expr_rule(np.copy, lambda x, order="K", subok=False, y=None, dy=None: dy, elementwise=False)
expr_rule(np.transpose, lambda x, axes=None, y=None, dy=None: transpose_back(dy, axes), elementwise=False)
expr_rule(np.moveaxis, lambda x, source, destination, y=None, dy=None:
          np.moveaxis(dy, destination, source), elementwise=False)
expr_rule(np.swapaxes, lambda x, axis1, axis2, y=None, dy=None: np.swapaxes(dy, axis1, axis2),
          elementwise=False)
expr_rule(np.flip, lambda x, axis=None, y=None, dy=None: np.flip(dy, axis), elementwise=False)
expr_rule(np.fliplr, lambda x, y, dy: np.fliplr(dy), elementwise=False)
expr_rule(np.flipud, lambda x, y, dy: np.flipud(dy), elementwise=False)
expr_rule(np.roll, lambda x, shift, axis=None, y=None, dy=None: np.roll(dy, np.negative(shift), axis),
          elementwise=False)
expr_rule(np.broadcast_to, lambda x, shape, subok=False, y=None, dy=None: unbroadcast(dy, x),
          elementwise=False)
expr_rule(np.tile, lambda x, reps, y=None, dy=None: tile_back(dy, x, reps), elementwise=False)
expr_rule(np.repeat, lambda x, repeats, axis=None, y=None, dy=None: repeat_back(dy, x, repeats, axis),
          elementwise=False)
expr_rule(np.pad, lambda x, pad_width, mode="constant", constant_values=0, y=None, dy=None: (
    pad_back(dy, pad_width, mode), None, None, np.sum(dy) - np.sum(pad_back(dy, pad_width, mode))),
    elementwise=False)
expr_rule(np.sort, lambda x, axis=-1, kind=None, order=None, y=None, dy=None: sort_back(dy, x, axis),
          elementwise=False)
expr_rule(np.take, lambda x, indices, axis=None, y=None, dy=None:
          getitem_back(x, take_index(x, indices, axis), dy), elementwise=False)
expr_rule(np.take_along_axis, lambda x, indices, axis=-1, y=None, dy=None:
          getitem_back(x, along_axis_index(x, indices, axis), dy), elementwise=False)


def no_output_argument(args, fn):
    """Refuse ``fn(arrays, axis, out)``: writing into ``out`` cannot be differentiated."""
    if len(args) > 1:
        raise TypeError(f"{fn.__name__}(..., out) is not differentiable: pass the arrays and axis only")


# Pullback rules take optional positional parameters as ``*args`` so that ``back`` returns
# exactly one cotangent per positional argument of the call, and call numpy with explicit
# keywords (no ``*args``/``**kwargs``) so that zygote can differentiate the rules themselves.


@adjoint(np.concatenate)
def concatenate_rule(arrays, *args, axis=0, dtype=None, casting="same_kind"):
    no_output_argument(args, np.concatenate)
    axis = args[0] if args else axis
    y = np.concatenate(arrays, axis=axis, dtype=dtype, casting=casting)
    promote = np.ravel if axis is None else np.asarray

    def concatenate_back(dy):
        return (split_back(dy, arrays, 0 if axis is None else axis, promote),) + (None,) * len(args)
    return y, concatenate_back


@adjoint(np.stack)
def stack_rule(arrays, *args, axis=0, dtype=None, casting="same_kind"):
    no_output_argument(args, np.stack)
    axis = args[0] if args else axis
    y = np.stack(arrays, axis=axis, dtype=dtype, casting=casting)
    return y, lambda dy: (like_sequence(arrays, list(np.moveaxis(dy, axis, 0))),) + (None,) * len(args)


@adjoint(np.hstack)
def hstack_rule(arrays, *, dtype=None, casting="same_kind"):
    y = np.hstack(arrays, dtype=dtype, casting=casting)
    axis = 0 if np.ndim(np.atleast_1d(arrays[0])) == 1 else 1
    return y, lambda dy: (split_back(dy, arrays, axis, np.atleast_1d),)


@adjoint(np.vstack)
def vstack_rule(arrays, *, dtype=None, casting="same_kind"):
    y = np.vstack(arrays, dtype=dtype, casting=casting)
    return y, lambda dy: (split_back(dy, arrays, 0, np.atleast_2d),)


@adjoint(np.split, output_kind="a")
def split_rule(x, indices_or_sections, *args, axis=0):
    axis = args[0] if args else axis
    pieces = np.split(x, indices_or_sections, axis=axis)
    return pieces, lambda dy: (np.concatenate(unsplit(dy, pieces), axis=axis), 0) + (None,) * len(args)


@adjoint(np.asarray)
def asarray_rule(a, *args, dtype=None, order=None):
    """``np.asarray``: the cotangent of a list of numbers is a list, of an array an array."""
    y = np.asarray(a, dtype=args[0] if args else dtype)

    def asarray_back(dy):
        da = list(dy) if isinstance(a, (list, tuple)) else unbroadcast(dy, a)
        return (da,) + (None,) * len(args)
    return y, asarray_back


@adjoint(np.array)
def array_rule(a, *args, dtype=None, copy=True, order="K", ndmin=0):
    y = np.array(a, dtype=args[0] if args else dtype, copy=copy, ndmin=ndmin)

    def array_back(dy):
        dy = np.reshape(dy, np.shape(a))
        return (list(dy) if isinstance(a, (list, tuple)) else unbroadcast(dy, a),) + (None,) * len(args)
    return y, array_back


# -- array methods -------------------------------------------------------------------------------
for _name, _fn in (("sum", np.sum), ("mean", np.mean), ("prod", np.prod), ("max", np.max),
                   ("min", np.min), ("var", np.var), ("std", np.std), ("cumsum", np.cumsum),
                   ("dot", np.dot), ("ravel", np.ravel), ("flatten", np.ravel), ("squeeze", np.squeeze),
                   ("swapaxes", np.swapaxes), ("clip", np.clip), ("trace", np.trace),
                   ("diagonal", np.diagonal), ("repeat", np.repeat), ("take", np.take)):
    METHOD_RULES[(np.ndarray, _name)] = RULES[_fn]
# numpy scalars (np.float64, ...) share the methods that make sense for a single number
for _name in ("sum", "mean", "prod", "max", "min", "var", "std", "cumsum", "ravel", "flatten", "squeeze", "clip"):
    METHOD_RULES[(np.generic, _name)] = METHOD_RULES[(np.ndarray, _name)]


@adjoint(None, method_of=(np.ndarray, "reshape"))
def reshape_method_rule(x, *shape, order="C"):
    y = np.reshape(x, shape[0] if len(shape) == 1 else shape, order=order)
    return y, lambda dy: (np.reshape(dy, np.shape(x)),) + (0,) * len(shape)


@adjoint(None, method_of=(np.ndarray, "transpose"))
def transpose_method_rule(x, *axes):
    order = tuple(axes[0]) if len(axes) == 1 and isinstance(axes[0], (tuple, list)) else axes
    y = np.transpose(x, order or None)
    return y, lambda dy: (transpose_back(dy, order or None),) + (0,) * len(axes)


@adjoint(None, method_of=(np.ndarray, "astype"))
def astype_method_rule(x, dtype, *args, **keywords):
    y = x.astype(dtype, *args, **keywords)
    # A cast to integers or bools is piecewise constant: nothing flows back through it.
    passes = x.dtype.kind in "fc" and y.dtype.kind in "fc"
    return y, lambda dy: (np.asarray(dy).astype(x.dtype) if passes else 0, 0) + (0,) * len(args)


@adjoint(None, method_of=(np.ndarray, "copy"))
def copy_method_rule(x, *args, order="C"):
    return x.copy(order=args[0] if args else order), lambda dy: (dy,) + (0,) * len(args)


@adjoint(None, method_of=(np.ndarray, "item"))
def item_method_rule(x, *index):
    """``x.item(*index)``: the cotangent lands on the one entry read."""
    flat = 0 if not index else (index[0] if len(index) == 1 else np.ravel_multi_index(index, np.shape(x)))
    where = np.unravel_index(flat, np.shape(x))
    return x.item(*index), lambda dy: (getitem_back(x, where, dy),) + (0,) * len(index)


@adjoint(None, method_of=(np.generic, "item"), output_kind="n")
def scalar_item_method_rule(x, *index):
    """``x.item()`` of a numpy scalar: the Python number, with the scalar's cotangent."""
    return x.item(*index), lambda dy: (dy,) + (0,) * len(index)


@adjoint(None, method_of=(np.ndarray, "tolist"), output_kind="a")
def tolist_method_rule(x):
    return x.tolist(), lambda dy: (nested_array(dy, x),)


# -- no derivative -------------------------------------------------------------------------------
nograd(np.shape, np.ndim, np.size, np.zeros, np.ones, np.zeros_like, np.ones_like, np.empty,
       np.empty_like, np.eye, np.identity, np.tri,
       np.argmax, np.argmin, np.argsort, np.argwhere, np.flatnonzero, np.searchsorted, np.digitize,
       np.floor, np.ceil, np.round, np.rint, np.trunc, np.fix, np.floor_divide,
       np.isnan, np.isinf, np.isfinite, np.signbit, np.equal, np.not_equal, np.less, np.less_equal,
       np.greater, np.greater_equal, np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
       np.all, np.any, np.count_nonzero, np.nonzero, np.allclose, np.isclose, np.array_equal,
       np.result_type, np.dtype, np.broadcast_shapes, np.unravel_index, np.ravel_multi_index,
       np.indices, np.tril_indices, np.triu_indices, np.diag_indices, np.isscalar, np.issubdtype,
       np.random.seed, np.random.rand, np.random.randn, np.random.randint, np.random.random,
       np.random.default_rng)
nograd(None, method_of=(np.ndarray, ("argmax", "argmin", "argsort", "nonzero", "all", "any", "round")))
nograd(None, method_of=(np.generic, ("round",)))

# numpy scalars (np.float64(...), results of full reductions) share the array casts.
METHOD_RULES[(np.generic, "astype")] = METHOD_RULES[(np.ndarray, "astype")]
METHOD_RULES[(np.generic, "copy")] = METHOD_RULES[(np.ndarray, "copy")]
