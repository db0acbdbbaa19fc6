"""Differentiating zygote's own gradients: ``gradient`` and run-time calls inside differentiated code.

The primal and adjoint that zygote generates are Python functions whose trees are kept,
so zygote can transform them like user code. Two forward rules make nesting work to any
order: inside a differentiated function, ``gradient(f, *args)`` runs as the plain Python
function ``gradient_of(primal, adjoint, *args)`` over f's generated code, and a dynamic
call ``protocol.call(mask, g, *args) -> (y, back)`` runs as ``call_pair(primal, adjoint,
*args)``, whose ``back`` is a ``functools.partial`` of g's adjoint over its saved values.
``api`` and ``protocol`` register them (``rules.forward_rule``), each with the cache of
transforms to use, ``transforms``, bound as the first argument.
"""
import functools
import types

from ..activity import CONSTANT, ANY, callee_active, category
from ..cotangents import seed_like, unbroadcast
from ..errors import ZygoteError
from ..rules import RULES, objects
from ..rules import lookup_method as rules_lookup_method
from ..runtime import split_cotangent
from .cache import env_mask, param_mask_for


def gradient_of(primal, adjoint_fn, n_var, *args):
    """∇f(args): f's generated adjoint applied to what its generated primal saved."""
    y, saved = primal(*args)
    parts = protocol_back(adjoint_fn, n_var, None, saved, seed_like(y))
    return parts[1:]


# The call protocol (zygote.protocol, which imports this module and sets this name): what a
# rule registered with calls_back=True receives.
PROTOCOL = None


def call_pair(primal, adjoint_fn, n_var, to_call, *args):
    """``(y, back)`` of g from its generated primal and adjoint, as ``protocol.call`` returns them."""
    y, saved = primal(*args)
    return y, functools.partial(protocol_back, adjoint_fn, n_var, to_call, saved)


def call_rule_pair(rule_impl, *args):
    """``(y, back)`` of a function with a pullback rule, as ``protocol.call`` returns them."""
    y, back = rule_impl(*args)
    return y, functools.partial(rule_protocol_back, back, len(args))


def call_method_rule_pair(rule_impl, obj, name, *args):
    """``(y, back)`` of a built-in method ``obj.name`` with a pullback rule, as
    ``protocol.call_method`` returns them: ``back`` gives the object's cotangent first, then
    one per argument."""
    y, back = rule_impl(obj, *args)
    return y, functools.partial(rule_method_back, back, 1 + len(args))


def rule_method_back(back, n, dy):
    parts = tuple(back(dy))
    if len(parts) == n:
        return parts
    return parts[:n] + (0,) * (n - len(parts))


def call_constant_pair(fn, n, *args):
    """``(y, back)`` of a function without a derivative (``len``): ``back`` gives zeros."""
    return fn(*args), functools.partial(zero_protocol_back, n)


def zero_protocol_back(n, dy):
    return (0,) * (n + 1)


def call_protocol_rule_pair(rule_impl, protocol, *args):
    """``call_rule_pair`` of a rule that calls back into the protocol it is handed (``map``)."""
    y, back = rule_impl(protocol, *args)
    return y, functools.partial(rule_protocol_back, back, len(args))


def rule_protocol_back(back, n, dy):
    """A pullback rule's cotangents as the call protocol's ``(dfn, *dargs)``, one per argument."""
    parts = tuple(back(dy))
    return (0,) + parts[:n] + (0,) * (n - len(parts))


def call_expr_pair(fn, impl, n, defaults, exact, *args):
    """``(y, back)`` of a function with an expression rule whose lambda takes ``(*params, y, dy)``;
    ``defaults`` fill the parameters not passed, ``exact`` says the rule wants dy of y's shape."""
    y = fn(*args)
    return y, functools.partial(expr_protocol_back, impl, n, defaults, exact, args, y)


def expr_protocol_back(impl, n, defaults, exact, args, y, dy):
    if exact:
        dy = unbroadcast(dy, y)
    raw = impl(*(args + defaults), y, dy)
    parts = raw if n > 1 else (raw,)
    out = (0,)
    for i in range(len(args)):
        part = parts[i] if i < len(parts) else None
        out = out + ((0,) if part is None else (unbroadcast(part, args[i]),))
    return out


