"""`DataLoader`: iterate over mini-batches along the first axis of arrays, optionally shuffled.

The data is an array, a tuple or list of arrays, or a dict of arrays, all with the same
number of observations along axis 0. A batch has the same structure. Without shuffling a
batch is a slice (a view, no copy); with shuffling it is ``X[idx]`` for a sorted slice
``idx`` of a fresh permutation, so at most one batch is copied at a time.
"""

import math

import numpy as np

from .initialisers import as_rng

__all__ = ["DataLoader"]


def observations(data):
    """Return the arrays in ``data`` as ``(name, array)`` pairs, checking their lengths agree."""
    if isinstance(data, dict):
        pairs = list(data.items())
    elif isinstance(data, (tuple, list)):
        pairs = [(f"data[{i}]", array) for i, array in enumerate(data)]
    else:
        pairs = [("data", data)]
    if not pairs:
        raise ValueError("DataLoader needs at least one array")
    for name, array in pairs:
        if np.ndim(array) == 0:
            raise ValueError(f"DataLoader: {name} is a scalar; arrays need a first (batch) axis")
    lengths = {name: len(array) for name, array in pairs}
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise ValueError(f"DataLoader: the arrays have different numbers of observations "
                         f"along axis 0 ({listing})")
    return pairs


class DataLoader:
    """Batches of ``batchsize`` observations from ``data``, reshuffled on every pass if asked.

    ``partial=False`` drops a last batch smaller than ``batchsize``. ``rng`` is a
    ``numpy.random.Generator`` or a seed. ``len(loader)`` is the number of batches.

    >>> import numpy as np
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [b.tolist() for _, b in DataLoader((X, y), batchsize=2)]
    [[0, 1], [2, 3], [4]]
    >>> len(DataLoader(X, batchsize=2, partial=False))
    2
    >>> sorted(np.concatenate(list(DataLoader(y, batchsize=2, shuffle=True, rng=0))).tolist())
    [0, 1, 2, 3, 4]
    """

    def __init__(self, data, batchsize=1, shuffle=False, partial=True, rng=None):
        if int(batchsize) != batchsize or batchsize < 1:
            raise ValueError(f"batchsize must be a positive integer, got {batchsize!r}")
        self.pairs = observations(data)
        self.data = data
        self.batchsize = int(batchsize)
        self.shuffle = shuffle
        self.partial = partial
        self.rng = as_rng(rng)
        self.nobs = len(self.pairs[0][1])

    def __len__(self):
        if self.partial:
            return math.ceil(self.nobs / self.batchsize)
        return self.nobs // self.batchsize

    def __iter__(self):
        order = self.rng.permutation(self.nobs) if self.shuffle else None
        for index in range(len(self)):
            rows = self.rows(order, index)
            yield self.pack([array[rows] for _, array in self.pairs])

    def rows(self, order, index):
        """Batch ``index``: a slice of the data, or the sorted indices of its part of ``order``."""
        start = index * self.batchsize
        stop = min(start + self.batchsize, self.nobs)
        if order is None:
            return slice(start, stop)
        return np.sort(order[start:stop])

    def pack(self, batches):
        """Give the batches the structure of the data: array, tuple, list or dict."""
        if isinstance(self.data, dict):
            return dict(zip(self.data, batches))
        if isinstance(self.data, list):
            return batches
        if isinstance(self.data, tuple):
            return tuple(batches)
        return batches[0]

    def __repr__(self):
        return (f"DataLoader({self.nobs} observations, batchsize={self.batchsize}, "
                f"shuffle={self.shuffle}, partial={self.partial})")
