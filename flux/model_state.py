"""A model's arrays by name: the snapshot `state`, and `loadmodel`, which copies named arrays into a model after checking them all.

Names are dotted paths (``layers.0.weight``), and every float array counts, trained or not
(BatchNorm's running statistics too). `loadmodel` is the checked copy that `flux.load`
also uses: it compares names, shapes and dtypes of every array first, and changes
nothing unless all of them fit.
"""

import numpy as np

from .functor import parameter_paths

__all__ = ["state", "loadmodel", "named_arrays", "LoadError", "ModelNameError"]


class LoadError(ValueError):
    """The file cannot be read, or its arrays do not fit the model."""


class ModelNameError(ValueError):
    """Two different arrays of a model have the same dotted name, so a file cannot tell them apart."""


def named_arrays(model):
    """``{dotted name: array}`` for every float array of ``model``, in walking order.

    A tied array appears under each name that reaches it. Two *different* arrays that
    share a name (``{"x.y": a, "x": {"y": b}}``) raise `ModelNameError`.

    >>> from flux import Dense
    >>> list(named_arrays(Dense(2, 1)))
    ['weight', 'bias']
    """
    arrays, paths = {}, {}
    for path, leaf in parameter_paths(model, only_trainable=False):
        name = ".".join(map(str, path))
        if name in arrays and arrays[name] is not leaf:
            raise ModelNameError(f"two different arrays of the model are both named {name!r} "
                                 f"(at paths {list(paths[name])} and {list(path)}); rename one "
                                 f"so that saving and loading can tell them apart")
        arrays.setdefault(name, leaf)
        paths.setdefault(name, path)
    return arrays


def state(model):
    """A snapshot of the arrays of ``model``: ``{dotted name: copy}``, PyTorch's ``state_dict``.

    The copies do not change as the model trains; `loadmodel` puts them back.

    >>> from flux import Dense
    >>> layer = Dense(2, 1, rng=0)
    >>> saved = state(layer)
    >>> layer.weight[:] = 0
    >>> bool((loadmodel(layer, saved).weight != 0).any())
    True
    """
    return {name: array.copy() for name, array in named_arrays(model).items()}


def check_names(where, targets, shapes, dtypes):
    """Raise `LoadError` unless ``shapes`` and ``dtypes`` (by name) fit the arrays ``targets``."""
    missing = [name for name in targets if name not in shapes]
    if missing:
        raise LoadError(f"{where}: the file has no array for {', '.join(missing)} "
                        f"(it holds {', '.join(sorted(shapes)) or 'nothing'})")
    unexpected = sorted(set(shapes) - set(targets))
    if unexpected:
        raise LoadError(f"{where}: the file holds arrays the model lacks: {', '.join(unexpected)}")
    for name, target in targets.items():
        if tuple(shapes[name]) != target.shape:
            raise LoadError(f"{where}: {name} has shape {tuple(shapes[name])} in the file but "
                            f"{target.shape} in the model")
        if not np.can_cast(dtypes[name], target.dtype, casting="same_kind"):
            raise LoadError(f"{where}: {name} has dtype {dtypes[name]} in the file, which does "
                            f"not convert to the model's {target.dtype}")


def converted(where, name, found, target):
    """``found`` in ``target``'s dtype; `LoadError` if a finite value would become infinite."""
    with np.errstate(over="ignore"):
        cast = np.asarray(found).astype(target.dtype)
    if np.issubdtype(target.dtype, np.inexact):
        overflowed = np.isfinite(found) & ~np.isfinite(cast)
        if overflowed.any():
            value = np.asarray(found)[overflowed].ravel()[0].item()
            raise LoadError(f"{where}: {name} holds {value!r}, beyond the range of the model's "
                            f"{target.dtype} (it would load as infinity)")
    return cast


def assign(where, model, found):
    """Copy the arrays ``found`` (by name) into ``model`` once every one of them is checked."""
    targets = named_arrays(model)
    check_names(where, targets, {name: np.shape(a) for name, a in found.items()},
                {name: np.asarray(a).dtype for name, a in found.items()})
    casts = {name: converted(where, name, found[name], target) for name, target in targets.items()}
    for name, target in targets.items():
        np.copyto(target, casts[name])
    return model


def loadmodel(model, source):
    """Copy the arrays of ``source`` (a `state` dict or a model of the same shape) into ``model``.

    Flux's ``loadmodel!`` and PyTorch's ``load_state_dict``: arrays are copied in place and
    cast to the model's dtypes, and `LoadError` names the first array that is missing,
    unexpected, of another shape or out of range, leaving the model unchanged.

    >>> from flux import Chain, Dense
    >>> target = Chain(Dense(2, 3, rng=0), Dense(3, 1, rng=1))
    >>> source = Chain(Dense(2, 3, rng=2), Dense(3, 1, rng=3))
    >>> bool((loadmodel(target, source)[0].weight == source[0].weight).all())
    True
    """
    return assign("loadmodel", model, named_arrays(source))
