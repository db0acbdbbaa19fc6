"""Label encodings: one-hot vectors and batches, their inverse `onecold`, and `accuracy`.

One-hot arrays are float32 and batch first, ``(N, C)``, so they feed the losses directly.
"""

import numpy as np

__all__ = ["onehot", "onehotbatch", "onecold", "accuracy"]


def class_indices(labels, classes, default=None):
    """Position of each label among ``classes``; unknown labels go to ``default`` or raise."""
    classes = np.asarray(classes)
    labels = np.asarray(labels)
    if classes.ndim != 1 or len(classes) == 0:
        raise ValueError("classes must be a non-empty sequence")
    order = np.argsort(classes, kind="stable")
    sorted_classes = classes[order]
    found = np.searchsorted(sorted_classes, labels)
    found = np.minimum(found, len(classes) - 1)
    indices = order[found]
    known = classes[indices] == labels
    if not np.all(known):
        if default is None:
            bad = np.ravel(labels[~known] if labels.ndim else labels)[0].item()
            raise ValueError(f"label {bad!r} is not among the classes "
                             f"{classes.tolist()!r}")
        fallback = class_indices(default, classes)
        indices = np.where(known, indices, fallback)
    return indices


def onehot(label, classes, default=None):
    """A float32 vector with a one where ``label`` sits in ``classes``.

    >>> onehot("b", ["a", "b", "c"])
    array([0., 1., 0.], dtype=float32)
    """
    return onehotbatch([label], classes, default)[0]


def onehotbatch(labels, classes, default=None):
    """Encode ``N`` labels as a float32 ``(N, C)`` batch, one row per label.

    A label outside ``classes`` raises ``ValueError`` unless ``default`` names a class to
    use instead.

    >>> onehotbatch([2, 0], range(3))
    array([[0., 0., 1.],
           [1., 0., 0.]], dtype=float32)
    """
    classes = np.asarray(classes)
    indices = class_indices(np.ravel(labels), classes, default)
    batch = np.zeros((len(indices), len(classes)), dtype=np.float32)
    batch[np.arange(len(indices)), indices] = 1
    return batch


def onecold(y, classes=None):
    """Inverse of :func:`onehotbatch`: the class with the largest score in each row.

    Works on any scores (probabilities, logits); ``classes`` defaults to ``0..C-1``. A single
    vector gives a single label.

    >>> import numpy as np
    >>> onecold(np.array([[0.1, 0.9], [0.8, 0.2]]), ["no", "yes"]).tolist()
    ['yes', 'no']
    >>> int(onecold(np.array([0.2, 0.5, 0.3])))
    1
    """
    indices = np.argmax(y, axis=-1)
    if classes is None:
        return indices
    return np.asarray(classes)[indices]


def accuracy(y_hat, y):
    """Fraction of rows of scores ``y_hat`` whose top class matches ``y``.

    ``y`` holds integer class indices ``(N,)`` or one-hot rows ``(N, C)``.

    >>> import numpy as np
    >>> accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1]))
    0.5
    """
    y = np.asarray(y)
    labels = onecold(y) if y.ndim == np.ndim(y_hat) else y
    return float(np.mean(onecold(y_hat) == labels))