def protocol_back(adjoint_fn, n_var, to_call, saved, dy):
    """The adjoint's cotangents per parameter, as the call protocol's ``(dfn, *dargs)``."""
    parts = adjoint_fn(saved, dy)
    if n_var >= 0:
        parts = parts[:-1] + split_cotangent(parts[-1], n_var)
    if to_call is not None:
        parts = to_call(parts)
    return parts


def _generated(transforms, fn, mask, args):
    """(primal, adjoint, number of arguments gathered by *args or -1) for a Python function."""
    if type(fn) is not types.FunctionType:
        raise ZygoteError(
            f"nested differentiation through a call of {type(fn).__name__} {getattr(fn, '__name__', '')!s} "
            "is not supported; call it from a Python function")
    code = fn.__code__
    if code.co_kwonlyargcount or len(args) < code.co_argcount:
        raise ZygoteError(f"nested differentiation of {fn.__qualname__}: call it with all of its "
                          "positional arguments and no keyword-only parameters")
    entry = transforms.entry_for(fn, param_mask_for(fn, mask, args, {}),
                                 env_mask(fn, callee_active(mask)))
    n_var = len(args) - code.co_argcount if code.co_flags & 0x04 else -1
    adjoint_fn = entry.adjoint
    if code.co_flags & 0x08:
        adjoint_fn = _without_keywords_part(adjoint_fn)  # **kwargs, passed nothing
    return entry.primal_for(fn), adjoint_fn, n_var


def _without_keywords_part(adjoint_fn):
    """The adjoint of a function with ``**kwargs`` called without keywords, less its last
    part (the cotangent of that empty dict), so that the call protocol's layout holds."""
    def adjoint_without_keywords(saved, dy):
        return adjoint_fn(saved, dy)[:-1]
    return adjoint_without_keywords


def _positional_lambda(rule):
    """Whether an expression rule's lambda takes exactly ``(*params, y, dy)``, positionally."""
    code = getattr(rule.impl, "__code__", None)
    return code is not None and code.co_varnames[:code.co_argcount] == tuple(rule.params) + ("y", "dy")


def gradient_by_rule(rule_impl, *args):
    """∇f(args) from f's pullback rule: the rule's ``back`` applied to the seed."""
    y, back = rule_impl(*args)
    return back(seed_like(y))


def forward_gradient(transforms, f, *args, **kwargs):
    """The forward rule of ``gradient``: ``gradient(f, *args)`` as ``gradient_of(f's primal, adjoint, ...)``."""
    if kwargs:
        raise ZygoteError("nested gradient with keyword arguments is not supported")
    cats = "".join(category(a) for a in args)
    rule = RULES.get(f) if isinstance(f, types.FunctionType) else None
    if rule is not None and rule.kind == "pullback":
        # The rule defines f's gradient, at every order: differentiate the rule's code.
        def through_rule(parts):
            # (dgradient_by_rule, drule_impl, *dargs) -> (dgradient, df, *dargs)
            return (0, 0) + parts[2:]
        return gradient_by_rule, (rule.impl,) + args, "-" + cats, through_rule
    primal, adjoint_fn, n_var = _generated(transforms, f, "-" + cats, args)

    def to_original(parts):
        # (dgradient_of, dprimal, dadjoint, dn_var, *dargs) -> (dgradient, df, *dargs)
        return (0, parts[1]) + parts[4:]
    return gradient_of, (primal, adjoint_fn, n_var) + args, "a--" + cats, to_original


