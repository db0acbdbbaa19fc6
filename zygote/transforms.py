"""Function transforms: ``grad(f)`` and ``value_and_grad(f)``, functions that return f's gradient.

``grad(f, argnums=0)`` is the function ``x -> ∂f/∂x`` that JAX users know. What it returns
is made once and called many times, so after its first call on Python numbers or float arrays it runs
through an entry point compiled for ``f`` (``compiler.fastpath``) that checks, on every call,
what the gradient relies on: the kinds of the arguments, that ``f.__code__`` is the code it
was made from, and the globals the transform resolved (its guards). Globals and closure
cells are read when the gradient runs, as ``f`` reads them; a rule registered later takes
over. Inside differentiated code it runs as a call of ``gradient``, so transforms nest:
``grad(grad(f))`` is the second derivative.
"""
import functools
import types
import weakref

import numpy as np

from . import protocol, rules
from .activity import category
from .api import gradient
from .compiler.fastpath import MISS, entry_point
from .compiler.fused import fusable, fused_gradient
from .cotangents import is_zero, public, seed
from .errors import GradientUsageError, NonScalarOutputError, ZygoteError
from .params import params_mode

_TRANSFORMS = protocol.TRANSFORMS
_LIVE = weakref.WeakSet()  # gradient functions holding an entry point
_MAX_REBUILDS = 8  # entry points one gradient function compiles, for calls of changing kinds


def _forget_entry_points(fn):
    for made in list(_LIVE):
        made.fast = None  # a new rule may change any gradient: the next call looks again
        made.rebuilds = 0


rules.on_change(_forget_entry_points)


def grad(f, argnums=0, has_aux=False):
    """The function that returns the gradient of scalar ``f`` in its argument ``argnums``.

    ``grad(f)(*args)`` is ``zygote.gradient(f, *args)[0]``; with ``argnums`` a tuple it
    returns a tuple of gradients, one per index; with ``has_aux=True`` ``f`` returns
    ``(y, aux)``, and the result is ``(gradient, aux)``, with no gradient through ``aux``.
    Keyword arguments are passed to ``f`` and not differentiated.

    >>> import math, zygote
    >>> df = zygote.grad(lambda x, y: x * y + math.sin(x))
    >>> df(0.0, 3.0)
    4.0
    >>> zygote.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (5.0, 2.0)
    >>> zygote.grad(lambda x: (x ** 2, "aux"), has_aux=True)(3.0)
    (6.0, 'aux')
    >>> zygote.grad(zygote.grad(lambda x: x ** 3))(2.0)
    12.0
    """
    return _gradient_function(f, argnums, has_aux, False)


def value_and_grad(f, argnums=0, has_aux=False):
    """The function that returns ``(f(*args), gradient)`` from one run of ``f``.

    ``argnums`` and ``has_aux`` are as for ``grad``; with ``has_aux`` the value is the pair
    ``(y, aux)``.

    >>> import zygote
    >>> zygote.value_and_grad(lambda x: x ** 2)(3.0)
    (9.0, 6.0)
    >>> zygote.value_and_grad(lambda x: (x ** 2, len("aux")), has_aux=True)(3.0)
    ((9.0, 3), 6.0)
    """
    return _gradient_function(f, argnums, has_aux, True)


def _gradient_function(f, argnums, has_aux, with_value):
    # A partial of one module function, called from C: less per call than a class's __call__,
    # and inside differentiated code the call protocol finds that function's forward rule.
    made = functools.partial(call_gradient, GradientFunction(f, argnums, has_aux, with_value))
    for attribute in ("__module__", "__name__", "__qualname__", "__doc__"):
        if hasattr(f, attribute):
            setattr(made, attribute, getattr(f, attribute))
    return made


def call_gradient(made, *args, **kwargs):
    """What calling ``grad(f)`` does: the compiled entry point where it holds, else the general path."""
    fast = made.fast
    if fast is not None and not kwargs:
        result = fast(args)
        if result is not MISS:
            return result
    return made.general(args, kwargs)


