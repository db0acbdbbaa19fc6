"""What generated code calls at run time: call dispatch, cotangent accumulation and unbroadcasting."""
import functools
import inspect
import threading
import types

import numpy as np

from . import rules, structure
from .errors import MissingRuleError, UnsupportedSyntaxError
from .params import Params


class _State(threading.local):
    params = None  # a class default makes the lookup cheap when nothing was set


_state = _State()


# Set by zygote.nested: ``plan_call(fn, kinds, active)`` plans a call of a global Python
# function that the transform can make directly (see ``_Generator.planned_call``).
plan_call = None


def params_mode():
    """The identity set of parameters when running under ``gradient(f, ps)``, else None."""
    return _state.params


class params_scope:
    """Context manager marking that environment arrays in ``ids`` are differentiated."""

    def __init__(self, ids):
        self.ids = ids

    def __enter__(self):
        self.previous = _state.params
        _state.params = self.ids

    def __exit__(self, *exc):
        _state.params = self.previous


# -- cotangent arithmetic -------------------------------------------------------------------


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
    x_shape = getattr(x, "shape", None)
    if type(g) is int and g == 0:
        # A structural zero reaching an array: materialise it, so that shape operations apply.
        return np.zeros(x_shape, dtype=_float_dtype(x)) if x_shape else 0
    if x_shape is None:
        if isinstance(x, (int, float, complex)) and not isinstance(x, bool):
            g_shape = getattr(g, "shape", None)
            if g_shape:
                return g.sum()
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
        g = g.astype(dtype)
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
    return dtype if dtype is not None and dtype.kind in "fc" else np.float64


def is_zero(g):
    return g is None or (type(g) is int and g == 0)


# -- structural adjoints ---------------------------------------------------------------------


def attr_back(obj, name, dy):
    """Cotangent of ``obj`` from the cotangent ``dy`` of ``obj.name``."""
    if is_zero(dy):
        return 0
    if isinstance(obj, (np.ndarray, np.generic)):
        if name == "T" or name == "mT":
            return np.swapaxes(unbroadcast(dy, getattr(obj, name)), -1, -2) if name == "mT" \
                else np.transpose(unbroadcast(dy, obj.T))
        if name == "real":
            return dy
        if callable(getattr(obj, name, None)):
            return dy  # a bound method of the array: its cotangent is the array's
        return 0
    prop = getattr(type(obj), name, None)
    if isinstance(prop, property) and prop.fget is not None:
        # Properties are recomputed here so that their own code is differentiated.
        _, back = call("-a", prop.fget, obj)
        return back(dy)[1]
    if isinstance(prop, types.FunctionType):
        return dy  # a bound method: its cotangent is that of the object itself
    return {name: unbroadcast(dy, getattr(obj, name))}


def getitem_back(x, index, dy):
    """Cotangent of ``x`` from the cotangent ``dy`` of ``x[index]``."""
    if is_zero(dy):
        return 0
    if isinstance(x, np.ndarray):
        g = np.zeros(x.shape, dtype=_float_dtype(x))
        if _is_basic(index):
            view = g[index]
            if isinstance(view, np.ndarray):
                g[index] = unbroadcast(dy, view)
            else:
                g[index] = unbroadcast(dy, 0.0)
        else:
            np.add.at(g, index, unbroadcast(dy, _indexed_like(x, index)))
        return g
    if isinstance(x, (list, tuple, Params)):
        out = [0] * len(x)
        if isinstance(index, slice):
            for i, part in zip(range(*index.indices(len(x))), dy):
                out[i] = accum(out[i], part)
        else:
            out[index] = dy
        return tuple(out) if isinstance(x, tuple) else out
    if isinstance(x, dict):
        return {index: dy}
    method = getattr(type(x), "__getitem__", None)
    if isinstance(method, types.FunctionType):
        # A class's own __getitem__ (a Chain's layer): differentiated from its source, run
        # again here as properties are in attr_back.
        _, back = call("-a-", method, x, index)
        return back(dy)[1]
    raise MissingRuleError(type(x).__getitem__)


def _indexed_like(x, index):
    """An array of the shape and dtype of ``x[index]``; for one integer array indexing the
    first axis (an embedding lookup), a broadcast view instead of a second gather."""
    if isinstance(index, np.ndarray) and index.dtype.kind in "iu":
        return np.broadcast_to(np.zeros((), x.dtype), index.shape + x.shape[1:])
    return x[index]


def _is_basic(index):
    if isinstance(index, tuple):
        return all(_is_basic(i) for i in index)
    return index is None or index is Ellipsis or isinstance(index, (int, slice, np.integer))


