"""Margin losses: hinge and squared hinge for ±1 labels, and the contrastive loss on distances.

Each works elementwise on predictions and targets of one shape and aggregates with ``agg``.
"""

import numpy as np

from .checks import check_agree

__all__ = ["hinge_loss", "squared_hinge_loss", "siamese_contrastive_loss"]


def hinge_loss(y_hat, y, *, agg=np.mean):
    """Hinge loss for labels ``y ∈ {-1, 1}``: ``agg(max(0, 1 - ŷ y))``, as for an SVM.

    >>> import numpy as np
    >>> hinge_loss(np.array([2.0, 0.5, -1.0]), np.array([1.0, 1.0, 1.0]), agg=np.sum)
    np.float64(2.5)
    """
    check_agree("hinge_loss", y_hat, y)
    return agg(np.maximum(0, 1 - y_hat * y))


def squared_hinge_loss(y_hat, y, *, agg=np.mean):
    """Squared hinge loss for labels ``y ∈ {-1, 1}``: ``agg(max(0, 1 - ŷ y)²)``.

    >>> import numpy as np
    >>> squared_hinge_loss(np.array([2.0, 0.5, -1.0]), np.array([1.0, 1.0, 1.0]), agg=np.sum)
    np.float64(4.25)
    """
    check_agree("squared_hinge_loss", y_hat, y)
    shortfall = np.maximum(0, 1 - y_hat * y)
    return agg(shortfall * shortfall)


def siamese_contrastive_loss(y_hat, y, *, agg=np.mean, margin=1.0):
    """Contrastive loss (Hadsell et al. 2006) of distances ``ŷ`` between the two halves of pairs.

    ``agg((1 - y) ŷ² + y max(0, margin - ŷ)²)``: a pair labelled ``y = 0`` (alike) is pulled
    together, one labelled ``y = 1`` (different) pushed at least ``margin`` apart.

    >>> import numpy as np
    >>> siamese_contrastive_loss(np.array([0.5, 0.25]), np.array([0.0, 1.0]), agg=np.sum)
    np.float64(0.8125)
    """
    check_agree("siamese_contrastive_loss", y_hat, y)
    shortfall = np.maximum(0, margin - y_hat)
    return agg((1 - y) * y_hat * y_hat + y * shortfall * shortfall)
