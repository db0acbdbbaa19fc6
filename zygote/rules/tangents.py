"""Tangent rules for forward mode: how each registered function maps its arguments' tangents.

A tangent rule ``rule(dargs, *args, **kwargs) -> (y, dy)`` receives the tangents of the
positional arguments as a tuple (``0`` where an argument carries none) and returns the value
and its tangent. Most are derived rather than written:

- an elementwise expression rule (``expr_rule(np.tanh, lambda x, y, dy: dy * (1 - y * y))``)
  gives its tangent by applying the same expression to each argument's tangent and adding;
- ``linear(fn, ...)``: ``fn`` is linear in its first argument (``np.sum``, ``np.reshape``),
  so its tangent is ``fn`` of the first argument's tangent;
- ``bilinear(fn, ...)``: ``fn(a, b)`` is linear in each argument (``np.dot``), so its
  tangent is ``fn(da, b) + fn(a, db)``;
- ``tangent(fn)`` registers an explicit rule, for everything else.

>>> import numpy as np
>>> rule = lookup_tangent(np.sum)
>>> y, dy = rule((np.array([1.0, 2.0]),), np.array([3.0, 4.0]))
>>> float(y), float(dy)
(7.0, 3.0)
"""
import numpy as np

from . import RULES, lookup

__all__ = ["TANGENTS", "METHOD_TANGENTS", "UNCONJUGATED", "READS_TANGENTS", "tangent", "linear", "bilinear", "lookup_tangent",
           "lookup_method_tangent", "CALLS_BACK"]

TANGENTS = {}
METHOD_TANGENTS = {}
CALLS_BACK = set()  # rules that take the forward call protocol as their first argument
# Helpers of expression rules that conjugate a complex derivative for a cotangent; the tangent
# derived from such a rule multiplies by the derivative itself, so they are left out.
UNCONJUGATED = set()
LINEAR = set()     # registered by ``linear``: linear in the first argument
BILINEAR = set()   # registered by ``bilinear``
SHAPED = set()     # linear in the first argument, whatever the others (which give it a shape)
COTANGENT_LINEAR = set()  # linear in the third argument, the cotangent it is handed, whatever the others
JOINTLY_LINEAR = set()  # linear in the first two arguments together (a sum of cotangents)
# Functions whose tangent is not zero when their arguments' tangents are: they read tangents
# an earlier call left aside (the hand-off of an object's cotangent), so they always run their rule.
READS_TANGENTS = set()


def _zero(t):
    return type(t) is int and t == 0


def tangent(fn, method_of=None, *, calls_back=False):
    """Decorator registering ``rule(dargs, *args, **kwargs) -> (y, dy)`` as ``fn``'s tangent rule.

    A rule may return ``NotImplemented`` for tangents it does not handle (of an argument it
    is not linear in, say): the tangent is then computed from ``fn``'s pullback.

    With ``calls_back=True`` the rule receives the forward call protocol first, to push
    tangents through the functions it is handed (``map``): ``protocol.jvp_call(f, df, args, dargs)``.
    ``method_of=(type, name)`` registers a method of a built-in type instead.
    """
    def register(rule):
        if method_of is not None:
            METHOD_TANGENTS[method_of] = rule
        else:
            TANGENTS[fn] = rule
        if calls_back:
            CALLS_BACK.add(rule)
        return rule
    return register


def linear(*fns):
    """Register ``fns`` as linear in their first argument: the tangent is ``fn(dx, *rest)``."""
    for fn in fns:
        TANGENTS[fn] = _linear_rule(fn)
        LINEAR.add(fn)


def _linear_rule(fn):
    def linear_tangent(dargs, x, *rest, **kwargs):
        if any(not _zero(d) for d in dargs[1:]):
            return NotImplemented  # not linear in the others: the pullback decides
        y = fn(x, *rest, **kwargs)
        dx = dargs[0]
        if _zero(dx):
            return y, 0
        return y, fn(_full(dx, x), *rest, **kwargs)
    linear_tangent.__name__ = f"{getattr(fn, '__name__', 'fn')}_tangent"
    return linear_tangent


