"""The run-time helpers of generated code (cotangent sums, unbroadcasting, the adjoints of
reductions and matrix products) as numba overloads, for gradients compiled to machine code.

Each helper keeps the name generated code calls it by; numba picks an implementation by the
types it sees, as the interpreted helper does by inspecting values.

>>> import numpy as np, numba
>>> @numba.njit
... def f(dy, x):
...     return unbroadcast(dy, x)
>>> float(f(np.ones((2, 3)), 1.0))
6.0
"""
import numba
import numpy as np
from numba import types
from numba.extending import overload


def _is_array(t):
    return isinstance(t, types.Array)


def _is_number(t):
    return isinstance(t, (types.Number, types.Boolean))


def add_cotangent(a, b, x):
    """``a + b``: two cotangents of the same value ``x``."""
    return a + b


def unbroadcast(g, x):
    """``g`` summed down to the shape of ``x``."""
    raise NotImplementedError  # only compiled: the interpreted helper is zygote.cotangents'


def expand_reduced(dy, x, axis, keepdims):
    """``dy`` of a full reduction given back every reduced element of ``x``."""
    raise NotImplementedError


def holomorphic(slope):
    """A real slope as it multiplies a cotangent (compiled code is real-valued)."""
    return slope


def matmul_da(dy, a, b):
    raise NotImplementedError


def matmul_db(dy, a, b):
    raise NotImplementedError


def zero_like(x):
    """A zero cotangent of the type of ``x``: 0.0 for a number, zeros for an array."""
    raise NotImplementedError


def materialise(g, x):
    """Cotangent ``g`` of ``x`` as a value of ``x``'s type (a number, or an array of its shape)."""
    raise NotImplementedError


@overload(add_cotangent)
def _add_cotangent(a, b, x):
    return lambda a, b, x: a + b


@overload(holomorphic)
def _holomorphic(slope):
    return lambda slope: slope


@overload(zero_like)
def _zero_like(x):
    if _is_array(x):
        return lambda x: np.zeros(x.shape)
    return lambda x: 0.0


@overload(unbroadcast)
def _unbroadcast(g, x):
    if _is_number(x):
        if _is_array(g):
            return lambda g, x: np.sum(g)
        return lambda g, x: g
    if not _is_array(x):
        return None
    if _is_number(g):
        return lambda g, x: np.full(x.shape, g)
    if g.ndim < x.ndim:
        return lambda g, x: np.broadcast_to(g, x.shape).copy()
    if g.ndim == x.ndim:
        return lambda g, x: _sum_to_same_rank(g, x.shape)
    if x.ndim == 0:
        return lambda g, x: np.sum(g)
    extra = g.ndim - x.ndim
    # Leading axes broadcast: sum them away, then the axes where x has length 1.
    return lambda g, x: _sum_to_same_rank(g.reshape((-1,) + g.shape[extra:]).sum(axis=0), x.shape)


@numba.njit(cache=True)
def _sum_to_same_rank(g, shape):
    # Sum over the axes where x has length 1 and g does not, through a flat index into x.
    if g.shape == shape:
        return g
    out = np.zeros(shape)
    flat = out.reshape(-1)
    ndim = len(shape)
    for index in np.ndindex(g.shape):
        offset = 0
        for k in range(ndim):
            offset = offset * shape[k] + (index[k] if shape[k] != 1 else 0)
        flat[offset] += g[index]
    return out


@overload(expand_reduced)
def _expand_reduced(dy, x, axis, keepdims):
    if not isinstance(axis, types.NoneType):
        return None  # reductions over one axis: interpreted only
    if _is_array(x):
        return lambda dy, x, axis, keepdims: np.full(x.shape, dy)
    return lambda dy, x, axis, keepdims: dy


@overload(materialise)
def _materialise(g, x):
    if _is_array(x) and _is_number(g):
        return lambda g, x: np.full(x.shape, g)
    return lambda g, x: g


@overload(matmul_da)
def _matmul_da(dy, a, b):
    if _is_array(a) and _is_array(b):
        if a.ndim == 2 and b.ndim == 1:
            return lambda dy, a, b: np.outer(dy, b)
        if a.ndim == 2 and b.ndim == 2:
            return lambda dy, a, b: dy @ b.T
        if a.ndim == 1 and b.ndim == 2:
            return lambda dy, a, b: b @ dy
        if a.ndim == 1 and b.ndim == 1:
            return lambda dy, a, b: dy * b
    return None


@overload(matmul_db)
def _matmul_db(dy, a, b):
    if _is_array(a) and _is_array(b):
        if a.ndim == 2 and b.ndim == 1:
            return lambda dy, a, b: dy @ a
        if a.ndim == 2 and b.ndim == 2:
            return lambda dy, a, b: a.T @ dy
        if a.ndim == 1 and b.ndim == 2:
            return lambda dy, a, b: np.outer(a, dy)
        if a.ndim == 1 and b.ndim == 1:
            return lambda dy, a, b: dy * a
    return None


# The helpers compiled code may call, by the name generated code gives them.
KERNELS = {
    "add_cotangent": add_cotangent,
    "unbroadcast": unbroadcast,
    "expand_reduced": expand_reduced,
    "holomorphic": holomorphic,
    "matmul_da": matmul_da,
    "matmul_db": matmul_db,
    "zero_like": zero_like,
    "materialise": materialise,
}