def setitem_back(dy, index, value):
    """(cotangent of the stored value, cotangent of the array before ``y[index] = value``)."""
    if is_zero(dy):
        return 0, 0
    if isinstance(dy, np.ndarray):
        part = unbroadcast(dy[index], value)
        rest = dy.copy()
        rest[index] = 0
        return part, rest
    if isinstance(dy, dict):
        rest = {k: v for k, v in dy.items() if k != index}
        return dy.get(index, 0), rest
    part = dy[index]
    rest = list(dy)
    rest[index] = 0
    return part, type(dy)(rest) if isinstance(dy, tuple) else rest


def setattr_back(dobj, name):
    """(cotangent of the stored value, cotangent of the object before ``obj.name = value``)."""
    if type(dobj) is not dict or name not in dobj:
        return 0, dobj
    rest = {k: v for k, v in dobj.items() if k != name}
    return dobj[name], rest if rest else 0


def copy_for_write(x):
    """A copy of ``x`` to write into, so that values saved for the adjoint stay intact."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    return x


def split_cotangent(dy, n):
    """The ``n`` element cotangents of a tuple/list cotangent (0 where there is none)."""
    if type(dy) is tuple and len(dy) == n:
        return dy
    if is_zero(dy):
        return (0,) * n
    if len(dy) != n:
        raise TypeError(f"cotangent of length {len(dy)} for a sequence of length {n}")
    return tuple(dy)


def dict_back(dy, key):
    if type(dy) is not dict:
        return 0
    return dy.get(key, 0)


closure_back = dict_back


def add_back(dy, a, b):
    """Cotangents of ``a`` and ``b`` in ``a + b``: split for sequences, shared for numbers."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        if is_zero(dy):
            return 0, 0
        return type(a)(dy[:len(a)]), type(b)(dy[len(a):])
    return dy, dy


def regroup(parts, layout):
    """Cotangents ``(dfn, *flat args[, dkw])`` of a call with ``*args``, one per call-site argument.

    ``layout`` gives, per call-site argument, 1 or the length of the sequence it unpacked.
    """
    out = [parts[0]]
    i = 1
    for size, starred in layout:
        if starred:
            out.append(tuple(parts[i:i + size]))
        else:
            out.append(parts[i])
        i += size
    if len(parts) > i:
        out.append(parts[i])
    return out


def keyword_part(parts, n):
    """The keyword cotangents that follow ``n`` regrouped cotangents (an empty dict if none)."""
    return parts[n] if len(parts) > n else {}


def zeros_like_list(x):
    return [0] * len(x)


# -- methods of the built-in containers -------------------------------------------------------


@rules.adjoint(None, method_of=(dict, "get"))
def _dict_get_rule(d, key, default=None):
    present = key in d

    def dict_get_back(dy):
        if present:
            return {key: dy}, 0, 0
        return 0, 0, dy
    return d.get(key, default), dict_get_back


@rules.adjoint(None, method_of=(dict, "values"))
def _dict_values_rule(d):
    keys = list(d)
    return [d[k] for k in keys], lambda dy: (0 if is_zero(dy) else dict(zip(keys, dy)),)


@rules.adjoint(None, method_of=(dict, "items"))
def _dict_items_rule(d):
    keys = list(d)

    def dict_items_back(dy):
        if is_zero(dy):
            return (0,)
        return ({k: (0 if is_zero(pair) else pair[1]) for k, pair in zip(keys, dy)},)
    return [(k, d[k]) for k in keys], dict_items_back


@rules.adjoint(None, method_of=(list, "copy"))
def _list_copy_rule(items):
    return list(items), lambda dy: (dy,)


rules.nograd(None, method_of=(dict, ("keys",)))
rules.nograd(None, method_of=(list, ("index", "count")))
rules.nograd(None, method_of=(tuple, ("index", "count")))
for _rule_fn in (_dict_get_rule, _dict_values_rule, _dict_items_rule, _list_copy_rule):
    _rule_fn.zygote_output_kind = "a"


def _super_rule(*args):
    """``super(cls, obj)``: a proxy whose cotangent is ``obj``'s."""
    if len(args) != 2:
        raise UnsupportedSyntaxError("super() without its two arguments in generated code")
    return super(*args), lambda dproxy: (0, dproxy)


_super_rule.zygote_output_kind = "a"
rules.adjoint(super)(_super_rule)


# -- iteration intrinsics ----------------------------------------------------------------------


def iterate(seq):
    """``list(seq)``: the materialised sequence a for loop runs over."""
    return list(seq)


