"""Forward mode nested with reverse mode: the reverse protocol's adjoints get tangents, and
reverse mode differentiates ``jvp_call`` by running the generated forward function it forwards to.
"""
import inspect
import types

from .. import protocol, rules
from ..activity import category
from ..errors import ZygoteError
from ..rules import tangents as tangent_rules
from .calls import FORWARD, _bind, _env_mask, _forwarded_tangents, _zero, jvp_call


# -- the reverse protocol's structural adjoints: each linear in the cotangent it is handed -----


def _linear_in_cotangent(fn):
    """The tangent rule of ``fn(x, key, dy, *rest)``, linear in ``dy`` (``attr_back``'s trailing
    ``value`` only gives the cotangent its shape)."""
    def structural_tangent(dargs, *args):
        y = fn(*args)
        d = dargs[2] if len(dargs) > 2 else 0
        if _zero(d):
            return y, 0
        return y, fn(*args[:2], d, *args[3:])
    structural_tangent.__name__ = f"{fn.__name__}_tangent"
    return structural_tangent


for _helper in (protocol.getitem_back, protocol.attr_back, protocol.index_back):
    tangent_rules.tangent(_helper)(_linear_in_cotangent(_helper))
    tangent_rules.COTANGENT_LINEAR.add(_helper)


# -- reverse mode through forward mode -----------------------------------------------------------


def reverse_through_jvp(fn, dfn, args, dargs):
    """The forward rule of ``jvp_call``: differentiated in reverse, ``jvp_call(fn, dfn, args, dargs)``
    runs as the call of ``fn``'s generated forward function, whose tree zygote keeps."""
    return jvp_target(fn, dfn, args, dargs)[:4]


def jvp_target(fn, dfn, args, dargs):
    """``(target, new_args, kinds, to_original, from_original)``: the Python function that
    ``jvp_call(fn, dfn, args, dargs)`` runs, its arguments and their kinds, the map of their
    cotangents back to jvp_call's, and the map of jvp_call's tangents onto them."""
    args, dargs = tuple(args), tuple(dargs)
    kept = original = len(args)
    rule = rules.lookup(fn)
    while rule is not None and rule.kind == "forward":
        target, new_args, _, _ = rule.impl(*args)
        new_tangents = _forwarded_tangents(new_args, args, dargs)
        matched = 0
        while matched < min(len(new_args), len(args)) and new_args[-1 - matched] is args[-1 - matched]:
            matched += 1
        kept = min(kept, matched)
        fn, dfn, args, dargs = target, 0, tuple(new_args), new_tangents
        rule = rules.lookup(fn)
    if type(fn) is not types.FunctionType or rule is not None:
        paired = _rule_pair(fn, rule, args, dargs)
        if paired is not None:
            return paired
        raise ZygoteError(f"reverse mode through the forward mode of {getattr(fn, '__name__', fn)!s}: "
                          "differentiate a Python function that calls it instead")
    values, tangents = _bind(fn, args, dargs, {}, {}) if len(args) != fn.__code__.co_argcount \
        or fn.__code__.co_flags & 0x0C or fn.__code__.co_kwonlyargcount else (args, dargs)
    mask = "".join(["-" if _zero(d) else category(v) for v, d in zip(values, tangents)])
    env = _env_mask(fn, dfn)
    target = FORWARD.entry_for(fn, mask, env).function_for(fn)
    denv = dfn if type(dfn) is dict else 0
    kinds = ("a" if denv else "-") + "".join(category(v) for v in values) \
        + "".join("-" if _zero(t) else category(t) for t in tangents)
    n = len(values)
    code = fn.__code__
    spread = code.co_argcount if code.co_flags & 0x04 and not code.co_flags & 0x08 \
        and not code.co_kwonlyargcount else None

    def flat(found):
        # the cotangents of the arguments gathered by *args, one per argument again
        if spread is None:
            return tuple(found)
        rest = found[spread]
        count = len(args) - spread
        rest = (0,) * count if _zero(rest) else tuple(rest)
        return tuple(found[:spread]) + rest

    def to_original(parts):
        # (dtarget, ddenv, *dvalues, *dtangents) -> (djvp_call, dfn, ddfn, dargs, ddargs)
        dvalues, dtangents = flat(parts[2:2 + n]), flat(parts[2 + n:2 + 2 * n])
        tail = (lambda found: tuple(found[len(found) - kept:]) if kept else ())
        dargs_out = (0,) * (original - kept) + tail(dvalues)
        ddargs_out = (0,) * (original - kept) + tail(dtangents)
        return (0, 0, parts[1], dargs_out, ddargs_out)

    def packed(found):
        found = tuple(found)
        if spread is None:
            return found
        return found[:spread] + (found[spread:],)

    def from_original(tfn, tdfn, targs, tdargs):
        # tangents of (fn, dfn, args, dargs) -> tangents of (denv, *values, *tangents)
        def aligned(t):
            t = (0,) * original if _zero(t) else tuple(t)
            if any(not _zero(d) for d in t[:original - kept]):
                raise ZygoteError("forward mode through forward mode: a tangent in an unexpected place")
            flat_count = len(flat((0,) * n))
            return packed((0,) * (flat_count - kept) + (t[original - kept:] if kept else ()))
        return (tdfn if type(tdfn) is dict else 0,) + aligned(targs) + aligned(tdargs)
    return target, (denv,) + tuple(values) + tuple(tangents), kinds, to_original, from_original


