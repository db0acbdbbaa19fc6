"""Fixtures for the flux tests: gradient checks of functions and models against central differences."""

import numpy as np
import pytest

import zygote
from flux.functor import is_parameter, lookup, walk

RTOL, ATOL, STEP = 1e-5, 1e-7, 1e-6


@pytest.fixture(autouse=True)
def one_blas_thread():
    """Run BLAS on one thread: the tests' matrices are small, and on a busy machine BLAS
    threads waiting for each other cost more than they save."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def weights_like(out, seed=1):
    """Fixed uneven weights for reducing an output to a scalar, so a cotangent of ones hides nothing."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, np.shape(out))


def central_difference(scalar, x):
    """Central-difference gradient of ``scalar()`` with respect to the array ``x``, perturbed in place."""
    grad = np.zeros(x.shape)
    flat = x.reshape(-1)
    assert np.shares_memory(flat, x)
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + STEP
        above = scalar()
        flat[i] = original - STEP
        below = scalar()
        flat[i] = original
        grad.flat[i] = (above - below) / (2 * STEP)
    return grad


def assert_close(actual, expected, what):
    assert actual is not None, f"zygote gave no gradient for {what}"
    actual = np.asarray(actual, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def reduce_output(out, weights):
    return np.sum(np.sin(out) * weights)


@pytest.fixture
def check_grad():
    """``check_grad(f, *args, wrt=None)``: zygote's gradient of ``Σ w·sin(f(*args))`` vs central differences.

    ``args`` are float64 arrays (or other values, left alone); ``wrt`` lists the indices of the
    arguments to check (default: every float array).
    """
    def check(f, *args, wrt=None):
        weights = weights_like(f(*args))

        def scalar(*inputs):
            return reduce_output(f(*inputs), weights)

        grads = zygote.gradient(scalar, *args)
        assert len(grads) == len(args)
        indices = wrt if wrt is not None else [i for i, a in enumerate(args) if is_parameter(a)]
        for i in indices:
            expected = central_difference(lambda: scalar(*args), args[i])
            assert_close(grads[i], expected, f"argument {i}")
        return grads
    return check


@pytest.fixture
def check_model_grad():
    """``check_model_grad(f, model)``: the nested gradient of ``Σ w·sin(f(model))`` vs differences.

    Every trainable array of the (float64) model is checked, found by path in zygote's result.
    """
    def check(f, model):
        weights = weights_like(f(model))

        def scalar(m):
            return reduce_output(f(m), weights)

        (grads,) = zygote.gradient(scalar, model)
        checked = 0
        for path, array in walk(model, (), True, frozenset()):
            if not is_parameter(array):
                continue
            expected = central_difference(lambda: scalar(model), array)
            assert_close(lookup(grads, path), expected, ".".join(map(str, path)))
            checked += 1
        assert checked, "the model has no parameters to check"
        return grads
    return check
