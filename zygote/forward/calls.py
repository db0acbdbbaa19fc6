"""The forward call protocol: ``jvp_call(fn, dfn, args, dargs) -> (y, dy)`` for whatever forward code calls.

A tangent rule answers first (``zygote.rules.tangents``); a plain Python function is
transformed by the forward stage (``FORWARD``, the cache this module owns); bound methods,
``functools.partial`` and objects with ``__call__`` are taken apart and called again; zygote's
own ``gradient`` and reverse call protocol run as the generated code they forward to, so that
forward mode differentiates reverse mode (``hessian``). A rule without a tangent has its
tangent computed from its pullback, by differentiating the pullback with respect to the
cotangent it is handed; where that cannot be done, ``MissingTangentError`` names the function.

>>> import math
>>> jvp_call(math.sin, 0, (0.0,), (2.0,))
(0.0, 2.0)
"""
import functools
import inspect
import sys
import threading
import types
import weakref

import numpy as np

from .. import protocol, rules
from ..activity import category
from ..compiler.forward_cache import ForwardCache
from ..cotangents import seed, unbroadcast
from ..errors import MissingRuleError, UnsupportedSyntaxError, ZygoteError
from ..protocol import call
from ..recursion import NESTING, active as headroom_active, too_deep, with_headroom
from ..rules import objects, tangents as tangent_rules
from ..rules.tangents import CALLS_BACK, lookup_method_tangent, lookup_tangent
from ..rules.tangents import READS_TANGENTS as _READS_TANGENTS


class MissingTangentError(MissingRuleError):
    """A function reached in forward mode has neither a tangent rule nor a pullback to derive one from."""

    def __init__(self, fn, reason=""):
        self.fn = fn
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        module = getattr(fn, "__module__", None)
        full = f"{module}.{name}" if module and not name.startswith(module) else name
        ZygoteError.__init__(
            self, f"no tangent rule for {full}{': ' + reason if reason else ''}; register one with "
            f"@zygote.tangent({name}) returning (y, dy) from (dargs, *args)")


def _zero(t):
    return type(t) is int and t == 0


class _Written(threading.local):
    """The tangents of the objects written into in this thread's forward pass (and of those
    being built), by id, as ``[object, tangent]``: a tangent kept with its object, so that
    every name for it reads what the writes made, whichever name they went through. ``depth``
    counts the user functions running in forward mode; the table is emptied when the
    outermost returns."""

    def __init__(self):
        self.tangents = {}
        self.depth = 0


WRITTEN = _Written()


def written_tangent(obj, d):
    """The tangent kept with ``obj`` when it was written into in this forward pass, else ``d``."""
    record = WRITTEN.tangents.get(id(obj))
    return d if record is None else record[1]


def _with_written(values, tangents):
    """``tangents``, with those kept with their objects in their place."""
    table = WRITTEN.tangents
    return tuple([d if id(v) not in table else table[id(v)][1] for v, d in zip(values, tangents)])


# -- calls -----------------------------------------------------------------------------------


def jvp_call(fn, dfn, args, dargs):
    """``(fn(*args), its tangent)`` given the tangents ``dargs`` of ``args`` and ``dfn`` of ``fn``."""
    if _zero(dfn):
        for d in dargs:
            if not _zero(d):
                break
        else:
            if fn not in _READS_TANGENTS and not (WRITTEN.tangents and _any_written(args)):
                return fn(*args), 0
        direct = _DIRECT.get(fn, _MISSING) if type(fn) is types.FunctionType else None
        if direct is _MISSING:
            direct = _direct_rule(fn)
        if direct is not None and _TANGENTS.get(fn) is direct:
            result = direct(tuple(dargs), *args)
            if result is not NotImplemented:
                return result
    return _dispatch(fn, dfn, args, dargs, None, None)


_TANGENTS = tangent_rules.TANGENTS
_DIRECT = {}  # function -> its own tangent rule, where calling it is all _dispatch would do
_MISSING = object()  # not found (a dict lookup's default, a parameter not bound yet)
rules.on_change(lambda fn: _DIRECT.clear())