def _rule_pair(fn, rule, args, dargs):
    """``jvp_call`` of a function with a rule as a Python function of (args, tangents) that reverse
    mode can differentiate (through ``fn``'s own pullback rule), or None."""
    n = len(args)
    consts = "-" * 2
    kinds = "".join(category(a) for a in args) + "".join("-" if _zero(d) else category(d) for d in dargs)

    def to_original(parts):
        # (dtarget, dfn, dinfo, *dargs, *ddargs) -> (djvp_call, dfn, ddfn, dargs, ddargs)
        return (0, 0, 0, tuple(parts[3:3 + n]), tuple(parts[3 + n:3 + 2 * n]))

    def from_original(tfn, tdfn, targs, tdargs):
        fill = (lambda t: (0,) * n if _zero(t) else tuple(t))
        return (0, 0) + fill(targs) + fill(tdargs)
    found = _rule_target(fn, rule, args, dargs, n, consts, kinds)
    return None if found is None else found + (to_original, from_original)


def _rule_target(fn, rule, args, dargs, n, consts, kinds):
    if fn in tangent_rules.LINEAR and n >= 1 and all(_zero(d) for d in dargs[1:]):
        return linear_pair, (fn, n) + tuple(args) + tuple(dargs), "-" + consts + kinds
    if fn in tangent_rules.BILINEAR and n == 2:
        return bilinear_pair, (fn, n) + tuple(args) + tuple(dargs), "-" + consts + kinds
    if fn in tangent_rules.SHAPED and n >= 1:
        # linear in the first argument; the others only give it its shape
        return linear_pair, (fn, n) + tuple(args) + tuple(dargs), "-" + consts + kinds
    if fn in tangent_rules.COTANGENT_LINEAR and n >= 3:
        return cotangent_linear_pair, (fn, n) + tuple(args) + tuple(dargs), "-" + consts + kinds
    if fn in tangent_rules.JOINTLY_LINEAR and n >= 2:
        return jointly_linear_pair, (fn, n) + tuple(args) + tuple(dargs), "-" + consts + kinds
    if tangent_rules.derived_from_expr(fn):
        names = list(inspect.signature(rule.impl).parameters)
        if names == list(rule.params) + ["y", "dy"] and n == len(rule.params):
            return elementwise_pair, (fn, rule.impl) + tuple(args) + tuple(dargs), "-" + consts + kinds
    return None


def linear_pair(fn, n, *values):
    """``(fn(x, *rest), fn(dx, *rest))`` for ``fn`` linear in ``x``."""
    args, tangents = values[:n], values[n:]
    if _zero(tangents[0]):
        return fn(*args), 0
    return fn(*args), fn(tangents[0], *args[1:])


def cotangent_linear_pair(fn, n, *values):
    """``(fn(x, key, dy, *rest), fn(x, key, ddy, *rest))`` for ``fn`` linear in ``dy``."""
    args, tangents = values[:n], values[n:]
    if _zero(tangents[2]):
        return fn(*args), 0
    return fn(*args), fn(*(args[:2] + (tangents[2],) + args[3:]))


def jointly_linear_pair(fn, n, *values):
    """``(fn(a, b, *rest), fn(da, db, *rest))`` for a sum of two cotangents ``a`` and ``b``."""
    args, tangents = values[:n], values[n:]
    if _zero(tangents[0]) and _zero(tangents[1]):
        return fn(*args), 0
    return fn(*args), fn(tangents[0], tangents[1], *args[2:])


def bilinear_pair(fn, n, a, b, da, db):
    """``(fn(a, b), fn(da, b) + fn(a, db))`` for ``fn`` bilinear."""
    y = fn(a, b)
    if _zero(da):
        return y, 0 if _zero(db) else fn(a, db)
    if _zero(db):
        return y, fn(da, b)
    return y, fn(da, b) + fn(a, db)


def elementwise_pair(fn, impl, *values):
    """``(fn(*args), Σ impl(args, y, d_i)[i])``: an elementwise expression rule applied to tangents."""
    n = len(values) // 2
    args, tangents = values[:n], values[n:]
    y = fn(*args)
    total = 0.0
    for i in range(n):
        if not _zero(tangents[i]):
            parts = impl(*args, y, tangents[i])
            total = total + (parts[i] if n > 1 else parts)
    return y, total


rules.forward_rule(jvp_call, reverse_through_jvp)
