"""Regression losses: squared, absolute, squared-log, Huber and Poisson errors, taken elementwise.

Each compares predictions ``ŷ`` with targets ``y`` of the same shape and aggregates over
every element with ``agg`` (``np.mean`` by default).
"""

import numpy as np

from .checks import check_agree
from .classification import EPS32

__all__ = ["mse", "mae", "msle", "huber_loss", "poisson_loss"]


def mse(y_hat, y, *, agg=np.mean):
    """Mean squared error, ``agg((ŷ - y)²)``.

    >>> import numpy as np
    >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.float64(2.0)
    """
    check_agree("mse", y_hat, y)
    error = y_hat - y
    return agg(error * error)


def mae(y_hat, y, *, agg=np.mean):
    """Mean absolute error, ``agg(|ŷ - y|)``.

    >>> import numpy as np
    >>> mae(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.float64(1.0)
    """
    check_agree("mae", y_hat, y)
    return agg(np.abs(y_hat - y))


def msle(y_hat, y, *, agg=np.mean, eps=EPS32):
    """Mean squared logarithmic error, ``agg(log((ŷ + ε) / (y + ε))²)``, for positive targets
    whose relative error matters.

    >>> import numpy as np
    >>> msle(np.array([np.e - 1e-7]), np.array([1.0 - 1e-7]), eps=1e-7).round(6)
    np.float64(1.0)
    """
    check_agree("msle", y_hat, y)
    log_ratio = np.log((y_hat + eps) / (y + eps))
    return agg(log_ratio * log_ratio)


def huber_loss(y_hat, y, *, agg=np.mean, delta=1.0):
    """Huber loss: quadratic ``½ e²`` for errors ``|e| ≤ δ``, linear ``δ(|e| - ½δ)`` beyond.

    >>> import numpy as np
    >>> huber_loss(np.array([0.5, 3.0]), np.array([0.0, 0.0]), agg=np.sum)
    np.float64(2.625)
    """
    check_agree("huber_loss", y_hat, y)
    size = np.abs(y_hat - y)
    quadratic = np.minimum(size, delta)
    # |e| = q + l with q ≤ δ: ½q² + δl is ½e² inside and δ(|e| - ½δ) outside, in one smooth piece
    return agg(0.5 * quadratic * quadratic + delta * (size - quadratic))


def poisson_loss(y_hat, y, *, agg=np.mean):
    """Poisson negative log-likelihood of rates ``ŷ`` for counts ``y``: ``agg(ŷ - y log ŷ)``.

    ``y log ŷ`` is taken as ``0`` where ``y = 0``, so a zero rate for a zero count is finite.

    >>> import numpy as np
    >>> poisson_loss(np.array([1.0, 2.0]), np.array([0.0, 2.0])).round(4)
    np.float64(0.8069)
    """
    check_agree("poisson_loss", y_hat, y)
    counted = y != 0
    return agg(y_hat - np.where(counted, y * np.log(np.where(counted, y_hat, 1)), 0))