def _direct_rule(fn):
    """The tangent rule registered for the Python function ``fn`` (with ``tangent``, ``linear``,
    ...) when ``_call_rule`` would call it at once: no nograd or forward rule of its own, not
    derived from an expression rule, and not one that calls back into the protocol."""
    rule = rules.lookup(fn)
    explicit = _TANGENTS.get(fn)
    direct = None
    if explicit is not None and explicit not in CALLS_BACK and fn is not jvp_call \
            and not (rule is not None and rule.kind in ("nograd", "forward")):
        direct = explicit
    if len(_DIRECT) > 4096:
        _DIRECT.clear()
    _DIRECT[fn] = direct
    return direct


_FLOAT_MASKS = ["f" * n for n in range(8)]


def float_jvp(fn, args, dargs):
    """``jvp_call`` of a plain function of Python floats along float tangents, without the
    general dispatch (the common case of small scalar code), or None when it does not apply."""
    code = fn.__code__
    n = len(args)
    if n >= 8 or n != code.co_argcount or code.co_flags & 0x0C or code.co_kwonlyargcount \
            or fn.__closure__ is not None or fn in rules.RULES:
        return None
    for a, d in zip(args, dargs):
        if type(a) is not float or type(d) is not float:
            return None
    per_code = FORWARD.entries.get(id(code))
    entry = per_code.get((_FLOAT_MASKS[n], "")) if per_code is not None else None
    if entry is None or entry.guards and not entry.guards_hold(fn):
        entry = FORWARD.entry_for(fn, _FLOAT_MASKS[n], "")
    forward = entry.plain if fn.__globals__ is entry.globals_ref else entry.function_for(fn)
    written = WRITTEN
    written.depth += 1
    try:
        return forward(0, *args, *dargs)
    finally:
        written.depth -= 1
        if not written.depth and written.tangents:
            written.tangents.clear()


def jvp_call_kw(fn, dfn, args, dargs, kwargs, dkwargs):
    """``jvp_call`` with keyword arguments and their tangents."""
    if _zero(dfn) and all(_zero(d) for d in dargs) and all(_zero(d) for d in dkwargs.values()) \
            and fn not in _READS_TANGENTS and not (WRITTEN.tangents and _any_written(args)):
        return fn(*args, **kwargs), 0
    return _dispatch(fn, dfn, args, dargs, kwargs, dkwargs)


def _any_written(values):
    table = WRITTEN.tangents
    for v in values:
        if id(v) in table:
            return True
    return False


def _dispatch(fn, dfn, args, dargs, kwargs, dkwargs):
    kwargs = kwargs or {}
    rule = rules.lookup(fn)
    if rule is not None or fn in tangent_rules.TANGENTS:
        return _call_rule(fn, rule, args, dargs, kwargs, dkwargs)
    kind = type(fn)
    if kind is types.FunctionType:
        return _call_function(fn, dfn, args, dargs, kwargs, dkwargs)
    if kind is types.MethodType:
        return _dispatch(fn.__func__, 0, (fn.__self__,) + tuple(args), (dfn,) + tuple(dargs), kwargs, dkwargs)
    if kind is functools.partial:
        dbound = dfn.get("args", (0,) * len(fn.args)) if type(dfn) is dict else (0,) * len(fn.args)
        merged = {**fn.keywords, **kwargs}
        dmerged = {**{k: 0 for k in fn.keywords}, **(dkwargs or {})}
        return _dispatch(fn.func, dfn.get("func", 0) if type(dfn) is dict else 0,
                         tuple(fn.args) + tuple(args), tuple(dbound) + tuple(dargs), merged, dmerged)
    if kind is types.BuiltinMethodType or kind is types.MethodWrapperType:
        owner = getattr(fn, "__self__", None)
        if owner is not None and not isinstance(owner, types.ModuleType):
            return jvp_method(owner, dfn, fn.__name__, args, dargs, kwargs, dkwargs or {})
    if fn is dict:
        # a dict built from differentiated values: its tangent is the dict of their tangents
        y = dict(*args, **kwargs)
        dy = dict(tangent_dict(dargs[0], args[0])) if args else {}
        for key in kwargs:
            dy[key] = (dkwargs or {}).get(key, 0)
        return y, dy
    if isinstance(fn, type):
        if all(_zero(d) for d in dargs) and all(_zero(d) for d in (dkwargs or {}).values()):
            return fn(*args, **kwargs), 0
        if objects.is_namedtuple(fn):
            return _construct_namedtuple(fn, args, dargs, kwargs, dkwargs or {})
        if objects.builds(fn):
            return _construct(fn, args, dargs, kwargs, dkwargs)
        raise UnsupportedSyntaxError(
            f"constructing a {fn.__name__} object from differentiated values in forward mode (its "
            "class has no __init__ written in Python, or its own __new__)", hint=(
                "build the object outside the function, or use reverse mode (zygote.gradient, jacrev)"))
    dunder = getattr(type(fn), "__call__", None)
    if isinstance(dunder, types.FunctionType):
        return _dispatch(dunder, 0, (fn,) + tuple(args), (dfn,) + tuple(dargs), kwargs, dkwargs)
    return _constant_or_refused(fn, args, kwargs)


