"""The random generator flux draws from when no ``rng`` is given, and `seed`, which restarts it.

Initialisers, `flux.Dropout`, `flux.DataLoader`'s shuffles and `flux.rrelu` all take an
``rng`` (a ``numpy.random.Generator`` or a seed) for draws of their own. Without one they
share the generator here, looked up at each draw, so ``flux.seed(n)`` makes a whole run
reproducible even for layers built before the call. ``np.random.seed`` has no effect on
it: flux never draws from numpy's legacy global state.
"""

import numpy as np

__all__ = ["seed", "default_rng", "SharedGenerator"]

CURRENT = {"generator": np.random.default_rng()}


def seed(n):
    """Restart flux's shared generator from the seed ``n`` (an int, or a sequence of ints).

    >>> import flux
    >>> flux.seed(0); first = flux.glorot_uniform(2, 2)
    >>> flux.seed(0); bool((flux.glorot_uniform(2, 2) == first).all())
    True
    """
    CURRENT["generator"] = np.random.default_rng(n)


def default_rng():
    """The generator that `seed` last started: a ``numpy.random.Generator``."""
    return CURRENT["generator"]


class SharedGenerator:
    """Stands for flux's shared generator: each method call goes to the one `seed` last made.

    A layer that keeps it (Dropout with ``rng=None``) draws from the current generator,
    not from the one that existed when the layer was built.

    >>> shared = SharedGenerator()
    >>> seed(3); a = shared.random(2)
    >>> seed(3); bool((shared.random(2) == a).all())
    True
    """

    __slots__ = ()   # no __dict__: model walks treat it as a leaf, not as a layer

    def __getattr__(self, name):
        return getattr(CURRENT["generator"], name)

    def __repr__(self):
        return "SharedGenerator()"


SHARED = SharedGenerator()
