"""The argument checks every loss makes: predictions and targets of one shape, class indices in range.

numpy broadcasts ``(4, 1) - (4,)`` to a ``(4, 4)`` table, so a loss that let shapes merely
broadcast would average sixteen wrong differences and report a plausible number. The
losses therefore ask for equal shapes (a scalar target is the one exception: it broadcasts
in a single, obvious way). The checks are bookkeeping, not maths, so zygote steps over them,
and soft targets keep their gradient.
"""

import numpy as np

import zygote

__all__ = ["LossShapeError", "check_agree", "class_targets"]


class LossShapeError(ValueError):
    """A loss was given predictions and targets whose shapes do not agree."""


def check_agree(loss, y_hat, y):
    """Raise `LossShapeError` naming ``loss`` and both shapes unless ``y_hat`` and ``y`` agree.

    >>> import numpy as np
    >>> check_agree("mse", np.zeros((4, 1)), np.zeros(4))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flux.losses.checks.LossShapeError: mse: ŷ has shape (4, 1) but y has shape (4,); ...
    """
    shape_hat, shape = np.shape(y_hat), np.shape(y)
    if shape and shape != shape_hat:
        hint = ""
        if shape_hat == shape + (1,):
            hint = f"; y.reshape({shape_hat}) makes the target a column like ŷ"
        elif shape == shape_hat + (1,):
            hint = f"; y.reshape({shape_hat}) drops the target's trailing axis"
        raise LossShapeError(f"{loss}: ŷ has shape {shape_hat} but y has shape {shape}; they "
                             f"must be equal (numpy would broadcast them to a table of "
                             f"differences){hint}")


def class_targets(loss, y_hat, y, axis):
    """The targets ``y`` as one-hot rows along ``axis`` when they are integer class indices.

    Integer ``y`` whose shape is ``y_hat``'s without ``axis`` holds one class index per
    sample (PyTorch's convention); it becomes a one-hot array in ``y_hat``'s dtype.
    Anything else (one-hot rows, probabilities) must have ``y_hat``'s shape and is returned
    as it is.

    >>> import numpy as np
    >>> class_targets("crossentropy", np.zeros((2, 3)), np.array([2, 0]), -1)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    y_arr = np.asarray(y)
    shape_hat = np.shape(y_hat)
    if np.issubdtype(y_arr.dtype, np.integer) and len(shape_hat) == y_arr.ndim + 1:
        axis = axis % len(shape_hat)
        classes = shape_hat[axis]
        expected = shape_hat[:axis] + shape_hat[axis + 1:]
        if y_arr.shape != expected:
            raise LossShapeError(f"{loss}: class-index targets for ŷ of shape {shape_hat} "
                                 f"(classes along axis {axis}) need shape {expected}, got "
                                 f"{y_arr.shape}")
        if y_arr.size and (y_arr.min() < 0 or y_arr.max() >= classes):
            bad = y_arr[(y_arr < 0) | (y_arr >= classes)].ravel()[0]
            raise LossShapeError(f"{loss}: class index {int(bad)} is outside 0..{classes - 1} "
                                 f"(ŷ has {classes} classes along axis {axis})")
        positions = np.arange(classes).reshape((classes,) + (1,) * (len(shape_hat) - axis - 1))
        onehot = np.expand_dims(y_arr, axis) == positions
        return onehot.astype(np.result_type(y_hat, np.float32))
    check_agree(loss, y_hat, y)
    return y


zygote.nograd(check_agree)


@zygote.adjoint(class_targets)
def class_targets_rule(loss, y_hat, y, axis):
    """Targets given as probabilities keep their gradient (a teacher's soft labels may be
    trained); class indices are integers and have none."""
    targets = class_targets(loss, y_hat, y, axis)

    def class_targets_back(dtargets):
        return None, None, (dtargets if targets is y else None), None
    return targets, class_targets_back
