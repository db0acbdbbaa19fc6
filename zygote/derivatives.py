"""The forward-mode entry points and the derivatives built on them: jvp, Jacobians, Hessians, checkpointing.

``jvp`` pushes tangents through ``f`` by running its forward transform (``zygote.forward``);
``jacfwd`` pushes one basis tangent per input entry, ``jacrev`` pulls one basis cotangent per
output entry, and ``jacobian`` picks whichever needs fewer passes. ``hessian``, ``hvp`` and
``diaghessian`` push tangents through zygote's own gradient code (forward over reverse).
``checkpointed`` trades time for memory in reverse mode.
"""
import types

import numpy as np

from . import api, rules
from .activity import category
from .cotangents import is_zero
from .errors import GradientUsageError, UnsupportedSyntaxError
from .writes import InPlaceWriteError
from .forward import FORWARD, MissingTangentError, float_jvp, jvp_call, _bind
from .compiler.codegen import render
from .rules.tangents import tangent

_FUNCTION = types.FunctionType

__all__ = ["jvp", "pushforward", "jacfwd", "jacrev", "jacobian", "hessian", "hvp", "diaghessian",
           "checkpointed", "forward_source"]


def jvp(f, primals, tangents):
    """``(f(*primals), J·tangents)``: the value of ``f`` and its directional derivative.

    ``primals`` and ``tangents`` are tuples of the same structure; a tangent has its primal's
    shape. The result's tangent has the result's structure (zeros where nothing flows).

    >>> import math, zygote
    >>> zygote.jvp(lambda x, y: x * y + math.sin(x), (0.0, 3.0), (1.0, 0.0))
    (0.0, 4.0)
    """
    if type(f) is _FUNCTION and type(primals) is tuple and type(tangents) is tuple \
            and len(primals) == len(tangents):
        found = float_jvp(f, primals, tangents)
        if found is not None:
            y, dy = found
            return y, (dy if type(dy) is float or type(y) is not float else public_tangent(dy, y))
    _check(f, primals, tangents)
    y, dy = jvp_call(f, 0, tuple(primals), tuple(_as_tangent(t, p) for t, p in zip(tangents, primals)))
    return y, public_tangent(dy, y)


def pushforward(f, *primals):
    """The linear map ``tangents ↦ J·tangents`` of ``f`` at ``primals``, as a function.

    >>> import zygote
    >>> push = zygote.pushforward(lambda x: x ** 3, 2.0)
    >>> push(1.0), push(0.5)
    (12.0, 6.0)
    """
    def push(*tangents):
        return jvp(f, primals, tangents)[1]
    return push


def jacfwd(f, argnums=None):
    """A function computing the Jacobians of ``f`` by forward mode, one tangent per input entry.

    Like ``jacobian``, it returns one block per positional argument (``argnums``, an int or
    a tuple, picks them), of shape ``y.shape + x.shape``.

    >>> import numpy as np, zygote
    >>> zygote.jacfwd(lambda x: x ** 2)(np.array([1.0, 3.0]))
    (array([[2., 0.],
           [0., 6.]]),)
    """
    def jacobian_forward(*args):
        chosen = _argnums(argnums, len(args))
        blocks = []
        y = None
        for i in chosen:
            columns = []
            for k, basis in _basis(args[i]):
                tangents = tuple(basis if j == i else 0 for j in range(len(args)))
                y, dy = jvp_call(f, 0, tuple(args), tangents)
                columns.append(public_tangent(dy, y))
            if y is None:
                y = f(*args)
            blocks.append(_stack_columns(columns, y, args[i]))
        return blocks[0] if isinstance(argnums, int) else tuple(blocks)
    return jacobian_forward


def jacrev(f, argnums=None):
    """A function computing the Jacobians of ``f`` by reverse mode, one cotangent per output entry.

    >>> import numpy as np, zygote
    >>> zygote.jacrev(lambda x: x ** 2)(np.array([1.0, 3.0]))
    (array([[2., 0.],
           [0., 6.]]),)
    """
    def jacobian_reverse(*args):
        blocks = api.jacobian(f, *args)
        if argnums is None:
            return blocks
        if isinstance(argnums, int):
            return blocks[argnums]
        return tuple(blocks[i] for i in argnums)
    return jacobian_reverse


