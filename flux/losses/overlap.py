"""Overlap losses for segmentation masks: the Dice coefficient and the Tversky index.

Both compare a predicted mask ``ŷ`` (probabilities) with a target mask ``y`` of the same
shape. By default the sums run over the whole batch at once, as Flux does: one score for
the batch. Given ``agg`` (``np.mean``, ``np.sum``, ``flux.identity``), they score each
sample on its own, summing over every axis but the first, and ``agg`` reduces the scores,
as the other losses' ``agg`` does.
"""

import numpy as np

import zygote

from .checks import check_agree

__all__ = ["dice_coeff_loss", "tversky_loss"]


def summed_axes(y, agg):
    """The axes the overlap sums run over: all of them without ``agg``, all but the batch's with it."""
    return None if agg is None else tuple(range(1, np.ndim(y)))


zygote.nograd(summed_axes)


def aggregated(loss, agg):
    return loss if agg is None else agg(loss)


def dice_coeff_loss(y_hat, y, *, smooth=1.0, agg=None):
    """One minus the Dice coefficient: ``1 - (2 Σ y ŷ + s) / (Σ y² + Σ ŷ² + s)``.

    ``smooth`` (``s``) keeps the ratio defined for empty masks. With ``agg``, one loss per
    sample, reduced by ``agg`` (see the module's note).

    >>> import numpy as np
    >>> mask = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> float(dice_coeff_loss(mask, mask))
    0.0
    >>> dice_coeff_loss(np.array([1.0, 0.0]), np.array([0.0, 1.0]), smooth=0.0)
    np.float64(1.0)
    >>> dice_coeff_loss(np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]),
    ...                 smooth=0.0, agg=lambda scores: scores)
    array([0.        , 0.33333333])
    """
    check_agree("dice_coeff_loss", y_hat, y)
    axes = summed_axes(y, agg)
    overlap = np.sum(y * y_hat, axis=axes)
    loss = 1 - (2 * overlap + smooth) / (np.sum(y * y, axis=axes) + np.sum(y_hat * y_hat, axis=axes)
                                         + smooth)
    return aggregated(loss, agg)


def tversky_loss(y_hat, y, *, beta=0.7, agg=None):
    """One minus the Tversky index, a Dice score that weighs false positives by ``β``.

    ``1 - (TP + 1) / (TP + β FP + (1 - β) FN + 1)`` with ``TP = Σ y ŷ``,
    ``FP = Σ (1 - y) ŷ`` and ``FN = Σ y (1 - ŷ)``; ``β = ½`` gives the Dice loss. With
    ``agg``, one loss per sample, reduced by ``agg`` (see the module's note).

    >>> import numpy as np
    >>> mask = np.array([0.0, 1.0, 1.0])
    >>> float(tversky_loss(mask, mask))
    0.0
    >>> tversky_loss(np.array([1.0, 1.0, 1.0]), mask).round(4)
    np.float64(0.1892)
    """
    check_agree("tversky_loss", y_hat, y)
    axes = summed_axes(y, agg)
    true_positive = np.sum(y * y_hat, axis=axes)
    false_positive = np.sum((1 - y) * y_hat, axis=axes)
    false_negative = np.sum(y * (1 - y_hat), axis=axes)
    return aggregated(1 - (true_positive + 1) / (true_positive + beta * false_positive
                                                 + (1 - beta) * false_negative + 1), agg)
