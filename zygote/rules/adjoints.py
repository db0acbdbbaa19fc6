"""Rules for the helpers that generated adjoints call, so that an adjoint can be differentiated again.

Each helper is linear in the cotangent it receives, so its own pullback is short.
"""
import functools
import os
import sys

import numpy as np

from . import adjoint, forward_rule, nograd
from .. import runtime, writes
from ..cotangents import accum, is_zero, seed_like, unbroadcast
from ..runtime import dict_back, getitem_back, split_cotangent
from .numpy import clip_mask, expand_reduced, reduced_count


def _shape(x):
    return getattr(x, "shape", ())


@adjoint(unbroadcast, output_kind="a")
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


@adjoint(accum, output_kind="a")
def accum_rule(a, b, x=None):
    def accum_back(dy):
        da = 0 if is_zero(a) else (dy if x is None else unbroadcast(dy, a))
        db = 0 if is_zero(b) else (dy if x is None else unbroadcast(dy, b))
        return da, db, None
    return accum(a, b, x), accum_back


@adjoint(runtime.add_cotangent, output_kind="a")
def add_cotangent_rule(a, b, x):
    def add_cotangent_back(dy):
        return unbroadcast_to(dy, a), unbroadcast_to(dy, b), None
    return runtime.add_cotangent(a, b, x), add_cotangent_back


def unbroadcast_to(dy, g):
    """Cotangent of ``g`` where ``g`` was (perhaps broadcast, perhaps summed) into ``dy``'s shape."""
    if np.size(g) >= np.size(dy) and np.shape(g) != np.shape(dy):
        return np.broadcast_to(dy, np.shape(g))
    return unbroadcast(dy, g)


@adjoint(expand_reduced, output_kind="a")
def expand_reduced_rule(dy, x, axis, keepdims):
    def expand_reduced_back(d):
        summed = np.sum(d, axis=axis, keepdims=keepdims)
        return np.reshape(summed, np.shape(dy)), None, None, None
    return expand_reduced(dy, x, axis, keepdims), expand_reduced_back


@adjoint(split_cotangent, output_kind="a")
def split_cotangent_rule(dy, n):
    def split_back(parts):
        if is_zero(dy):
            return 0, None
        return type(dy)(parts) if isinstance(dy, (list, tuple)) else tuple(parts), None
    return split_cotangent(dy, n), split_back


@adjoint(dict_back, output_kind="a")
def dict_back_rule(dy, key):
    return dict_back(dy, key), lambda d: ({key: d} if type(dy) is dict else 0, None)


def getitem_back_back(index, dy, d):
    """The pullback of ``getitem_back(x, index, dy)``, which is linear in ``dy``: ``d`` read at ``index``."""
    if is_zero(d):
        return None, None, 0
    if isinstance(d, np.ndarray):
        return None, None, unbroadcast(d[index], dy)
    return None, None, d[index]


@adjoint(getitem_back, output_kind="a")
def getitem_back_rule(x, index, dy):
    return getitem_back(x, index, dy), functools.partial(getitem_back_back, index, dy)


@adjoint(runtime.add_back, output_kind="a")
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


@adjoint(runtime.copy_for_write, output_kind="a")
def copy_for_write_rule(x):
    return runtime.copy_for_write(x), lambda dy: (dy,)


nograd(clip_mask, reduced_count, runtime.zeros_like_list)
nograd(seed_like, keeps_numbers=True)  # the seed of a fused gradient: 1.0 for a Python number
nograd(runtime.container_kind)


# -- in-place writes: their adjoints are not written in differentiable form --------------------


def _refuse_second_order(*args, **kwargs):
    raise writes.InPlaceWriteError(
        f"a derivative of the adjoint of a function that writes in place, at {_user_line()} (a "
        "second derivative through an item assignment, del, an in-place operator, or an "
        "attribute write into an object another name reaches): compute the written value "
        "without writing, e.g. with np.where or np.concatenate, or build a new object")


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _user_line():
    """file:line of the innermost generated function on the stack (it keeps the user's lines)."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_name
        if ("_primal" in name or "_adjoint" in name) and not frame.f_code.co_filename.startswith(_PACKAGE):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "an unknown line"


# Opening a log or a store is bookkeeping, differentiated again as a constant: a primal that
# only might write (it calls code that could) has derivatives of every order; a write itself has not.
nograd(runtime.open_store, runtime.write_log)
for _fn in (runtime.write_item, runtime.delete_item, runtime.augment, runtime.undo_attribute,
            writes.add_to_object, writes.take_from_object):
    forward_rule(_fn, _refuse_second_order)
