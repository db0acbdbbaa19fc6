"""How layers show themselves: a repr in constructor form, and parameter counts for ``print``.

>>> from flux import Dense
>>> with_counts(Dense(2, 3))
'Dense(2 => 3)  # 9 parameters'
"""

from ..activations import identity, sigmoid
from ..functor import is_node, named_leaves

__all__ = ["signature", "with_counts", "name_of", "name_of_layer", "count_parameters"]


def name_of(f):
    """How a function or layer appears inside a layer's repr (``σ`` for the sigmoid)."""
    if f is sigmoid:
        return "σ"
    return getattr(f, "__name__", None) or repr(f)


def count_parameters(layer, only_trainable=True):
    """Number of scalars in the trainable float arrays of ``layer``, each tied array counted once.

    ``only_trainable=False`` counts the untrained ones too (BatchNorm's running statistics).
    """
    unique = {id(a): a for _, a in named_leaves(layer, only_trainable=only_trainable)}
    return sum(a.size for a in unique.values())


def underscored(n):
    """Format an integer with ``_`` thousands separators, ``200_960``."""
    return f"{n:_}"


def signature(head, act=identity, *options):
    """A layer's repr: ``head``, the activation unless it is ``identity``, the non-empty
    ``options``, and the closing parenthesis.

    >>> from flux import relu
    >>> signature("Dense(2 => 3", relu, "", "bias=False")
    'Dense(2 => 3, relu, bias=False)'
    """
    parts = [head] + ([name_of(act)] if act is not identity else []) + [o for o in options if o]
    return ", ".join(parts) + ")"


def with_counts(layer):
    """``repr`` with the parameter count, and the count of saved but untrained numbers if any."""
    trained = count_parameters(layer)
    untrained = count_parameters(layer, only_trainable=False) - trained
    text = f"{layer!r}  # {underscored(trained)} parameters"
    if untrained:
        text += f", plus {underscored(untrained)} non-trainable"
    return text


def callable_only(layer):
    """True for a plain function in a chain, as opposed to a layer object."""
    return not is_node(layer)


def name_of_layer(layer):
    """Repr of a layer, or the name of a plain function, as listed inside a Chain."""
    if callable_only(layer):
        return name_of(layer)
    return repr(layer)
