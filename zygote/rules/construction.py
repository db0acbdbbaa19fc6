"""Rules for numpy's array construction and reshaping: ranges, index builders, splits and joins."""
import math

import numpy as np

from . import adjoint, expr_rule
from .complex import holomorphic
from .numpy import float_dtype, like_sequence, split_back, unsplit
from ..runtime import unbroadcast


# -- helpers -------------------------------------------------------------------------------------


def sample_fractions(num, endpoint, axis, ndim, dtype):
    """The fractions ``t_k`` with ``linspace(a, b) = a (1 - t) + b t``, laid along ``axis`` of an
    ``ndim``-dimensional result."""
    divisions = num - 1 if endpoint else num
    t = np.arange(num, dtype=dtype) / divisions if divisions > 0 else np.zeros(num, dtype=dtype)
    shape = [1] * ndim
    shape[axis] = num
    return np.reshape(t, shape)


def summed_along(dy, axis):
    """``dy`` summed over the sample axis of a ``linspace``-like result."""
    return np.sum(dy, axis=axis)


def result_axis(axis, ndim):
    return axis % ndim


def concatenator_pieces(concatenator, items):
    """The size along the joining axis of each item of ``concatenator[items]`` (np.r_, np.c_),
    and that axis: each item promoted alone shows what it contributes."""
    directive = None
    if items and isinstance(items[0], str):
        directive, items = items[0], items[1:]
        if directive in ("r", "c") or not directive.lstrip("-").split(",")[0].isdigit():
            raise NotImplementedError(f"the gradient of np.r_/np.c_ with the directive {directive!r} "
                                      "is not implemented; use a numeric axis directive")
    promoted = [concatenator[(item,) if directive is None else (directive, item)] for item in items]
    axis = int(directive.split(",")[0]) if directive is not None else concatenator.axis
    return items, promoted, axis, directive is not None


def concatenator_rule(concatenator):
    """The pullback rule of an index-built concatenation (``np.r_[a, b]``, ``np.c_[a, b]``)."""
    def rule(index):
        items = index if isinstance(index, tuple) else (index,)
        parts, promoted, axis, directed = concatenator_pieces(concatenator, items)
        y = concatenator[index]
        ends = np.cumsum([np.shape(p)[axis] for p in promoted])[:-1]

        def concatenator_back(dy):
            pieces = np.split(dy, ends, axis=axis)
            grads = [0 if isinstance(item, slice) else unbroadcast(np.reshape(piece, np.shape(item)), item)
                     for piece, item in zip(pieces, parts)]
            if not isinstance(index, tuple):
                return (grads[0],)
            return (tuple([0] + grads if directed else grads),)
        return y, concatenator_back
    return rule


def rollaxis_order(ndim, axis, start):
    """The axes of ``x`` in the order ``np.rollaxis(x, axis, start)`` lays them out."""
    axis = axis % ndim
    start = start + ndim if start < 0 else start
    if axis < start:
        start -= 1
    axes = [i for i in range(ndim) if i != axis]
    axes.insert(start, axis)
    return axes


def partition_source(x, y, axis):
    """For each entry of ``y = np.partition(x, kth, axis)``, where along ``axis`` of ``x`` it came
    from: both hold the same values per slice, so matching their stable sort orders pairs them."""
    order_x = np.argsort(x, axis=axis, kind="stable")
    order_y = np.argsort(y, axis=axis, kind="stable")
    return np.take_along_axis(order_x, np.argsort(order_y, axis=axis, kind="stable"), axis=axis)


def gradient_matrix(n, spacing, edge_order, dtype):
    """The matrix ``G`` with ``np.gradient(f, spacing) = G f`` along one axis of length ``n``."""
    return np.gradient(np.eye(n, dtype=dtype), spacing, axis=0, edge_order=edge_order)


