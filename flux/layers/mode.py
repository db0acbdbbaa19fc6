"""Train and test mode: the switch that Dropout and BatchNorm consult on every call.

A layer with an ``active`` attribute acts as in training when it is ``True``, as in testing
when ``False``, and, when ``None`` (automatic), only while `flux.train` runs its loop
(inside :func:`training`).

>>> from flux import Dropout
>>> layer = Dropout(0.5)
>>> is_active(layer)
False
>>> with training():
...     is_active(layer)
True
"""

import contextlib

import zygote

from ..functor import modules

__all__ = ["trainmode", "testmode", "training", "is_active"]

TRAINING = {"active": False}


def is_active(layer):
    """Whether a layer with an ``active`` flag acts as in training now: its own setting, else
    whether `flux.train` is running."""
    if layer.active is None:
        return TRAINING["active"]
    return layer.active


# The mode is bookkeeping, not maths: zygote steps over it.
zygote.nograd(is_active)


@contextlib.contextmanager
def training():
    """Run the block in train mode for layers in automatic mode (``active=None``)."""
    previous = TRAINING["active"]
    TRAINING["active"] = True
    try:
        yield
    finally:
        TRAINING["active"] = previous


def trainmode(model, active=True):
    """Switch the layers with an ``active`` flag (Dropout, BatchNorm) on; returns ``model``.

    ``active=None`` returns the layers to automatic mode (on only inside `flux.train`).

    >>> import numpy as np
    >>> from flux import Chain, Dropout
    >>> m = trainmode(Chain(Dropout(0.5, rng=0)))
    >>> bool((m(np.ones(10)) == 0).any())
    True
    """
    for layer in modules(model):
        if hasattr(layer, "active"):
            layer.active = active
    return model


def testmode(model, active=False):
    """Switch the layers with an ``active`` flag off for evaluation; returns ``model``.

    >>> import numpy as np
    >>> from flux import Chain, Dropout
    >>> m = testmode(Chain(Dropout(0.5, rng=0)))
    >>> m(np.ones(3))
    array([1., 1., 1.])
    """
    return trainmode(model, active)
