"""The registry of differentiation rules, and the one API that registers them.

Rules are looked up by the identity of the function being called. There are three ways to
register one, each taking its metadata as keyword arguments:

- ``expr_rule(fn, lambda x, y, dy: ...)``: an *expression rule*, a lambda whose parameters
  are the primal function's parameters plus ``y`` (the result) and ``dy`` (its cotangent),
  returning one cotangent expression per primal parameter (``None`` where there is none);
  the compiler copies that expression into the adjoint.
- ``@adjoint(fn)``: a *pullback rule* returning ``(y, back)``, with ``back(dy)`` giving one
  cotangent per positional argument. ``output_kind="a"`` says the result is a container or
  object rather than a number or array; ``calls_back=True`` that the rule calls functions it
  is given (``map``) and takes the call protocol as its first parameter.
- ``nograd(fn, ...)``: functions that pass no gradient; ``keeps_numbers=True`` says one
  returns a Python number for Python numbers.

An expression rule may choose a cheaper expression where the compiler knows an argument's
value: ``b * a ** (b - 1) if constant(b) and type(b) is int and b > 0 else power_slope(a, b)``
is decided where the rule is inlined (``constant(b)`` holds where ``b`` is a constant of the
program), and both branches must give the same cotangent wherever the test holds.

``forward_rule`` is the fourth kind, for zygote's own entry points (``gradient`` and the
call protocol), which nested differentiation turns into calls of generated code.
"""
import inspect

__all__ = ["Rule", "RULES", "METHOD_RULES", "expr_rule", "adjoint", "nograd", "forward_rule",
           "lookup", "lookup_method", "on_change", "constant", "NUMERIC_OUTPUT", "ANY_OUTPUT"]

RULES = {}
METHOD_RULES = {}
AS_METHODS = {}  # method name -> the expression rule of the function that method computes

NUMERIC_OUTPUT = "n"  # a number or array: cotangents add with +
ANY_OUTPUT = "a"      # a container or object: cotangents add structurally


class Rule:
    """One registered rule: ``kind`` is ``"expr"``, ``"pullback"``, ``"nograd"`` or ``"forward"``.

    ``output_kind`` is what a pullback rule returns (``"n"`` a number or array, ``"a"``
    anything else); ``calls_back`` marks a pullback rule that takes the call protocol first;
    ``keeps_numbers`` a nograd function that maps Python numbers to a Python number; ``plan``,
    for a forward rule, plans calls whose callee and argument kinds the compiler knows,
    ``plan(fn, categories, active) -> StaticCall or None`` (see ``zygote.compiler.nested``).
    """

    __slots__ = ("fn", "kind", "impl", "params", "defaults", "elementwise", "name",
                 "_output_kind", "calls_back", "keeps_numbers", "plan", "as_method")

    def __init__(self, fn, kind, impl=None, params=(), defaults=None, elementwise=False, *,
                 output_kind=None, calls_back=False, keeps_numbers=False, plan=None, as_method=None):
        self.fn = fn
        self.kind = kind
        self.impl = impl
        self.params = tuple(params)
        self.defaults = defaults or {}
        self.elementwise = elementwise
        self.name = getattr(fn, "__name__", repr(fn))
        self._output_kind = output_kind
        self.calls_back = calls_back
        self.keeps_numbers = keeps_numbers
        self.plan = plan
        self.as_method = as_method

    @property
    def output_kind(self):
        """``"n"`` when the rule returns a number or array, ``"a"`` otherwise."""
        if self._output_kind is not None:
            return self._output_kind
        # Rules written before the keyword existed said so with an attribute on the function.
        impl = getattr(self.impl, "__wrapped__", self.impl)
        return getattr(impl, "zygote_output_kind", NUMERIC_OUTPUT)

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


