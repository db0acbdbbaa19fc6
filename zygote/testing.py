"""Gradient checking: zygote's gradients compared with central differences in float64.

``check_grad(f, *args)`` is how every rule is tested. Arguments that carry a derivative
(floats, float arrays, and lists, tuples or dicts of them) are converted to float64 copies; every
other argument (ints used as shapes or axes, bools, None, functions) passes through
unchanged and is not checked. Small inputs are checked coordinate by coordinate, larger
ones along a few random unit directions ``v``, comparing ``(f(x + εv) - f(x - εv)) / 2ε``
with ``⟨∇f, v⟩``.

Functions under test should return a scalar that weighs every output element differently
(``weighted_sum``), so that a cotangent of ones cannot hide a transposed or misplaced
gradient.
"""
import numpy as np

from .api import gradient
from .rules import nograd

__all__ = ["check_grad", "weighted_sum", "output_weights"]


def check_grad(f, *args, rtol=1e-5, atol=1e-7, eps=1e-6, directions=3, full_max=20, seed=0):
    """Check ``zygote.gradient(f, *args)`` against central differences; return the gradient.

    ``f`` must return a real scalar. When the differentiable arguments hold at most
    ``full_max`` numbers in all, every coordinate is perturbed by ``±eps``; otherwise each
    differentiable argument is checked along ``directions`` random unit directions drawn
    with ``seed``. An entry passes when ``|zygote - difference| <= atol + rtol * scale``,
    with ``scale`` the larger magnitude of the two. Every array in the gradient must be
    writable and its own (not a view), so that updating it in place changes nothing else.

    Args:
        f: the function to differentiate.
        *args: its positional arguments.

    Returns:
        The tuple ``zygote.gradient(f, *args)`` for the float64 copies of ``args``.

    Raises:
        AssertionError: naming the argument index, the largest absolute error and both values.

    Examples:
        >>> import numpy as np
        >>> from zygote.testing import check_grad
        >>> check_grad(lambda x, axis: np.sum(np.sin(x).sum(axis=axis) * [1.0, 2.0]), np.ones((3, 2)), 0)
        (array([[0.54030231, 1.08060461],
               [0.54030231, 1.08060461],
               [0.54030231, 1.08060461]]), None)
    """
    args = tuple(_float64_copy(a) for a in args)
    grads = gradient(f, *args)
    if not isinstance(grads, tuple) or len(grads) != len(args):
        raise AssertionError(f"check_grad: gradient returned {grads!r}, expected one entry per argument")
    _check_owned(grads, set())
    slots = [i for i, a in enumerate(args) if _size(a) > 0]
    total = sum(_size(args[i]) for i in slots)
    rng = np.random.default_rng(seed)
    for i in slots:
        flat_x, rebuild = _flatten(args[i])
        flat_g = _flatten_gradient(grads[i], args[i], i)

        def value_at(flat, i=i, rebuild=rebuild):
            moved = list(args)
            moved[i] = rebuild(flat)
            return _scalar(f(*moved))

        if total <= full_max:
            basis = np.eye(flat_x.size)
            expected = np.array([_difference(value_at, flat_x, e, eps) for e in basis])
            _compare(flat_g, expected, rtol, atol, f"argument {i}")
        else:
            for k in range(directions):
                v = rng.standard_normal(flat_x.size)
                v /= np.linalg.norm(v)
                expected = _difference(value_at, flat_x, v, eps)
                _compare(np.array([flat_g @ v]), np.array([expected]), rtol, atol,
                         f"argument {i}, random direction {k}")
    return grads


@nograd
def output_weights(shape, seed=0):
    """Fixed, uneven weights in [0.5, 2) of ``shape`` (a zygote constant).

    >>> output_weights((2,), seed=0).round(3)
    array([1.455, 0.905])
    """
    return np.random.default_rng(seed).uniform(0.5, 2.0, shape)


def weighted_sum(y, seed=0):
    """``Σ w·y`` with weights ``output_weights(shape(y), seed)``: a scalar that weighs each entry differently.

    Usable inside a differentiated function; the weights carry no gradient. The weights
    are float64, so for float32 tests compute ``w`` outside and close over ``w.astype(...)``.

    >>> import numpy as np, zygote
    >>> zygote.gradient(lambda x: weighted_sum(x * 3.0), np.zeros(2))[0].round(3)
    array([4.366, 2.714])
    """
    w = output_weights(np.shape(y), seed)
    return np.sum(y * w)


# -- helpers --------------------------------------------------------------------------------


