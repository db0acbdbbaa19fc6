"""The table of tangent rules for functions whose tangent is not their elementwise expression rule's.

Linear and bilinear functions are listed by name; the rest are written out, grouped as the
pullback rules are. A rule missing here has its tangent computed from its pullback at run
time (``zygote.forward``), which is correct but slower.
"""
import builtins
import functools
import math
import operator

import numpy as np

from .. import runtime
from ..cotangents import accum, public, unbroadcast
from .adjoints import unbroadcast_to
from . import complex as complex_rules
from .numpy import expand_reduced, holomorphic
from .tangents import JOINTLY_LINEAR, LAST_LINEAR, SHAPED, UNCONJUGATED, bilinear, linear, tangent

UNCONJUGATED.add(holomorphic)
UNCONJUGATED.add(complex_rules.conj)


def _zero(t):
    return type(t) is int and t == 0


def _full(d, x):
    if _zero(d):
        return np.zeros(np.shape(x), np.result_type(getattr(x, "dtype", np.float64), np.float64))
    if hasattr(x, "shape") and np.shape(d) != np.shape(x):
        return np.broadcast_to(d, np.shape(x))
    return d


# -- linear and bilinear numpy functions ----------------------------------------------------------

linear(np.sum, np.mean, np.cumsum, np.rollaxis, np.hsplit, np.vsplit, np.dsplit, np.gradient, np.diff, np.trace, np.diagonal, np.diag, np.triu, np.tril,
       np.reshape, np.copy, np.transpose, np.moveaxis, np.swapaxes, np.flip, np.fliplr, np.flipud,
       np.roll, np.broadcast_to, np.tile, np.repeat, np.take, np.take_along_axis, np.ravel,
       np.squeeze, np.expand_dims, np.real, np.imag, np.conj, np.negative, np.positive,
       np.atleast_1d, np.atleast_2d, np.atleast_3d, np.rot90, np.array_split, np.split,
       np.fft.fft, np.fft.ifft, np.fft.fft2, np.fft.ifft2, np.fft.fftn, np.fft.ifftn, np.fft.rfft,
       np.fft.irfft, np.fft.rfft2, np.fft.irfft2, np.fft.rfftn, np.fft.irfftn, np.fft.hfft,
       np.fft.ihfft, np.fft.fftshift, np.fft.ifftshift, operator.neg, operator.pos, complex_rules.conj)
bilinear(np.matmul, np.dot, np.inner, np.outer, np.tensordot, np.vdot, np.kron, np.cross,
         np.convolve, np.correlate, operator.matmul)

for _optional in ("linalg.matrix_transpose", "matrix_transpose", "permute_dims", "vecdot"):
    _found = np
    for _part in _optional.split("."):
        _found = getattr(_found, _part, None)
    if _found is not None:
        (bilinear if _part == "vecdot" else linear)(_found)


@tangent(np.einsum)
def _einsum_tangent(dargs, subscripts, *operands, **kwargs):
    y = np.einsum(subscripts, *operands, **kwargs)
    dy = 0
    for i, d in enumerate(dargs[1:]):
        if _zero(d):
            continue
        ops = list(operands)
        ops[i] = _full(d, operands[i])
        part = np.einsum(subscripts, *ops, **kwargs)
        dy = part if _zero(dy) else dy + part
    return y, dy


@tangent(np.prod)
def _prod_tangent(dargs, x, axis=None, dtype=None, out=None, keepdims=False):
    y = np.prod(x, axis=axis, dtype=dtype, keepdims=keepdims)
    dx = dargs[0]
    if _zero(dx):
        return y, 0
    # Σ_i dx_i Π_{j≠i} x_j, without dividing by x_i (which may be zero).
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else ((axis,) if np.ndim(axis) == 0 else tuple(axis))
    moved = np.moveaxis(x, axes, range(-len(axes), 0)).reshape(x.shape[:0] + tuple(
        s for i, s in enumerate(x.shape) if i not in [a % x.ndim for a in axes]) + (-1,))
    dmoved = np.moveaxis(_full(dx, x), axes, range(-len(axes), 0)).reshape(moved.shape)
    ones = np.ones(moved.shape[:-1] + (1,), moved.dtype)
    before = np.cumprod(np.concatenate([ones, moved[..., :-1]], axis=-1), axis=-1)
    after = np.flip(np.cumprod(np.concatenate([ones, np.flip(moved, -1)[..., :-1]], axis=-1), axis=-1), -1)
    dy = np.sum(dmoved * before * after, axis=-1)
    if keepdims:
        dy = np.reshape(dy, np.shape(y))
    return y, dy if np.ndim(y) else y.dtype.type(dy) if hasattr(y, "dtype") else dy


