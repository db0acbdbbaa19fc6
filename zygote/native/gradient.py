"""The compiled gradient functions: guards, the numba call, and the interpreted fallback."""
import functools
import operator
import re
import warnings

import numpy as np

from .. import api
from ..activity import category
from ..errors import GradientUsageError, NonScalarOutputError
from ..rules import adjoint
from .lower import COMPILED_GRADIENT, NativeUnsupportedError, env_value, lower

_NUMBA_LINE = re.compile(r'File "[^"]*(zygote_native_[0-9a-f]+)\.py", line (\d+)')
_USER_LINE = re.compile(r"# line (\d+):")


_NUMBERS = (float, int, bool)


class NativeFallbackWarning(UserWarning):
    """``compile="auto"`` could not compile a function and runs its interpreted gradient."""


def grad(f, argnums=0, compile="numba"):
    """The gradient of the scalar function ``f`` as a function, compiled with numba.

    ``argnums`` is one parameter's position or a tuple of them (then a tuple of gradients is
    returned). ``compile="numba"`` raises ``NativeUnsupportedError`` naming the construct and
    its file:line when something of ``f`` cannot be compiled; ``compile="auto"`` then warns
    once (``NativeFallbackWarning``) and runs zygote's interpreted gradient instead.

    Globals and closure values are read at every call, as in the interpreted path; a function
    that ``f`` calls is compiled for the object it names at compile time, and a call after that
    name was rebound compiles again.

    >>> import zygote.native
    >>> def f(x, y):
    ...     return x * x * y
    >>> zygote.native.grad(f, argnums=(0, 1))(3.0, 2.0)
    (12.0, 9.0)
    """
    return _as_function(CompiledGradient(f, argnums, compile, with_value=False))


def value_and_grad(f, argnums=0, compile="numba"):
    """Like ``grad``, but the function returns ``(f(*args), gradient)``.

    >>> import zygote.native
    >>> zygote.native.value_and_grad(lambda x: x ** 3)(2.0)
    (8.0, 12.0)
    """
    return _as_function(CompiledGradient(f, argnums, compile, with_value=True))


def _as_function(gradient):
    """A plain function calling ``gradient``, so that zygote can differentiate a call of it."""
    def compiled_gradient(*args):
        return run_compiled(gradient, args)
    compiled_gradient.gradient = gradient
    setattr(compiled_gradient, COMPILED_GRADIENT, gradient)
    compiled_gradient.__doc__ = gradient.__doc__
    compiled_gradient.__qualname__ = compiled_gradient.__name__ = \
        f"grad({getattr(gradient.f, '__qualname__', 'f')})"
    return compiled_gradient


def run_compiled(gradient, args):
    """``gradient`` (a ``CompiledGradient``) at the tuple of arguments ``args``."""
    return gradient.call(args)


@adjoint(run_compiled, output_kind="a")
def _run_compiled_rule(gradient, args):
    def run_compiled_back(dy):
        # The derivative of a compiled gradient is that of the interpreted one, which zygote
        # differentiates as it does any nested gradient.
        _, back = api.pullback(gradient.interpreted, *args)
        return None, back(dy)
    return gradient(*args), run_compiled_back


class _Entry:
    """The compiled function for one activity pattern, and what it was compiled for.

    Globals and cells are looked up in the namespaces they live in, found once here, so that
    the checks and reads of every call are dictionary lookups.
    """

    def __init__(self, code, run, env, guards, text):
        self.code = code
        self.run = run
        self.text = text
        self.reads = [_reader(owner, name) for owner, name, _ in env]
        self.checks = list({(id(owner), name): (_reader(owner, name), value)
                            for owner, name, value in guards}.values())

    def holds(self, fn):
        if fn.__code__ is not self.code:
            return False
        for read, value in self.checks:
            if read() is not value:
                return False
        return True

    def environment(self):
        return [read() for read in self.reads]


def _reader(owner, name):
    """A function returning the current value of the global or closure name ``name`` of ``owner``."""
    code = owner.__code__
    if name in code.co_freevars and owner.__closure__ is not None:
        cell = owner.__closure__[code.co_freevars.index(name)]
        return lambda: cell.cell_contents
    namespace = owner.__globals__
    if name in namespace:
        return functools.partial(namespace.get, name)
    return functools.partial(env_value, owner, name)


