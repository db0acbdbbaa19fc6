"""The check that a differentiated call is the plain call: the same value, the same objects
left behind, and a gradient equal to central differences in float64."""
import copy

import numpy as np

import zygote


def equal(a, b):
    """Whether two results or argument states are the same values, structure included."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.shape(a) == np.shape(b) and np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(equal(p, q) for p, q in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        return np.allclose(a, b, rtol=1e-12, atol=1e-12)
    return a == b


def finite_differences(f, args, index, eps=1e-6, reset=None):
    """Central differences of scalar ``f`` in argument ``index`` (a float or float array),
    each call on fresh copies of ``args`` (and after ``reset()``, which restores the globals
    ``f`` writes) so that writes do not accumulate."""
    x = np.asarray(args[index], dtype=np.float64)
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        values = []
        for sign in (1, -1):
            moved = copy.deepcopy(list(args))
            point = np.array(x, copy=True)
            point[i] += sign * eps
            moved[index] = point if isinstance(args[index], np.ndarray) else float(point)
            if reset is not None:
                reset()
            values.append(float(f(*moved)))
        grad[i] = (values[0] - values[1]) / (2 * eps)
    return grad


def check_same(f, *args, state=None, reset=None, grad=True):
    """Assert that ``zygote.withgradient(f, *args)`` returns the plain call's value, leaves
    the arguments (and ``state()``, the globals or cells the function may write) as the plain
    call leaves them, and that each float or float-array argument's gradient matches central
    differences. ``reset()``, if given, restores the globals before every call. Returns the
    gradients."""
    restore = copy.deepcopy(state()) if state else None
    if reset is not None:
        reset()
    plain_args = copy.deepcopy(args)
    expected = f(*plain_args)
    expected_state = copy.deepcopy(state()) if state else None
    if state:
        _reset(state(), restore)
    if reset is not None:
        reset()
    ours_args = copy.deepcopy(args)
    value, grads = zygote.withgradient(f, *ours_args)
    assert equal(value, expected), f"value {value!r}, plain call {expected!r}"
    assert equal(list(ours_args), list(plain_args)), f"arguments left {ours_args!r}, plain call {plain_args!r}"
    if state:
        assert equal(state(), expected_state), f"state {state()!r}, plain call {expected_state!r}"
    if not grad:
        return grads
    for i, a in enumerate(args):
        if isinstance(a, float) or (isinstance(a, np.ndarray) and a.dtype.kind == "f"):
            if state:
                _reset(state(), restore)
            want = finite_differences(f, args, i, reset=reset)
            got = 0.0 if grads[i] is None else np.asarray(grads[i], dtype=np.float64)
            assert np.allclose(got, want, rtol=1e-5, atol=1e-6), f"gradient {i}: {got!r}, differences {want!r}"
    return grads


def _reset(target, values):
    if isinstance(target, dict):
        target.clear()
        target.update(copy.deepcopy(values))
    elif isinstance(target, list):
        target[:] = copy.deepcopy(values)
    elif isinstance(target, np.ndarray):
        target[...] = values
