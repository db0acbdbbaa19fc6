"""The public entry points: gradient, pullback, withgradient and adjoint_source."""
import types
from collections.abc import Collection

import numpy as np

from . import runtime
from .compiler.analysis import category
from . import rules
from .compiler.cache import fast_entry, transformed_for
from .compiler.codegen import render
from .compiler.fastpath import MISS, entry_point
from .errors import GradientUsageError, NonScalarOutputError
from .params import Grads, Params


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
    y, back = runtime.call(mask, f, *args, **kwargs)

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
    entry, primal = fast_entry(f, args)
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


def adjoint_source(f, *example_args):
    """The generated primal and adjoint of ``f`` as Python source.

    Without example arguments every positional parameter is taken to be a number or
    array; with them, the activity pattern of those values is used.
    """
    _check_callable(f)
    fn = f.__func__ if isinstance(f, types.MethodType) else f
    code = fn.__code__
    if example_args:
        mask = "".join(category(a) for a in example_args)
    else:
        mask = "n" * code.co_argcount
    transformed = transformed_for(fn, mask)
    return render(transformed.primal, transformed.adjoint)


# -- helpers --------------------------------------------------------------------------------


def _check_callable(f):
    if not callable(f):
        raise GradientUsageError(f"expected a function to differentiate, got {type(f).__name__} {f!r:.60}")


def _seed(y):
    """The cotangent 1 in the output's type, after checking the output is a real scalar."""
    if type(y) is float:
        return 1.0
    if isinstance(y, bool) or not isinstance(y, (int, float, np.number, np.ndarray)):
        if hasattr(y, "shape") and hasattr(y, "dtype"):
            y = np.asarray(y)
        else:
            raise NonScalarOutputError(
                f"gradient needs a function returning a real scalar, got {type(y).__name__}"
                f"{' ' + repr(y)[:60] if not isinstance(y, (list, tuple, dict)) else ''}; "
                "use zygote.pullback(f, x) and call back(dy) for other outputs")
    if isinstance(y, np.ndarray) or isinstance(y, np.generic):
        if y.size != 1:
            raise NonScalarOutputError(
                f"gradient needs a scalar output, got an array of shape {y.shape}; reduce it "
                "(e.g. .sum()), or use zygote.pullback(f, x) with back(dy), or zygote.jacobian")
        if y.dtype.kind not in "fiu":
            raise NonScalarOutputError(f"gradient needs a real output, got dtype {y.dtype}")
        if y.dtype.kind == "f":
            return np.ones_like(y) if isinstance(y, np.ndarray) and y.ndim else y.dtype.type(1)
        return 1.0
    if isinstance(y, complex):
        raise NonScalarOutputError("gradient needs a real output, got a complex number")
    return 1.0


def _public(g, x):
    """Turn an internal cotangent into the form ``gradient`` promises for argument ``x``."""
    if type(g) is float and type(x) is float:
        return g
    if runtime.is_zero(g) or category(x) == "-":
        return None
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return float(np.real(g)) if np.ndim(g) == 0 else float(np.sum(g))
    if isinstance(x, np.ndarray):
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(runtime.unbroadcast(g, x), x.shape).copy()
        return g
    if isinstance(x, np.generic):
        return x.dtype.type(g)
    if isinstance(x, (list, tuple)):
        if not isinstance(g, (list, tuple)) or len(g) != len(x):
            raise GradientUsageError(f"internal error: gradient of a {type(x).__name__} of length "
                                     f"{len(x)} has the wrong structure")
        return type(x)(_public(gi, xi) for gi, xi in zip(g, x))
    if isinstance(x, dict):
        return {k: _public(g.get(k, 0), v) for k, v in x.items()} if isinstance(g, dict) else g
    if isinstance(g, dict):
        out = {}
        for name, part in g.items():
            value = getattr(x, name, None)
            cleaned = _public(part, value) if value is not None else part
            if cleaned is not None:
                out[name] = cleaned
        return out or None
    return g


def _pullback_params(f, ps):
    ids = ps.ids
    with runtime.params_scope(ids):
        y, back = runtime.call("-", f)

    def params_back(dy):
        with runtime.params_scope(ids):
            parts = back(dy)
        grads = Grads(ps)
        _collect(f, parts[0], grads, ids)
        return grads
    return y, params_back


def _collect(value, cot, grads, ids, depth=0):
    """Walk ``value`` alongside its cotangent and record cotangents of arrays in ``ids``."""
    if runtime.is_zero(cot) or depth > 64:
        return
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if id(value) in ids:
            grads.accumulate(value, runtime.unbroadcast(cot, value))
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
