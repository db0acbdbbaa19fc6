"""The public entry points: gradient, pullback, withgradient and adjoint_source."""
import functools
import types
from collections.abc import Collection

import numpy as np

from . import protocol, rules
from .compiler import nested, planned
from .compiler.codegen import render
from .compiler.fastpath import MISS, entry_point
from .compiler.pipeline import stages
from .activity import category
from .cotangents import is_zero, public as _public, seed as _seed, unbroadcast
from .errors import GradientUsageError
from .params import Grads, Params, params_scope

_TRANSFORMS = protocol.TRANSFORMS


def pullback(f, *args, **kwargs):
    """Run ``f(*args, **kwargs)`` and return ``(y, back)``.

    ``back(dy)`` returns the tuple of cotangents that ``gradient`` would, one per
    positional argument, for an output cotangent ``dy`` of ``y``'s shape.

    >>> import numpy as np, zygote
    >>> y, back = zygote.pullback(lambda x: 2 * x, np.array([1.0, 2.0]))
    >>> back(np.array([1.0, 10.0]))
    (array([ 2., 20.]),)
    """
    _check_callable(f)
    if len(args) == 1 and isinstance(args[0], Params) and not kwargs:
        return _pullback_params(f, args[0])
    mask = "-" + "".join(category(a) for a in args) + "".join(category(v) for v in kwargs.values())
    y, back = protocol.call(mask, f, *args, **kwargs)

    def public_back(dy):
        parts = back(dy)
        return tuple(_public(g, a) for g, a in zip(parts[1:1 + len(args)], args))
    return y, public_back


_HOT = {}  # function -> its compiled entry point (zygote.fastpath)
_FUNCTION = types.FunctionType
_RULES = rules.RULES
rules.on_change(lambda fn: _HOT.clear())  # a new rule takes over from entry points


_SEEN = set()  # functions of numbers differentiated once: the second call compiles an entry


def _hot_path(f, args):
    """A cached ``(entry, primal)`` for ``f``; functions of numbers differentiated again and
    again get an entry point (a function differentiated once does not pay its compilation)."""
    entry, primal = _TRANSFORMS.fast_entry(f, args)
    if entry is not None and f.__closure__ is None:
        kinds = tuple(map(type, args))
        if all(k is float or k is int for k in kinds):
            if f not in _SEEN:
                if len(_SEEN) > 1024:
                    _SEEN.clear()
                _SEEN.add(f)
            else:
                if len(_HOT) > 256:
                    _HOT.clear()
                _HOT[f] = entry_point(f, entry, kinds)
    return entry, primal


def gradient(f, *args, **kwargs):
    """Gradient of the scalar function ``f`` with respect to each positional argument.

    Returns a tuple with one entry per positional argument: a float for a number, an
    array of the argument's shape for an array, the same structure for a list, tuple or
    dict, a dict of attribute gradients for an object, and None where the output does
    not depend on the argument. ``gradient(f, ps)`` with ``ps`` a ``Params`` and ``f``
    taking no arguments returns ``Grads``.

    >>> import math, zygote
    >>> zygote.gradient(lambda x, y: x * y + math.sin(x), 0.0, 3.0)
    (4.0, 0.0)
    """
    hot = _HOT.get(f) if type(f) is _FUNCTION else None
    if hot is not None and not kwargs:
        result = hot(args)
        if result is not MISS:
            return result
    if type(f) is _FUNCTION and not kwargs and f not in _RULES:
        # The common case without the general dispatch: a plain function, positional arguments.
        entry, primal = _hot_path(f, args)
        adjoint = entry.adjoint if entry is not None else None
        if adjoint is not None:
            y, saved = primal(*args)
            parts = adjoint(saved, 1.0 if type(y) is float else _seed(y))
            if len(args) == 1:
                g, a = parts[1], args[0]
                return (g if type(g) is float and type(a) is float else _public(g, a),)
            return tuple(map(_public, parts[1:], args))
    _check_callable(f)
    if len(args) == 1 and isinstance(args[0], Params) and not kwargs:
        y, back = _pullback_params(f, args[0])
        return back(_seed(y))
    y, back = pullback(f, *args, **kwargs)
    return back(_seed(y))


def withgradient(f, *args, **kwargs):
    """``(f(*args), gradient(f, *args))`` computed in one pass.

    >>> import zygote
    >>> zygote.withgradient(lambda x: x ** 2, 3.0)
    (9.0, (6.0,))
    """
    _check_callable(f)
    if len(args) == 1 and isinstance(args[0], Params) and not kwargs:
        y, back = _pullback_params(f, args[0])
    else:
        y, back = pullback(f, *args, **kwargs)
    return y, back(_seed(y))