def _check_owned(g, seen):
    """Every array in the gradient ``g`` is writable, owns its memory and appears once."""
    if isinstance(g, np.ndarray):
        if not g.flags.writeable or not g.flags.owndata or id(g) in seen:
            raise AssertionError("check_grad: a gradient array is read-only, a view or shared "
                                 f"(writeable={g.flags.writeable}, owndata={g.flags.owndata})")
        seen.add(id(g))
    elif isinstance(g, (list, tuple)):
        for part in g:
            _check_owned(part, seen)
    elif isinstance(g, dict):
        for part in g.values():
            _check_owned(part, seen)


def _is_float(a):
    if isinstance(a, bool):
        return False
    if isinstance(a, (float, np.floating)):
        return True
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _float64_copy(a):
    """``a`` with every float leaf as a float64 copy; other values unchanged."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(np.float64, copy=True)
    if isinstance(a, np.floating):
        return float(a)
    if isinstance(a, (list, tuple)):
        return type(a)(_float64_copy(x) for x in a)
    if isinstance(a, dict):
        return {k: _float64_copy(v) for k, v in a.items()}
    return a


def _size(a):
    """How many differentiable numbers ``a`` holds."""
    if _is_float(a):
        return int(np.size(a))
    if isinstance(a, (list, tuple)):
        return sum(_size(x) for x in a)
    if isinstance(a, dict):
        return sum(_size(x) for x in a.values())
    return 0


def _flatten(a):
    """``(vector, rebuild)``: ``a``'s float leaves as one vector, and the inverse map."""
    if _is_float(a):
        shape = np.shape(a)
        if isinstance(a, np.ndarray):
            return a.reshape(-1).copy(), lambda v: v.reshape(shape).copy()
        return np.array([float(a)]), lambda v: float(v[0])
    if isinstance(a, (list, tuple, dict)):
        values = list(a.values()) if isinstance(a, dict) else a
        parts = [_flatten(x) for x in values]
        sizes = [p[0].size for p in parts]
        ends = np.cumsum(sizes)

        def rebuild(v):
            pieces = [rb(v[end - n:end]) for (_, rb), n, end in zip(parts, sizes, ends)]
            return dict(zip(a, pieces)) if isinstance(a, dict) else type(a)(pieces)
        vector = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0)
        return vector, rebuild
    return np.zeros(0), lambda v: a


def _flatten_gradient(g, a, index):
    """The gradient ``g`` of argument ``a`` as a vector aligned with ``_flatten(a)``."""
    if g is None:
        return np.zeros(_size(a))
    if _is_float(a):
        if isinstance(a, np.ndarray):
            if np.shape(g) != a.shape:
                raise AssertionError(f"check_grad: argument {index}: gradient of shape {np.shape(g)} "
                                     f"for an argument of shape {a.shape}")
        elif np.ndim(g) != 0:
            raise AssertionError(f"check_grad: argument {index}: gradient {g!r} of a scalar is not a scalar")
        return np.asarray(g, dtype=np.float64).reshape(-1)
    if isinstance(a, (list, tuple)):
        if not isinstance(g, (list, tuple)) or len(g) != len(a):
            raise AssertionError(f"check_grad: argument {index}: gradient {g!r} does not match "
                                 f"a {type(a).__name__} of length {len(a)}")
        parts = [_flatten_gradient(gi, ai, index) for gi, ai in zip(g, a)]
        return np.concatenate(parts) if parts else np.zeros(0)
    if isinstance(a, dict):
        if not isinstance(g, dict) or not set(g) <= set(a):
            raise AssertionError(f"check_grad: argument {index}: gradient {g!r} does not match a dict "
                                 f"with keys {list(a)}")
        parts = [_flatten_gradient(g.get(k), v, index) for k, v in a.items()]
        return np.concatenate(parts) if parts else np.zeros(0)
    return np.zeros(0)


def _scalar(value):
    if np.size(value) != 1:
        raise AssertionError(f"check_grad needs f to return a scalar, got shape {np.shape(value)}")
    return float(np.real(np.reshape(value, ())))


def _difference(value_at, x, v, eps):
    """The central difference of ``value_at`` at ``x`` along ``v``."""
    return (value_at(x + eps * v) - value_at(x - eps * v)) / (2 * eps)


def _compare(actual, expected, rtol, atol, what):
    error = np.abs(actual - expected)
    scale = np.maximum(np.abs(actual), np.abs(expected))
    if not np.all(error <= atol + rtol * scale):
        raise AssertionError(
            f"check_grad: {what}: zygote's gradient differs from central differences "
            f"(max abs error {float(np.max(error)):.3g})\n  zygote:      {actual}\n"
            f"  differences: {expected}")
