"""The tangent rules of numpy and linear algebra whose tangent is not their elementwise expression rule's.

Linear and bilinear functions are listed by name; the rest are written out, grouped as the
pullback rules are. A rule missing here has its tangent computed from its pullback at run
time (``zygote.forward``), which is correct but slower. The rules of Python's built-ins and
of zygote's own adjoint helpers are in ``tangent_python``.
"""
import builtins
import operator

import numpy as np

from . import complex as complex_rules
from .numpy import holomorphic
from .tangents import UNCONJUGATED, bilinear, linear, tangent

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


# -- the conjugate, which complex-aware adjoints call: linear (conj(z + dz) = conj(z) + conj(dz)) --

def _conjugate_method_tangent(dargs, x):
    d = dargs[0]
    return x.conjugate(), 0 if _zero(d) else np.conj(d) if hasattr(d, "dtype") else d.conjugate()


for _owner in (float, int, complex):
    tangent(None, method_of=(_owner, "conjugate"))(_conjugate_method_tangent)
