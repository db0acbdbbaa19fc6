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

import numpy as np

import zygote

from ..functor import modules, params

__all__ = ["trainmode", "testmode", "training", "is_active", "Modes"]

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


class Modes:
    """PyTorch's names as methods of every flux layer: ``model.train()``, ``model.eval()``,
    ``model.parameters()``.

    ``model.train()`` is ``trainmode(model)``; ``model.eval()`` and ``model.train(False)`` are
    ``testmode(model)``. Each returns the model, and the mode it sets holds until the next
    switch (``trainmode(model, None)`` restores the automatic one, on only inside
    `flux.train`). ``model.parameters()`` is ``flux.params(model)``. The training loop itself
    is the function `flux.train`.

    >>> import numpy as np
    >>> from flux import Chain, Dense, Dropout
    >>> model = Chain(Dense(2, 2, rng=0), Dropout(0.5, rng=0))
    >>> model.eval()[1].active, model.train()[1].active
    (False, True)
    >>> len(model.parameters())
    2
    """

    def train(self, mode=True):
        """Switch the layers with an ``active`` flag to train mode (test mode for ``False``)."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(f"{type(self).__name__}.train(mode=True) switches train mode on or "
                            f"off, got {type(mode).__name__}; the training loop is "
                            f"flux.train(loss, params, data, opt)")
        return trainmode(self, bool(mode))

    def eval(self):
        """Switch the layers with an ``active`` flag to test mode."""
        return testmode(self)

    def parameters(self):
        """The trainable arrays, ``flux.params(self)``."""
        return params(self)