def expr_rule(fn, adjoint_expr, elementwise=True, method_of=None, *, as_method=None):
    """Register ``adjoint_expr`` (a lambda over fn's parameters, ``y`` and ``dy``) for ``fn``.

    ``elementwise`` rules may receive a ``dy`` that still carries broadcast dimensions;
    the compiler sums it back to the argument's shape at the end. Other rules get an
    exact ``dy``. ``method_of=(type, name)`` registers an array method instead.
    ``as_method="name"`` says that ``fn(x)`` is ``x.name()`` for every number and array, so
    that where another rule's expression calls ``fn`` on one, the compiler writes the cheaper
    method call.
    """
    signature = inspect.signature(adjoint_expr)
    params, defaults = [], {}
    for name, param in signature.parameters.items():
        if name in ("y", "dy"):
            continue
        params.append(name)
        if param.default is not inspect.Parameter.empty:
            defaults[name] = param.default
    rule = Rule(fn, "expr", adjoint_expr, params, defaults, elementwise, as_method=as_method)
    if as_method is not None:
        AS_METHODS[as_method] = rule
    return _register(fn, rule, method_of)


def constant(value):
    """In an expression rule: whether ``value`` is a constant written in the differentiated code.

    The compiler decides it where it inlines the rule; where the rule runs at run time
    instead (a call it could not see), no argument is known, and this returns False.

    >>> constant(3)
    False
    """
    return False


def adjoint(fn, method_of=None, *, output_kind=NUMERIC_OUTPUT, calls_back=False):
    """Decorator registering a pullback rule for ``fn``.

    The decorated function takes fn's arguments and returns ``(y, back)``;
    ``back(dy)`` returns a tuple with one cotangent per positional argument (None allowed).
    ``output_kind="a"`` registers a rule whose result is a container or object (a list, a
    tuple of arrays) rather than a number or array. With ``calls_back=True`` the rule
    receives the call protocol (``zygote.protocol``) as its first argument, to differentiate
    the functions it is handed: ``protocol.call(mask, g, *args) -> (y, back)``.
    ``method_of=(type, name)`` registers a method of a built-in type instead.

    >>> import zygote
    >>> def cube(x):
    ...     return x ** 3
    >>> @zygote.adjoint(cube)
    ... def cube_rule(x):
    ...     return x ** 3, lambda dy: (3 * x ** 2 * dy,)
    >>> zygote.gradient(lambda x: cube(x) + 1, 2.0)
    (12.0,)
    """
    if output_kind not in (NUMERIC_OUTPUT, ANY_OUTPUT):
        raise ValueError(f"output_kind must be {NUMERIC_OUTPUT!r} or {ANY_OUTPUT!r}, got {output_kind!r}")

    def register(rule_fn):
        explicit = None if output_kind == NUMERIC_OUTPUT else output_kind
        _register(fn, Rule(fn, "pullback", _zeros_for_none(rule_fn), output_kind=explicit,
                           calls_back=calls_back), method_of)
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
    return pullback_rule


def nograd(*fns, method_of=None, keeps_numbers=False):
    """Mark ``fns`` non-differentiable: they run as usual and pass no gradient back.

    ``keeps_numbers=True`` says that they return a Python number for Python numbers, so
    that code on numbers around them stays code on numbers. ``method_of=(type, names)``
    marks methods of a built-in type instead.

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
        _register(fn, Rule(fn, "nograd", keeps_numbers=keeps_numbers))
    return fns[0] if len(fns) == 1 else fns


def forward_rule(fn, forward, *, plan=None):
    """Register ``forward(*args, **kwargs) -> (target, new_args, mask, to_original)`` for ``fn``.

    A call of ``fn`` inside differentiated code runs as the call ``target(*new_args)``, whose
    cotangents ``to_original`` maps back onto fn's. zygote's own ``gradient`` and call
    protocol are registered this way, which is what makes gradients nest. ``plan``, when
    given, plans such calls at transform time (see ``Rule``).
    """
    return _register(fn, Rule(fn, "forward", forward, plan=plan))


def lookup(fn):
    """The rule registered for ``fn``, or None."""
    try:
        return RULES.get(fn)
    except TypeError:  # unhashable callable
        return None


def lookup_as_method(name):
    """The expression rule whose function a number's or array's method ``name`` computes, or None."""
    return AS_METHODS.get(name)


def lookup_method(owner_type, name):
    for klass in owner_type.__mro__:
        rule = METHOD_RULES.get((klass, name))
        if rule is not None:
            return rule
    return None