def bilinear(*fns):
    """Register ``fns`` as linear in each of their first two arguments: ``fn(da, b) + fn(a, db)``."""
    for fn in fns:
        TANGENTS[fn] = _bilinear_rule(fn)
        BILINEAR.add(fn)


def _bilinear_rule(fn):
    def bilinear_tangent(dargs, a, b, *rest, **kwargs):
        if any(not _zero(d) for d in dargs[2:]):
            return NotImplemented  # not linear in the others: the pullback decides
        y = fn(a, b, *rest, **kwargs)
        da, db = (tuple(dargs) + (0, 0))[:2]
        dy = 0
        if not _zero(da):
            dy = fn(_full(da, a), b, *rest, **kwargs)
        if not _zero(db):
            part = fn(a, _full(db, b), *rest, **kwargs)
            dy = part if _zero(dy) else dy + part
        return y, dy
    bilinear_tangent.__name__ = f"{getattr(fn, '__name__', 'fn')}_tangent"
    return bilinear_tangent


def _full(d, x):
    """Tangent ``d`` with the shape of ``x`` (a number stands for a constant array)."""
    if np.ndim(d) == np.ndim(x) or not hasattr(x, "shape"):
        return d
    return np.broadcast_to(d, np.shape(x))


def lookup_tangent(fn):
    """The tangent rule registered or derived for ``fn``, or None."""
    try:
        found = TANGENTS.get(fn)
    except TypeError:
        return None
    if found is not None:
        return found
    rule = lookup(fn)
    if rule is not None and rule.kind == "expr" and rule.elementwise:
        derived = elementwise_tangent(rule)
        TANGENTS[fn] = derived
        return derived
    return None


def lookup_method_tangent(owner_type, name):
    for klass in owner_type.__mro__:
        found = METHOD_TANGENTS.get((klass, name))
        if found is not None:
            return found
    return None


def elementwise_tangent(rule):
    """The tangent rule of an elementwise expression rule: its expression applied to each
    argument's tangent in place of ``dy``, summed (the derivative is diagonal)."""
    names = rule.params
    fn = rule.fn

    def derived_tangent(dargs, *args, **kwargs):
        y = fn(*args, **kwargs)
        bound = dict(rule.defaults)
        bound.update(zip(names, args))
        bound.update(kwargs)
        if any(np.iscomplexobj(a) for a in args) or np.iscomplexobj(y):
            # The rule multiplies by conj(f'(z)): conj(rule(conj(dz))) is f'(z) dz.
            return y, _sum_parts(rule, names, y, bound, dargs, complex_=True)
        return y, _fit(_sum_parts(rule, names, y, bound, dargs), y)
    derived_tangent.__name__ = f"{rule.name}_tangent"
    return derived_tangent


def _sum_parts(rule, names, y, bound, dargs, complex_=False):
    total = 0
    for i, d in enumerate(dargs):
        if _zero(d) or i >= len(names):
            continue
        raw = rule.impl(y=y, dy=np.conj(d) if complex_ else d, **bound)
        if len(names) == 1 or not isinstance(raw, tuple):
            raw = (raw,)
        part = raw[i] if i < len(raw) else None
        if part is None:
            continue
        if complex_:
            part = np.conj(part)
        total = part if _zero(total) else total + part
    return total


def _fit(d, y):
    if _zero(d) or type(y) is float or np.shape(d) == np.shape(y):
        return d
    return np.broadcast_to(d, np.shape(y)).copy()


def derived_from_expr(fn):
    """Whether ``fn``'s tangent comes from its elementwise expression rule."""
    rule = RULES.get(fn)
    return rule is not None and rule.kind == "expr" and rule.elementwise and fn not in TANGENTS
