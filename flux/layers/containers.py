"""Layers that combine other layers: SkipConnection, Parallel, PairwiseFusion and Maxout.

Each holds its layers as attributes (a tuple ``layers``, or ``layer``), so that their
parameters are the container's (see `flux.functor`), and shows them in its repr.
"""

import numpy as np

from .mode import Modes
from .show import name_of, name_of_layer, with_counts

__all__ = ["SkipConnection", "Parallel", "PairwiseFusion", "Maxout"]


def constructor_form(head, parts):
    """``head(part, part, ...)``, the repr of a container."""
    return f"{head}(" + ", ".join(parts) + ")"


class SkipConnection(Modes):
    """``connection(layer(x), x)``: a layer with a path around it, such as a residual block.

    ``connection`` takes the layer's output and the input: ``np.add`` gives the residual
    ``layer(x) + x``; ``lambda y, x: np.concatenate([y, x], axis=-1)`` stacks features.

    >>> import numpy as np
    >>> from flux import Dense
    >>> block = SkipConnection(Dense(3, 3, rng=0), np.add)
    >>> block
    SkipConnection(Dense(3 => 3), add)
    >>> x = np.ones((2, 3), np.float32)
    >>> bool(np.allclose(block(x), block.layer(x) + x))
    True
    """

    def __init__(self, layer, connection):
        self.layer, self.connection = layer, connection

    def __call__(self, x):
        return self.connection(self.layer(x), x)

    def __repr__(self):
        return constructor_form("SkipConnection", [name_of_layer(self.layer), name_of(self.connection)])

    def __str__(self):
        return with_counts(self)


def check_branches(layer, xs):
    """Raise a ``ValueError`` unless there is one input per layer (or one input for all)."""
    if isinstance(xs, tuple) and len(xs) != len(layer.layers):
        raise ValueError(f"{type(layer).__name__} with {len(layer.layers)} layers was given a tuple "
                         f"of {len(xs)} inputs; pass one input for all or one per layer")


class Branches(Modes):
    """What Parallel and PairwiseFusion share: a ``connection``, a tuple of ``layers``, the repr."""

    def __init__(self, connection, *layers):
        if not layers:
            raise ValueError(f"{type(self).__name__} needs at least one layer")
        self.connection, self.layers = connection, tuple(layers)

    def __repr__(self):
        return constructor_form(type(self).__name__, [name_of(self.connection)]
                                + [name_of_layer(layer) for layer in self.layers])

    def __str__(self):
        return with_counts(self)


class Parallel(Branches):
    """``connection(f₁(x), f₂(x), ...)``: layers side by side on the same input, then combined.

    Given a tuple ``(x₁, x₂, ...)`` with one input per layer, each layer takes its own:
    ``connection(f₁(x₁), f₂(x₂), ...)``. With ``np.add`` the branches are summed; with
    ``lambda *ys: np.concatenate(ys, axis=-1)`` their features are stacked.

    >>> import numpy as np
    >>> from flux import Dense
    >>> m = Parallel(np.add, Dense(2, 3, rng=0), Dense(2, 3, rng=1))
    >>> m
    Parallel(add, Dense(2 => 3), Dense(2 => 3))
    >>> m(np.ones((4, 2), np.float32)).shape
    (4, 3)
    >>> m((np.ones((4, 2)), np.zeros((4, 2)))).shape
    (4, 3)
    """


    def __call__(self, xs):
        check_branches(self, xs)
        if isinstance(xs, tuple):
            outputs = [layer(x) for layer, x in zip(self.layers, xs)]
        else:
            outputs = [layer(xs) for layer in self.layers]
        # zygote differentiates a starred call through a plain name, not an attribute.
        connection = self.connection
        return connection(*outputs)

class PairwiseFusion(Branches):
    """Layers in a row, each also fed the next input: the outputs ``(y₁, ..., yₙ)``.

    ``y₁ = f₁(x₁)`` and ``yᵢ = fᵢ(connection(yᵢ₋₁, xᵢ))``, where the input is a tuple
    ``(x₁, ..., xₙ)`` with one entry per layer, or one array standing for every ``xᵢ``.

    >>> import numpy as np
    >>> from flux import Dense
    >>> m = PairwiseFusion(np.add, Dense(2, 2, rng=0), Dense(2, 2, rng=1))
    >>> y1, y2 = m(np.ones((3, 2), np.float32))
    >>> bool(np.allclose(y2, m.layers[1](y1 + 1)))
    True
    """


    def __call__(self, xs):
        check_branches(self, xs)
        inputs = xs if isinstance(xs, tuple) else (xs,) * len(self.layers)
        y = self.layers[0](inputs[0])
        outputs = [y]
        for layer, x in zip(self.layers[1:], inputs[1:]):
            y = layer(self.connection(y, x))
            outputs.append(y)
        return tuple(outputs)

class Maxout(Modes):
    """The elementwise largest of several layers' outputs: ``max(f₁(x), f₂(x), ...)``.

    ``Maxout(make, n)`` calls ``make()`` ``n`` times for ``n`` independently drawn layers;
    ``Maxout(layer, layer, ...)`` takes the layers themselves. The gradient of each entry
    goes to the layer that won it.

    >>> import numpy as np
    >>> from flux import Dense
    >>> m = Maxout(lambda: Dense(3, 2), 4)
    >>> m(np.ones((5, 3), np.float32)).shape
    (5, 2)
    >>> print(Maxout(Dense(3, 2, rng=0), Dense(3, 2, rng=1)))
    Maxout(Dense(3 => 2), Dense(3 => 2))  # 16 parameters
    """

    def __init__(self, *layers):
        if len(layers) == 2 and isinstance(layers[1], (int, np.integer)) and callable(layers[0]):
            make, n = layers
            if n < 1:
                raise ValueError(f"Maxout needs at least one layer, got n={n}")
            layers = tuple(make() for _ in range(n))
        if not layers:
            raise ValueError("Maxout needs at least one layer")
        self.layers = tuple(layers)

    def __call__(self, x):
        y = self.layers[0](x)
        for layer in self.layers[1:]:
            y = np.maximum(y, layer(x))
        return y

    def __repr__(self):
        return constructor_form("Maxout", [name_of_layer(layer) for layer in self.layers])

    def __str__(self):
        return with_counts(self)
