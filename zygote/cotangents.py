"""Cotangent arithmetic: adding, unbroadcasting, seeding and publishing cotangents.

A cotangent of a number or array is a number or array; of a list or tuple, a list or tuple
with one entry per item; of a dict or object, a dict by key or attribute name; ``0`` (or
``None``) stands for "no cotangent". Everything that adds cotangents uses these functions,
the compiler's generated code as well as the rules, so this module imports nothing of zygote.

>>> import numpy as np
>>> unbroadcast(np.ones((3, 2)), np.zeros(2))
array([3., 3.])
>>> accum({"w": 1.0}, {"w": 2.0, "b": 0.5})
{'w': 3.0, 'b': 0.5}
"""
import numpy as np

from .activity import CONSTANT, category
from .errors import GradientUsageError, NonScalarOutputError

_NDARRAY = np.ndarray
_FLOAT64 = np.float64
_ONE64 = np.float64(1.0)  # the seed of a float64 output (numpy scalars are immutable)


def add_cotangent(a, b, x):
    """``a + b`` for two cotangents of the number or array ``x``.

    Elementwise adjoints may leave broadcast dimensions in a cotangent for later; two
    contributions with different shapes are first summed down to ``x``'s shape, so that
    neither is counted once per broadcast copy of the other.
    """
    if type(a) is float and type(b) is float:
        return a + b
    if getattr(a, "shape", ()) == getattr(b, "shape", ()):
        return a + b
    return unbroadcast(a, x) + unbroadcast(b, x)


def accum(a, b, x=None):
    """Sum of two cotangents of the same value ``x``; 0 (or None) means "no cotangent"."""
    if b is None or (type(b) is int and b == 0):
        return 0 if a is None else a
    if a is None or (type(a) is int and a == 0):
        return b
    kind = type(a)
    if kind is dict:
        if type(b) is not dict:
            raise TypeError(f"cannot add cotangents {type(a).__name__} and {type(b).__name__}")
        out = dict(a)
        for key, value in b.items():
            out[key] = accum(out.get(key, 0), value)
        return out
    if kind is tuple or kind is list:
        if type(b) in (tuple, list) and (not a or not b):
            return b if not a else a  # an iterator read again after its end gave nothing
        if type(b) not in (tuple, list) or len(a) != len(b):
            raise TypeError("cannot add cotangents of sequences of different structure")
        return kind(accum(p, q) for p, q in zip(a, b))
    if x is not None:
        return add_cotangent(a, b, x)
    if getattr(a, "shape", ()) != getattr(b, "shape", ()):
        raise ValueError(f"cannot add cotangents of shapes {getattr(a, 'shape', ())} and "
                         f"{getattr(b, 'shape', ())} without the value they belong to")
    return a + b


def unbroadcast(g, x):
    """Sum cotangent ``g`` down to the shape of ``x`` (undoing broadcasting), in x's dtype."""
    if type(g) is float and type(x) is float:
        return g
    if type(g) is _NDARRAY and type(x) is _NDARRAY and g.shape == x.shape and g.dtype == x.dtype:
        return g  # nothing was broadcast: the commonest case, answered first
    if type(g) is _FLOAT64 and type(x) is _FLOAT64:
        return g  # the cotangent of a float64 scalar (a reduction's result)
    x_shape = getattr(x, "shape", None)
    if type(x_shape) is not tuple:
        x_shape = None  # (a class such as np.float64 passed as a dtype has a descriptor there)
    if type(g) is int and g == 0:
        # A structural zero reaching an array: materialise it, so that shape operations apply.
        return np.zeros(x_shape, dtype=_float_dtype(x)) if x_shape else 0
    if x_shape is None:
        if isinstance(x, (int, float, complex)) and not isinstance(x, bool):
            g_shape = getattr(g, "shape", None)
            if g_shape:
                g = g.sum()
            if type(x) is not complex and (type(g) is complex or getattr(g, "dtype", None) is not None
                                           and g.dtype.kind == "c"):
                return g.real  # a real number's cotangent is real
            return g
        return g  # a container or object: its cotangent is structured
    g_shape = getattr(g, "shape", None)
    if g_shape is None:
        if isinstance(g, (dict, tuple, list)):
            return g
        return np.full(x_shape, g, dtype=_float_dtype(x))
    if g_shape != x_shape:
        extra = len(g_shape) - len(x_shape)
        if extra < 0:
            g = np.broadcast_to(g, x_shape)
        else:
            axes = tuple(range(extra)) + tuple(
                extra + i for i, n in enumerate(x_shape) if n == 1 and g_shape[extra + i] != 1)
            if axes:
                g = _sum_axes(g, axes)
            if extra:
                g = g.reshape(x_shape)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and dtype.kind == "f" and g.dtype != dtype:
        g = (g.real if g.dtype.kind == "c" else g).astype(dtype)   # a real array's cotangent is real
    return g


_GEMV_SUM_MIN = 1 << 15  # elements from which a sum over leading axes goes through BLAS