class GradientFunction:
    """What a function made by ``grad`` or ``value_and_grad`` holds: ``f`` and how to differentiate it."""

    __slots__ = ("f", "argnums", "has_aux", "with_value", "fast", "rebuilds", "__weakref__")

    def __init__(self, f, argnums, has_aux, with_value):
        if not callable(f):
            raise GradientUsageError(f"expected a function to differentiate, got {type(f).__name__} {f!r:.60}")
        if not (type(argnums) is int or (isinstance(argnums, tuple)
                                          and all(type(i) is int for i in argnums))):
            raise GradientUsageError(f"argnums must be an int or a tuple of ints, got {argnums!r}")
        self.f = f
        self.argnums = argnums
        self.has_aux = has_aux
        self.with_value = with_value
        self.fast = None  # the compiled entry point, made by the first call on numbers
        self.rebuilds = 0

    def __repr__(self):
        name = "value_and_grad" if self.with_value else "grad"
        return f"{name}({getattr(self.f, '__qualname__', self.f)!r}, argnums={self.argnums!r})"

    def general(self, args, kwargs):
        f, argnums = self.f, self.argnums
        picked = (argnums,) if type(argnums) is int else argnums
        for i in picked:
            if not 0 <= i < len(args):
                raise GradientUsageError(f"argnums {argnums!r} for a call with {len(args)} positional "
                                         f"argument{'s' if len(args) != 1 else ''}")
        mask = "-" + "".join(category(a) if i in picked else "-" for i, a in enumerate(args)) \
            + "-" * len(kwargs)
        out, back = protocol.call(mask, f, *args, **kwargs)
        if self.has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise NonScalarOutputError(f"has_aux=True needs f to return a pair (y, aux), got "
                                           f"{type(out).__name__}")
            y, aux = out
            parts = back((seed(y), 0))
        else:
            y = out
            parts = back(seed(y))
        grads = tuple(public(parts[1 + i], args[i]) for i in picked)
        result = grads[0] if type(argnums) is int else grads
        if not self.has_aux:
            if self.rebuilds < _MAX_REBUILDS:
                # The entry point missed (or there was none): one for these kinds and guards.
                fast = self.compile_entry(args, kwargs)
                if fast is not None:
                    self.fast = fast
                    self.rebuilds += 1
            return (y, result) if self.with_value else result
        return (out, result) if self.with_value else (result, aux)

    def compile_entry(self, args, kwargs):
        """The compiled entry point for calls like this one, or None (its arguments are not
        numbers and float arrays)."""
        f = self.f
        made_from = ()
        if type(f) is functools.partial and f.func is call_gradient and not f.keywords \
                and len(f.args) == 1 and not kwargs:
            # grad(grad(g)): the gradient of g's fused gradient, checking g's code and guards too.
            inner = f.args[0]
            cats = "".join(category(a) for a in args)
            if inner.has_aux or inner.with_value or "a" in cats:
                return None
            f = _fused_target(inner, args, cats)
            if f is None:
                return None
            made_from = ((inner.f, _TRANSFORMS.entry_for(inner.f, cats, "")),)
        if self.with_value or kwargs or type(f) is not types.FunctionType or f in rules.RULES \
                or params_mode() is not None:
            return None
        kinds = tuple(map(type, args))
        code = f.__code__
        if not all(k is float or k is int or (k is np.ndarray and a.dtype.kind in "fc")
                   for k, a in zip(kinds, args)) or len(args) != code.co_argcount \
                or code.co_flags & 0x0C or code.co_kwonlyargcount:
            return None
        picked = (self.argnums,) if type(self.argnums) is int else self.argnums
        mask = "".join(category(a) if i in picked else "-" for i, a in enumerate(args))
        entry = _TRANSFORMS.entry_for(f, mask, "")
        _LIVE.add(self)
        return entry_point(f, entry, kinds, select=self.argnums, made_from=made_from)


def _fused_target(made, args, cats):
    """f's fused gradient picking ``argnums`` (``compiler.fused``), to differentiate as a plain
    function, when no cotangent can reach f's environment (no closure cells, no implicit
    parameters); else None."""
    f = made.f
    if type(f) is not types.FunctionType or f.__closure__ is not None or f in rules.RULES \
            or params_mode() is not None:
        return None
    code = f.__code__
    if len(args) != code.co_argcount or code.co_flags & 0x0C or code.co_kwonlyargcount:
        return None
    entry = _TRANSFORMS.entry_for(f, cats, "")
    return fused_gradient(f, entry, made.argnums) if fusable(entry) else None


def _grad_of(f, argnums, *args):
    """``grad(f, argnums)(*args)`` as code that zygote differentiates (nested transforms)."""
    parts = gradient(f, *args)
    if type(argnums) is int:
        return parts[argnums]
    return tuple([parts[i] for i in argnums])


def _forward_call(made, *args, **kwargs):
    """Inside differentiated code, a gradient function's call runs as ``_grad_of``."""
    if kwargs or made.has_aux or made.with_value:
        raise ZygoteError("differentiating a function made by value_and_grad, or by grad with "
                          "has_aux or called with keywords, is not supported; differentiate "
                          "grad(f) called with positional arguments")
    cats = "".join(category(a) for a in args)
    target = _fused_target(made, args, cats)
    if target is not None:
        def through_fused(parts):
            # (dtarget, *dargs) -> (dcall_gradient, dmade, *dargs); f's environment is constant
            return (0, 0) + tuple(parts[1:])
        return target, args, cats, through_fused

    def to_original(parts):
        # (d_grad_of, df, dargnums, *dargs) -> (dcall_gradient, dmade, *dargs)
        df = parts[1]
        return (0, {"f": df} if not is_zero(df) else 0) + tuple(parts[3:])
    return _grad_of, (made.f, made.argnums) + args, "a-" + cats, to_original


rules.forward_rule(call_gradient, _forward_call)