class CompiledGradient:
    """``grad(f)``: call it with ``f``'s arguments."""

    def __init__(self, f, argnums, mode, with_value):
        if mode not in ("numba", "auto"):
            raise GradientUsageError(f"compile must be 'numba' or 'auto', got {mode!r}")
        if not callable(f) or not hasattr(f, "__code__"):
            raise GradientUsageError(f"expected a Python function to compile, got {f!r:.60}")
        self.f = f
        self.argnums = argnums
        self.mode = mode
        self.with_value = with_value
        self.entries = {}  # activity pattern -> _Entry
        self.by_types = {}  # argument types (numbers only) -> _Entry
        self.fallback = None  # the reason the interpreted gradient runs instead
        self.pick = _picker(argnums)
        self.__doc__ = f"The gradient of {getattr(f, '__qualname__', f)!s}, compiled with numba."

    def __call__(self, *args):
        return self.call(args)

    def call(self, args):
        """The gradient at the tuple of arguments ``args``."""
        # The fast path: number arguments of types seen before, compiled code still current.
        fast = self.by_types.get(tuple(map(type, args)))
        if fast is not None and fast.holds(self.f):
            return self._finish(fast, args)
        if self.fallback is not None:
            return self._interpreted(args)
        mask = "".join(category(a) for a in args)
        entry = self.entries.get(mask)
        if entry is None or not entry.holds(self.f):
            try:
                entry = self.entries[mask] = self._build(mask)
            except NativeUnsupportedError as error:
                return self._fall_back(error, args)
        if all(type(a) in _NUMBERS for a in args):
            self.by_types[tuple(map(type, args))] = entry
        return self._finish(entry, args)

    def _finish(self, entry, args):
        """Run ``entry`` at ``args``; the picked gradients (and the value with ``with_value``)."""
        try:
            if entry.reads:
                y, grads = entry.run(*args, *entry.environment(), 1.0)
            else:
                y, grads = entry.run(*args, 1.0)
        except Exception as error:  # numba reports typing failures at the first call
            failure = _numba_failure(error, entry.text, self.f)
            if failure is None:
                raise
            self.entries = {m: e for m, e in self.entries.items() if e is not entry}
            self.by_types = {k: e for k, e in self.by_types.items() if e is not entry}
            if self.mode == "numba":
                raise failure from None
            return self._fall_back(failure, args)
        if type(y) is not float and np.ndim(y) != 0:
            raise NonScalarOutputError(f"grad needs a scalar output, got an array of shape {np.shape(y)}")
        picked = self.pick(grads)
        return (y, picked) if self.with_value else picked

    def _build(self, mask):
        from .store import load, module_text
        unit = lower(self.f, mask)
        module = load(unit)
        return _Entry(self.f.__code__, getattr(module, unit.entry), unit.env, unit.guards,
                      module_text(unit))

    def _fall_back(self, error, args):
        if self.mode == "numba":
            raise error
        self.fallback = str(error)
        self.by_types = {}
        warnings.warn(f"{self.f.__qualname__} runs its interpreted gradient: {error}",
                      NativeFallbackWarning, stacklevel=3)
        return self._interpreted(args)

    def _interpreted(self, args):
        return self.interpreted(*args)

    def interpreted(self, *args):
        """What the compiled function computes, by zygote's interpreted gradient."""
        picked = _pick(api.gradient(self.f, *args), self.argnums)
        if self.with_value:
            return self.f(*args), picked
        return picked


def _picker(argnums):
    """A function taking the gradients of every parameter to those ``argnums`` asks for."""
    if isinstance(argnums, int):
        return operator.itemgetter(argnums)
    if len(argnums) == 0:
        return lambda grads: ()
    if len(argnums) == 1:
        only, = argnums
        return lambda grads: (grads[only],)
    return operator.itemgetter(*argnums)


def _pick(grads, argnums):
    if isinstance(argnums, int):
        return grads[argnums]
    return tuple(grads[i] for i in argnums)


def _numba_failure(error, text, fn):
    """A ``NativeUnsupportedError`` for numba's compile failure ``error``, at the user's line."""
    try:
        from numba.core import errors
    except ImportError:  # pragma: no cover
        return None
    if not isinstance(error, errors.NumbaError):
        return None
    lines = text.splitlines()
    found = _NUMBA_LINE.findall(str(error))
    user_line = None
    if found:
        generated = int(found[-1][1])
        for line in reversed(lines[:generated]):
            marker = _USER_LINE.search(line)
            if marker:
                user_line = int(marker.group(1))
                break
    summary = str(error).strip().splitlines()
    reason = next((s for s in summary if "No implementation" in s or "Unknown attribute" in s
                   or "Cannot unify" in s or "Untyped global" in s), summary[0] if summary else "")
    reason = re.sub(r"\x1b\[[0-9;]*m", "", reason).strip()
    return NativeUnsupportedError(f"code numba rejects ({reason})", fn.__code__.co_filename,
                                  user_line or fn.__code__.co_firstlineno)