def _iterate_rule(seq):
    items = list(seq)

    def iterate_back(ditems):
        if is_zero(ditems):
            return (0,)
        if isinstance(seq, np.ndarray):
            dtype = _float_dtype(seq)
            return (np.stack([np.zeros(seq.shape[1:], dtype) if is_zero(d) else unbroadcast(d, item)
                              for d, item in zip(ditems, items)]) if items else np.zeros_like(seq),)
        if isinstance(seq, tuple):
            return (tuple(ditems),)
        if isinstance(seq, dict):
            return (dict(zip(items, ditems)),)
        if structure.iterates_itself(seq):
            return (structure.held_items_cotangent(seq, items, ditems),)
        return (list(ditems),)
    return items, iterate_back


_iterate_rule.zygote_output_kind = "a"
rules.adjoint(iterate)(_iterate_rule)


def list_append(items, value):
    """``items + [value]``: appending without mutating a list the adjoint may still read.

    Objects other than lists are appended to in place, as the user's code asked.
    """
    if type(items) is not list:
        items.append(value)
        return items
    return items + [value]


def _list_append_rule(items, value):
    if type(items) is not list:
        raise MissingRuleError(type(items).append)

    def list_append_back(dy):
        if is_zero(dy):
            return 0, 0
        return list(dy[:-1]), dy[-1]
    return items + [value], list_append_back


_list_append_rule.zygote_output_kind = "a"
rules.adjoint(list_append)(_list_append_rule)


# -- call dispatch -----------------------------------------------------------------------------

_ZERO = 0


def _no_gradient(n, keywords):
    def back(dy):
        parts = (0,) * (n + 1)
        return parts + ({},) if keywords else parts
    return back


def call(mask, fn, *args, **kwargs):
    """Run ``fn(*args, **kwargs)`` and return ``(y, back)``.

    ``back(dy)`` returns ``(dfn, *dargs)`` plus a dict of keyword cotangents when keywords
    were passed. ``mask`` has one character per callee, argument and keyword: ``n``
    numeric, ``a`` other differentiable, ``-`` constant.
    """
    rule = rules.lookup(fn)
    if rule is not None:
        if rule.kind == "forward":
            return _call_forward(rule, args, kwargs)
        return _call_rule(rule, fn, args, kwargs)
    kind = type(fn)
    if kind is types.FunctionType:
        from .cache import pullback_function
        return pullback_function(fn, mask, args, kwargs)
    if kind is types.MethodType:
        return _call_bound(mask, fn.__func__, fn.__self__, args, kwargs)
    if kind is functools.partial:
        return _call_partial(mask, fn, args, kwargs)
    if kind is types.BuiltinMethodType or kind is types.MethodWrapperType:
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            method_rule = rules.lookup_method(type(owner), fn.__name__)
            if method_rule is not None:
                if method_rule.kind == "nograd":
                    return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
                y, back = _call_rule(method_rule, None, (owner,) + args, kwargs)
                return y, _shift_self(back)
            if _any_active(mask):
                raise MissingRuleError(fn)
    if isinstance(fn, type):
        if not _any_active(mask[1:]):
            return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
        raise UnsupportedSyntaxError(
            f"constructing a {fn.__name__} object from differentiated values", hint=(
                "build the object outside the differentiated function and pass it in"))
    dunder = getattr(type(fn), "__call__", None)
    if isinstance(dunder, types.FunctionType):
        return _call_bound(mask, dunder, fn, args, kwargs)
    if not _any_active(mask[1:]):
        return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
    raise MissingRuleError(fn)


def _any_active(mask):
    return mask.strip("-") != ""


def call_method(mask, obj, name, *args, **kwargs):
    """``obj.name(*args, **kwargs)`` as ``(y, back)``; ``back`` gives the object's cotangent first."""
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        rule = rules.lookup_method(type(obj), name)
        if rule is None:
            raise MissingRuleError(getattr(obj, name))
        if rule.kind == "nograd":
            return getattr(obj, name)(*args, **kwargs), _no_gradient(len(args), kwargs)
        y, back = _call_rule(rule, None, (obj,) + args, kwargs)
        return y, _shift_self(back)
    method = getattr(obj, name)
    if type(method) is types.MethodType and (method.__self__ is obj or type(obj) is super):
        rule = rules.lookup(method)  # one object's method with a rule: scipy.stats.norm.logpdf
        if rule is not None:
            return _call_rule(rule, method, args, kwargs)  # its (0, ...) is the object's part
        # (through super(), the proxy's cotangent is the object's own)
        return _call_bound(mask, method.__func__, method.__self__, args, kwargs)
    rule = rules.lookup_method(type(obj), name)
    if rule is not None:
        if rule.kind == "nograd":
            return method(*args, **kwargs), _no_gradient(len(args), kwargs)
        y, back = _call_rule(rule, None, (obj,) + args, kwargs)
        return y, _shift_self(back)
    y, back = call(mask, method, *args, **kwargs)

    def method_back(dy):
        parts = back(dy)
        return (attr_back(obj, name, parts[0]),) + tuple(parts[1:])
    return y, method_back


