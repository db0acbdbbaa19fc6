"""The tangent rules of Python's built-ins, containers and methods, and of the helpers generated adjoints call.

The helpers (``unbroadcast``, ``accum``, ``getitem_back``, ...) are linear in the cotangent
they receive, so their tangents are the helpers applied to tangents: this is what lets
forward mode differentiate reverse mode's generated code (``hessian``, forward over reverse).
"""
import builtins
import functools
import math
import operator

import numpy as np

from .. import runtime
from . import objects
from ..cotangents import accum, public, unbroadcast
from .complex import holomorphic
from .numpy import expand_reduced
from .operators import matmul_da, matmul_db
from .tangent_table import _full, _zero
from .tangents import COTANGENT_LINEAR, JOINTLY_LINEAR, READS_TANGENTS, SHAPED, linear, tangent


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


# The hand-off of an object's cotangent from a call to its adjoint goes through a table keyed
# by the object; the tangents of the cotangents handed over travel through a table of their own.
def _tangent_table(direction):
    return direction + " tangents"


@tangent(runtime.deposit)
def _deposit_tangent(dargs, obj, dobj, direction="forward"):
    d = (tuple(dargs) + (0, 0))[1]
    kept = runtime.deposit(obj, dobj, direction)
    if kept is dobj:
        return kept, d
    runtime.deposit(obj, _filled(d, dobj), _tangent_table(direction))
    return kept, 0


@tangent(runtime.withdraw)
def _withdraw_tangent(dargs, obj, direction="forward"):
    return runtime.withdraw(obj, direction), runtime.withdraw(obj, _tangent_table(direction))


@tangent(runtime.reclaim)
def _reclaim_tangent(dargs, obj, kept):
    dkept = (tuple(dargs) + (0, 0))[1]
    found, dfound = runtime.withdraw(obj), runtime.withdraw(obj, _tangent_table("forward"))
    y = accum(kept, found)
    if _zero(dkept) and _zero(dfound):
        return y, 0
    return y, accum(_filled(dkept, kept), _filled(dfound, found))


READS_TANGENTS.update({runtime.withdraw, runtime.reclaim})


@tangent(objects.make_namedtuple)
def _make_namedtuple_tangent(dargs, cls, values):
    y = objects.make_namedtuple(cls, values)
    d = (tuple(dargs) + (0, 0))[1]
    if _zero(d):
        return y, 0
    return y, cls(*(d[i] if i < len(d) else 0 for i in range(len(values))))


linear(runtime.copy_for_write, holomorphic)


@tangent(matmul_da)
def _matmul_da_tangent(dargs, dy, a, b):
    # dy @ conj(b)ᵀ: linear in dy and in b; a gives only the shapes
    ddy, _, db = (tuple(dargs) + (0, 0, 0))[:3]
    parts = [matmul_da(_full(ddy, dy), a, b) if not _zero(ddy) else 0,
             matmul_da(dy, a, _full(db, b)) if not _zero(db) else 0]
    return matmul_da(dy, a, b), _total(parts)


@tangent(matmul_db)
def _matmul_db_tangent(dargs, dy, a, b):
    # conj(a)ᵀ @ dy: linear in dy and in a; b gives only the shapes (and the layout)
    ddy, da, _ = (tuple(dargs) + (0, 0, 0))[:3]
    parts = [matmul_db(_full(ddy, dy), a, b) if not _zero(ddy) else 0,
             matmul_db(dy, _full(da, a), b) if not _zero(da) else 0]
    return matmul_db(dy, a, b), _total(parts)


def _total(parts):
    """The sum of the tangents ``parts``, 0 (a zero tangent) standing for none."""
    kept = [p for p in parts if not _zero(p)]
    if not kept:
        return 0
    total = kept[0]
    for part in kept[1:]:
        total = total + part
    return total
SHAPED.update({unbroadcast, expand_reduced, public, runtime.split_cotangent, runtime.copy_for_write})
COTANGENT_LINEAR.add(runtime.getitem_back)
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


# -- the intrinsics of the language's lowerings ---------------------------------------------------


@tangent(runtime.generated)
def _generated_tangent(dargs, items):
    # A generator's values come as a list: their tangents are a list of the same length.
    ditems = dargs[0]
    return runtime.generated(items), runtime.generated(
        [0] * len(items) if _zero(ditems) else list(ditems))


@tangent(runtime.dict_set)
def _dict_set_tangent(dargs, items, key, value):
    ditems, _, dvalue = dargs
    base = ditems if type(ditems) is dict else {k: 0 for k in items}
    return runtime.dict_set(items, key, value), runtime.dict_set(base, key, dvalue)
