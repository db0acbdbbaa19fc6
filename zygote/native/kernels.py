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
    # The sum has the type of x (a compiled variable keeps one type): contributions that
    # still carry broadcast dimensions are summed down first, as the interpreted helper does
    # when their shapes differ.
    if _is_number(x):
        if _is_number(a) and _is_number(b):
            return lambda a, b, x: a + b
        return lambda a, b, x: unbroadcast(a, x) + unbroadcast(b, x)
    if _is_array(a) and _is_array(b) and a.ndim == b.ndim == x.ndim:
        def same_rank(a, b, x):
            if a.shape == b.shape:
                return a + b
            return unbroadcast(a, x) + unbroadcast(b, x)
        return same_rank
    return lambda a, b, x: unbroadcast(a, x) + unbroadcast(b, x)


def add_back(dy, a, b):
    """Cotangents of ``a`` and ``b`` in ``a + b`` (numbers and arrays: both ``dy``)."""
    return dy, dy


def abs_slope(x, y):
    """d|x|/dx as it multiplies a cotangent of real ``x``: ``sign(x)``."""
    return np.sign(x)


@overload(add_back)
def _add_back(dy, a, b):
    if (_is_number(a) or _is_array(a)) and (_is_number(b) or _is_array(b)):
        return lambda dy, a, b: (dy, dy)
    return None


@overload(abs_slope)
def _abs_slope(x, y):
    return lambda x, y: np.sign(x)


@overload(holomorphic)
def _holomorphic(slope):
    return lambda slope: slope


def conj(x):
    """The complex conjugate of a real number or array: itself (compiled code is real-valued)."""
    return x


@overload(conj)
def _conj(x):
    if _is_number(x) or (_is_array(x) and not isinstance(x.dtype, types.Complex)):
        return lambda x: x
    return None


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
    if isinstance(axis, (types.NoneType, types.Omitted)):
        if _is_array(x):
            if _is_array(dy):  # keepdims: an array of ones
                return lambda dy, x, axis, keepdims: np.broadcast_to(dy, x.shape).copy()
            return lambda dy, x, axis, keepdims: np.full(x.shape, dy)
        return lambda dy, x, axis, keepdims: dy
    if isinstance(axis, types.Integer) and _is_array(x) and _is_array(dy):
        if dy.ndim == x.ndim:  # keepdims=True
            return lambda dy, x, axis, keepdims: np.broadcast_to(dy, x.shape).copy()
        return lambda dy, x, axis, keepdims: np.broadcast_to(
            np.expand_dims(dy, axis % x.ndim), x.shape).copy()
    if isinstance(axis, types.Integer) and _is_array(x) and _is_number(dy):  # a 1-d x
        return lambda dy, x, axis, keepdims: np.full(x.shape, dy)
    return None


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


def split_cotangent(dy, n):
    """The ``n`` element cotangents of a tuple's cotangent ``dy``."""
    raise NotImplementedError


def power_slope(a, b):
    """``b * a ** (b - 1)``, exactly 0 where ``b == 0``."""
    raise NotImplementedError


@overload(split_cotangent, prefer_literal=True)
def _split_cotangent(dy, n):
    if isinstance(dy, types.BaseTuple):
        return lambda dy, n: dy
    if _is_number(dy) and isinstance(n, types.IntegerLiteral):
        zeros = (0.0,) * n.literal_value
        return lambda dy, n: zeros
    if _is_array(dy) and dy.ndim == 1 and isinstance(n, types.IntegerLiteral):
        return _entries(n.literal_value)
    return None


def _entries(n):
    """``lambda dy, n: (dy[0], ..., dy[n - 1])``: a tuple's length must be known when compiling."""
    scope = {}
    exec(f"def entries(dy, n):\n    return ({''.join(f'dy[{i}], ' for i in range(n))})\n", scope)  # noqa: S102
    return scope["entries"]


@overload(power_slope)
def _power_slope(a, b):
    if _is_number(b):
        def scalar_exponent(a, b):
            if b == 0:
                return 0.0 * a
            return b * a ** (b - 1)
        return scalar_exponent
    return lambda a, b: np.where(b == 0, 0.0, b * a ** (b - 1))


