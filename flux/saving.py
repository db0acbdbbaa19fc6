"""Saving a model's arrays to an ``.npz`` file and loading them back into a model of the same shape.

Arrays are stored under their dotted path in the model (``layers.0.weight``). `save` writes
a temporary file in the target directory and renames it over the target, so a crash never
leaves a half-written file. `load` reads and checks every array before it changes any, so a
bad file leaves the model as it was.
"""

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .functor import named_leaves

__all__ = ["save", "load", "LoadError"]


class LoadError(ValueError):
    """The file cannot be read, or its arrays do not fit the model."""


def save(path, model):
    """Write the float arrays of ``model`` to ``path`` (an ``.npz`` archive) atomically.

    >>> import os, tempfile
    >>> from flux import Dense
    >>> path = os.path.join(tempfile.mkdtemp(), "dense.npz")
    >>> save(path, Dense(2, 1))
    >>> sorted(np.load(path).files)
    ['bias', 'weight']
    """
    path = Path(path)
    arrays = dict(named_leaves(model))
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.",
                                         suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def read_archive(path):
    """Every array in the ``.npz`` at ``path``, read fully, or a `LoadError` saying why not."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as error:
        raise LoadError(f"{path} is not a readable flux parameter file (truncated, corrupt or "
                        f"another format): {error}") from error


def load(path, model):
    """Copy the arrays saved at ``path`` into ``model`` in place, and return ``model``.

    Raises `LoadError`, leaving the model unchanged, when the file is unreadable, lacks an
    array the model has (or has one it lacks), or an array's shape differs; the message
    names the array. Values are cast to the model's dtypes.

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
    flux.saving.LoadError: ...weight has shape (1, 2) in the file but (1, 3) in the model
    """
    saved = read_archive(path)
    targets = named_leaves(model)
    names = [name for name, _ in targets]
    missing = [name for name in names if name not in saved]
    if missing:
        raise LoadError(f"{path}: the file has no array for {', '.join(missing)} "
                        f"(it holds {', '.join(sorted(saved)) or 'nothing'})")
    unexpected = sorted(set(saved) - set(names))
    if unexpected:
        raise LoadError(f"{path}: the file holds arrays the model lacks: {', '.join(unexpected)}")
    for name, target in targets:
        found = saved[name]
        if found.shape != target.shape:
            raise LoadError(f"{path}: {name} has shape {found.shape} in the file but "
                            f"{target.shape} in the model")
        if not np.can_cast(found.dtype, target.dtype, casting="same_kind"):
            raise LoadError(f"{path}: {name} has dtype {found.dtype} in the file, which does not "
                            f"convert to the model's {target.dtype}")
    for name, target in targets:
        np.copyto(target, saved[name], casting="same_kind")
    return model
