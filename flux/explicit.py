"""Explicit-style differentiation from flux itself: `gradient` and `withgradient` of a function of the model.

Flux.jl v0.16's style: the loss takes the model as an argument and the gradient comes
back shaped like it, a nested structure of dicts (one per layer, keyed by attribute),
tuples and arrays, ready for ``flux.update(state, model, grad)``. The implicit style
(``zygote.gradient(loss, params(model))``) stays with zygote, so each function has one
meaning.
"""

import zygote

__all__ = ["gradient", "withgradient"]


def check_explicit(name, args):
    """Refuse a ``Params`` argument, which belongs to the implicit style, with the way out."""
    if any(isinstance(arg, zygote.Params) for arg in args):
        raise TypeError(f"flux.{name} takes the model itself, as in {name}(lambda m: loss(m, "
                        f"x, y), model); for params(model) use zygote.{name}(lambda: "
                        f"loss(x, y), params(model))")


def gradient(f, *args):
    """The gradient of the real number ``f(*args)`` with respect to each argument, as a tuple.

    For a model the entry is shaped like the model: a dict per layer of its trainable
    attributes, so ``grad["layers"][0]["weight"]`` belongs to ``model[0].weight``.

    >>> import numpy as np, flux
    >>> model = flux.Dense(2, 1, init=flux.ones32)
    >>> x, y = np.ones((3, 2), np.float32), np.zeros((3, 1), np.float32)
    >>> (grad,) = flux.gradient(lambda m: flux.mse(m(x), y), model)
    >>> grad["weight"], grad["bias"]
    (array([[4., 4.]], dtype=float32), array([4.], dtype=float32))
    """
    check_explicit("gradient", args)
    return zygote.gradient(f, *args)


def withgradient(f, *args):
    """``(f(*args), gradient(f, *args))`` from one pass: the loss and its gradient together.

    >>> import numpy as np, flux
    >>> model = flux.Dense(2, 1, init=flux.ones32)
    >>> x, y = np.ones((3, 2), np.float32), np.zeros((3, 1), np.float32)
    >>> loss, (grad,) = flux.withgradient(lambda m: flux.mse(m(x), y), model)
    >>> float(loss), grad["bias"]
    (4.0, array([4.], dtype=float32))
    """
    check_explicit("withgradient", args)
    return zygote.withgradient(f, *args)
