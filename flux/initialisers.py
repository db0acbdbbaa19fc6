"""Weight initialisers: functions of a shape that return fresh float32 arrays.

Each takes the dimensions as positional arguments, ``(out, in)`` for a dense weight, and an
optional ``rng`` (a ``numpy.random.Generator`` or a seed) for reproducible draws; without
one they draw from the generator that `flux.seed` restarts.
"""

import math

import numpy as np

from .seeding import SHARED, SharedGenerator

__all__ = ["glorot_uniform", "glorot_normal", "kaiming_uniform", "kaiming_normal", "orthogonal",
           "truncated_normal", "randn32", "zeros32", "ones32"]


def as_rng(rng=None):
    """A generator from a ``numpy.random.Generator``, a seed, or ``None`` (flux's shared one).

    ``None`` gives a stand-in for the generator `flux.seed` last started, so what it draws
    follows the latest seed.

    >>> bool(as_rng(0).integers(10) == as_rng(0).integers(10))
    True
    """
    if isinstance(rng, (np.random.Generator, SharedGenerator)):
        return rng
    if rng is None:
        return SHARED
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


def kaiming_uniform(*dims, gain=math.sqrt(2), rng=None):
    """Uniform draws on ``[-a, a]`` with ``a = gain * √(3 / fan_in)`` (He et al. 2015), for relu layers.

    >>> w = kaiming_uniform(64, 100, rng=0)
    >>> w.dtype, bool(abs(w).max() <= (6 / 100) ** 0.5)
    (dtype('float32'), True)
    """
    fan_in, _ = fans(dims)
    limit = gain * math.sqrt(3 / fan_in)
    unit = as_rng(rng).random(dims, dtype=np.float32)
    return (unit - 0.5) * (2 * limit)


def kaiming_normal(*dims, gain=math.sqrt(2), rng=None):
    """Normal draws with standard deviation ``gain / √fan_in`` (He et al. 2015).

    >>> w = kaiming_normal(500, 200, rng=0)
    >>> bool(abs(w.std() - (2 / 200) ** 0.5) < 0.002)
    True
    """
    fan_in, _ = fans(dims)
    return as_rng(rng).standard_normal(dims, dtype=np.float32) * np.float32(gain / math.sqrt(fan_in))


def truncated_normal(*dims, mean=0.0, std=1.0, lo=-2.0, hi=2.0, rng=None):
    """Normal draws of ``mean`` and ``std`` kept only inside ``[lo, hi]``, redrawing the rest.

    The bounds are absolute values, as in Flux and PyTorch, not multiples of ``std``.

    >>> w = truncated_normal(1000, rng=0)
    >>> bool(w.min() >= -2 and w.max() <= 2), w.dtype
    (True, dtype('float32'))
    """
    if not lo < hi:
        raise ValueError(f"truncated_normal needs lo < hi, got lo={lo}, hi={hi}")
    # the chance that one draw lands inside, from the normal distribution function
    inside = 0.5 * (math.erf((hi - mean) / (std * math.sqrt(2)))
                    - math.erf((lo - mean) / (std * math.sqrt(2))))
    if inside < 1e-3:
        raise ValueError(f"truncated_normal: [{lo}, {hi}] holds only {inside:.2g} of a normal "
                         f"of mean {mean} and std {std}; redrawing would not end in time")
    generator = as_rng(rng)
    out = np.empty(dims, dtype=np.float64)
    flat = out.reshape(-1)
    outside = np.arange(flat.size)
    while outside.size:
        flat[outside] = mean + std * generator.standard_normal(outside.size)
        outside = outside[(flat[outside] < lo) | (flat[outside] > hi)]
    return out.astype(np.float32)


def orthogonal(*dims, gain=1.0, rng=None):
    """A weight whose rows (or columns, if there are more rows) are orthonormal, times ``gain``.

    Dimensions past the second are flattened into the columns, so a kernel
    ``(out, in, kh, kw)`` is orthogonal as an ``(out, in * kh * kw)`` matrix (Saxe et al. 2014).

    >>> w = orthogonal(3, 5, rng=0)
    >>> bool(np.allclose(w @ w.T, np.eye(3), atol=1e-6)), w.dtype
    (True, dtype('float32'))
    """
    if len(dims) < 2:
        raise ValueError(f"orthogonal needs at least two dimensions, got {dims}")
    rows, cols = dims[0], math.prod(dims[1:])
    gaussian = as_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(gaussian)
    # signs from R's diagonal make Q uniformly distributed over orthogonal matrices
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
    matrix = q if rows >= cols else q.T
    return (gain * matrix).reshape(dims).astype(np.float32)


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
