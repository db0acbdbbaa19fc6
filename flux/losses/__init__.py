"""Loss functions ``loss(y_hat, y, *, agg=np.mean)`` comparing predictions with targets.

Arrays are batch first, and every loss first checks that ``ŷ`` and ``y`` have one shape
(`LossShapeError` names both otherwise): numpy would broadcast a ``(4, 1)`` prediction
against ``(4,)`` targets into sixteen differences. The multi-class losses also take integer
class indices ``(N,)``. ``agg`` may be ``np.mean``, ``np.sum`` or any function of the
per-sample losses (``identity`` keeps them all).

>>> import numpy as np
>>> from flux import Dense
>>> mse(Dense(3, 1)(np.ones((4, 3), np.float32)), np.zeros(4))  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
flux.losses.checks.LossShapeError: mse: ŷ has shape (4, 1) but y has shape (4,); ...
"""

from .checks import LossShapeError
from .classification import (EPS32, binary_focal_loss, binarycrossentropy, crossentropy,
                             focal_loss, kldivergence, label_smoothing, logitbinarycrossentropy,
                             logitcrossentropy)
from .margin import hinge_loss, siamese_contrastive_loss, squared_hinge_loss
from .overlap import dice_coeff_loss, tversky_loss
from .regression import huber_loss, mae, mse, msle, poisson_loss

__all__ = ["mse", "mae", "msle", "huber_loss", "poisson_loss",
           "crossentropy", "logitcrossentropy", "binarycrossentropy", "logitbinarycrossentropy",
           "kldivergence", "focal_loss", "binary_focal_loss", "label_smoothing",
           "hinge_loss", "squared_hinge_loss", "siamese_contrastive_loss",
           "dice_coeff_loss", "tversky_loss", "LossShapeError", "EPS32"]
