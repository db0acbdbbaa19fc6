"""Shape inference: `outputsize`, the shape a model gives for an input shape, found without changing the model.

flux has no symbolic shapes, so the model runs once on zeros of the given shape. Layers
with a mode (Dropout, BatchNorm) are put in test mode for that call and then restored,
so no running statistic moves and no random number is drawn.
"""

import numpy as np

from .functor import modules

__all__ = ["outputsize"]


def outputsize(model, inshape, *, padbatch=False, dtype=np.float32):
    """The shape of ``model(x)`` for ``x`` of shape ``inshape`` (``(1, *inshape)`` if ``padbatch``).

    >>> import flux
    >>> model = flux.Chain(flux.Conv((5, 5), 1, 6, pad=2, rng=0), flux.MaxPool((2, 2)), flux.flatten)
    >>> outputsize(model, (28, 28, 1), padbatch=True)
    (1, 1176)
    """
    shape = (1, *inshape) if padbatch else tuple(inshape)
    switched = [(layer, layer.active) for layer in modules(model) if hasattr(layer, "active")]
    for layer, _ in switched:
        layer.active = False
    try:
        out = model(np.zeros(shape, dtype=dtype))
    finally:
        for layer, active in switched:
            layer.active = active
    return np.shape(out)