def jacobian(f, *args):
    """Jacobians of ``f`` with respect to each positional argument, of shape ``y.shape + x.shape``.

    Forward mode when the inputs have fewer entries than the output (one tangent per input
    entry), reverse mode otherwise (one cotangent per output entry).

    >>> import numpy as np, zygote
    >>> zygote.jacobian(lambda x: np.outer(x, x).ravel(), np.array([1.0, 2.0]))[0].shape
    (4, 2)
    """
    api._check_callable(f)
    y = f(*args)
    n_in = sum(np.size(a) for a in args if category(a) != "-")
    if isinstance(y, (int, float, np.number, np.ndarray)) and not isinstance(y, bool) \
            and n_in < np.size(y):
        return jacfwd(f)(*args)
    return api.jacobian(f, *args)


def hvp(f, x, v):
    """The Hessian of scalar ``f`` at ``x`` times ``v``: the tangent of ``∇f`` along ``v``.

    One forward pass through zygote's gradient code (forward over reverse); where forward
    mode cannot follow that code (writes into objects that other names see), one reverse
    pass over it instead (``f`` then runs again from the start).

    >>> import numpy as np, zygote
    >>> zygote.hvp(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([4., 2.])
    """
    api._check_callable(f)
    if not (isinstance(v, np.ndarray) and v.shape == np.shape(x) or type(v) is float):
        v = _as_tangent(v, x)
    try:
        return hvp_forward_over_reverse(f, x, v)
    except FORWARD_REFUSALS as refused:
        if not _forward_refused(refused) or not _arrays_or_numbers(x, v):
            raise
        return _hvp_reverse_over_reverse(f, x, v)


def hvp_forward_over_reverse(f, x, v):
    """``hvp`` by one forward pass through the gradient code, without the reverse fallback."""
    _, dg = jvp_call(api.gradient, 0, (f, x), (0, v))
    g = dg[0] if type(dg) is tuple else 0
    if type(g) is float or isinstance(g, np.ndarray) and g.shape == np.shape(x):
        return g  # (the common case, kept simple enough to be differentiated in reverse)
    return public_tangent(g, x)


FORWARD_REFUSALS = (InPlaceWriteError, UnsupportedSyntaxError, MissingTangentError)


def _forward_refused(error):
    """Whether ``error`` is forward mode declining a construct (not the user's own error)."""
    return isinstance(error, MissingTangentError) or "forward mode" in str(error)


def _arrays_or_numbers(*values):
    return all(isinstance(v, (float, int, np.ndarray)) and not isinstance(v, bool) for v in values)


def _hvp_reverse_over_reverse(f, x, v):
    """``hvp`` as the gradient of ``⟨∇f(x), v⟩`` (reverse over reverse)."""
    v = np.asarray(v, dtype=float) if isinstance(x, np.ndarray) else float(v)

    def along_v(x):
        return np.sum(api.gradient(f, x)[0] * v)
    (h,) = api.gradient(along_v, x)
    return h if h is not None else np.zeros_like(v)


def hessian(f, x):
    """The Hessian of scalar ``f`` at ``x``, of shape ``x.shape + x.shape``; a number for a number.

    Computed forward over reverse: one Hessian-vector product (``hvp``) per entry of ``x``.

    >>> import numpy as np, zygote
    >>> zygote.hessian(lambda x: x[0] ** 2 * x[1], np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    >>> zygote.hessian(lambda x: x ** 3, 2.0)
    12.0
    """
    api._check_callable(f)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return float(hvp(f, float(x), 1.0))
    x = np.asarray(x)
    bases = [basis for _, basis in _basis(x)]
    try:
        columns = [hvp_forward_over_reverse(f, x, basis) for basis in bases]
    except FORWARD_REFUSALS as refused:
        if not _forward_refused(refused):
            raise
        columns = [_hvp_reverse_over_reverse(f, x, basis) for basis in bases]
    H = np.stack(columns, axis=-1) if columns else np.zeros(x.shape * 2)
    return H.reshape(x.shape + x.shape)


def diaghessian(f, x):
    """The diagonal of the Hessian of scalar ``f`` at ``x``, of ``x``'s shape.

    >>> import numpy as np, zygote
    >>> zygote.diaghessian(lambda x: np.sum(x ** 3), np.array([1.0, 2.0]))
    array([ 6., 12.])
    """
    api._check_callable(f)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return hessian(f, x)
    x = np.asarray(x)
    out = np.zeros(x.shape, np.result_type(x.dtype, np.float64))
    for k, basis in _basis(x):
        out.flat[k] = hvp(f, x, basis).flat[k]
    return out