def _construct_namedtuple(cls, args, dargs, kwargs, dkwargs):
    """A namedtuple and its tangent, a namedtuple of its fields' tangents (0 for a default)."""
    y = cls(*args, **kwargs)
    by_field = dict(zip(cls._fields, dargs))
    by_field.update(dkwargs)
    return y, cls._make([by_field.get(field, 0) for field in cls._fields])


def _construct(cls, args, dargs, kwargs, dkwargs):
    """``cls(*args, **kwargs)`` and its tangent, for a class whose ``__init__`` is Python: a new
    object, then the forward transform of its ``__init__``, whose attribute writes (and those
    of the methods it calls) build the object's tangent, a dict by attribute."""
    obj = object.__new__(cls)
    record = WRITTEN.tangents[id(obj)] = [obj, {}]
    _dispatch(cls.__init__, 0, (obj,) + tuple(args), ({},) + tuple(dargs), kwargs, dkwargs)
    return obj, record[1]


def jvp_method(obj, dobj, name, args, dargs, kwargs, dkwargs):
    """``obj.name(*args, **kwargs)`` and its tangent, ``dobj`` being the tangent of ``obj``."""
    if WRITTEN.tangents:
        dobj = written_tangent(obj, dobj)
        dargs = _with_written(args, dargs)
    if _zero(dobj) and all(_zero(d) for d in dargs) and all(_zero(d) for d in dkwargs.values()):
        return getattr(obj, name)(*args, **kwargs), 0
    if isinstance(obj, types.ModuleType):  # math.sin read through a name zygote could not fix
        return _dispatch(getattr(obj, name), 0, args, dargs, kwargs, dkwargs)
    owner = type(obj)
    explicit = lookup_method_tangent(owner, name)
    if explicit is not None:
        return explicit((dobj,) + tuple(dargs), obj, *args, **kwargs)
    if isinstance(obj, (np.ndarray, np.generic)) or owner in (list, dict, tuple):
        rule = rules.lookup_method(owner, name)
        if rule is None:
            raise MissingTangentError(getattr(obj, name))
        if rule.kind == "nograd":
            return getattr(obj, name)(*args, **kwargs), 0
        if rule.fn is not None:
            return _call_rule(rule.fn, rules.lookup(rule.fn) or rule, (obj,) + tuple(args),
                              (dobj,) + tuple(dargs), kwargs, dkwargs)
        return _by_transposition(rule, getattr(obj, name), (obj,) + tuple(args), (dobj,) + tuple(dargs),
                                 kwargs, method=True, dkwargs=dkwargs)
    method = getattr(obj, name)
    if type(method) is types.MethodType and (method.__self__ is obj or owner is super):
        if rules.lookup(method) is not None:
            return _dispatch(method, 0, args, dargs, kwargs, dkwargs)
        return _dispatch(method.__func__, 0, (method.__self__,) + tuple(args), (dobj,) + tuple(dargs),
                         kwargs, dkwargs)
    rule = rules.lookup_method(owner, name)
    if rule is not None and rule.kind == "nograd":
        return method(*args, **kwargs), 0
    if type(method) in (types.BuiltinMethodType, types.MethodWrapperType):
        if rule is not None:
            return _by_transposition(rule, method, (obj,) + tuple(args), (dobj,) + tuple(dargs),
                                     kwargs, method=True, dkwargs=dkwargs)
        return _constant_or_refused(method, args, kwargs)
    return _dispatch(method, attr_tangent(obj, dobj, name), args, dargs, kwargs, dkwargs)