def along(matrix, dy, axis):
    """``matrix`` applied to every slice of ``dy`` along ``axis``."""
    return np.moveaxis(np.tensordot(matrix, dy, axes=([1], [axis])), 0, axis)


# -- index-built concatenations ------------------------------------------------------------------
adjoint(np.r_)(concatenator_rule(np.r_))
adjoint(np.c_)(concatenator_rule(np.c_))


# -- ranges --------------------------------------------------------------------------------------


@adjoint(np.linspace)
def linspace_rule(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``a (1 - t) + b t`` with ``t_k = k / (num - 1)`` (``k / num`` without the endpoint)."""
    if retstep:
        raise NotImplementedError("the gradient of np.linspace(..., retstep=True) is not implemented; "
                                  "compute the step as (stop - start) / (num - 1)")
    y = np.linspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)
    along_axis = result_axis(axis, np.ndim(y))
    t = sample_fractions(num, endpoint, along_axis, np.ndim(y), float_dtype(y))

    def linspace_back(dy):
        return (unbroadcast(summed_along(dy * (1 - t), along_axis), start),
                unbroadcast(summed_along(dy * t, along_axis), stop), None, None, None, None, None)
    return y, linspace_back


@adjoint(np.logspace)
def logspace_rule(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """``base ** linspace(start, stop)``: the exponents get ``dy y ln(base)``, the base ``dy y e / base``."""
    if np.ndim(base) != 0:
        raise NotImplementedError("the gradient of np.logspace is implemented for a scalar base")
    y = np.logspace(start, stop, num, endpoint=endpoint, base=base, dtype=dtype, axis=axis)
    along_axis = result_axis(axis, np.ndim(y))
    t = sample_fractions(num, endpoint, along_axis, np.ndim(y), float_dtype(y))
    exponents = np.expand_dims(start, along_axis) * (1 - t) + np.expand_dims(stop, along_axis) * t

    def logspace_back(dy):
        dexponent = dy * holomorphic(y * np.log(base))  # (conjugate slopes for complex values)
        return (unbroadcast(summed_along(dexponent * (1 - t), along_axis), start),
                unbroadcast(summed_along(dexponent * t, along_axis), stop),
                None, None, np.sum(dy * holomorphic(y * exponents / base)), None, None)
    return y, logspace_back


@adjoint(np.geomspace)
def geomspace_rule(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``start (stop / start) ** t``: ``dstart = Σ dy y (1 - t) / start``, ``dstop = Σ dy y t / stop``."""
    y = np.geomspace(start, stop, num, endpoint=endpoint, dtype=dtype, axis=axis)
    along_axis = result_axis(axis, np.ndim(y))
    t = sample_fractions(num, endpoint, along_axis, np.ndim(y), float_dtype(y))

    def geomspace_back(dy):
        slope = holomorphic(y)  # (conjugate slopes for complex values)
        return (unbroadcast(summed_along(dy * slope * (1 - t), along_axis) / holomorphic(start), start),
                unbroadcast(summed_along(dy * slope * t, along_axis) / holomorphic(stop), stop),
                None, None, None, None)
    return y, geomspace_back


@adjoint(np.arange)
def arange_rule(start, *args, dtype=None):
    """``start + k step``: the start gets ``Σ dy``, the step ``Σ k dy``; the stop only sets the length
    (with one argument, the values are the integers below it)."""
    y = np.arange(start, *args, dtype=dtype)
    k = np.arange(len(y), dtype=float_dtype(y))

    def arange_back(dy):
        if not args:
            return (None,)
        return (np.sum(dy), None, np.sum(dy * k), None)[:1 + len(args)]
    return y, arange_back


@adjoint(np.full)
def full_rule(shape, fill_value, dtype=None, order="C"):
    y = np.full(shape, fill_value, dtype=dtype, order=order)
    return y, lambda dy: (None, unbroadcast(np.sum(dy) if np.ndim(fill_value) == 0 else dy, fill_value),
                          None, None)


@adjoint(np.full_like)
def full_like_rule(a, fill_value, dtype=None, order="K", subok=True, shape=None):
    y = np.full_like(a, fill_value, dtype=dtype, order=order, subok=subok, shape=shape)
    return y, lambda dy: (None, unbroadcast(np.sum(dy) if np.ndim(fill_value) == 0 else dy, fill_value),
                          None, None, None, None)


# -- splits --------------------------------------------------------------------------------------


def split_family_rule(split, axis_of):
    """The pullback rule of ``np.hsplit``, ``vsplit`` or ``dsplit``, which split along ``axis_of(x)``."""
    def rule(x, indices_or_sections):
        pieces = split(x, indices_or_sections)
        return pieces, lambda dy: (np.concatenate(unsplit(dy, pieces), axis=axis_of(x)), None)
    return rule


@adjoint(np.array_split, output_kind="a")
def array_split_rule(x, indices_or_sections, axis=0):
    pieces = np.array_split(x, indices_or_sections, axis=axis)
    return pieces, lambda dy: (np.concatenate(unsplit(dy, pieces), axis=axis), None, None)


adjoint(np.hsplit, output_kind="a")(split_family_rule(np.hsplit, lambda x: 1 if np.ndim(x) > 1 else 0))
adjoint(np.vsplit, output_kind="a")(split_family_rule(np.vsplit, lambda x: 0))
adjoint(np.dsplit, output_kind="a")(split_family_rule(np.dsplit, lambda x: 2))


# -- joins and rearrangements --------------------------------------------------------------------


def as_column(a):
    """``a`` as ``np.column_stack`` lays it out: a 1-d array (or a number) becomes a column."""
    return np.reshape(a, (-1, 1)) if np.ndim(a) < 2 else a


@adjoint(np.column_stack)
def column_stack_rule(arrays):
    return np.column_stack(arrays), lambda dy: (split_back(dy, arrays, 1, as_column),)


@adjoint(np.append)
def append_rule(arr, values, axis=None):
    """``concatenate((arr, values), axis)``, both flattened when ``axis`` is None."""
    y = np.append(arr, values, axis=axis)
    cut = np.size(arr) if axis is None else np.shape(arr)[axis]

    def append_back(dy):
        along_axis = 0 if axis is None else axis
        head, tail = np.split(dy, [cut], axis=along_axis)
        return (np.reshape(head, np.shape(arr)), unbroadcast(np.reshape(tail, np.shape(values)), values)
                if axis is None else tail, None)
    return y, append_back


expr_rule(np.rot90, lambda m, k=1, axes=(0, 1), y=None, dy=None: np.rot90(dy, -k, axes), elementwise=False)
expr_rule(np.rollaxis, lambda a, axis, start=0, y=None, dy=None:
          np.transpose(dy, np.argsort(rollaxis_order(np.ndim(a), axis, start))), elementwise=False)


@adjoint(np.select)
def select_rule(condlist, choicelist, default=0):
    """Each entry comes from the first choice whose condition holds there, else from ``default``."""
    y = np.select(condlist, choicelist, default)
    taken = []
    earlier = np.zeros(np.shape(y), dtype=bool)
    for condition in condlist:
        taken.append(np.asarray(condition) & ~earlier)
        earlier = earlier | condition

    def select_back(dy):
        dchoices = [np.where(mask, dy, 0) for mask in taken]
        return None, like_sequence(choicelist, dchoices), unbroadcast(np.where(earlier, 0, dy), default)
    return y, select_back


@adjoint(np.partition)
def partition_rule(a, kth, axis=-1, kind="introselect", order=None):
    """A permutation of each slice: ``dy`` goes back to where each entry came from."""
    y = np.partition(a, kth, axis=axis, kind=kind, order=order)
    work_axis = -1 if axis is None else axis
    source = partition_source(np.ravel(a) if axis is None else a, y, work_axis)

    def partition_back(dy):
        da = np.take_along_axis(dy, np.argsort(source, axis=work_axis, kind="stable"), axis=work_axis)
        return np.reshape(da, np.shape(a)), None, None, None, None
    return y, partition_back


@adjoint(np.gradient, output_kind="a")
def gradient_rule(f, *varargs, axis=None, edge_order=1):
    """Differences are linear in ``f``: each axis's is a matrix ``G`` (np.gradient of the identity),
    so ``df = Σ Gᵀ dy``; a uniform spacing ``h`` scales the result by ``1/h``, so
    ``dh = -Σ dy · y / h``. Coordinate arrays as spacings are not differentiated."""
    y = np.gradient(f, *varargs, axis=axis, edge_order=edge_order)
    ndim = np.ndim(f)
    axes = list(range(ndim)) if axis is None else [a % ndim for a in np.atleast_1d(axis)]
    spacings = list(varargs) if len(varargs) != 1 else list(varargs) * len(axes)
    spacings = spacings or [1.0] * len(axes)
    if any(np.ndim(h) != 0 for h in spacings):
        raise NotImplementedError("the gradient of np.gradient is implemented for uniform "
                                  "spacings (numbers), not coordinate arrays")
    outputs = list(y) if isinstance(y, (list, tuple)) else [y]

    def gradient_back(dy):
        parts = list(dy) if isinstance(dy, (list, tuple)) else [dy]
        df = np.zeros(np.shape(f), dtype=float_dtype(f))
        dspacings = []
        for part, out, ax, h in zip(parts, outputs, axes, spacings):
            if isinstance(part, int) and part == 0:
                dspacings.append(0.0)
                continue
            matrix = gradient_matrix(np.shape(f)[ax], h, edge_order, float_dtype(f))
            # y = G f and y = G₀ f / h: the cotangents are Gᴴ dy and -Σ dy·conj(y / h)
            # (the conjugates change nothing for real values)
            df = df + along(np.conj(matrix).T, part, ax)
            dspacings.append(-np.sum(part * np.conj(out)) / np.conj(h))
        if len(varargs) == 1:
            if any(np.iscomplexobj(d) for d in dspacings):
                return (df, sum(dspacings))
            return (df, math.fsum(dspacings) if dspacings else 0.0)
        return (df,) + tuple(dspacings[:len(varargs)])
    return y, gradient_back




@adjoint(np.nan_to_num)
def nan_to_num_rule(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """Finite entries pass through; the replacements get the cotangents of the places they fill."""
    y = np.nan_to_num(x, copy=copy, nan=nan, posinf=posinf, neginf=neginf)
    if np.iscomplexobj(x):
        # The real and imaginary parts are replaced each on its own: a part's cotangent is
        # the matching part of dy, and a replacement in the imaginary part gets Im(dy).
        parts = (np.real(x), np.imag(x))

        def complex_back(dy):
            re, im = np.real(dy), np.imag(dy)
            dx = np.where(np.isfinite(parts[0]), re, 0) + 1j * np.where(np.isfinite(parts[1]), im, 0)

            def filled(test):
                return np.sum(np.where(test(parts[0]), re, 0)) + np.sum(np.where(test(parts[1]), im, 0))
            return (dx.astype(float_dtype(x)), None, filled(np.isnan),
                    None if posinf is None else filled(np.isposinf),
                    None if neginf is None else filled(np.isneginf))
        return y, complex_back
    finite, is_nan = np.isfinite(x), np.isnan(x)

    def nan_to_num_back(dy):
        return (np.where(finite, dy, 0).astype(float_dtype(x)), None, np.sum(np.where(is_nan, dy, 0)),
                None if posinf is None else np.sum(np.where(np.isposinf(x), dy, 0)),
                None if neginf is None else np.sum(np.where(np.isneginf(x), dy, 0)))
    return y, nan_to_num_back