def forward_call(transforms, mask, fn, /, *args, **kwargs):
    """The forward rule of the call protocol: ``call(mask, g, *args)`` as ``call_pair(g's primal, adjoint, ...)``."""
    if kwargs:
        raise ZygoteError("nested differentiation of a call with keyword arguments is not supported")
    rule = RULES.get(fn)
    if rule is not None and rule.kind == "forward":
        # call(mask, fn, *args) returns (y, back): pair up the function fn forwards to.
        target, new_args, new_mask, inner = rule.impl(*args)
        primal, adjoint_fn, n_var = _generated(transforms, target, "-" + new_mask, new_args)

        def through_target(parts):
            # (dcall_pair, dprimal, dadjoint, dn_var, dto_call, *dnew_args) -> (dcall, dmask, dfn, *dargs)
            return (0, 0) + inner((parts[1],) + parts[5:])
        return (call_pair, (primal, adjoint_fn, n_var, inner) + tuple(new_args), "a---" + new_mask,
                through_target)
    if rule is not None and rule.kind == "pullback" and not rule.calls_back:
        # call(mask, fn, *args) of a function with a pullback rule: the rule's own code.
        def through_rule(parts):
            # (dcall_rule_pair, drule_impl, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, 0) + parts[2:]
        return call_rule_pair, (rule.impl,) + tuple(args), "-" + mask[1:], through_rule
    if rule is not None and rule.kind == "nograd":
        def through_constant(parts):
            # (dcall_constant_pair, dfn, dn, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, 0) + parts[3:]
        return call_constant_pair, (fn, len(args)) + tuple(args), "-" * (2 + len(args)), through_constant
    if rule is not None and rule.kind == "pullback" and rule.calls_back and not kwargs:
        def through_calling_rule(parts):
            # (dcall_protocol_rule_pair, drule_impl, dprotocol, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, 0) + parts[3:]
        return (call_protocol_rule_pair, (rule.impl, PROTOCOL) + tuple(args), "--" + mask[1:],
                through_calling_rule)
    if rule is not None and rule.kind == "expr" and not kwargs and len(args) <= len(rule.params) \
            and all(p in rule.defaults for p in rule.params[len(args):]) and _positional_lambda(rule):
        defaults = tuple(rule.defaults[p] for p in rule.params[len(args):])

        def through_expr(parts):
            # (dcall_expr_pair, dfn, dimpl, dn, ddefaults, dexact, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, 0) + parts[6:]
        return (call_expr_pair, (fn, rule.impl, len(rule.params), defaults, not rule.elementwise) + tuple(args),
                "-----" + mask[1:], through_expr)
    fn_char = ANY if callee_active(mask) else CONSTANT
    dunder = getattr(type(fn), "__call__", None)
    if not isinstance(fn, (type, types.FunctionType, functools.partial)) and isinstance(dunder, types.FunctionType):
        # An object with its own __call__: the method, with the object first.
        target, new_args, new_mask, through_method = forward_method(transforms, mask, fn, "__call__", *args)

        def through_call(parts):
            # (dcall_method, dmask, dobj, dname, *dargs) -> (dcall, dmask, dfn, *dargs)
            parts = through_method(parts)
            return (0, 0, parts[2]) + parts[4:]
        return target, new_args, new_mask, through_call
    if isinstance(fn, type) and (objects.builds(fn) or objects.is_namedtuple(fn)):
        # A class built from differentiated values: objects.build(cls, *args).
        build = objects.build_namedtuple if objects.is_namedtuple(fn) else objects.build
        primal, adjoint_fn, n_var = _generated(transforms, build, "--" + mask[1:], (fn,) + args)

        def through_build(parts):
            # (dcall_pair, dprimal, dadjoint, dn_var, dto_call, dcls, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, 0) + parts[6:]
        return (call_pair, (primal, adjoint_fn, n_var, _as_construct_call, fn) + args, "-----" + mask[1:],
                through_build)
    if type(fn) is functools.partial and not fn.keywords:
        # call(mask, partial(g, *bound), *args) is g(*bound, *args); bound values are active.
        bound = tuple(fn.args)
        inner_mask = "a" * len(bound) + mask[1:]
        primal, adjoint_fn, n_var = _generated(transforms, fn.func, "-" + inner_mask, bound + args)
        n = len(bound)

        def as_partial_call(parts):
            # g's (denv, *dbound, *dargs) -> the call protocol's (dpartial, *dargs) for the partial
            return ({"args": parts[1:1 + n]},) + parts[1 + n:]

        def through_partial(parts):
            # (dcall_pair, dprimal, dadjoint, dn_var, dto_call, *dbound, *dargs) -> (dcall, dmask, dfn, *dargs)
            return (0, 0, {"args": parts[5:5 + n]}) + parts[5 + n:]
        return (call_pair, (primal, adjoint_fn, n_var, as_partial_call) + bound + args,
                fn_char + "---" + inner_mask, through_partial)
    primal, adjoint_fn, n_var = _generated(transforms, fn, mask, args)

    def to_original(parts):
        # (dcall_pair, dprimal, dadjoint, dn_var, dto_call, *dargs) -> (dcall, dmask, dfn, *dargs)
        return (0, 0, parts[1]) + parts[5:]
    return call_pair, (primal, adjoint_fn, n_var, None) + args, fn_char + "---" + mask[1:], to_original