def _constant_or_refused(fn, args, kwargs):
    """A C function without a rule: fine when what it returns carries no derivative (a string,
    a bool, an int: ``"".join(...)``), refused by name otherwise."""
    y = fn(*args, **kwargs)
    if category(y) == "-" or type(y) is int:
        return y, 0
    raise MissingTangentError(fn)


def _call_rule(fn, rule, args, dargs, kwargs, dkwargs):
    if rule is not None and rule.kind == "nograd":
        return fn(*args, **kwargs), 0
    if fn is jvp_call:
        # forward mode of forward mode: the generated forward function, its tangents mapped on
        target, new_args, _, _, inward = _nesting().jvp_target(*args)
        return jvp_call(target, 0, new_args, inward(*(tuple(dargs) + (0,) * (4 - len(dargs)))))
    if rule is not None and rule.kind == "forward":
        # gradient(f, x) or the reverse protocol's call(...): the generated code they run.
        target, new_args, _, _ = rule.impl(*args, **kwargs)
        if fn is protocol.call and len(args) == 6 and args[1] is jvp_call:
            # reverse mode's call of jvp_call: its arguments are unpacked as jvp_target unpacks them
            inward = _nesting().jvp_target(*args[2:])[4]
            tangents = inward(*dargs[2:])
            head = len(new_args) - len(tangents)
            return jvp_call(target, 0, tuple(new_args), (0,) * head + tuple(tangents))
        return jvp_call(target, 0, tuple(new_args), _forwarded_tangents(new_args, args, dargs))
    keyword_tangents = dkwargs is not None and any(not _zero(d) for d in dkwargs.values())
    explicit = lookup_tangent(fn)
    if explicit is not None and tangent_rules.derived_from_expr(fn):
        if keyword_tangents:
            args, dargs, kwargs = _keywords_as_positions(fn, rule, args, dargs, kwargs, dkwargs)
            keyword_tangents = False
        if any(isinstance(a, (list, tuple)) for a, d in zip(args, dargs) if not _zero(d)):
            explicit = None  # (an elementwise rule handed a list: its pullback knows what to do)
    if explicit is not None and not keyword_tangents:
        if explicit in CALLS_BACK:
            result = explicit(_protocol(), dargs, *args, **kwargs)
        else:
            result = explicit(tuple(dargs), *args, **kwargs)
        if result is not NotImplemented:
            return result
    return _by_transposition(rule, fn, args, dargs, kwargs, dkwargs=dkwargs)


def _forwarded_tangents(new_args, args, dargs):
    """Tangents of the arguments a forward rule passes on: the call's own arguments end both
    lists; the generated functions before them read the callee's closure, whose tangent
    (a dict by name) they take; the rest carry none."""
    matched = 0
    while matched < min(len(new_args), len(args)) and new_args[-1 - matched] is args[-1 - matched]:
        matched += 1
    head, rest = len(new_args) - matched, len(args) - matched
    closure = next((d for d in dargs[:rest] if type(d) is dict), 0)
    if any(not _zero(d) and type(d) is not dict for d in dargs[:rest]):
        raise ZygoteError("forward mode through a nested gradient: a differentiated value "
                          "in an unexpected place")
    leading = [closure if type(a) is types.FunctionType and a.__code__.co_freevars else 0
               for a in new_args[:head]]
    for a, d in zip(args[:rest], dargs[:rest]):
        # a partial's bound arguments are passed on just before the call's own
        if type(a) is functools.partial and type(d) is dict and "args" in d:
            n = len(a.args)
            if n and head >= n and all(p is q for p, q in zip(new_args[head - n:head], a.args)):
                leading[head - n:head] = list(d["args"])
    return tuple(leading) + tuple(dargs[rest:])


