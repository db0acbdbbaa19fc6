"""Rules for numpy's helpers that apply a Python function over an array (``np.vectorize``,
``np.apply_along_axis``): each call of the function is differentiated like any call.

>>> import numpy as np, zygote
>>> square_all = np.vectorize(lambda t: t * t)
>>> zygote.gradient(lambda x: np.sum(square_all(x)), np.array([1.0, 2.0]))
(array([2., 4.]),)
"""
import numpy as np

from . import adjoint
from ..cotangents import accum, is_zero, unbroadcast
from ..errors import UnsupportedSyntaxError


@adjoint(np.vectorize, output_kind="a")
def _vectorize_rule(pyfunc, *args, **keywords):
    """Making the vectorized function: its cotangent is that of the function it wraps."""
    made = np.vectorize(pyfunc, *args, **keywords)
    return made, lambda dmade: (dmade,) + (0,) * len(args)


@adjoint(np.vectorize.__call__, calls_back=True)
def _vectorized_call_rule(protocol, vectorized, *args, **keywords):
    if keywords or vectorized.signature is not None or vectorized.excluded:
        raise UnsupportedSyntaxError("np.vectorize with a signature, excluded arguments or keywords",
                                     hint="loop over the items in Python")
    arrays = np.broadcast_arrays(*[np.asarray(a) for a in args])
    shape = arrays[0].shape if arrays else ()
    results, backs = [], []
    for index in np.ndindex(shape):
        y, back = protocol.call("a" + "n" * len(args), vectorized.pyfunc, *[a[index] for a in arrays])
        if isinstance(y, tuple):
            raise UnsupportedSyntaxError("np.vectorize of a function returning several values",
                                         hint="vectorize one function per output")
        results.append(y)
        backs.append(back)
    dtype = vectorized.otypes[0] if vectorized.otypes else None
    out = np.array(results, dtype=dtype).reshape(shape)

    def vectorized_back(dy):
        if is_zero(dy):
            return (0,) * (1 + len(args))
        dy = np.broadcast_to(dy, shape)
        dfunc = 0
        parts = [np.zeros(shape) for _ in args]
        for index, back in zip(np.ndindex(shape), backs):
            got = back(dy[index])
            dfunc = accum(dfunc, got[0])
            for part, d in zip(parts, got[1:]):
                if not is_zero(d):
                    part[index] = d
        return (dfunc,) + tuple(unbroadcast(p, a) for p, a in zip(parts, args))
    return out, vectorized_back


@adjoint(np.apply_along_axis, calls_back=True)
def _apply_along_axis_rule(protocol, func1d, axis, arr, *args, **keywords):
    arr = np.asarray(arr)
    axis = axis % arr.ndim
    moved = np.moveaxis(arr, axis, -1)
    outer = moved.shape[:-1]
    results, backs = [], []
    for index in np.ndindex(outer):
        y, back = protocol.call("a" + "n" + "a" * len(args) + "a" * len(keywords), func1d,
                                moved[index], *args, **keywords)
        results.append(np.asarray(y))
        backs.append(back)
    rank = results[0].ndim if results else 0
    stacked = np.array(results).reshape(outer + (results[0].shape if results else ()))
    result_axes = list(range(len(outer), len(outer) + rank))
    out = np.moveaxis(stacked, result_axes, list(range(axis, axis + rank)))

    def apply_along_axis_back(dy):
        if is_zero(dy):
            return (0,) * (3 + len(args))
        dy = np.moveaxis(np.broadcast_to(dy, out.shape), list(range(axis, axis + rank)), result_axes)
        dfunc, dargs = 0, [0] * len(args)
        dmoved = np.zeros(moved.shape, np.result_type(moved.dtype, np.float64))  # complex stays complex
        for index, back in zip(np.ndindex(outer), backs):
            got = back(dy[index])
            dfunc = accum(dfunc, got[0])
            if not is_zero(got[1]):
                dmoved[index] = got[1]
            dargs = [accum(a, d) for a, d in zip(dargs, got[2:2 + len(args)])]
        return (dfunc, 0, np.moveaxis(dmoved, -1, axis)) + tuple(dargs)
    return out, apply_along_axis_back