def checkpointed(f, *args):
    """``f(*args)``, whose pullback runs ``f`` again instead of keeping its intermediate values.

    Differentiated, a checkpointed call keeps only its arguments; its backward pass
    recomputes what it needs. Splitting a long loop into checkpointed segments bounds the
    memory of ``gradient`` by one segment's intermediates rather than the whole loop's.

    >>> import numpy as np, zygote
    >>> def segment(x):
    ...     for _ in range(10):
    ...         x = np.sin(x)
    ...     return x
    >>> zygote.gradient(lambda x: zygote.checkpointed(segment, x), 1.0) == zygote.gradient(segment, 1.0)
    True
    """
    return f(*args)


@rules.adjoint(checkpointed, calls_back=True, output_kind="a")
def _checkpointed_rule(protocol, f, *args):
    y = f(*args)
    mask = "a" + "".join(category(a) for a in args)

    def checkpointed_back(dy):
        _, back = protocol.call(mask, f, *args)  # the intermediates live only during this call
        parts = back(dy)
        return (parts[0],) + tuple(parts[1:1 + len(args)])
    return y, checkpointed_back


@tangent(checkpointed, calls_back=True)
def _checkpointed_tangent(forward, dargs, f, *args):
    return forward.jvp_call(f, dargs[0], args, tuple(dargs[1:]))


def forward_source(f, *example_args):
    """The generated forward function of ``f`` as Python source: ``(y, dy)`` from ``(x, dx)``.

    Without example arguments every positional parameter is taken to carry a tangent.
    """
    api._check_callable(f)
    code = f.__code__
    mask = "".join(category(a) for a in example_args) if example_args else "n" * code.co_argcount
    return render(FORWARD.entry_for(f, mask, "").forward.tree)


# -- helpers ------------------------------------------------------------------------------------


def _check(f, primals, tangents):
    api._check_callable(f)
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise GradientUsageError("jvp takes the primals and the tangents as tuples: jvp(f, (x,), (dx,))")
    if len(primals) != len(tangents):
        raise GradientUsageError(f"jvp got {len(primals)} primals and {len(tangents)} tangents")
    for p, t in zip(primals, tangents):
        if hasattr(p, "shape") and hasattr(t, "shape") and np.shape(p) != np.shape(t):
            raise GradientUsageError(f"a tangent of shape {np.shape(t)} for a primal of shape {np.shape(p)}")


def _as_tangent(t, p):
    if t is None:
        return 0
    if isinstance(p, np.ndarray) and not isinstance(t, np.ndarray) and not is_zero(t):
        return np.broadcast_to(np.asarray(t, dtype=np.result_type(p.dtype, np.float64)), p.shape).copy()
    return t


def public_tangent(dy, y):
    """A tangent as the user sees it: zeros of ``y``'s structure where it is a structural zero."""
    if is_zero(dy):
        if type(y) is float or type(y) is int:
            return 0.0
        if isinstance(y, (np.ndarray, np.number)):
            return np.zeros(np.shape(y), np.result_type(getattr(y, "dtype", np.float64), np.float64)) \
                if np.shape(y) else np.result_type(getattr(y, "dtype", np.float64), np.float64).type(0)
        if isinstance(y, (tuple, list)):
            return type(y)(public_tangent(0, item) for item in y)
        if isinstance(y, dict):
            return {k: public_tangent(0, v) for k, v in y.items()}
        return None
    if isinstance(y, (tuple, list)) and isinstance(dy, (tuple, list)):
        return type(y)(public_tangent(d, item) for d, item in zip(dy, y))
    if isinstance(y, dict) and isinstance(dy, dict):
        return {k: public_tangent(dy.get(k, 0), v) for k, v in y.items()}
    if isinstance(y, np.ndarray) and np.shape(dy) != y.shape:
        return np.broadcast_to(dy, y.shape).copy()
    return dy


def _basis(x):
    """``(k, e_k)`` for each entry of ``x``: a one-hot tangent of ``x``'s shape."""
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        yield 0, 1.0
        return
    x = np.asarray(x)
    dtype = np.result_type(x.dtype, np.float64)
    for k in range(x.size):
        e = np.zeros(x.size, dtype)
        e[k] = 1
        yield k, e.reshape(x.shape)


def _stack_columns(columns, y, x):
    y_shape, x_shape = np.shape(y), np.shape(x)
    if not columns:
        return np.zeros(y_shape + x_shape)
    stacked = np.stack([np.asarray(c) for c in columns], axis=-1)
    out = stacked.reshape(y_shape + x_shape)
    return out[()] if out.ndim == 0 else out


def _argnums(argnums, n):
    if argnums is None:
        return range(n)
    if isinstance(argnums, int):
        return (argnums,)
    return tuple(argnums)


_ = _bind  # (the binder is the forward protocol's; re-exported for the transforms' tests)