def _keywords_as_positions(fn, rule, args, dargs, kwargs, dkwargs):
    """Move differentiated keyword arguments into their positional places (expression rules)."""
    names = list(rule.params) if rule is not None and rule.kind == "expr" else []
    args, dargs, kwargs = list(args), list(dargs), dict(kwargs)
    for key, d in dkwargs.items():
        if _zero(d):
            continue
        if key not in names or names.index(key) < len(args) - 1:
            raise MissingTangentError(fn, f"the differentiated keyword argument {key}")
        place = names.index(key)
        while len(args) < place:
            filler = names[len(args)]
            if filler not in rule.defaults and filler not in kwargs:
                raise MissingTangentError(fn, f"the differentiated keyword argument {key}")
            args.append(kwargs.pop(filler) if filler in kwargs else rule.defaults[filler])
            dargs.append(0)
        args.append(kwargs.pop(key))
        dargs.append(d)
    return tuple(args), tuple(dargs), kwargs


def _call_function(fn, dfn, args, dargs, kwargs, dkwargs):
    if not headroom_active():
        # The outermost user function of a forward pass: room for a recursion as deep as the
        # plain call's (zygote.recursion).
        return with_headroom(_call_function, fn, dfn, args, dargs, kwargs, dkwargs)
    if WRITTEN.tangents:
        dargs = _with_written(args, dargs)  # (a rule's arguments keep the tangents passed)
    code = fn.__code__
    if not kwargs and len(args) == code.co_argcount and not code.co_flags & 0x0C \
            and not code.co_kwonlyargcount:
        values, tangents = tuple(args), tuple(dargs)
    else:
        values, tangents = _bind(fn, args, dargs, kwargs, dkwargs or {})
    mask = "".join(["-" if _zero(d) else category(v) for v, d in zip(values, tangents)])
    env = _env_mask(fn, dfn)
    entry = FORWARD.entry_for(fn, mask, env)
    nesting, written = NESTING, WRITTEN
    depth = nesting.depth = nesting.depth + 1
    written.depth += 1
    try:
        if depth > nesting.most:
            raise too_deep(fn, nesting.most)
        y, dy = entry.function_for(fn)(dfn if type(dfn) is dict else 0, *values, *tangents)
        if written.depth == 1 and written.tangents:
            dy = written_tangent(y, dy)  # the outermost result, an object written into
        return y, dy
    finally:
        nesting.depth = depth - 1
        written.depth -= 1
        if not written.depth:
            written.tangents.clear()


def _env_mask(fn, dfn):
    if type(dfn) is not dict or not fn.__code__.co_freevars:
        return ""
    chars = []
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
        d = dfn.get(name, 0)
        try:
            chars.append("-" if _zero(d) else category(cell.cell_contents))
        except ValueError:
            chars.append("-")
    return "".join(chars)


_SIGNATURES = weakref.WeakKeyDictionary()  # function -> (code, defaults, kwdefaults, signature)


def _signature(fn):
    """``inspect.signature(fn)``, computed again only when fn's code or defaults change."""
    known = _SIGNATURES.get(fn)
    if known is not None and known[0] is fn.__code__ and known[1] is fn.__defaults__ \
            and known[2] is fn.__kwdefaults__:
        return known[3]
    signature = inspect.signature(fn, follow_wrapped=False)
    _SIGNATURES[fn] = (fn.__code__, fn.__defaults__, fn.__kwdefaults__, signature)
    return signature


