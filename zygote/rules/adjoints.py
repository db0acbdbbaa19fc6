"""Rules for the helpers that generated adjoints call, so that an adjoint can be differentiated again.

Each helper is linear in the cotangent it receives, so its own pullback is short.
"""
import numpy as np

from . import adjoint, nograd
from .. import runtime
from ..runtime import accum, dict_back, getitem_back, is_zero, split_cotangent, unbroadcast
from .numpy import clip_mask, expand_reduced, reduced_count


def _shape(x):
    return getattr(x, "shape", ())


@adjoint(unbroadcast)
def unbroadcast_rule(g, x):
    y = unbroadcast(g, x)

    def unbroadcast_back(dy):
        if is_zero(dy) or isinstance(g, (dict, list, tuple)):
            return dy, None
        g_shape, y_shape = _shape(g), _shape(y)
        if g_shape == y_shape:
            return dy, None
        if len(g_shape) < len(y_shape) or np.size(g) < np.size(y):
            return unbroadcast(dy, g), None
        # y summed g over broadcast axes: hand dy back to each summed position.
        extra = len(g_shape) - len(y_shape)
        return np.broadcast_to(np.reshape(dy, (1,) * extra + tuple(y_shape)), g_shape), None
    return y, unbroadcast_back


@adjoint(accum)
def accum_rule(a, b, x=None):
    def accum_back(dy):
        da = 0 if is_zero(a) else (dy if x is None else unbroadcast(dy, a))
        db = 0 if is_zero(b) else (dy if x is None else unbroadcast(dy, b))
        return da, db, None
    return accum(a, b, x), accum_back


@adjoint(runtime.add_cotangent)
def add_cotangent_rule(a, b, x):
    def add_cotangent_back(dy):
        return unbroadcast_to(dy, a), unbroadcast_to(dy, b), None
    return runtime.add_cotangent(a, b, x), add_cotangent_back


def unbroadcast_to(dy, g):
    """Cotangent of ``g`` where ``g`` was (perhaps broadcast, perhaps summed) into ``dy``'s shape."""
    if np.size(g) >= np.size(dy) and np.shape(g) != np.shape(dy):
        return np.broadcast_to(dy, np.shape(g))
    return unbroadcast(dy, g)


@adjoint(expand_reduced)
def expand_reduced_rule(dy, x, axis, keepdims):
    def expand_reduced_back(d):
        summed = np.sum(d, axis=axis, keepdims=keepdims)
        return np.reshape(summed, np.shape(dy)), None, None, None
    return expand_reduced(dy, x, axis, keepdims), expand_reduced_back


@adjoint(split_cotangent)
def split_cotangent_rule(dy, n):
    def split_back(parts):
        if is_zero(dy):
            return 0, None
        return type(dy)(parts) if isinstance(dy, (list, tuple)) else tuple(parts), None
    return split_cotangent(dy, n), split_back


@adjoint(dict_back)
def dict_back_rule(dy, key):
    return dict_back(dy, key), lambda d: ({key: d} if type(dy) is dict else 0, None)


@adjoint(getitem_back)
def getitem_back_rule(x, index, dy):
    def getitem_back_back(d):
        if is_zero(d):
            return None, None, 0
        if isinstance(d, np.ndarray):
            return None, None, unbroadcast(d[index], dy)
        return None, None, d[index]
    return getitem_back(x, index, dy), getitem_back_back


@adjoint(runtime.add_back)
def add_back_rule(dy, a, b):
    sequences = isinstance(a, (tuple, list)) and isinstance(b, (tuple, list))

    def add_back_back(d):
        da, db = d if not is_zero(d) else (0, 0)
        if sequences:
            if is_zero(da) and is_zero(db):
                return 0, None, None
            da = tuple(da) if not is_zero(da) else (0,) * len(a)
            db = tuple(db) if not is_zero(db) else (0,) * len(b)
            return da + db, None, None
        return accum(da, db), None, None
    return runtime.add_back(dy, a, b), add_back_back


@adjoint(runtime.copy_for_write)
def copy_for_write_rule(x):
    return runtime.copy_for_write(x), lambda dy: (dy,)


for _rule in (add_cotangent_rule, add_back_rule, unbroadcast_rule, accum_rule, expand_reduced_rule, split_cotangent_rule, dict_back_rule,
              getitem_back_rule, copy_for_write_rule):
    _rule.zygote_output_kind = "a"
nograd(clip_mask, reduced_count, runtime.zeros_like_list)
