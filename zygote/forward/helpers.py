"""What generated forward code calls besides calls: the tangents of displays, unpacking, writes and operators.

Each helper takes the values and their tangents and returns the tangent of the result; a
zero tangent is the integer 0, which each of them accepts.
"""
import sys

import numpy as np

from .. import runtime
from ..writes import InPlaceWriteError
from ..rules import tangents as tangent_rules
from ..runtime import iterate, list_append
from .calls import (WRITTEN, MissingTangentError, _zero, attr_tangent, item_tangent, jvp_call, jvp_call_kw,
                    jvp_method, keyed_item_tangent, tangent_dict)



def env_tangent(denv, name):
    """The tangent of free variable ``name`` in a closure's tangent ``denv`` (0 if none)."""
    return denv.get(name, 0) if type(denv) is dict else 0


def tangent_list(d, seq):
    """The tangents of the items of ``seq`` as a list (zeros for a zero tangent)."""
    if _zero(d):
        return [0] * len(seq)
    if type(d) is dict:
        return [d.get(k, 0) for k in seq] if isinstance(seq, dict) else [0] * len(seq)
    return list(d)


def iterate_tangent(dseq, items):
    """The tangent of ``iterate(seq)``, the list a loop runs over (``items``)."""
    if _zero(dseq) or type(dseq) is dict:
        return [0] * len(items)
    return list(dseq)


def append_tangent(ditems, result, dvalue):
    """The tangent of ``list_append(items, value)`` (``result``)."""
    head = [0] * (len(result) - 1) if _zero(ditems) else list(ditems)
    return head + [dvalue]


def unpack_tangent(d, value):
    """The tangents of the items of ``value`` for ``a, b = value`` (a list of them)."""
    if _zero(d):
        return [0] * len(value)
    if type(d) is dict:
        return [d.get(k, 0) for k in value]
    return list(d)


def _references_of_a_fresh_local(obj):
    return sys.getrefcount(obj)


def _probe_writer(obj):
    return _references_of_a_fresh_local(obj)


def _probe_function():
    made = []  # a local bound to a fresh object, as generated forward code holds one
    return _probe_writer(made)


# The references a written object has when generated code's own variable is the only one: a
# write is followed by rebinding that variable's tangent, which is right only when no other
# name, view or container sees the object.
_OWN_REFERENCES = _probe_function()


def _shared(obj):
    """Whether something besides the writing code's own variable refers to ``obj`` (called
    at the depth of ``_check_owned``, which the probe measured)."""
    return sys.getrefcount(obj) > _OWN_REFERENCES


def _check_owned(obj, what):
    """Refuse a write that forward mode cannot follow: into an object something else refers to
    (another name, a view of an array, an argument, a container), whose tangent it does not hold."""
    owned = sys.getrefcount(obj) <= _OWN_REFERENCES
    if isinstance(obj, np.ndarray) and obj.base is not None:
        owned = False  # a view: the write reaches the array it views
    if not owned:
        frame = sys._getframe(2)
        raise InPlaceWriteError(
            f"forward mode through {what} an object that another name, view, argument or container "
            f"also refers to, at {frame.f_code.co_filename}:{frame.f_lineno}: use reverse mode "
            "(zygote.gradient, jacrev), which follows writes through every name, or write into a "
            "fresh copy")


def set_item_tangent(darray, array, index, dvalue):
    """The tangent of ``array`` after ``array[index] = value`` (a new object, never written in place)."""
    _check_owned(array, "an item write into")
    if isinstance(array, np.ndarray):
        if _zero(darray) and _zero(dvalue):
            return 0
        dtype = np.result_type(array.dtype, np.float64) if array.dtype.kind != "c" else array.dtype
        out = np.zeros(array.shape, dtype) if _zero(darray) else np.array(np.broadcast_to(darray, array.shape),
                                                                          dtype=np.result_type(darray, dtype))
        out[index] = 0 if _zero(dvalue) else dvalue
        return out
    if isinstance(array, dict):
        out = {} if _zero(darray) else dict(darray)
        out[index] = dvalue
        return out
    if isinstance(array, list):
        out = [0] * len(array) if _zero(darray) else list(darray)
        if len(out) < len(array):
            out += [0] * (len(array) - len(out))
        out[index] = dvalue
        return out
    if _zero(dvalue):
        return darray
    raise MissingTangentError(type(array).__setitem__)