def forward_method(transforms, mask, obj, name, /, *args, **kwargs):
    """The forward rule of ``call_method``: ``obj.name(*args)``, for a method written in Python,
    as ``call_pair`` over the method's generated code with ``obj`` first."""
    if kwargs:
        raise ZygoteError("nested differentiation of a method call with keyword arguments is not supported")
    method = getattr(obj, name)
    if isinstance(obj, types.ModuleType):
        # np.sin(x) read as a method of the module: the call of the function it names
        target, new_args, new_mask, through_call = forward_call(transforms, "-" + mask[1:], method, *args)

        def through_module(parts):
            # (dtarget, *dnew_args) -> (dcall, dmask, dfn, *dargs) -> (dcall_method, dmask, dobj, dname, *dargs)
            return (0, 0, 0, 0) + through_call(parts)[3:]
        return target, new_args, new_mask, through_module
    rule = rules_lookup_method(type(obj), name) if type(method) is not types.MethodType else None
    if rule is not None and rule.kind == "pullback" and not rule.calls_back:
        # a built-in method with a pullback rule (dict.get): the rule's own code, obj first
        def through_method_rule(parts):
            # (dcall_rule_pair, drule_impl, dobj, dname, *dargs) -> (dcall_method, dmask, dobj, dname, *dargs)
            return (0, 0, parts[2], 0) + parts[4:]
        return (call_method_rule_pair, (rule.impl, obj, name) + tuple(args), "-" + mask[:1] + "-" + mask[1:],
                through_method_rule)
    if type(method) is not types.MethodType and callable(method) and not isinstance(method, type) \
            and name in getattr(obj, "__dict__", ()):
        # An attribute that holds a function (a layer's activation, ``self.act(z)``): the call
        # of that function, whose own cotangent is the attribute's in the object's
        target, new_args, new_mask, through_call = forward_call(transforms, mask, method, *args)

        def through_attribute(parts):
            # (dtarget, *dnew_args) -> (dcall, dmask, dfn, *dargs) -> (dcall_method, dmask, dobj, dname, *dargs)
            back = through_call(parts)
            dfn = back[2]
            return (0, 0, 0 if type(dfn) is int and dfn == 0 else {name: dfn}, 0) + tuple(back[3:])
        return target, new_args, new_mask, through_attribute
    if type(method) is not types.MethodType or method.__self__ is not obj:
        raise ZygoteError(f"nested differentiation through the method {name} of a "
                          f"{type(obj).__name__} is not supported; call it from a Python function")
    inner_mask = "-" + mask
    primal, adjoint_fn, n_var = _generated(transforms, method.__func__, inner_mask, (obj,) + args)

    def through_method(parts):
        # (dcall_pair, dprimal, dadjoint, dn_var, dto_call, dobj, *dargs) -> (dcall_method, dmask, dobj, dname, *dargs)
        return (0, 0, parts[5], 0) + parts[6:]
    return (call_pair, (primal, adjoint_fn, n_var, _as_method_call, obj) + args, "----" + mask,
            through_method)


def _as_method_call(parts):
    """The method protocol's ``(dobj, *dargs)`` from a method's ``(denv, dobj, *dargs)``."""
    return parts[1:]


def _as_construct_call(parts):
    """The call protocol's ``(dcls, *dargs)`` from ``build``'s ``(denv, dcls, *dargs)``."""
    return (0,) + parts[2:]

