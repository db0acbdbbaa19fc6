"""The call protocol: ``call(mask, fn, *args) -> (y, back)`` for whatever a differentiated function calls.

A registered rule answers first; a plain Python function is transformed by the compiler
(``TRANSFORMS``, the cache of transforms that this module owns and hands what generated
code calls); bound methods, ``functools.partial`` and objects with ``__call__`` are taken
apart and called again; a C function without a rule raises ``MissingRuleError`` when it
receives a differentiated value. ``back(dy)`` returns ``(dfn, *dargs)``, plus a dict of
keyword cotangents when keywords were passed. The two structural adjoints that may run user
code again (a property, a class's own ``__getitem__``) live here too.

>>> import math
>>> y, back = call("-f", math.sin, 0.0)
>>> y, back(1.0)
(0.0, (0, 1.0))
"""
import functools
import inspect
import sys
import types

import numpy as np

from . import rules, runtime, structure
from .compiler import nested
from .compiler.cache import TransformCache
from .activity import ANY, CONSTANT, any_active, argument_kinds, callee_active, category
from .cotangents import is_zero, unbroadcast
from .errors import MissingRuleError, UnsupportedSyntaxError
from .params import Params
from .rules import objects
from .rules.adjoints import getitem_back_back
from .rules.complex import imag_back, real_back

# -- structural adjoints that differentiate user code -----------------------------------------


def attr_back(obj, name, dy, value=None):
    """Cotangent of ``obj`` from the cotangent ``dy`` of ``obj.name``, which read ``value``
    (the attribute may have been replaced since)."""
    if is_zero(dy):
        return 0
    fields = structure.fields_of(obj)
    if fields is not None and name in fields:
        # A namedtuple's cotangent is a tuple, as for any tuple: dy goes to the field's place.
        parts = [0] * len(fields)
        parts[fields.index(name)] = unbroadcast(dy, getattr(obj, name) if value is None else value)
        return tuple(parts)
    if isinstance(obj, (np.ndarray, np.generic, complex, float, int)):
        if name == "T" or name == "mT":
            return np.swapaxes(unbroadcast(dy, getattr(obj, name)), -1, -2) if name == "mT" \
                else np.transpose(unbroadcast(dy, obj.T))
        if name == "real":
            return real_back(dy, obj)
        if name == "imag":
            return imag_back(dy, obj)
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
    return {name: unbroadcast(dy, getattr(obj, name) if value is None else value)}


def getitem_back(x, index, dy):
    """Cotangent of ``x`` from the cotangent ``dy`` of ``x[index]``; a class's own ``__getitem__``
    (a Chain's layer) is differentiated from its source, run again here as properties are in
    ``attr_back``."""
    method = getattr(type(x), "__getitem__", None)
    if isinstance(method, types.FunctionType) and not is_zero(dy):
        _, back = call("-a-", method, x, index)
        return back(dy)[1]
    return runtime.getitem_back(x, index, dy)


def index_back(x, index, dy):
    """Cotangent of the key ``index`` from the cotangent ``dy`` of ``x[index]``.

    A container looked up by key is piecewise constant in the key (0); an object with a rule
    (``np.r_``) or its own ``__getitem__`` passes back what that says; any other object
    raises ``MissingRuleError`` rather than drop the key's gradient.
    """
    if is_zero(dy) or isinstance(x, (np.ndarray, list, tuple, dict, str, Params)):
        return 0
    rule = rules.lookup(x)
    if rule is not None and rule.kind == "pullback":
        _, back = rule.impl(index)
        return back(dy)[0]
    method = getattr(type(x), "__getitem__", None)
    if isinstance(method, types.FunctionType):
        _, back = call("--a", method, x, index)
        return back(dy)[2]
    raise MissingRuleError(method if method is not None else x)


def _class_item_back(method, x, index, dy):
    """``getitem_back`` through a class's own ``__getitem__``, as Python that zygote
    differentiates (its derivative is a second derivative of that method)."""
    _, back = call("-a-", method, x, index)
    return back(dy)[1]


@rules.adjoint(getitem_back, output_kind="a")
def _getitem_back_rule(x, index, dy):
    method = getattr(type(x), "__getitem__", None)
    if isinstance(method, types.FunctionType) and not is_zero(dy):
        # Not linear in dy alone: the method may be nonlinear in the object's fields.
        y, back = call("--" + category(x) + "-" + category(dy), _class_item_back, method, x, index, dy)
        return y, lambda d: back(d)[2:]
    return getitem_back(x, index, dy), functools.partial(getitem_back_back, index, dy)


