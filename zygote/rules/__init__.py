"""The registry of differentiation rules: expression rules the compiler inlines, pullback rules, nograd.

Rules are looked up by the identity of the function being called. An expression rule is
a lambda whose parameters are the primal function's parameters plus ``y`` (the result)
and ``dy`` (its cotangent), returning one cotangent expression per primal parameter
(``None`` where there is none); the compiler copies that expression into the adjoint.
A pullback rule returns ``(y, back)`` with ``back(dy)`` giving one cotangent per argument.
"""
import inspect

__all__ = ["Rule", "RULES", "METHOD_RULES", "expr_rule", "adjoint", "nograd", "lookup",
           "lookup_method", "on_change"]

RULES = {}
METHOD_RULES = {}


class Rule:
    """One registered rule: ``kind`` is ``"expr"``, ``"pullback"`` or ``"nograd"``."""

    __slots__ = ("fn", "kind", "impl", "params", "defaults", "elementwise", "name",
                 "call_pullback", "static")

    def __init__(self, fn, kind, impl=None, params=(), defaults=None, elementwise=False):
        self.fn = fn
        self.kind = kind
        self.impl = impl
        self.params = tuple(params)
        self.defaults = defaults or {}
        self.elementwise = elementwise
        self.name = getattr(fn, "__name__", repr(fn))
        self.call_pullback = None  # set by runtime: a (y, back) function of the call-site args
        # For a forward rule: a plan for calls whose callee and argument kinds the transform
        # knows, ``static(fn, categories, active) -> StaticCall or None`` (see zygote.nested).
        self.static = None

    def __repr__(self):
        return f"Rule({self.name}, {self.kind})"


_LISTENERS = []


def on_change(listener):
    """Call ``listener(fn)`` whenever a rule is registered for ``fn`` (None for a method):
    caches of how calls are made drop what the new rule changes."""
    _LISTENERS.append(listener)


def _register(fn, rule, method_of=None):
    if method_of is not None:
        METHOD_RULES[method_of] = rule
    else:
        RULES[fn] = rule
    for listener in _LISTENERS:
        listener(fn)
    return rule


def expr_rule(fn, adjoint_expr, elementwise=True, method_of=None):
    """Register ``adjoint_expr`` (a lambda over fn's parameters, ``y`` and ``dy``) for ``fn``.

    ``elementwise`` rules may receive a ``dy`` that still carries broadcast dimensions;
    the compiler sums it back to the argument's shape at the end. Other rules get an
    exact ``dy``. ``method_of=(type, name)`` registers an array method instead.
    """
    signature = inspect.signature(adjoint_expr)
    params, defaults = [], {}
    for name, param in signature.parameters.items():
        if name in ("y", "dy"):
            continue
        params.append(name)
        if param.default is not inspect.Parameter.empty:
            defaults[name] = param.default
    rule = Rule(fn, "expr", adjoint_expr, params, defaults, elementwise)
    return _register(fn, rule, method_of)


def adjoint(fn, method_of=None):
    """Decorator registering a pullback rule for ``fn``.

    The decorated function takes fn's arguments and returns ``(y, back)``;
    ``back(dy)`` returns a tuple with one cotangent per positional argument (None allowed).

    >>> import zygote
    >>> def cube(x):
    ...     return x ** 3
    >>> @zygote.adjoint(cube)
    ... def cube_rule(x):
    ...     return x ** 3, lambda dy: (3 * x ** 2 * dy,)
    >>> zygote.gradient(lambda x: cube(x) + 1, 2.0)
    (12.0,)
    """
    def register(rule_fn):
        _register(fn, Rule(fn, "pullback", _zeros_for_none(rule_fn)), method_of)
        return rule_fn
    return register


def _zeros_for_none(rule_fn):
    """Wrap a pullback rule so that its ``back`` gives 0, zygote's structural zero, for None."""
    def pullback_rule(*args, **kwargs):
        y, back = rule_fn(*args, **kwargs)

        def back_without_none(dy):
            if type(dy) is int and dy == 0:
                return (0,) * len(args)  # a structural zero: nothing flows back
            parts = back(dy)
            if type(parts) is not tuple:
                parts = tuple(parts)
            if any(p is None for p in parts):
                parts = tuple(0 if p is None else p for p in parts)
            return parts
        return y, back_without_none
    pullback_rule.__name__ = getattr(rule_fn, "__name__", "pullback_rule")
    pullback_rule.__wrapped__ = rule_fn
    kind = getattr(rule_fn, "zygote_output_kind", None)
    if kind is not None:
        pullback_rule.zygote_output_kind = kind
    return pullback_rule


def nograd(*fns, method_of=None):
    """Mark ``fns`` non-differentiable: they run as usual and pass no gradient back.

    >>> import zygote
    >>> def noisy(x):
    ...     return x
    >>> _ = zygote.nograd(noisy)
    >>> zygote.gradient(lambda x: noisy(x) * x, 3.0)
    (3.0,)
    """
    if method_of is not None:
        for name in method_of[1]:
            _register(None, Rule(None, "nograd"), (method_of[0], name))
        return fns[0] if len(fns) == 1 else fns
    for fn in fns:
        _register(fn, Rule(fn, "nograd"))
    return fns[0] if len(fns) == 1 else fns


def lookup(fn):
    """The rule registered for ``fn``, or None."""
    try:
        return RULES.get(fn)
    except TypeError:  # unhashable callable
        return None


def lookup_method(owner_type, name):
    for klass in owner_type.__mro__:
        rule = METHOD_RULES.get((klass, name))
        if rule is not None:
            return rule
    return None