def _bind(fn, args, dargs, kwargs, dkwargs):
    """Values and tangents of every parameter, in the order of the forward function's parameters."""
    bound = _bind_plain(fn, args, dargs, kwargs, dkwargs)
    if bound is not None:
        return bound
    signature = _signature(fn)
    bound = signature.bind(*args, **kwargs)
    bound.apply_defaults()
    dbound = signature.bind(*dargs, **{k: dkwargs.get(k, 0) for k in kwargs})
    code = fn.__code__
    names = list(code.co_varnames[:code.co_argcount + code.co_kwonlyargcount])
    if code.co_flags & 0x04:
        names.append(code.co_varnames[len(names)])
    if code.co_flags & 0x08:
        names.append(code.co_varnames[len(names)])
    values, tangents = [], []
    for name in names:
        value = bound.arguments[name]
        values.append(value)
        kind = signature.parameters[name].kind
        if name in dbound.arguments:
            tangents.append(dbound.arguments[name])
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            tangents.append((0,) * len(value))
        elif kind is inspect.Parameter.VAR_KEYWORD:
            tangents.append({k: 0 for k in value})
        else:
            tangents.append(0)
    return tuple(values), tuple(tangents)


def _bind_plain(fn, args, dargs, kwargs, dkwargs):
    """``_bind`` for a function of plain parameters (and ``*args`` called positionally), with
    no ``**kwargs`` or keyword-only ones, called as Python allows; None for anything else,
    which ``inspect`` binds (and refuses with Python's own error)."""
    code = fn.__code__
    if code.co_flags & 0x08 or code.co_kwonlyargcount:
        return None
    names = code.co_varnames[:code.co_argcount]
    if code.co_flags & 0x04:
        # ``*rest``: what the named parameters do not take, values and tangents alike.
        if kwargs or len(args) < len(names):
            return None
        n = len(names)
        return (tuple(args[:n]) + (tuple(args[n:]),), tuple(dargs[:n]) + (tuple(dargs[n:]),))
    if len(args) > len(names):
        return None
    missing = len(names) - len(args)
    values = list(args) + [_MISSING] * missing
    tangents = list(dargs) + [0] * missing
    for name, value in kwargs.items():
        try:
            i = names.index(name, code.co_posonlyargcount)
        except ValueError:
            return None
        if values[i] is not _MISSING:
            return None
        values[i] = value
        tangents[i] = dkwargs.get(name, 0)
    defaults = fn.__defaults__ or ()
    first_default = len(names) - len(defaults)
    for i, value in enumerate(values):
        if value is _MISSING:
            if i < first_default:
                return None
            values[i] = defaults[i - first_default]
    return tuple(values), tuple(tangents)


def _by_transposition(rule, fn, args, dargs, kwargs, method=False, dkwargs=None):
    """``J v`` from a rule's pullback ``v ↦ Jᵀ v``: the derivative of ``u ↦ <back(u), v>``."""
    if rule is None or rule.kind not in ("expr", "pullback"):
        raise MissingTangentError(fn)
    if any(_is_complex(a) for a in args):
        raise MissingTangentError(fn, "complex arguments")
    keys = [k for k in kwargs if dkwargs and not _zero(dkwargs.get(k, 0))]
    rest = {k: v for k, v in kwargs.items() if k not in keys}
    values = tuple(args) + tuple(kwargs[k] for k in keys)
    tangents = tuple(dargs) + tuple(dkwargs[k] for k in keys)
    if keys and rule.kind == "pullback" and not rule.calls_back:
        # The rule lists a keyword argument's cotangent at that parameter's place.
        places = protocol._rule_parameters(rule)
        if all(k in places for k in keys):
            y, raw_back = rule.impl(*args, **kwargs)
            order = tuple(range(len(args))) + tuple(places[k] for k in keys)

            def back(u):
                listed = tuple(raw_back(u))
                return (0,) + tuple(listed[i] if i < len(listed) else 0 for i in order)
            return _plain(fn, args, kwargs, method), _transpose(fn, y, back, tangents)[1]
    if keys and rule.kind == "expr":
        # The rule's expression gives one cotangent per parameter, keywords included.
        names = list(rule.params)
        if all(k in names for k in keys):
            y = fn(*args, **kwargs)
            bound = dict(rule.defaults)
            bound.update(zip(names, args))
            bound.update(kwargs)
            order = tuple(range(len(args))) + tuple(names.index(k) for k in keys)

            def back(u):
                raw = rule.impl(y=y, dy=u, **bound)
                listed = raw if isinstance(raw, tuple) and len(names) > 1 else (raw,)
                return (0,) + tuple(listed[i] if i < len(listed) and listed[i] is not None else 0
                                    for i in order)
            return _transpose(fn, y, back, tangents)
    if keys or method:
        caller = _caller(fn.__name__ if method else fn, len(args), keys, rest, method)
        y, back = call("-" + "a" * len(values), caller, *values)
    else:
        y, back = call("-" + "a" * len(values), fn, *args, **kwargs)
    return _plain(fn, args, kwargs, method), _transpose(fn, y, back, tangents)[1]


