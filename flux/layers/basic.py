"""The basic layers: Dense, Chain, Dropout, and `flatten`.

Arrays are batch-first, ``(N, features)``. ``repr`` shows a layer in constructor form;
``print`` adds parameter counts (see `flux.layers.show`).
"""

import numpy as np

import zygote

from ..activations import identity
from ..functor import named_leaves
from ..initialisers import as_rng, glorot_uniform
from .mode import Modes, is_active
from .show import callable_only, count_parameters, name_of_layer, signature, underscored, with_counts

__all__ = ["Dense", "Chain", "Dropout", "flatten"]


def check_features(layer, x):
    """Raise a ``ValueError`` unless the last axis of ``x`` matches the layer's input width."""
    expected = layer.weight.shape[1]
    shape = np.shape(x)
    if len(shape) == 0 or shape[-1] != expected:
        raise ValueError(
            f"{layer!r} expects input of shape (N, {expected}) (batch first), "
            f"but received an array of shape {shape}")


# Shape checks and mode switches are bookkeeping, not maths: zygote steps over them.
zygote.nograd(check_features)


def bias_for(bias, size, dtype):
    """A layer's bias: zeros of ``size`` for True, None for False or None, else ``bias`` itself."""
    if bias is True:
        return np.zeros(size, dtype=dtype)
    if bias is False or bias is None:
        return None
    return np.asarray(bias)


def _dense_sizes(in_features, out_features, act):
    """``(in, out, act)`` from ``Dense(in, out, act)`` or ``Dense((in, out), act)``."""
    if isinstance(in_features, (tuple, list)):
        if len(in_features) != 2 or act is not identity or not (out_features is None or callable(out_features)):
            raise TypeError(f"Dense takes its sizes as Dense(in, out, act) or Dense((in, out), act); got "
                            f"Dense({in_features!r}, {out_features!r}" + ("" if act is identity else f", {act!r}")
                            + ")")
        (in_features, out_features), act = in_features, out_features or identity
    if not (isinstance(in_features, (int, np.integer)) and isinstance(out_features, (int, np.integer))):
        raise TypeError(f"Dense needs integer sizes, Dense(in, out, act) or Dense((in, out), act); got "
                        f"in={in_features!r}, out={out_features!r}")
    return int(in_features), int(out_features), act


