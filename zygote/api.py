"""The public entry points: gradient, pullback, withgradient and adjoint_source."""
import functools
import types
from collections.abc import Collection

import numpy as np

from . import protocol, rules, structure
from .compiler import nested, planned
from .compiler.codegen import render
from .compiler.fastpath import MISS, entry_point
from .compiler.fused import fusable, fused_gradient
from .compiler.pipeline import env_names, stages
from .activity import category
from .cotangents import is_zero, published as _published, seed as _seed, unbroadcast
from .errors import GradientUsageError
from .ownership import own
from .recursion import active as headroom_active, back_with_headroom, with_headroom
from .params import Grads, Params, params_mode, params_scope, through_view

_TRANSFORMS = protocol.TRANSFORMS


def pullback(f, *args, **kwargs):
    """Run ``f(*args, **kwargs)`` and return ``(y, back)``.

    ``back(dy)`` returns the tuple of cotangents that ``gradient`` would, one per
    positional argument, for an output cotangent ``dy`` of ``y``'s shape. ``back`` owns
    what it saved: writing into the arguments, into ``y`` or into the globals ``f`` reads
    before calling ``back`` does not change its result (the saved arrays that share memory
    with them are copied when ``pullback`` returns; ``gradient`` does not need to copy).

    >>> import numpy as np, zygote
    >>> x = np.array([1.0, 2.0])
    >>> y, back = zygote.pullback(lambda x: x * x, x)
    >>> x[0] = 100.0
    >>> back(np.array([1.0, 10.0]))
    (array([ 2., 40.]),)
    """
    _check_callable(f)
    y, back = with_headroom(_owned_pullback, f, args, kwargs)
    return y, back_with_headroom(back)


def _owned_pullback(f, args, kwargs):
    if len(args) == 1 and isinstance(args[0], Params) and not kwargs:
        y, back = _pullback_params(f, args[0], owned=True)
        return y, back
    layouts = tuple(map(_layout, args))
    y, back = _pullback(f, args, kwargs)
    back = own(back, (args, kwargs, y, *_environment(f)))
    return y, _public_back(back, layouts)


def _pullback(f, args, kwargs):
    """``pullback`` without ownership: for callers that call ``back`` before returning."""
    mask = "-" + "".join(category(a) for a in args) + "".join(category(v) for v in kwargs.values())
    return protocol.call(mask, f, *args, **kwargs)


def _public_back(back, args):
    """``back`` giving one public cotangent per positional argument."""
    def public_back(dy):
        parts = back(dy)
        return _published(parts[1:1 + len(args)], args, dy)
    return public_back


def _layout(x):
    """What ``_published`` reads of an argument (containers, shapes, dtypes), kept apart from
    the argument, which the caller may change before calling ``back``."""
    if type(x) in (list, tuple):
        return type(x)(map(_layout, x))
    if type(x) is dict:
        return {key: _layout(value) for key, value in x.items()}
    if type(x) is np.ndarray:
        return np.broadcast_to(np.zeros((), x.dtype), x.shape)  # no copy of the data
    return x


def _environment(f):
    """What ``f`` reads besides its arguments: its own object, its cells and its globals."""
    fn = f.__func__ if isinstance(f, types.MethodType) else f
    found = [f]
    code = getattr(fn, "__code__", None)
    if code is not None:
        namespace = fn.__globals__
        found.extend(namespace[name] for name in env_names(code, namespace)[1] if name in namespace)
    return found


_HOT = {}  # function -> its compiled entry point (zygote.fastpath)
_FUNCTION = types.FunctionType
_RULES = rules.RULES
rules.on_change(lambda fn: _HOT.clear())  # a new rule takes over from entry points


_SEEN = {}  # function -> gradients taken of it so far, until it is given an entry point
# Compiling an entry point costs about a millisecond, some hundred calls' worth of what it saves:
# a function differentiated a few times (the first calls of a new function) does not pay it.
_CALLS_BEFORE_ENTRY = 16
_NDARRAY = np.ndarray


def _hot_path(f, args):
    """A cached ``(entry, primal)`` for ``f``; functions of numbers and float arrays
    differentiated again and again get an entry point (compiled on the ``_CALLS_BEFORE_ENTRY``-th call)."""
    entry, primal = _TRANSFORMS.fast_entry(f, args)
    if entry is not None and f.__closure__ is None:
        kinds = tuple(map(type, args))
        if all(k is float or k is int or (k is _NDARRAY and a.dtype.kind in "fc") for k, a in zip(kinds, args)):
            calls = _SEEN.get(f, 0) + 1
            if calls < _CALLS_BEFORE_ENTRY:
                if len(_SEEN) > 1024:
                    _SEEN.clear()
                _SEEN[f] = calls
            else:
                if len(_HOT) > 256:
                    _HOT.clear()
                made = entry_point(f, entry, kinds)
                if made is not None:
                    _HOT[f] = made
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
            if entry.reaches_out and not headroom_active():
                return with_headroom(gradient, f, *args)  # it may recurse (zygote.recursion)
            as_passed = _as_passed(args)
            y, saved = primal(*args)
            parts = adjoint(saved, 1.0 if type(y) is float else _seed(y))
            if len(args) == 1:
                g, a = parts[1], as_passed[0]
                return (g,) if type(g) is float and type(a) is float else _published((g,), as_passed)
            return _published(parts[1:], as_passed)
    _check_callable(f)
    if len(args) == 1 and isinstance(args[0], Params) and not kwargs:
        y, back = _pullback_params(f, args[0])
        return back(_seed(y))
    as_passed = _as_passed(args)
    y, back = _pullback(f, args, kwargs)
    return _public_back(back, as_passed)(_seed(y))