def _transpose(fn, y, back, tangents):
    """``J v`` for tangents ``v`` from a pullback ``back`` whose parts follow the arguments."""
    u0 = _zeros_of(y)
    if u0 is None:
        raise MissingTangentError(fn, f"its result is a {type(y).__name__}")
    active = tuple(i for i, d in enumerate(tangents) if not _zero(d))
    seeds = tuple(tangents[i] for i in active)

    def paired(u):
        parts = back(u)
        return _dot([parts[1 + i] for i in active], seeds)
    try:
        total, paired_back = call("-a", paired, u0)
        jv = paired_back(seed(total))[1]
    except ZygoteError as error:
        raise MissingTangentError(fn, str(error)) from None
    return y, _tangent_like(jv, y)


def _plain(fn, args, kwargs, method):
    """The plain call's value, which a rule's own primal may round differently."""
    return getattr(args[0], fn.__name__)(*args[1:], **kwargs) if method else fn(*args, **kwargs)


def _is_complex(value):
    if isinstance(value, (list, tuple)):
        return any(_is_complex(item) for item in value)
    return type(value) is complex or getattr(getattr(value, "dtype", None), "kind", "") == "c"


def _caller(fn, n, keys, rest, method):
    """A Python function of the positional and the differentiated keyword arguments that makes the call."""
    if method:
        def method_call(obj, *values):
            return getattr(obj, fn)(*values[:n - 1], **_keywords(keys, values[n - 1:], rest))
        return method_call
    def keyword_call(*values):
        return fn(*values[:n], **_keywords(keys, values[n:], rest))
    return keyword_call


def _keywords(keys, values, rest):
    out = {}
    for key in rest:
        out[key] = rest[key]
    for i in range(len(keys)):
        out[keys[i]] = values[i]
    return out


def _zeros_of(y):
    """A zero cotangent of ``y``'s structure, or None where ``y`` holds something else."""
    if isinstance(y, bool):
        return 0
    if type(y) is float or type(y) is int:
        return 0.0
    if isinstance(y, (np.ndarray, np.number)):
        if np.iscomplexobj(y):
            return None
        dtype = y.dtype if y.dtype.kind == "f" else np.float64
        return np.zeros(np.shape(y), dtype)
    if isinstance(y, (tuple, list)):
        parts = [_zeros_of(item) for item in y]
        if any(p is None for p in parts):
            return None
        return type(y)(*parts) if hasattr(y, "_fields") else type(y)(parts)
    if isinstance(y, dict):
        parts = {k: _zeros_of(v) for k, v in y.items()}
        return {k: p for k, p in parts.items() if p is not None}
    fields = getattr(y, "__dict__", None)
    if isinstance(fields, dict) and not isinstance(y, (type, types.ModuleType, types.FunctionType)):
        # an object: its cotangent is a dict by attribute, of those that can carry one
        return _zeros_of(fields)
    return None