def adjoint_source(f, *example_args, simplified=True):
    """The generated primal and adjoint of ``f`` as Python source.

    Without example arguments every positional parameter is taken to be a number or
    array; with them, the activity pattern of those values is used. The code is shown after
    copy propagation (``zygote.compiler.simplify``), which removes the copies between
    unnamed temporaries and their cotangents; ``simplified=False`` shows the transform's
    output as it is before that pass (what runs for array code, where the pass is skipped
    because it would cost more than it saves).

    >>> import zygote
    >>> def f(x):
    ...     return 3.0 * x
    >>> print(zygote.adjoint_source(f, 2.0).splitlines()[-1])
        return 0, dx
    """
    _check_callable(f)
    fn = f.__func__ if isinstance(f, types.MethodType) else f
    code = fn.__code__
    if example_args:
        mask = "".join(category(a) for a in example_args)
    else:
        mask = "n" * code.co_argcount
    done = stages(fn, mask, "", protocol.HELPERS, functools.partial(planned.static_call, _TRANSFORMS),
                  simplify=simplified, compile=False)
    return render(done.transformed.primal, done.transformed.adjoint)


# -- helpers --------------------------------------------------------------------------------


def _check_callable(f):
    if not callable(f):
        raise GradientUsageError(f"expected a function to differentiate, got {type(f).__name__} {f!r:.60}")


def _pullback_params(f, ps):
    ids = ps.ids
    with params_scope(ids):
        y, back = protocol.call("-", f)

    def params_back(dy):
        with params_scope(ids):
            parts = back(dy)
        grads = Grads(ps)
        _collect(f, parts[0], grads, ids)
        return grads
    return y, params_back


def _collect(value, cot, grads, ids, depth=0):
    """Walk ``value`` alongside its cotangent and record cotangents of arrays in ``ids``."""
    if is_zero(cot) or depth > 64:
        return
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if id(value) in ids:
            grads.accumulate(value, unbroadcast(cot, value))
        return
    if isinstance(value, types.MethodType):
        _collect(value.__self__, cot, grads, ids, depth + 1)
        return
    if isinstance(value, types.FunctionType) and isinstance(cot, dict):
        code = value.__code__
        cells = dict(zip(code.co_freevars, value.__closure__ or ()))
        for name, part in cot.items():
            if name in cells:
                try:
                    inner = cells[name].cell_contents
                except ValueError:
                    continue
            elif name in value.__globals__:
                inner = value.__globals__[name]
            else:
                continue
            _collect(inner, part, grads, ids, depth + 1)
        return
    if isinstance(value, dict) and isinstance(cot, dict):
        for key, part in cot.items():
            if key in value:
                _collect(value[key], part, grads, ids, depth + 1)
        return
    if isinstance(cot, (list, tuple)) and isinstance(value, Collection) \
            and not isinstance(value, (str, bytes, dict)):
        # A list or tuple, or a container iterated over (a Params in `for p in ps`): the
        # cotangent has one entry per item, in the container's own order.
        for item, part in zip(value, cot):
            _collect(item, part, grads, ids, depth + 1)
        return
    if isinstance(cot, dict):
        for name, part in cot.items():
            if hasattr(value, name):
                _collect(getattr(value, name), part, grads, ids, depth + 1)


def jacobian(f, *args):
    """Jacobians of ``f`` with respect to each positional argument.

    Entry ``i`` has shape ``y.shape + args[i].shape`` for the output ``y = f(*args)``
    (a number or an array); it is built from one pullback per output element.

    >>> import numpy as np, zygote
    >>> zygote.jacobian(lambda x: x ** 2, np.array([1.0, 3.0]))[0]
    array([[2., 0.],
           [0., 6.]])
    """
    _check_callable(f)
    y, back = pullback(f, *args)
    if isinstance(y, bool) or not isinstance(y, (int, float, np.number, np.ndarray)):
        raise GradientUsageError(f"jacobian needs a function returning a number or an array, got "
                                 f"{type(y).__name__}")
    y_array = np.asarray(y)
    dtype = y_array.dtype if y_array.dtype.kind == "f" else np.float64
    rows = []
    for index in np.ndindex(*y_array.shape):
        seed = np.zeros(y_array.shape, dtype=dtype)
        seed[index] = 1
        rows.append(back(seed if y_array.ndim else seed[()]))
    out = []
    for i, x in enumerate(args):
        x_shape = np.shape(x)
        x_dtype = getattr(x, "dtype", dtype) if getattr(x, "dtype", None) is not None \
            and x.dtype.kind == "f" else dtype
        block = np.zeros(y_array.shape + x_shape, dtype=x_dtype)
        for index, row in zip(np.ndindex(*y_array.shape), rows):
            if row[i] is not None:
                block[index] = row[i]
        out.append(block)
    return tuple(out)


def hessian(f, x):
    """The Hessian of scalar ``f`` at ``x``, of shape ``x.shape + x.shape``.

    Computed by differentiating zygote's own gradient code (reverse over reverse), one
    pullback of the gradient per entry of ``x``.

    >>> import numpy as np, zygote
    >>> zygote.hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    _check_callable(f)

    def grad_f(x):
        return gradient(f, x)[0]
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return gradient(grad_f, float(x))[0]
    return jacobian(grad_f, x)[0]


# Inside differentiated code, gradient(f, x) runs as a call of f's generated code, and when
# f and the kinds of x are known at transform time, as a direct call of f's fused gradient.
rules.forward_rule(gradient, functools.partial(nested.forward_gradient, _TRANSFORMS),
                   plan=functools.partial(planned.static_gradient, _TRANSFORMS))