# -- call dispatch -----------------------------------------------------------------------------



def _no_gradient(n, keywords):
    def back(dy):
        parts = (0,) * (n + 1)
        return parts + ({},) if keywords else parts
    return back


_CACHED = type(functools.lru_cache()(len))  # what functools.lru_cache and functools.cache make


def call(mask, fn, /, *args, **kwargs):
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
        return TRANSFORMS.pullback_function(fn, mask, args, kwargs)
    if kind is types.MethodType:
        return _call_bound(mask, fn.__func__, fn.__self__, args, kwargs)
    if kind is functools.partial:
        return _call_partial(mask, fn, args, kwargs)
    if kind is _CACHED:
        # A cached function is differentiated through what it wraps, and the cache is left
        # alone: a hit would give a value whose pullback was never recorded.
        return call(mask, fn.__wrapped__, *args, **kwargs)
    if kind is types.BuiltinMethodType or kind is types.MethodWrapperType:
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            method_rule = rules.lookup_method(type(owner), fn.__name__)
            if method_rule is not None:
                if method_rule.kind == "nograd":
                    return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
                y, back = _call_rule(method_rule, None, (owner,) + args, kwargs)
                return y, _shift_self(back)
            if any_active(mask):
                raise MissingRuleError(fn)
    if isinstance(fn, type):
        if not any_active(mask[1:]):
            return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
        return objects.construct(_PROTOCOL, mask, fn, args, kwargs)
    dunder = getattr(type(fn), "__call__", None)
    if isinstance(dunder, types.FunctionType):
        return _call_bound(mask, dunder, fn, args, kwargs)
    if not any_active(mask[1:]):
        return fn(*args, **kwargs), _no_gradient(len(args), kwargs)
    raise MissingRuleError(fn)


def call_method(mask, obj, name, /, *args, **kwargs):
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
    bound_char = ANY if callee_active(mask) else CONSTANT
    inner_mask = CONSTANT + bound_char * len(bound) + argument_kinds(mask, len(args)) + ANY * len(merged)
    y, back = call(inner_mask, fn.func, *bound, *args, **merged)

    def partial_back(dy):
        parts = back(dy)
        n = len(bound)
        own = parts[1 + n:1 + n + len(args)]
        dkw = parts[-1] if merged else {}
        dbound = tuple(parts[1:1 + n])
        dfn = {"args": dbound} if any(not is_zero(d) for d in dbound) else 0
        out = (dfn,) + tuple(own)
        return out + (_keyword_parts(dkw, kwargs),) if kwargs else out
    return y, partial_back


def _keyword_parts(dkw, kwargs):
    """The cotangents of the keywords passed, from those of every keyword (a loop, so that
    this code can be differentiated again)."""
    parts = {}
    for key in kwargs:
        parts[key] = dkw.get(key, 0)
    return parts


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
        parameters = list(parameters)[1:] if rule.calls_back else parameters  # less the protocol
        places = {p.name: i for i, p in enumerate(parameters)
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}
        found = _RULE_PARAMETERS[id(rule)] = (rule, places)
    return found[1]


def _call_rule(rule, fn, args, kwargs):
    kind = rule.kind
    if kind == "pullback":
        y, back = rule.impl(_PROTOCOL, *args, **kwargs) if rule.calls_back else rule.impl(*args, **kwargs)

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


# -- what generated code calls, and the cache of transforms ------------------------------------


class Helpers:
    """The functions generated code calls, by name: ``zygote.runtime``'s, and the protocol's own
    (``call``, ``call_method``, ``attr_back``, ``getitem_back``, ``index_back``) in their place."""

    def __init__(self, **own):
        self._own = own

    def __getattr__(self, name):
        found = self._own.get(name)
        return found if found is not None else getattr(runtime, name)


HELPERS = Helpers(call=call, call_method=call_method, attr_back=attr_back, getitem_back=getitem_back,
                  index_back=index_back)
TRANSFORMS = TransformCache(HELPERS)
_PROTOCOL = sys.modules[__name__]  # what a rule registered with calls_back=True receives

# Inside differentiated code, a dynamic call runs as a call of the callee's generated code.
nested.PROTOCOL = _PROTOCOL
rules.forward_rule(call, functools.partial(nested.forward_call, TRANSFORMS))
rules.forward_rule(call_method, functools.partial(nested.forward_method, TRANSFORMS))
objects.connect(call)