def _as_passed(args):
    """``args``, with the lists and dicts among them as ``_layout`` records them: the function
    may change their length, and a gradient has the structure of the value passed in."""
    for a in args:
        if type(a) is list or type(a) is dict:
            return tuple(map(_layout, args))
    return args


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
        as_passed = _as_passed(args)
        y, back = _pullback(f, args, kwargs)
        back = _public_back(back, as_passed)
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


def _pullback_params(f, ps, owned=False):
    ids = ps.ids
    with params_scope(ids, ps):
        y, back = protocol.call("-", f)
    if owned:
        back = own(back, (y, list(ps), *_environment(f)))

    def params_back(dy):
        with params_scope(ids, ps):
            parts = back(dy)
        grads = Grads(ps)
        _collect(f, parts[0], grads, ps)
        grads.own(dy)
        return grads
    return y, params_back


def _collect(value, cot, grads, ps, depth=0):
    """Walk ``value`` alongside its cotangent and record cotangents of the arrays in ``ps``
    (a ``Params``) and of views of them."""
    if is_zero(cot) or depth > 64:
        return
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        if id(value) in ps.ids:
            grads.accumulate(value, unbroadcast(cot, value))
        else:
            for param in ps.viewed_by(value):
                grads.accumulate(param, through_view(param, value, unbroadcast(cot, value)))
        return
    if isinstance(value, types.MethodType):
        _collect(value.__self__, cot, grads, ps, depth + 1)
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
            _collect(inner, part, grads, ps, depth + 1)
        return
    if isinstance(value, dict) and isinstance(cot, dict):
        for key, part in cot.items():
            if key in value:
                _collect(value[key], part, grads, ps, depth + 1)
        return
    if isinstance(cot, (list, tuple)) and isinstance(value, Collection) \
            and not isinstance(value, (str, bytes, dict)):
        # A list or tuple, or a container iterated over (a Params in `for p in ps`): the
        # cotangent has one entry per item, in the container's own order.
        for item, part in zip(value, cot):
            _collect(item, part, grads, ps, depth + 1)
        return
    if isinstance(cot, dict):
        for name, part in cot.items():
            if hasattr(value, name):
                _collect(getattr(value, name), part, grads, ps, depth + 1)


def jacobian(f, *args):
    """Jacobians of ``f`` with respect to each positional argument.

    Entry ``i`` has shape ``y.shape + args[i].shape`` for the output ``y = f(*args)``
    (a number or an array); it is built from one pullback per output element. For an
    argument that is a container or an object (a flux model), the entry has the structure
    of its gradient, with such an array at each leaf.

    >>> import numpy as np, zygote
    >>> zygote.jacobian(lambda x: x ** 2, np.array([1.0, 3.0]))[0]
    array([[2., 0.],
           [0., 6.]])
    """
    _check_callable(f)
    y, back = _pullback(f, args, {})
    back = _public_back(back, args)
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
    return tuple(_jacobian_of(x, [row[i] for row in rows], y_array.shape, dtype) for i, x in enumerate(args))


def _jacobian_of(x, rows, y_shape, dtype):
    """The Jacobian with respect to ``x`` from its gradients ``rows``, one per output entry:
    an array of shape ``y_shape + x.shape`` for a number or array, and for a container or an
    object (a flux model) the structure of its gradient with such an array at each leaf."""
    if isinstance(x, (int, float, np.ndarray, np.generic)) and not isinstance(x, bool):
        x_dtype = x.dtype if getattr(x, "dtype", None) is not None and x.dtype.kind == "f" else dtype
        block = np.zeros(y_shape + np.shape(x), dtype=x_dtype)
        for index, row in zip(np.ndindex(*y_shape), rows):
            if row is not None:
                block[index] = row
        return block
    if all(row is None for row in rows):
        return None
    if isinstance(x, (list, tuple)):
        parts = [_jacobian_of(item, [None if r is None else r[k] for r in rows], y_shape, dtype)
                 for k, item in enumerate(x)]
        return type(x)(*parts) if hasattr(type(x), "_fields") else type(x)(parts)
    fields = x.items() if isinstance(x, dict) else structure.attributes(x).items()
    out = {}
    for name, value in fields:
        part = _jacobian_of(value, [None if r is None else r.get(name) for r in rows], y_shape, dtype)
        if part is not None or isinstance(x, dict):
            out[name] = part
    return out


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
        return gradient(_first_derivative(f) or grad_f, float(x))[0]
    return jacobian(grad_f, x)[0]


def _first_derivative(f):
    """f's fused gradient in its one number parameter, a plain function that ``gradient``
    differentiates at full speed; None where cotangents could reach f's environment (closure
    cells, implicit parameters) or f is not a plain function of one parameter."""
    if type(f) is not _FUNCTION or f.__closure__ is not None or f in _RULES or params_mode() is not None:
        return None
    code = f.__code__
    if code.co_argcount != 1 or code.co_flags & 0x0C or code.co_kwonlyargcount:
        return None
    entry = _TRANSFORMS.entry_for(f, "f", "")
    return fused_gradient(f, entry, 0) if fusable(entry) else None


# Inside differentiated code, gradient(f, x) runs as a call of f's generated code, and when
# f and the kinds of x are known at transform time, as a direct call of f's fused gradient.
rules.forward_rule(gradient, functools.partial(nested.forward_gradient, _TRANSFORMS),
                   plan=functools.partial(planned.static_gradient, _TRANSFORMS))
