"""The Embedding layer: a trainable lookup table from integer indices to vectors."""

import numpy as np

import zygote

from ..initialisers import randn32
from .mode import Modes
from .show import with_counts

__all__ = ["Embedding"]


def check_indices(layer, indices):
    """Raise unless ``indices`` is an integer array (or int) whose entries lie in ``[0, vocab)``."""
    array = np.asarray(indices)
    vocab = layer.weight.shape[0]
    if array.dtype.kind not in "iu":
        raise TypeError(f"{layer!r} expects integer indices, but received an array of dtype "
                        f"{array.dtype} and shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= vocab):
        raise IndexError(f"{layer!r} expects indices in [0, {vocab}), but received indices from "
                         f"{array.min()} to {array.max()}")


zygote.nograd(check_indices)


class Embedding(Modes):
    """Map integer indices of any shape ``S`` to rows of ``weight``: ``S -> S + (dim,)``.

    ``weight`` is ``(vocab, dim)``, drawn by ``init(vocab, dim, rng=rng)`` (float32 standard
    normal by default). The call is ``weight[indices]``; its gradient adds each output row's
    cotangent into the row it was read from, so an index used twice collects both.

    >>> import numpy as np
    >>> emb = Embedding(10, 4, rng=0)
    >>> emb
    Embedding(10 => 4)
    >>> emb(np.array([[1, 2, 2]])).shape
    (1, 3, 4)
    >>> print(emb)
    Embedding(10 => 4)  # 40 parameters
    """

    def __init__(self, vocab, dim, *, init=randn32, rng=None):
        self.weight = init(vocab, dim) if rng is None else init(vocab, dim, rng=rng)

    def __call__(self, indices):
        check_indices(self, indices)
        return self.weight[indices]

    def __repr__(self):
        vocab, dim = self.weight.shape
        return f"Embedding({vocab} => {dim})"

    def __str__(self):
        return with_counts(self)
