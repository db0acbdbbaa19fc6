"""Loss functions ``loss(y_hat, y, *, agg=np.mean)`` comparing predictions with targets.

Arrays are batch first. The cross-entropies take one-hot (or probability) targets of shape
``(N, C)``, sum over the class axis ``axis`` and aggregate over the batch with ``agg``;
the elementwise losses aggregate over every element. ``agg`` may be ``np.mean``,
``np.sum`` or any function of the per-sample losses (``identity`` keeps them all).
The ``logit*`` variants take raw scores and are stable for extreme logits.
"""

import numpy as np

from .activations import logsoftmax

__all__ = ["mse", "mae", "crossentropy", "logitcrossentropy", "binarycrossentropy",
           "logitbinarycrossentropy"]

EPS32 = 1.1920929e-07  # float32 machine epsilon: keeps log() finite at probability 0


def mse(y_hat, y, *, agg=np.mean):
    """Mean squared error, ``agg((ŷ - y)²)``.

    >>> import numpy as np
    >>> mse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.float64(2.0)
    """
    error = y_hat - y
    return agg(error * error)


def mae(y_hat, y, *, agg=np.mean):
    """Mean absolute error, ``agg(|ŷ - y|)``.

    >>> import numpy as np
    >>> mae(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    np.float64(1.0)
    """
    return agg(np.abs(y_hat - y))


def crossentropy(y_hat, y, *, axis=-1, agg=np.mean, eps=EPS32):
    """Cross-entropy of probabilities ``ŷ`` against targets ``y``: ``agg(-Σ y log(ŷ + ε))``.

    Use :func:`logitcrossentropy` on raw scores instead of ``crossentropy(softmax(x), y)``.

    >>> import numpy as np
    >>> crossentropy(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])).round(4)
    np.float64(0.6931)
    """
    return agg(-np.sum(y * np.log(y_hat + eps), axis=axis))


def logitcrossentropy(y_hat, y, *, axis=-1, agg=np.mean):
    """Cross-entropy of raw scores, ``agg(-Σ y logsoftmax(ŷ))``, i.e. ``crossentropy(softmax(ŷ), y)``.

    >>> import numpy as np
    >>> logitcrossentropy(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])).round(4)
    np.float64(0.6931)
    >>> logitcrossentropy(np.array([[-1e4, 1e4]]), np.array([[1.0, 0.0]]))
    np.float64(20000.0)
    """
    return agg(-np.sum(y * logsoftmax(y_hat, axis=axis), axis=axis))


def binarycrossentropy(y_hat, y, *, agg=np.mean, eps=EPS32):
    """Binary cross-entropy of probabilities, ``agg(-y log(ŷ + ε) - (1 - y) log(1 - ŷ + ε))``.

    >>> import numpy as np
    >>> binarycrossentropy(np.array([0.5]), np.array([1.0])).round(4)
    np.float64(0.6931)
    """
    return agg(-y * np.log(y_hat + eps) - (1 - y) * np.log(1 - y_hat + eps))


def logitbinarycrossentropy(y_hat, y, *, agg=np.mean):
    """Binary cross-entropy of raw scores, ``binarycrossentropy(σ(ŷ), y)`` without overflow.

    Computed as ``max(ŷ, 0) - ŷ y + log(1 + exp(-|ŷ|))``.

    >>> import numpy as np
    >>> logitbinarycrossentropy(np.array([0.0, 1e4]), np.array([1.0, 0.0]), agg=np.sum).round(4)
    np.float64(10000.6931)
    """
    return agg(np.maximum(y_hat, 0) - y_hat * y + np.log1p(np.exp(-np.abs(y_hat))))
