"""Classification losses: the cross-entropies, KL divergence, focal losses and label smoothing.

Arrays are batch first. The multi-class losses take one-hot (or probability) targets of
shape ``(N, C)``, or integer class indices of shape ``(N,)`` (PyTorch's convention), sum
over the class axis ``axis`` and aggregate over the batch with ``agg``. The binary losses
work elementwise on targets of ``ŷ``'s shape. The ``logit*`` variants take raw scores and
are stable for extreme logits.
"""

import numpy as np

from ..activations import logsoftmax
from .checks import check_agree, class_targets

__all__ = ["crossentropy", "logitcrossentropy", "binarycrossentropy", "logitbinarycrossentropy",
           "kldivergence", "focal_loss", "binary_focal_loss", "label_smoothing", "EPS32"]

EPS32 = 1.1920929e-07  # float32 machine epsilon: keeps log() finite at probability 0


def crossentropy(y_hat, y, *, axis=-1, agg=np.mean, eps=EPS32):
    """Cross-entropy of probabilities ``ŷ`` against targets ``y``: ``agg(-Σ y log(ŷ + ε))``.

    Use :func:`logitcrossentropy` on raw scores instead of ``crossentropy(softmax(x), y)``.

    >>> import numpy as np
    >>> crossentropy(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]])).round(4)
    np.float64(0.6931)
    >>> crossentropy(np.array([[0.5, 0.5]]), np.array([0])).round(4)
    np.float64(0.6931)
    """
    y = class_targets("crossentropy", y_hat, y, axis)
    return agg(-np.sum(y * np.log(y_hat + eps), axis=axis))


def logitcrossentropy(y_hat, y, *, axis=-1, agg=np.mean):
    """Cross-entropy of raw scores, ``agg(-Σ y logsoftmax(ŷ))``, i.e. ``crossentropy(softmax(ŷ), y)``.

    >>> import numpy as np
    >>> logitcrossentropy(np.array([[0.0, 0.0]]), np.array([[1.0, 0.0]])).round(4)
    np.float64(0.6931)
    >>> logitcrossentropy(np.array([[-1e4, 1e4]]), np.array([0]))
    np.float64(20000.0)
    """
    y = class_targets("logitcrossentropy", y_hat, y, axis)
    return agg(-np.sum(y * logsoftmax(y_hat, axis=axis), axis=axis))


def binarycrossentropy(y_hat, y, *, agg=np.mean, eps=EPS32):
    """Binary cross-entropy of probabilities, ``agg(-y log(ŷ + ε) - (1 - y) log(1 - ŷ + ε))``.

    >>> import numpy as np
    >>> binarycrossentropy(np.array([0.5]), np.array([1.0])).round(4)
    np.float64(0.6931)
    """
    check_agree("binarycrossentropy", y_hat, y)
    return agg(-y * np.log(y_hat + eps) - (1 - y) * np.log(1 - y_hat + eps))


def logitbinarycrossentropy(y_hat, y, *, agg=np.mean):
    """Binary cross-entropy of raw scores, ``binarycrossentropy(σ(ŷ), y)`` without overflow.

    Computed as ``max(ŷ, 0) - ŷ y + log(1 + exp(-|ŷ|))``.

    >>> import numpy as np
    >>> logitbinarycrossentropy(np.array([0.0, 1e4]), np.array([1.0, 0.0]), agg=np.sum).round(4)
    np.float64(10000.6931)
    """
    check_agree("logitbinarycrossentropy", y_hat, y)
    return agg(np.maximum(y_hat, 0) - y_hat * y + np.log1p(np.exp(-np.abs(y_hat))))


def xlogx(x):
    """``x log x``, continued by its limit ``0`` at ``x = 0``.

    >>> import numpy as np
    >>> xlogx(np.array([0.0, 1.0]))
    array([0., 0.])
    """
    positive = x > 0
    return np.where(positive, x * np.log(np.where(positive, x, 1)), 0)


def kldivergence(y_hat, y, *, axis=-1, agg=np.mean, eps=EPS32):
    """Kullback-Leibler divergence of the predicted distribution ``ŷ`` from the target ``y``.

    ``agg(Σ y log y - Σ y log(ŷ + ε))`` summed over ``axis``: the cross-entropy minus the
    target's own entropy, zero when ``ŷ == y``. Class indices count as one-hot targets.

    >>> import numpy as np
    >>> p = np.array([[0.25, 0.75]])
    >>> float(kldivergence(p, p, eps=0.0))
    0.0
    >>> kldivergence(np.array([[0.5, 0.5]]), p).round(4)
    np.float64(0.1308)
    """
    y = class_targets("kldivergence", y_hat, y, axis)
    return agg(np.sum(xlogx(y) - y * np.log(y_hat + eps), axis=axis))


def focal_loss(y_hat, y, *, axis=-1, agg=np.mean, gamma=2.0, eps=EPS32):
    """Focal loss of probabilities (Lin et al. 2017): cross-entropy that fades on easy samples.

    ``agg(-Σ y (1 - ŷ)^γ log(ŷ + ε))`` summed over ``axis``; ``γ = 0`` is
    :func:`crossentropy`. ``ŷ`` should be normalised (a softmax output).

    >>> import numpy as np
    >>> y_hat = np.array([[0.9, 0.1], [0.4, 0.6]])
    >>> float(focal_loss(y_hat, np.array([0, 0]), gamma=0.0)) == float(crossentropy(y_hat, np.array([0, 0])))
    True
    >>> focal_loss(y_hat, np.array([0, 0])).round(4)
    np.float64(0.1655)
    """
    y = class_targets("focal_loss", y_hat, y, axis)
    return agg(-np.sum(y * (1 - y_hat) ** gamma * np.log(y_hat + eps), axis=axis))


def binary_focal_loss(y_hat, y, *, agg=np.mean, gamma=2.0, eps=EPS32):
    """Binary focal loss of probabilities: ``agg(-(1 - p)^γ log(p + ε))`` with ``p`` the
    probability given to the true outcome, ``p = y ŷ + (1 - y)(1 - ŷ)``.

    >>> import numpy as np
    >>> binary_focal_loss(np.array([0.9, 0.2]), np.array([1.0, 0.0])).round(5)
    np.float64(0.00499)
    """
    check_agree("binary_focal_loss", y_hat, y)
    p_true = y * y_hat + (1 - y) * (1 - y_hat)
    return agg(-(1 - p_true) ** gamma * np.log(p_true + eps))


def label_smoothing(y, alpha, *, axis=-1):
    """Soften one-hot targets: ``y (1 - α) + α / C`` with ``C`` the classes along ``axis``.

    ``axis=None`` treats ``y`` as binary targets and moves them towards ``1/2``:
    ``y (1 - α) + α / 2``. ``α`` lies in ``[0, 1]``.

    >>> import numpy as np
    >>> label_smoothing(np.array([[0.0, 1.0]]), 0.2)
    array([[0.1, 0.9]])
    >>> label_smoothing(np.array([1.0, 0.0]), 0.2, axis=None)
    array([0.9, 0.1])
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"label_smoothing: alpha must lie in [0, 1], got {alpha}")
    classes = 2 if axis is None else np.shape(y)[axis]
    return y * (1 - alpha) + alpha / classes