class Dense(Modes):
    """Fully connected layer ``y = act(x @ W.T + b)``, batch first: ``(N, in) -> (N, out)``.

    ``weight`` (alias ``W``) has shape ``(out, in)`` and ``bias`` (alias ``b``) shape
    ``(out,)``; ``bias=False`` leaves the bias out. ``init(out, in, rng=rng)`` draws the
    weight (float32 Glorot uniform by default); the bias starts at zero.

    >>> import numpy as np
    >>> from flux import relu
    >>> layer = Dense(3, 2, relu, rng=0)
    >>> layer
    Dense(3 => 2, relu)
    >>> layer(np.ones((5, 3), np.float32)).shape
    (5, 2)
    >>> print(layer)
    Dense(3 => 2, relu)  # 8 parameters

    The sizes may also come as one pair, as Flux.jl's ``Dense(3 => 2, relu)``:

    >>> Dense((3, 2), relu, rng=0)
    Dense(3 => 2, relu)
    """

    def __init__(self, in_features, out_features=None, act=identity, *, bias=True,
                 init=glorot_uniform, rng=None):
        in_features, out_features, act = _dense_sizes(in_features, out_features, act)
        if rng is None:
            self.weight = init(out_features, in_features)
        else:
            self.weight = init(out_features, in_features, rng=rng)
        self.bias = bias_for(bias, out_features, self.weight.dtype)
        self.act = act

    @property
    def W(self):
        """Alias of ``weight``."""
        return self.weight

    @W.setter
    def W(self, value):
        self.weight = value

    @property
    def b(self):
        """Alias of ``bias``."""
        return self.bias

    @b.setter
    def b(self, value):
        self.bias = value

    def __call__(self, x):
        check_features(self, x)
        if self.bias is None:
            return self.act(x @ self.weight.T)
        return self.act(x @ self.weight.T + self.bias)

    def __repr__(self):
        out_features, in_features = self.weight.shape
        return signature(f"Dense({in_features} => {out_features}", self.act,
                         "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)


class Chain(Modes):
    """Apply layers (or plain functions) in sequence: ``Chain(f, g)(x) == g(f(x))``.

    Indexing gives a layer (``m[0]``) or a sub-chain (``m[:2]``); iteration and ``len``
    go over the layers, which are stored as the tuple ``layers``.

    >>> import numpy as np
    >>> from flux import relu, softmax
    >>> model = Chain(Dense(4, 3, relu, rng=0), Dense(3, 2, rng=1), softmax)
    >>> model
    Chain(Dense(4 => 3, relu), Dense(3 => 2), softmax)
    >>> model(np.ones((1, 4), np.float32)).sum().round(5)
    np.float32(1.0)
    >>> model[1:]
    Chain(Dense(3 => 2), softmax)
    >>> print(model)
    Chain(
      Dense(4 => 3, relu),  # 15 parameters
      Dense(3 => 2),  # 8 parameters
      softmax,
    )  # total: 23 parameters in 4 arrays
    """

    def __init__(self, *layers):
        self.layers = tuple(layers)

    def __call__(self, x):
        if not self.layers:
            return x
        # The input keeps its own name and the first call is written out: zygote's activity
        # analysis goes by name, so reusing ``x`` as the loop variable would make it
        # differentiate the first layer with respect to the data too (a wasted matmul).
        h = self.layers[0](x)
        for layer in self.layers[1:]:
            h = layer(h)
        return h

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Chain(*self.layers[index])
        return self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        return "Chain(" + ", ".join(name_of_layer(layer) for layer in self.layers) + ")"

    def __str__(self):
        lines = ["Chain("]
        for layer in self.layers:
            count = count_parameters(layer) if not callable_only(layer) else 0
            line = f"  {name_of_layer(layer)},"
            if count:
                line += f"  # {underscored(count)} parameters"
            lines.append(line)
        arrays = len({id(a) for _, a in named_leaves(self, only_trainable=True)})
        total = count_parameters(self)
        untrained = count_parameters(self, only_trainable=False) - total
        lines.append(f")  # total: {underscored(total)} parameters in {arrays} arrays"
                     + (f", plus {underscored(untrained)} non-trainable" if untrained else ""))
        return "\n".join(lines)


def flatten(x):
    """Reshape a batch ``(N, d1, d2, ...)`` to ``(N, d1 * d2 * ...)``.

    >>> import numpy as np
    >>> flatten(np.zeros((5, 28, 28))).shape
    (5, 784)
    """
    return x.reshape(x.shape[0], -1)


def dropout_mask(layer, x):
    """A fresh mask of ``0`` and ``1 / (1 - p)`` shaped like ``x``, in ``x``'s dtype."""
    keep = 1 - layer.p
    draws = layer.rng.random(np.shape(x), dtype=np.float32)
    return np.where(draws < keep, 1 / keep, 0).astype(np.result_type(x, np.float32))


zygote.nograd(dropout_mask)


class Dropout(Modes):
    """Zero each input with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    ``active=None`` (the default) drops only while :func:`flux.train` runs; ``trainmode``
    and ``testmode`` (or ``active=True``/``False``) force it on or off.

    >>> import numpy as np
    >>> layer = Dropout(0.5, rng=0)
    >>> layer(np.ones(4))
    array([1., 1., 1., 1.])
    >>> sorted(set(Dropout(0.5, active=True, rng=0)(np.ones(100)).tolist()))
    [0.0, 2.0]
    """

    def __init__(self, p, *, active=None, rng=None):
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability must be in [0, 1), got {p}")
        self.p = p
        self.active = active
        self.rng = as_rng(rng)

    def __call__(self, x):
        if is_active(self):
            return x * dropout_mask(self, x)
        return x

    def __repr__(self):
        return f"Dropout({self.p})"