def getitem_back(x, index, dy):
    """The cotangent of ``x`` from ``dy`` of ``x[index]``: zeros, with ``dy`` added at ``index``."""
    raise NotImplementedError


@overload(getitem_back)
def _getitem_back(x, index, dy):
    if not _is_array(x):
        return None
    basic = (types.Integer, types.SliceType)
    if isinstance(index, basic) or (isinstance(index, types.BaseTuple)
                                    and all(isinstance(t, basic) for t in index.types)):
        def basic_index(x, index, dy):
            out = np.zeros(x.shape)
            out[index] += dy
            return out
        return basic_index
    if _is_array(index) and index.ndim == 1 and isinstance(index.dtype, types.Integer) and x.ndim == 1:
        def gathered(x, index, dy):
            # Repeated indices gather one entry several times: each copy adds its cotangent.
            out = np.zeros(x.shape)
            values = np.broadcast_to(np.asarray(dy, dtype=np.float64), index.shape)
            for k in range(index.shape[0]):
                out[index[k]] += values[k]
            return out
        return gathered
    return None


def accum(a, b, x=None):
    """The sum of two cotangents of the same number or array."""
    return a + b


@overload(accum)
def _accum(a, b, x=None):
    if (_is_number(a) or _is_array(a)) and (_is_number(b) or _is_array(b)):
        return lambda a, b, x=None: a + b
    return None


def reduced_count(x, axis):
    """How many entries of ``x`` a reduction over ``axis`` combines into each output."""
    raise NotImplementedError


def extremum_back(dy, x, y, axis, keepdims):
    """Cotangent of a full max/min: ``dy`` shared among the entries that attain it."""
    raise NotImplementedError


def dot_da(dy, a, b):
    raise NotImplementedError


def dot_db(dy, a, b):
    raise NotImplementedError


def clip_mask(x, lo, hi):
    """1 where ``clip`` passed ``x`` through, 0 where it clipped."""
    raise NotImplementedError


def norm_back(dy, x, y, ord, axis, keepdims):
    """Cotangent of the 2-norm of all of ``x``."""
    raise NotImplementedError


@overload(reduced_count)
def _reduced_count(x, axis):
    if not _is_array(x):
        return lambda x, axis: 1
    if isinstance(axis, (types.NoneType, types.Omitted)):
        return lambda x, axis: x.size
    if isinstance(axis, types.Integer):
        return lambda x, axis: x.shape[axis]
    return None


@overload(extremum_back)
def _extremum_back(dy, x, y, axis, keepdims):
    if _is_array(x) and isinstance(axis, (types.NoneType, types.Omitted)) and _is_number(dy):
        def whole(dy, x, y, axis, keepdims):
            mask = x == y
            return mask * (dy / np.sum(mask))
        return whole
    return None


def _dot_part(matmul_part, scale_other):
    def impl(dy, a, b):
        if _is_number(a) or _is_number(b) or (_is_array(a) and a.ndim == 0) or (_is_array(b) and b.ndim == 0):
            return scale_other
        if _is_array(a) and _is_array(b) and a.ndim <= 2 and b.ndim <= 2:
            return lambda dy, a, b: matmul_part(dy, a, b)
        return None
    return impl


overload(dot_da)(_dot_part(matmul_da, lambda dy, a, b: unbroadcast(dy * b, a)))
overload(dot_db)(_dot_part(matmul_db, lambda dy, a, b: unbroadcast(dy * a, b)))


@overload(clip_mask)
def _clip_mask(x, lo, hi):
    low = not isinstance(lo, (types.NoneType, types.Omitted))
    high = not isinstance(hi, (types.NoneType, types.Omitted))
    if low and high:
        return lambda x, lo, hi: (x >= lo) & (x <= hi)
    if low:
        return lambda x, lo, hi: x >= lo
    if high:
        return lambda x, lo, hi: x <= hi
    return lambda x, lo, hi: np.ones(np.shape(x), dtype=np.bool_)