def _sum_axes(g, axes):
    """``g.sum(axis=axes, keepdims=True)``; a large float32/64 sum over leading axes (a bias's
    cotangent over batch and pixels) runs as one matrix-vector product, some ten times faster
    than numpy's reduction when the kept axes are short."""
    k = len(axes)
    if axes == tuple(range(k)) and g.size >= _GEMV_SUM_MIN and g.dtype in _BLAS_FLOATS \
            and g.flags.c_contiguous:
        rows = g.size // max(1, int(np.prod(g.shape[k:])))
        if rows:
            return (np.ones(rows, g.dtype) @ g.reshape(rows, -1)).reshape((1,) * k + g.shape[k:])
    return g.sum(axis=axes, keepdims=True)


_BLAS_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _float_dtype(x):
    dtype = getattr(x, "dtype", None)
    return dtype if isinstance(dtype, np.dtype) and dtype.kind in "fc" else np.float64


def is_zero(g):
    return g is None or (type(g) is int and g == 0)


# -- seeding and results ---------------------------------------------------------------------


def seed(y):
    """The cotangent 1 in the output's type, after checking the output is a real scalar."""
    if type(y) is float:
        return 1.0
    if type(y) is _FLOAT64:
        return _ONE64
    if isinstance(y, bool) or not isinstance(y, (int, float, np.number, np.ndarray)):
        if hasattr(y, "shape") and hasattr(y, "dtype"):
            y = np.asarray(y)
        else:
            raise NonScalarOutputError(
                f"gradient needs a function returning a real scalar, got {type(y).__name__}"
                f"{' ' + repr(y)[:60] if not isinstance(y, (list, tuple, dict)) else ''}; "
                "use zygote.pullback(f, x) and call back(dy) for other outputs")
    if isinstance(y, np.ndarray) or isinstance(y, np.generic):
        if y.size != 1:
            raise NonScalarOutputError(
                f"gradient needs a scalar output, got an array of shape {y.shape}; reduce it "
                "(e.g. .sum()), or use zygote.pullback(f, x) with back(dy), or zygote.jacobian")
        if y.dtype.kind not in "fiu":
            raise NonScalarOutputError(f"gradient needs a real output, got dtype {y.dtype}")
        if y.dtype.kind == "f":
            return np.ones_like(y) if isinstance(y, np.ndarray) and y.ndim else y.dtype.type(1)
        return 1.0
    if isinstance(y, complex):
        raise NonScalarOutputError("gradient needs a real output, got a complex number")
    return 1.0


def seed_like(y):
    """The output cotangent 1 for a scalar ``y`` (a constant)."""
    return 1.0 if type(y) is float else seed(y)


def public(g, x):
    """Turn an internal cotangent into the form ``gradient`` promises for argument ``x``."""
    if type(g) is float and type(x) is float:
        return g
    if type(g) is _NDARRAY and type(x) is _NDARRAY and g.shape == x.shape and x.dtype.kind in "fc":
        return g
    if is_zero(g) or category(x) == CONSTANT:
        return None
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return float(np.real(g)) if np.ndim(g) == 0 else float(np.sum(g))
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(unbroadcast(g, x), x.shape).copy()
        return g
    if isinstance(x, np.generic):
        return x.dtype.type(g) if x.dtype.kind in "fc" else np.float64(np.real(g))  # an integer's: a float
    if isinstance(x, (list, tuple)):
        if not isinstance(g, (list, tuple)) or len(g) != len(x):
            raise GradientUsageError(f"internal error: gradient of a {type(x).__name__} of length "
                                     f"{len(x)} has the wrong structure")
        parts = (public(gi, xi) for gi, xi in zip(g, x))
        # a namedtuple's gradient is the same namedtuple of its fields' gradients
        return type(x)(*parts) if hasattr(type(x), "_fields") else type(x)(parts)
    if isinstance(x, dict):
        return {k: public(g.get(k, 0), v) for k, v in x.items()} if isinstance(g, dict) else g
    if isinstance(g, dict):
        out = {}
        for name, part in g.items():
            value = getattr(x, name, None)
            cleaned = public(part, value) if value is not None else part
            if cleaned is not None:
                out[name] = cleaned
        return out or None
    return g


def published(parts, args, dy=None):
    """The gradients ``public`` gives for ``args``, with every array in them writable and its
    own: a broadcast view, a slice of another array, an argument or the output cotangent ``dy``
    given back, or one array given for two arguments is copied, so that ``g *= 0.5`` (an
    in-place optimiser step) changes that gradient alone."""
    return owned(tuple(map(public, parts, args)), args + (dy,))


def owned(grads, args):
    """``grads`` (public already) with each array writable and its own, as ``published`` gives."""
    seen = {id(a) for a in args if isinstance(a, np.ndarray)}
    if type(grads) is tuple:
        return tuple(_owned(g, seen) for g in grads)
    return _owned(grads, seen)


def _owned(g, seen):
    if isinstance(g, np.ndarray):
        if not g.flags.writeable or not g.flags.owndata or id(g) in seen:
            g = g.copy()
        seen.add(id(g))
        return g
    if type(g) is tuple or type(g) is list:
        return type(g)(_owned(part, seen) for part in g)
    if isinstance(g, tuple) and hasattr(g, "_fields"):
        return type(g)(*(_owned(part, seen) for part in g))
    if type(g) is dict:
        return {key: _owned(part, seen) for key, part in g.items()}
    return g