def _tangent_like(jv, y):
    """A cotangent-shaped result of transposition as the tangent of ``y`` (a named tuple stays one)."""
    if _zero(jv) or jv is None:
        return 0
    if isinstance(y, np.ndarray):
        return unbroadcast(jv, y) if np.shape(jv) != y.shape else jv
    if isinstance(y, (tuple, list)) and isinstance(jv, (tuple, list)):
        parts = [_tangent_like(d, item) for d, item in zip(jv, y)]
        return type(y)(*parts) if hasattr(y, "_fields") else type(y)(parts)
    return jv


def _dot(parts, seeds):
    total = 0.0
    for part, seed_part in zip(parts, seeds):
        if _zero(part):
            continue  # a zero cotangent (often the integer 0) adds nothing, whatever its seed
        if isinstance(seed_part, (list, tuple)):
            total = total + _dot(list(part), list(seed_part))
        elif isinstance(seed_part, dict):
            total = total + _dot([part[k] for k in seed_part], list(seed_part.values()))
        else:
            total = total + np.sum(part * seed_part)
    return total


def _method_caller(name):
    def method_caller(obj, *args, **kwargs):
        return getattr(obj, name)(*args, **kwargs)
    return method_caller


# -- attributes and items, which may run user code (a property, a __getitem__) --------------


def attr_tangent(obj, dobj, name):
    """The tangent of ``obj.name`` from the tangent ``dobj`` of ``obj``."""
    if WRITTEN.tangents:
        dobj = written_tangent(obj, dobj)  # what the writes into it made, through any name
    if _zero(dobj):
        return 0
    if isinstance(obj, (np.ndarray, np.generic)):
        if name == "T":
            return np.transpose(dobj)
        if name == "mT":
            return np.swapaxes(dobj, -1, -2)
        if name == "real":
            return np.real(dobj)
        if name == "imag":
            return np.imag(dobj)
        if callable(getattr(obj, name, None)):
            return dobj  # a bound method: its tangent is the array's
        return 0
    prop = getattr(type(obj), name, None)
    if isinstance(prop, property) and prop.fget is not None:
        return jvp_call(prop.fget, 0, (obj,), (dobj,))[1]
    if isinstance(prop, types.FunctionType):
        return dobj  # a bound method: its tangent is that of the object itself
    if type(dobj) is dict:
        return dobj.get(name, 0)
    return getattr(dobj, name, 0)


def keyed_item_tangent(dobj, obj, index, dindex):
    """The tangent of ``obj[index]`` where the key carries a tangent too (``np.r_[a, b]``)."""
    rule = rules.lookup(obj)
    if rule is not None and rule.kind != "nograd":
        return _call_rule(obj, rule, (index,), (dindex,), {}, None)[1]
    method = getattr(type(obj), "__getitem__", None)
    if isinstance(method, types.FunctionType):
        return jvp_call(method, 0, (obj, index), (dobj, dindex))[1]
    return item_tangent(dobj, obj, index)  # a container looked up by key: constant in the key


def item_tangent(dobj, obj, index):
    """The tangent of ``obj[index]`` from the tangent ``dobj`` of ``obj``."""
    if _zero(dobj):
        return 0
    method = getattr(type(obj), "__getitem__", None)
    if isinstance(method, types.FunctionType):
        return jvp_call(method, 0, (obj, index), (dobj, 0))[1]
    if type(dobj) is dict:
        return dobj.get(index, 0)
    if isinstance(obj, np.ndarray) and np.shape(dobj) != obj.shape:
        dobj = np.broadcast_to(dobj, obj.shape)
    return dobj[index]


def tangent_dict(d, mapping):
    """The tangents of the values of ``mapping`` (``**kwargs``) as a dict."""
    if _zero(d) or type(d) is not dict:
        return {k: 0 for k in mapping}
    return {k: d.get(k, 0) for k in mapping}


# The cache of forward transforms; the package hands it the helpers generated code calls.
FORWARD = ForwardCache(None)


def _nesting():
    """The module that nests forward and reverse mode (it builds on this one)."""
    return sys.modules[__package__ + ".nesting"]


def _protocol():
    """What a tangent rule registered with calls_back=True receives: the forward package."""
    return sys.modules[__package__]