def set_attr_tangent(dobj, obj, name, dvalue):
    """The tangent of ``obj`` after ``obj.name = value``. An object that something besides
    the writing name refers to (an argument, an object being built, one held by another)
    keeps its tangent with it from then on (``calls.WRITTEN``), so that every name for it
    reads the write."""
    table = WRITTEN.tangents
    record = table.get(id(obj))
    if record is None and _shared(obj):
        record = table[id(obj)] = [obj, dobj]
    if record is not None:
        dobj = record[1]
    out = {} if not isinstance(dobj, dict) else dict(dobj)
    out[name] = dvalue
    if record is not None:
        record[1] = out
    return out


def add_tangent(a, b, da, db, y):
    """The tangent of ``a + b`` where the operands may be sequences (concatenated)."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return type(y)(tangent_list(da, a) + tangent_list(db, b))
    if _zero(da):
        return fit_tangent(db, y)
    if _zero(db):
        return fit_tangent(da, y)
    return fit_tangent(da + db, y)


def mul_tangent(a, b, da, db, y):
    """The tangent of ``a * b`` where one operand may be a sequence repeated."""
    if isinstance(y, (tuple, list)):  # a sequence repeated a whole number of times
        if isinstance(a, (tuple, list)):
            return type(y)(tangent_list(da, a) * b)
        return type(y)(tangent_list(db, b) * a)
    total = 0 if _zero(da) else da * b
    if not _zero(db):
        total = a * db if _zero(total) else total + a * db
    return fit_tangent(total, y)


def matmul_tangent(a, b, da, db):
    """The tangent of ``a @ b``: ``da @ b + a @ db``, leaving out a zero tangent."""
    if _zero(da):
        return 0 if _zero(db) else a @ db
    if _zero(db):
        return da @ b
    return da @ b + a @ db


def fit_tangent(d, y):
    """Tangent ``d`` with ``y``'s shape: a tangent of a broadcast operand spreads over the result."""
    if type(d) is float or _zero(d):
        return d
    shape = getattr(y, "shape", None)
    if shape is None or np.shape(d) == shape:
        return d
    return np.broadcast_to(d, shape).copy()


def forward_augment(target, value):
    """``target op= x`` in forward code, once ``value = target op x`` is known: written into
    ``target`` when it is an array or list (Python's in-place operators), else ``value``."""
    if isinstance(target, np.ndarray) and (np.shape(value) == target.shape or target.ndim == 0):
        target[...] = value
        return target
    if isinstance(target, list):
        target[:] = value
        return target
    return value


@tangent_rules.tangent(forward_augment)
def _forward_augment_tangent(dargs, target, value):
    dtarget, dvalue = dargs
    y = forward_augment(target, value)
    if y is target and isinstance(dtarget, np.ndarray) and dtarget.shape == np.shape(dvalue) \
            and dtarget.flags.writeable:
        # Names bound to the same array share its tangent: write that tangent in place too.
        dtarget[...] = dvalue
        return y, dtarget
    return y, dvalue


class ForwardHelpers:
    """The functions generated forward code calls, by name, and the intrinsics of normal form."""

    jvp_call = staticmethod(jvp_call)
    jvp_call_kw = staticmethod(jvp_call_kw)
    jvp_method = staticmethod(jvp_method)
    attr_tangent = staticmethod(attr_tangent)
    item_tangent = staticmethod(item_tangent)
    keyed_item_tangent = staticmethod(keyed_item_tangent)
    tangent_list = staticmethod(tangent_list)
    tangent_dict = staticmethod(tangent_dict)
    set_item_tangent = staticmethod(set_item_tangent)
    set_attr_tangent = staticmethod(set_attr_tangent)
    unpack_tangent = staticmethod(unpack_tangent)
    add_tangent = staticmethod(add_tangent)
    mul_tangent = staticmethod(mul_tangent)
    matmul_tangent = staticmethod(matmul_tangent)
    fit_tangent = staticmethod(fit_tangent)
    env_tangent = staticmethod(env_tangent)
    iterate_tangent = staticmethod(iterate_tangent)
    append_tangent = staticmethod(append_tangent)
    iterate = staticmethod(iterate)
    list_append = staticmethod(list_append)
    augment = staticmethod(forward_augment)

    def __getattr__(self, name):
        # The other intrinsics of normal form (set displays, matches, writes, ...) are
        # zygote.runtime's functions, called and differentiated as Python functions.
        return getattr(runtime, name)