@overload(norm_back)
def _norm_back(dy, x, y, ord, axis, keepdims):
    if _is_array(x) and isinstance(ord, (types.NoneType, types.Omitted)) \
            and isinstance(axis, (types.NoneType, types.Omitted)):
        def two_norm(dy, x, y, ord, axis, keepdims):
            return (dy / (y if y != 0 else 1.0)) * x
        return two_norm
    return None


# -- pullback rules: a primal returning (y, saved) and an adjoint of (saved, dy) -----------


def max_primal(a, b):
    raise NotImplementedError


def min_primal(a, b):
    raise NotImplementedError


def pick_adjoint(saved, dy):
    """Cotangents of the two arguments of ``max``/``min``: all of ``dy`` to the one chosen."""
    raise NotImplementedError


def sequence_primal(kind, seq):
    raise NotImplementedError


def sequence_adjoint(saved, dy):
    raise NotImplementedError


@overload(max_primal)
def _max_primal(a, b):
    if _is_number(a) and _is_number(b):
        # the first argument on ties, as max() itself
        return lambda a, b: (b if b > a else a, b > a)
    return None


@overload(min_primal)
def _min_primal(a, b):
    if _is_number(a) and _is_number(b):
        return lambda a, b: (b if b < a else a, b < a)
    return None


@overload(pick_adjoint)
def _pick_adjoint(saved, dy):
    return lambda saved, dy: (0.0, dy) if saved else (dy, 0.0)


def array_primal(seq):
    raise NotImplementedError


def list_sum_primal(seq):
    raise NotImplementedError


@overload(array_primal)
def _array_primal(seq):
    if isinstance(seq, types.List) and _is_number(seq.dtype):
        return lambda seq: (np.array(seq, dtype=np.float64), len(seq))
    return None


@overload(list_sum_primal)
def _list_sum_primal(seq):
    if isinstance(seq, types.List) and _is_number(seq.dtype):
        def total(seq):
            s = 0.0
            for v in seq:
                s += v
            return s, len(seq)
        return total
    return None


@overload(sequence_adjoint)
def _sequence_adjoint(saved, dy):
    # The cotangent of a list of numbers, as an array (split_cotangent takes it apart).
    if _is_array(dy):
        return lambda saved, dy: (dy,)
    return lambda saved, dy: (np.full(saved, dy),)


def unpack_back(seq, parts, items):
    """The cotangent of a tuple from those of the names ``a, b = seq`` bound: ``parts`` itself."""
    raise NotImplementedError


@overload(unpack_back)
def _unpack_back(seq, parts, items):
    if isinstance(seq, types.BaseTuple):
        return lambda seq, parts, items: parts
    return None


# The helpers compiled code may call, by the name generated code gives them.
KERNELS = {
    "add_cotangent": add_cotangent,
    "unbroadcast": unbroadcast,
    "expand_reduced": expand_reduced,
    "holomorphic": holomorphic,
    "conj": conj,
    "matmul_da": matmul_da,
    "matmul_db": matmul_db,
    "zero_like": zero_like,
    "add_back": add_back,
    "unpack_back": unpack_back,
    "max_primal": max_primal,
    "min_primal": min_primal,
    "pick_adjoint": pick_adjoint,
    "array_primal": array_primal,
    "list_sum_primal": list_sum_primal,
    "sequence_adjoint": sequence_adjoint,
    "reduced_count": reduced_count,
    "extremum_back": extremum_back,
    "dot_da": dot_da,
    "dot_db": dot_db,
    "clip_mask": clip_mask,
    "norm_back": norm_back,
    "accum": accum,
    "getitem_back": getitem_back,
    "split_cotangent": split_cotangent,
    "power_slope": power_slope,
    "abs_slope": abs_slope,
    "materialise": materialise,
}


def pullbacks():
    """Pullback rules with compiled versions: the rule's function -> (primal, adjoint) kernel names."""
    import builtins
    return {builtins.max: ("max_primal", "pick_adjoint"), builtins.min: ("min_primal", "pick_adjoint"),
            np.array: ("array_primal", "sequence_adjoint"), builtins.sum: ("list_sum_primal", "sequence_adjoint")}
