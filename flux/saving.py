"""Saving a model's arrays to an ``.npz`` file and loading them back into a model of the same shape.

Arrays are stored under their dotted path in the model (``layers.0.weight``). `save`
replaces the file atomically (`flux.atomic`: a crash never leaves a half-written file,
the file's mode and a symbolic link to it are kept). `load` reads every array's declared
shape and size first, then the data, and checks all of it before it changes any array, so
a bad file leaves the model as it was.
"""

from .archive import ArchiveError, read_array, read_headers, write_arrays
from .atomic import replace_atomically
from .model_state import LoadError, ModelNameError, assign, check_names, named_arrays

__all__ = ["save", "load", "LoadError", "ModelNameError"]


def save(path, model):
    """Write the float arrays of ``model`` to ``path`` (an ``.npz`` archive) atomically.

    >>> import os, tempfile
    >>> import numpy as np
    >>> from flux import Dense
    >>> path = os.path.join(tempfile.mkdtemp(), "dense.npz")
    >>> save(path, Dense(2, 1))
    >>> sorted(np.load(path).files)
    ['bias', 'weight']
    """
    arrays = named_arrays(model)
    replace_atomically(path, lambda stream: write_arrays(stream, arrays))


def load(path, model):
    """Copy the arrays saved at ``path`` into ``model`` in place, and return ``model``.

    Raises `LoadError`, leaving the model unchanged, when the file is unreadable, lacks an
    array the model has (or has one it lacks), an array's shape differs, or a value does
    not fit the model's dtype; the message names the array. Values are cast to the
    model's dtypes. Shapes are compared before any array is read, so a file declaring
    a huge array costs nothing.

    >>> import os, tempfile
    >>> from flux import Dense
    >>> path = os.path.join(tempfile.mkdtemp(), "dense.npz")
    >>> source, target = Dense(2, 1), Dense(2, 1)
    >>> save(path, source)
    >>> bool((load(path, target).weight == source.weight).all())
    True
    >>> load(path, Dense(3, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    flux.model_state.LoadError: ...weight has shape (1, 2) in the file but (1, 3) in the model
    """
    try:
        headers = read_headers(path)
        check_names(path, named_arrays(model), {name: h.shape for name, h in headers.items()},
                    {name: h.dtype for name, h in headers.items()})
        found = {name: read_array(path, header) for name, header in headers.items()}
    except ArchiveError as error:
        raise LoadError(f"{path} is not a readable flux parameter file (truncated, corrupt or "
                        f"another format): {error}") from error
    return assign(path, model, found)
