"""AlphaDropout: dropout that keeps the zero mean and unit variance that `selu` networks rely on."""

import math

import numpy as np

import zygote

from ..initialisers import as_rng
from .mode import Modes, is_active

__all__ = ["AlphaDropout"]

# selu's negative saturation value, -λα: a dropped unit is set to it rather than to zero.
SELU_FLOOR = -1.0507009873554805 * 1.6732632423543772


def alpha_keep_mask(layer, x):
    """Booleans shaped like ``x``: True where a unit is kept (probability ``1 - p``)."""
    return layer.rng.random(np.shape(x), dtype=np.float32) >= layer.p


zygote.nograd(alpha_keep_mask)


class AlphaDropout(Modes):
    """Set each input to ``α' = -λα`` of `selu` with probability ``p``, then restore the moments.

    ``y = a · (x where kept, else α') + b`` with ``a = 1 / √((1 - p)(1 + p α'²))`` and
    ``b = -a α' p``, so that inputs of zero mean and unit variance keep them (Klambauer
    et al., 2017). Train and test mode as for `flux.Dropout`: ``active=None`` drops only
    while `flux.train` runs.

    >>> import numpy as np
    >>> layer = AlphaDropout(0.2, active=True, rng=0)
    >>> layer
    AlphaDropout(0.2)
    >>> y = layer(np.random.default_rng(1).normal(size=100_000))
    >>> bool(abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02)
    True
    >>> AlphaDropout(0.2)(np.ones(3))      # test mode: the identity
    array([1., 1., 1.])
    """

    def __init__(self, p, *, active=None, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"AlphaDropout probability must be in [0, 1), got {p}")
        self.p = p
        self.active = active
        self.rng = as_rng(rng)

    def __call__(self, x):
        if not is_active(self) or self.p == 0:
            return x
        a = 1 / math.sqrt((1 - self.p) * (1 + self.p * SELU_FLOOR ** 2))
        b = -a * SELU_FLOOR * self.p
        dtype = np.result_type(x, np.float32)
        return np.where(alpha_keep_mask(self, x), x * dtype.type(a),
                        dtype.type(a * SELU_FLOOR)) + dtype.type(b)

    def __repr__(self):
        return f"AlphaDropout({self.p})"
