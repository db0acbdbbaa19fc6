"""Overlap losses for segmentation masks: the Dice coefficient and the Tversky index.

Both compare a predicted mask ``ŷ`` (probabilities) with a target mask ``y`` of the same
shape over the whole batch at once, as Flux does, so they take no ``agg``.
"""

import numpy as np

from .checks import check_agree

__all__ = ["dice_coeff_loss", "tversky_loss"]


def dice_coeff_loss(y_hat, y, *, smooth=1.0):
    """One minus the Dice coefficient: ``1 - (2 Σ y ŷ + s) / (Σ y² + Σ ŷ² + s)``.

    ``smooth`` (``s``) keeps the ratio defined for empty masks.

    >>> import numpy as np
    >>> mask = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> float(dice_coeff_loss(mask, mask))
    0.0
    >>> dice_coeff_loss(np.array([1.0, 0.0]), np.array([0.0, 1.0]), smooth=0.0)
    np.float64(1.0)
    """
    check_agree("dice_coeff_loss", y_hat, y)
    overlap = np.sum(y * y_hat)
    return 1 - (2 * overlap + smooth) / (np.sum(y * y) + np.sum(y_hat * y_hat) + smooth)


def tversky_loss(y_hat, y, *, beta=0.7):
    """One minus the Tversky index, a Dice score that weighs false positives by ``β``.

    ``1 - (TP + 1) / (TP + β FP + (1 - β) FN + 1)`` with ``TP = Σ y ŷ``,
    ``FP = Σ (1 - y) ŷ`` and ``FN = Σ y (1 - ŷ)``; ``β = ½`` gives the Dice loss.

    >>> import numpy as np
    >>> mask = np.array([0.0, 1.0, 1.0])
    >>> float(tversky_loss(mask, mask))
    0.0
    >>> tversky_loss(np.array([1.0, 1.0, 1.0]), mask).round(4)
    np.float64(0.1892)
    """
    check_agree("tversky_loss", y_hat, y)
    true_positive = np.sum(y * y_hat)
    false_positive = np.sum((1 - y) * y_hat)
    false_negative = np.sum(y * (1 - y_hat))
    return 1 - (true_positive + 1) / (true_positive + beta * false_positive
                                      + (1 - beta) * false_negative + 1)