@tangent(np.var)
def _var_tangent(dargs, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    y = np.var(x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    dx = dargs[0]
    if _zero(dx):
        return y, 0
    centred = x - np.mean(x, axis=axis, keepdims=True)
    count = np.size(x) // max(np.size(np.mean(x, axis=axis)), 1)
    dy = 2 * np.sum(centred * _full(dx, x), axis=axis, keepdims=keepdims) / (count - ddof)
    return y, dy


@tangent(np.std)
def _std_tangent(dargs, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    v, dv = _var_tangent(dargs, x, axis=axis, dtype=dtype, ddof=ddof, keepdims=keepdims)
    y = np.sqrt(v)
    if _zero(dv):
        return y, 0
    # (where the spread is zero the derivative is taken to be 0, as the pullback takes it)
    return y, np.where(y == 0, 0.0, dv / np.where(y == 0, 1.0, 2 * y))


@tangent(np.nansum)
def _nansum_tangent(dargs, x, axis=None, dtype=None, out=None, keepdims=False):
    y = np.nansum(x, axis=axis, keepdims=keepdims)
    dx = dargs[0]
    return y, 0 if _zero(dx) else np.sum(np.where(np.isnan(x), 0, _full(dx, x)), axis=axis, keepdims=keepdims)


@tangent(np.median)
def _median_tangent(dargs, x, axis=None, out=None, overwrite_input=False, keepdims=False):
    y = np.median(x, axis=axis, keepdims=keepdims)
    dx = dargs[0]
    if _zero(dx):
        return y, 0
    # The median averages the middle one or two entries in sorted order: so does its tangent.
    a = np.asarray(x)
    d = np.asarray(_full(dx, x))
    if axis is None:
        a, d, axis_ = a.ravel(), d.ravel(), 0
    else:
        axis_ = axis
    order = np.argsort(a, axis=axis_, kind="stable")
    d_sorted = np.take_along_axis(d, order, axis=axis_)
    n = a.shape[axis_]
    middle = np.take(d_sorted, [(n - 1) // 2, n // 2], axis=axis_)
    dy = np.mean(middle, axis=axis_, keepdims=keepdims and axis is not None)
    return y, np.reshape(dy, np.shape(y))


@tangent(np.interp)
def _interp_tangent(dargs, x, xp, fp, *rest, **kwargs):
    y = np.interp(x, xp, fp, *rest, **kwargs)
    dx, dxp, dfp = (tuple(dargs) + (0, 0, 0))[:3]
    if not _zero(dxp):
        return NotImplemented
    dy = 0
    if not _zero(dfp):
        dy = np.interp(x, xp, _full(dfp, fp), *rest, **kwargs)  # linear in fp
    if not _zero(dx):
        xp_a, fp_a = np.asarray(xp), np.asarray(fp)
        i = np.clip(np.searchsorted(xp_a, x, side="right") - 1, 0, len(xp_a) - 2)
        slope = (fp_a[i + 1] - fp_a[i]) / (xp_a[i + 1] - xp_a[i])
        inside = (np.asarray(x) > xp_a[0]) & (np.asarray(x) < xp_a[-1])
        part = dx * np.where(inside, slope, 0.0)
        dy = part if _zero(dy) else dy + part
    return y, dy


@tangent(np.nanmean)
def _nanmean_tangent(dargs, x, axis=None, dtype=None, out=None, keepdims=False):
    y = np.nanmean(x, axis=axis, keepdims=keepdims)
    dx = dargs[0]
    if _zero(dx):
        return y, 0
    present = ~np.isnan(x)
    return y, np.sum(np.where(present, _full(dx, x), 0), axis=axis, keepdims=keepdims) / \
        np.sum(present, axis=axis, keepdims=keepdims)


def _stacking(fn):
    def stacking_tangent(dargs, arrays, *rest, **kwargs):
        y = fn(arrays, *rest, **kwargs)
        darrays = dargs[0]
        if _zero(darrays):
            return y, 0
        parts = [_full(d, a) for d, a in zip(darrays, arrays)]
        return y, fn(parts, *rest, **kwargs)
    return stacking_tangent


for _fn in (np.concatenate, np.stack, np.hstack, np.vstack, np.dstack, np.column_stack):
    tangent(_fn)(_stacking(_fn))


@tangent(np.asarray)
def _asarray_tangent(dargs, x, *rest, **kwargs):
    y = np.asarray(x, *rest, **kwargs)
    return y, _array_of_tangents(dargs[0], y)


@tangent(np.array)
def _array_tangent(dargs, x, *rest, **kwargs):
    y = np.array(x, *rest, **kwargs)
    return y, _array_of_tangents(dargs[0], y)


def _array_of_tangents(d, y):
    if _zero(d) or y.dtype.kind not in "fc":
        return 0
    if isinstance(d, (list, tuple)):
        return np.array(_zeros_filled(d, y), dtype=y.dtype)
    return np.asarray(d, dtype=y.dtype).reshape(y.shape)


def _zeros_filled(d, y):
    if isinstance(d, (list, tuple)):
        return [_zeros_filled(item, y[i]) for i, item in enumerate(d)]
    return np.zeros(np.shape(y)) if _zero(d) else d


@tangent(np.where)
def _where_tangent(dargs, condition, *branches):
    y = np.where(condition, *branches)
    if not branches:
        return y, 0
    da, db = (tuple(dargs[1:]) + (0, 0))[:2]
    if _zero(da) and _zero(db):
        return y, 0
    return y, np.where(condition, 0 if _zero(da) else da, 0 if _zero(db) else db) * np.ones(np.shape(y))


@tangent(np.clip)
def _clip_tangent(dargs, x, a_min=None, a_max=None, out=None, **kwargs):
    y = np.clip(x, a_min, a_max, **kwargs) if (a_min is not None or a_max is not None) else np.clip(x, **kwargs)
    dx, dlo, dhi = (tuple(dargs) + (0, 0, 0))[:3]
    lo = a_min if a_min is not None else kwargs.get("min")
    hi = a_max if a_max is not None else kwargs.get("max")
    below = np.zeros(np.shape(y), bool) if lo is None else np.asarray(x < lo) & np.ones(np.shape(y), bool)
    above = np.zeros(np.shape(y), bool) if hi is None else np.asarray(x > hi) & np.ones(np.shape(y), bool)
    dy = 0
    for d, where in ((dx, ~below & ~above), (dlo, below), (dhi, above)):
        if not _zero(d):
            part = np.where(where, d, 0.0)
            dy = part if _zero(dy) else dy + part
    return y, dy


@tangent(np.select)
def _select_tangent(dargs, condlist, choicelist, default=0):
    y = np.select(condlist, choicelist, default)
    dchoices, ddefault = (tuple(dargs[1:]) + (0, 0))[:2]
    if _zero(dchoices) and _zero(ddefault):
        return y, 0
    parts = [np.zeros(np.shape(y)) if _zero(d) else np.broadcast_to(d, np.shape(y))
             for d in (dchoices if not _zero(dchoices) else [0] * len(choicelist))]
    return y, np.select(condlist, parts, 0.0 if _zero(ddefault) else ddefault)


@tangent(np.real_if_close)
def _real_if_close_tangent(dargs, a, tol=100):
    y = np.real_if_close(a, tol)
    d = dargs[0]
    if _zero(d):
        return y, 0
    return y, np.real(d) if not np.iscomplexobj(y) else d


@tangent(builtins.complex)
def _complex_tangent(dargs, real=0.0, imag=0.0):
    y = complex(real, imag)
    dr, di = (tuple(dargs) + (0, 0))[:2]
    if _zero(dr) and _zero(di):
        return y, 0
    return y, complex(0.0 if _zero(dr) else dr) + 1j * (0.0 if _zero(di) else di)


def _concatenator(concatenator):
    def concatenator_tangent(dargs, items):
        y = concatenator[items]
        ditems = dargs[0]
        if _zero(ditems):
            return y, 0
        single = not isinstance(items, tuple)
        items_list = [items] if single else list(items)
        dlist = [ditems] if single else list(ditems)
        parts = []
        for item, d in zip(items_list, dlist):
            if isinstance(item, str):
                parts.append(item)
            elif isinstance(item, slice):
                parts.append(np.zeros(np.shape(np.r_[item])))
            elif _zero(d):
                parts.append(np.zeros(np.shape(item)) if np.ndim(item) else 0.0)
            else:
                parts.append(_full(d, item))
        return y, concatenator[parts[0] if single else tuple(parts)]
    return concatenator_tangent


for _concat in (np.r_, np.c_):
    tangent(_concat)(_concatenator(_concat))


# -- linear algebra -------------------------------------------------------------------------------


@tangent(np.linalg.inv)
def _inv_tangent(dargs, a):
    y = np.linalg.inv(a)
    da = dargs[0]
    return y, 0 if _zero(da) else -(y @ da @ y)


@tangent(np.linalg.solve)
def _solve_tangent(dargs, a, b):
    x = np.linalg.solve(a, b)
    da, db = (tuple(dargs) + (0, 0))[:2]
    rhs = 0 if _zero(db) else db
    if not _zero(da):
        product = (da @ x[..., None])[..., 0] if np.ndim(b) == 1 else da @ x
        rhs = rhs - product
    return x, 0 if _zero(rhs) else np.linalg.solve(a, np.broadcast_to(rhs, np.shape(x)))


@tangent(np.linalg.det)
def _det_tangent(dargs, a):
    y = np.linalg.det(a)
    da = dargs[0]
    if _zero(da):
        return y, 0
    return y, y * np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)


@tangent(np.linalg.slogdet)
def _slogdet_tangent(dargs, a):
    y = np.linalg.slogdet(a)
    da = dargs[0]
    if _zero(da):
        return y, 0
    return y, type(y)(np.zeros_like(y[0]), np.real(np.trace(np.linalg.solve(a, da), axis1=-2, axis2=-1)))


# -- the helpers that generated adjoints call (each linear in its cotangent) ------------------------


@tangent(unbroadcast)
def _unbroadcast_tangent(dargs, g, x):
    return unbroadcast(g, x), 0 if _zero(dargs[0]) else _structured(unbroadcast, dargs[0], g, x)


def _structured(fn, d, g, x):
    """``fn(d, x)`` for a tangent ``d`` of a cotangent ``g`` (a container tangent keeps its shape)."""
    if isinstance(g, (dict, list, tuple)):
        return d
    return fn(_full(d, g), x)


def _filled(d, g):
    """Tangent ``d`` of the cotangent ``g`` with ``g``'s shape (zeros for an array's zero)."""
    if isinstance(g, (np.ndarray, np.number)):
        return _full(d, g)
    if _zero(d) and type(g) is float:
        return 0.0
    return d


@tangent(accum)
def _accum_tangent(dargs, a, b, x=None):
    da, db = (tuple(dargs) + (0, 0))[:2]
    extra = () if x is None else (x,)
    y = accum(a, b, *extra)
    if _zero(da) and _zero(db):
        return y, 0
    # accum is linear in the two cotangents: the tangent is accum of their tangents
    return y, accum(_filled(da, a), _filled(db, b), *extra)


@tangent(runtime.add_cotangent)
def _add_cotangent_tangent(dargs, a, b, x):
    da, db = (tuple(dargs) + (0, 0))[:2]
    y = runtime.add_cotangent(a, b, x)
    if _zero(da) and _zero(db):
        return y, 0
    return y, runtime.add_cotangent(_filled(da, a), _filled(db, b), x)


@tangent(expand_reduced)
def _expand_reduced_tangent(dargs, dy, x, axis, keepdims):
    y = expand_reduced(dy, x, axis, keepdims)
    return y, 0 if _zero(dargs[0]) else expand_reduced(dargs[0], x, axis, keepdims)


@tangent(runtime.split_cotangent)
def _split_tangent(dargs, dy, n):
    y = runtime.split_cotangent(dy, n)
    d = dargs[0]
    if _zero(d):
        return y, 0
    return y, tuple(d) if isinstance(d, (list, tuple)) else runtime.split_cotangent(d, n)


@tangent(runtime.dict_back)
def _dict_back_tangent(dargs, dy, key):
    d = dargs[0]
    return runtime.dict_back(dy, key), runtime.dict_back(d, key) if type(d) is dict else 0


@tangent(runtime.getitem_back)
def _getitem_back_tangent(dargs, x, index, dy):
    d = dargs[2] if len(dargs) > 2 else 0
    y = runtime.getitem_back(x, index, dy)
    return y, 0 if _zero(d) else runtime.getitem_back(x, index, _full(d, dy))


@tangent(runtime.setitem_back)
def _setitem_back_tangent(dargs, dy, index, value):
    d = dargs[0]
    y = runtime.setitem_back(dy, index, value)
    if _zero(d):
        return y, 0
    return y, runtime.setitem_back(_full(d, dy), index, value)


@tangent(runtime.add_back)
def _add_back_tangent(dargs, dy, a, b):
    d = dargs[0]
    y = runtime.add_back(dy, a, b)
    return y, 0 if _zero(d) else runtime.add_back(d, a, b)


@tangent(runtime.setattr_back)
def _setattr_back_tangent(dargs, dobj, name):
    d = dargs[0]
    y = runtime.setattr_back(dobj, name)
    return y, 0 if _zero(d) else runtime.setattr_back(d, name)


linear(runtime.copy_for_write)
SHAPED.update({unbroadcast, expand_reduced, public, runtime.split_cotangent, runtime.copy_for_write})
LAST_LINEAR.add(runtime.getitem_back)
JOINTLY_LINEAR.update({accum, runtime.add_cotangent})


@tangent(public)
def _public_tangent(dargs, g, x):
    # linear in the cotangent g; x only says which form to give it
    d = dargs[0]
    return public(g, x), 0 if _zero(d) else public(_filled(d, g), x)


# -- built-in functions on sequences ---------------------------------------------------------------


def _items(d, seq):
    if _zero(d):
        return [0] * len(seq)
    if type(d) is dict:
        return [d.get(k, 0) for k in seq]
    return list(d)


@tangent(builtins.sum)
def _sum_tangent(dargs, items, *start, **keywords):
    seq = items if isinstance(items, (list, tuple, np.ndarray)) else list(items)
    y = builtins.sum(seq, *start, **keywords)
    total = 0
    for d in _items(dargs[0], seq) + list(dargs[1:]):
        if not _zero(d):
            total = d if _zero(total) else total + d
    if not _zero(total) and hasattr(y, "shape") and np.shape(total) != np.shape(y):
        total = np.broadcast_to(total, np.shape(y)).copy()
    return y, total


def _extremum(pick, builtin_fn):
    def extremum_tangent(dargs, *args, key=None, default=None):
        one = len(args) == 1
        items = list(args[0]) if one else list(args)
        dparts = _items(dargs[0], items) if one else list(dargs)
        if not items:
            return builtin_fn(*args, key=key, default=default), 0
        score = key if key is not None else (lambda item: item)
        best = 0
        for i in range(1, len(items)):
            if pick(score(items[i]), score(items[best])):
                best = i
        return items[best], dparts[best]
    return extremum_tangent


tangent(builtins.max)(_extremum(lambda a, b: a > b, builtins.max))
tangent(builtins.min)(_extremum(lambda a, b: a < b, builtins.min))


@tangent(builtins.zip)
def _zip_tangent(dargs, *seqs):
    items = [list(s) for s in seqs]
    y = list(zip(*items))
    columns = [_items(d, s) for d, s in zip(dargs, items)]
    return y, [tuple(row) for row in zip(*columns)]


@tangent(builtins.enumerate)
def _enumerate_tangent(dargs, seq, *start, **keywords):
    items = list(seq)
    return list(enumerate(items, *start, **keywords)), [(0, d) for d in _items(dargs[0], items)]


@tangent(builtins.reversed)
def _reversed_tangent(dargs, seq):
    items = list(seq)
    return items[::-1], _items(dargs[0], items)[::-1]


@tangent(builtins.list)
def _list_tangent(dargs, seq=()):
    items = list(seq)
    return items, _items(dargs[0], items) if dargs else 0


@tangent(builtins.tuple)
def _tuple_tangent(dargs, seq=()):
    items = tuple(seq)
    return items, tuple(_items(dargs[0], items)) if dargs else 0


@tangent(builtins.sorted)
def _sorted_tangent(dargs, seq, key=None, reverse=False):
    items = list(seq)
    order = sorted(range(len(items)), key=(lambda i: key(items[i])) if key else items.__getitem__,
                   reverse=reverse)
    d = [0] * len(items) if isinstance(seq, dict) else _items(dargs[0], items)
    return [items[i] for i in order], [d[i] for i in order]


@tangent(builtins.map, calls_back=True)
def _map_tangent(forward, dargs, fn, *seqs):
    results, tangents = [], []
    columns = [_items(d, list(s)) for d, s in zip(dargs[1:], seqs)]
    for args, dargs_i in zip(zip(*seqs), zip(*columns) if columns else ()):
        y, dy = forward.jvp_call(fn, dargs[0], args, dargs_i)
        results.append(y)
        tangents.append(dy)
    return results, tangents


@tangent(builtins.getattr, calls_back=True)
def _getattr_tangent(forward, dargs, obj, name, *default):
    return getattr(obj, name, *default), forward.attr_tangent(obj, dargs[0], name) if dargs else 0


def _abs(fn):
    def abs_tangent(dargs, x, *rest, **kwargs):
        y = fn(x, *rest, **kwargs)
        d = dargs[0]
        if _zero(d):
            return y, 0
        if np.iscomplexobj(x):
            # d|z| = Re(conj(z) dz) / |z|
            return y, np.real(np.conj(x) * d) / np.where(y == 0, 1, y)
        return y, _full(d, x) * np.sign(x)
    return abs_tangent


for _fn in (builtins.abs, operator.abs, np.abs, np.fabs, math.fabs):
    tangent(_fn)(_abs(_fn))


@tangent(np.sign)
def _sign_tangent(dargs, x):
    y = np.sign(x)
    d = dargs[0]
    if _zero(d) or not np.iscomplexobj(x):
        return y, 0 if _zero(d) else np.zeros(np.shape(y))
    # the unit z / |z| turns with the part of dz across it
    magnitude = np.abs(x)
    safe = np.where(magnitude == 0, 1, magnitude)
    return y, (d - np.real(np.conj(y) * d) * y) / safe


@tangent(np.angle)
def _angle_tangent(dargs, z, deg=False):
    y = np.angle(z, deg=deg)
    d = dargs[0]
    if _zero(d):
        return y, 0
    magnitude2 = np.real(z * np.conj(z))
    dy = np.imag(np.conj(z) * d) / np.where(magnitude2 == 0, 1, magnitude2)
    return y, dy * (180 / np.pi) if deg else dy


@tangent(builtins.float)
def _float_tangent(dargs, x=0.0):
    return float(x), 0 if not dargs or _zero(dargs[0]) else float(np.real(dargs[0]))


@tangent(builtins.pow)
def _pow_tangent(dargs, base, exp, mod=None):
    return _operator_pow(dargs, base, exp) if mod is None else (pow(base, exp, mod), 0)


def _operator_pow(dargs, a, b):
    from .operators import log_positive, power_slope
    y = a ** b
    da, db = (tuple(dargs) + (0, 0))[:2]
    dy = 0 if _zero(da) else da * power_slope(a, b)
    if not _zero(db):
        part = db * y * log_positive(a)
        dy = part if _zero(dy) else dy + part
    return y, dy


@tangent(math.fsum)
def _fsum_tangent(dargs, items):
    seq = list(items)
    return math.fsum(seq), builtins.sum(d for d in _items(dargs[0], seq) if not _zero(d))


@tangent(math.prod)
def _math_prod_tangent(dargs, items, *, start=1):
    seq = list(items)
    y = math.prod(seq, start=start)
    total = 0
    for i, d in enumerate(_items(dargs[0], seq)):
        if not _zero(d):
            rest = math.prod(seq[:i] + seq[i + 1:], start=start)
            total = total + d * rest
    return y, total


# -- the containers' methods, partial, super and the intrinsics of normal form ---------------------


@tangent(None, method_of=(dict, "get"))
def _dict_get_tangent(dargs, d, key, default=None):
    dd = dargs[0]
    if key in d:
        return d[key], dd.get(key, 0) if type(dd) is dict else 0
    return default, dargs[2] if len(dargs) > 2 else 0


@tangent(None, method_of=(dict, "values"))
def _dict_values_tangent(dargs, d):
    keys = list(d)
    dd = dargs[0]
    return [d[k] for k in keys], [dd.get(k, 0) if type(dd) is dict else 0 for k in keys]


@tangent(None, method_of=(dict, "items"))
def _dict_items_tangent(dargs, d):
    keys = list(d)
    dd = dargs[0]
    return [(k, d[k]) for k in keys], [(0, dd.get(k, 0) if type(dd) is dict else 0) for k in keys]


@tangent(None, method_of=(list, "copy"))
def _list_copy_tangent(dargs, items):
    return list(items), _items(dargs[0], items)


def _array_method(name):
    def array_method_tangent(dargs, x, *args, **kwargs):
        y = getattr(x, name)(*args, **kwargs)
        d = dargs[0]
        if _zero(d) or not np.asarray(y).dtype.kind in "fc":
            return y, 0
        return y, getattr(np.asarray(_full(d, x)), name)(*args, **kwargs)
    return array_method_tangent


for _name in ("reshape", "transpose", "copy", "ravel", "flatten", "squeeze", "swapaxes", "sum", "mean",
              "cumsum", "diagonal", "trace", "tolist", "conj", "conjugate"):
    tangent(None, method_of=(np.ndarray, _name))(_array_method(_name))
    tangent(None, method_of=(np.generic, _name))(_array_method(_name))


@tangent(None, method_of=(np.ndarray, "astype"))
def _astype_tangent(dargs, x, dtype, *args, **kwargs):
    y = x.astype(dtype, *args, **kwargs)
    d = dargs[0]
    if _zero(d) or y.dtype.kind not in "fc":
        return y, 0
    return y, np.asarray(_full(d, x)).astype(dtype)


tangent(None, method_of=(np.generic, "astype"))(_astype_tangent)


@tangent(None, method_of=(np.ndarray, "item"))
def _item_tangent(dargs, x, *index):
    y = x.item(*index)
    d = dargs[0]
    if _zero(d):
        return y, 0
    return y, float(np.real(np.asarray(_full(d, x)).item(*index))) if type(y) is float else \
        np.asarray(_full(d, x)).item(*index)


tangent(None, method_of=(np.generic, "item"))(_item_tangent)


@tangent(functools.partial)
def _partial_tangent(dargs, fn, *bound, **keywords):
    made = functools.partial(fn, *bound, **keywords)
    if all(_zero(d) for d in dargs):
        return made, 0
    return made, {"func": dargs[0], "args": tuple(dargs[1:])}


@tangent(super)
def _super_tangent(dargs, *args):
    return super(*args), dargs[1] if len(dargs) > 1 else 0


@tangent(np.linalg.eigvals)
def _eigvals_tangent(dargs, a):
    y = np.linalg.eigvals(a)
    da = dargs[0]
    if _zero(da):
        return y, 0
    # dλ = diag(V⁻¹ dA V) for A = V diag(λ) V⁻¹ with distinct eigenvalues
    w, v = np.linalg.eig(a)
    inner = np.linalg.solve(v, da @ v)
    dw = np.diagonal(inner, axis1=-2, axis2=-1)
    order = [int(np.argmin(np.abs(w - value))) for value in np.ravel(y)] if np.ndim(y) == 1 else None
    return y, dw[order] if order is not None else dw


def _growing(name):
    """``items.append(v)`` / ``items.extend(vs)`` in place: the list's tangent grows in place too."""
    def growing_tangent(dargs, items, *args):
        ditems = dargs[0]
        new = [args[0]] if name == "append" else list(args[0])
        dnew = [dargs[1]] if name == "append" else _items(dargs[1], new)
        if type(ditems) is not list or len(ditems) != len(items):
            if any(not _zero(d) for d in dnew) or not _zero(ditems):
                raise TypeError(f"list.{name} of differentiated values into a list whose tangent "
                                "is not a list of the same length")
            getattr(items, name)(*args)
            return None, 0
        getattr(items, name)(*args)
        ditems.extend(dnew)
        return None, 0
    return growing_tangent


for _name in ("append", "extend"):
    tangent(None, method_of=(list, _name))(_growing(_name))


# -- the conjugate, which complex-aware adjoints call: linear (conj(z + dz) = conj(z) + conj(dz)) --

def _conjugate_method_tangent(dargs, x):
    d = dargs[0]
    return x.conjugate(), 0 if _zero(d) else np.conj(d) if hasattr(d, "dtype") else d.conjugate()


for _owner in (float, int, complex):
    tangent(None, method_of=(_owner, "conjugate"))(_conjugate_method_tangent)
