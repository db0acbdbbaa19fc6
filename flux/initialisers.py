"""Weight initialisers: functions of a shape that return fresh float32 arrays.

Each takes the dimensions as positional arguments, ``(out, in)`` for a dense weight, and an
optional ``rng`` (a ``numpy.random.Generator`` or a seed) for reproducible draws.
"""

import math

import numpy as np

__all__ = ["glorot_uniform", "glorot_normal", "randn32", "zeros32", "ones32"]


def as_rng(rng=None):
    """Return a ``numpy.random.Generator`` from a generator, a seed or ``None`` (fresh entropy).

    >>> bool(as_rng(0).integers(10) == as_rng(0).integers(10))
    True
    """
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def fans(dims):
    """Return ``(fan_in, fan_out)`` of a weight shaped ``(out, in, ...)``.

    Trailing dimensions (a convolution's kernel) multiply both fans; a vector has fan-in 1.

    >>> fans((256, 784))
    (784, 256)
    """
    if len(dims) == 1:
        return 1, dims[0]
    receptive = math.prod(dims[2:])
    return dims[1] * receptive, dims[0] * receptive


def glorot_uniform(*dims, gain=1.0, rng=None):
    """Uniform draws on ``[-a, a]`` with ``a = gain * √(6 / (fan_in + fan_out))`` (Glorot & Bengio).

    >>> w = glorot_uniform(3, 4, rng=0)
    >>> w.shape, w.dtype, bool(abs(w).max() <= (6 / 7) ** 0.5)
    ((3, 4), dtype('float32'), True)
    """
    fan_in, fan_out = fans(dims)
    limit = gain * math.sqrt(6 / (fan_in + fan_out))
    unit = as_rng(rng).random(dims, dtype=np.float32)
    return (unit - 0.5) * (2 * limit)


def glorot_normal(*dims, gain=1.0, rng=None):
    """Normal draws with standard deviation ``gain * √(2 / (fan_in + fan_out))``.

    >>> glorot_normal(2, 5, rng=0).dtype
    dtype('float32')
    """
    fan_in, fan_out = fans(dims)
    std = gain * math.sqrt(2 / (fan_in + fan_out))
    return as_rng(rng).standard_normal(dims, dtype=np.float32) * std


def randn32(*dims, rng=None):
    """Standard normal float32 draws (mean 0, standard deviation 1), as for embedding tables.

    >>> w = randn32(1000, 4, rng=0)
    >>> w.dtype, bool(abs(w.std() - 1) < 0.05)
    (dtype('float32'), True)
    """
    return as_rng(rng).standard_normal(dims, dtype=np.float32)


def zeros32(*dims, rng=None):
    """An array of float32 zeros; ``rng`` is accepted and ignored, like the other initialisers.

    >>> zeros32(2)
    array([0., 0.], dtype=float32)
    """
    return np.zeros(dims, dtype=np.float32)


def ones32(*dims, rng=None):
    """An array of float32 ones.

    >>> ones32(2)
    array([1., 1.], dtype=float32)
    """
    return np.ones(dims, dtype=np.float32)