def _shift_self(back):
    """Turn a rule's (0, dself, *dargs) into the method protocol's (dself, *dargs)."""
    def method_rule_back(dy):
        return back(dy)[1:]
    return method_rule_back


def _call_bound(mask, func, self_obj, args, kwargs):
    y, back = call(mask[:1] + mask[:1] + mask[1:], func, self_obj, *args, **kwargs)

    def bound_back(dy):
        parts = back(dy)
        return (parts[1],) + tuple(parts[2:])
    return y, bound_back


def _call_forward(rule, args, kwargs):
    """A call that a forwarding rule turns into a call of a plain Python function."""
    target, new_args, mask, to_original = rule.impl(*args, **kwargs)
    y, back = call("-" + mask, target, *new_args)

    def forward_back(dy):
        return to_original(back(dy))
    return y, forward_back


def _call_partial(mask, fn, args, kwargs):
    bound = fn.args
    merged = {**fn.keywords, **kwargs}
    bound_char = "a" if mask[:1] not in ("", "-") else "-"
    inner_mask = "-" + bound_char * len(bound) + mask[1:1 + len(args)] + "a" * len(merged)
    y, back = call(inner_mask, fn.func, *bound, *args, **merged)

    def partial_back(dy):
        parts = back(dy)
        n = len(bound)
        own = parts[1 + n:1 + n + len(args)]
        dkw = parts[-1] if merged else {}
        dbound = tuple(parts[1:1 + n])
        dfn = {"args": dbound} if any(not is_zero(d) for d in dbound) else 0
        out = (dfn,) + tuple(own)
        return out + ({k: dkw.get(k, 0) for k in kwargs},) if kwargs else out
    return y, partial_back


_RULE_PARAMETERS = {}


def _rule_parameters(rule):
    """``{name: place}`` of the parameters a pullback rule's function takes positionally."""
    found = _RULE_PARAMETERS.get(id(rule))
    if found is None or found[0] is not rule:
        function = getattr(rule.impl, "__wrapped__", rule.impl)
        try:
            parameters = inspect.signature(function).parameters.values()
        except (TypeError, ValueError):
            parameters = ()
        places = {p.name: i for i, p in enumerate(parameters)
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
        found = _RULE_PARAMETERS[id(rule)] = (rule, places)
    return found[1]


def _call_rule(rule, fn, args, kwargs):
    kind = rule.kind
    if kind == "pullback":
        y, back = rule.impl(*args, **kwargs)

        def rule_back(dy):
            listed = back(dy)
            if type(listed) is not tuple:
                listed = tuple(listed)
            # One cotangent per argument passed (a rule may list its optional ones too).
            parts = listed[:len(args)] + (0,) * (len(args) - len(listed))
            parts = (0,) + tuple(0 if p is None else p for p in parts)
            if not kwargs:
                return parts
            # A keyword argument gets the cotangent the rule lists at that parameter's place.
            names = _rule_parameters(rule)
            keywords = {}
            for name in kwargs:
                place = names.get(name)
                if place is not None and place < len(listed) and listed[place] is not None:
                    keywords[name] = listed[place]
            return parts + (keywords,)
        return y, rule_back
    if kind == "nograd":
        target = fn if fn is not None else None
        if target is None:
            raise TypeError("nograd method rules are applied by call_method")
        return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
    # An expression rule called dynamically: evaluate its adjoint lambda.
    y = (fn if fn is not None else rule.fn)(*args, **kwargs)
    names = rule.params

    def expr_back(dy):
        if is_zero(dy):
            parts = (0,) * len(args)
        else:
            bound = dict(zip(names, args))
            bound.update(kwargs)
            if not rule.elementwise:
                dy_exact = unbroadcast(dy, y)
            else:
                dy_exact = dy
            raw = rule.impl(y=y, dy=dy_exact, **bound)
            if len(names) == 1 or not isinstance(raw, tuple):
                raw = (raw,)
            raw = tuple(raw) + (None,) * (len(args) - len(raw))
            parts = tuple(0 if p is None else unbroadcast(p, a) for p, a in zip(raw, args))
        parts = (0,) + parts
        return parts + ({},) if kwargs else parts
    return y, expr_back
