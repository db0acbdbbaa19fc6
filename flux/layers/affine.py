"""Elementwise and bilinear layers: Scale (``x · s + b``) and Bilinear (``xᵀ W z + b``)."""

import numpy as np

import zygote

from ..activations import identity
from ..initialisers import glorot_uniform, ones32
from .basic import bias_for
from .mode import Modes
from .show import signature, with_counts

__all__ = ["Scale", "Bilinear"]


def check_trailing(layer, x, expected, exact=False):
    """Raise a ``ValueError`` unless ``x`` is a batch whose trailing axes are ``expected``
    (and, with ``exact``, nothing but the batch axis before them)."""
    shape = np.shape(x)
    least = len(expected) + 1
    if (len(shape) < least or (exact and len(shape) != least)
            or tuple(shape[len(shape) - len(expected):]) != expected):
        wanted = "(N, " + ", ".join(map(str, expected)) + ")"
        raise ValueError(f"{layer!r} expects input of shape {wanted} (batch first), "
                         f"but received an array of shape {shape}")


zygote.nograd(check_trailing)


class Scale(Modes):
    """Elementwise affine map ``y = act(x · scale + bias)`` over the trailing axes of a batch.

    ``Scale(3)`` acts on ``(N, 3)``; ``Scale(4, 4, 3)`` on NHWC images ``(N, 4, 4, 3)``, one
    weight per pixel and channel. ``scale`` starts at ones (``init(*size, rng=rng)``), the
    bias at zeros; ``bias=False`` leaves it out.

    >>> import numpy as np
    >>> layer = Scale(2)
    >>> layer.scale[:] = [2.0, -1.0]
    >>> layer(np.ones((3, 2), np.float32))[0]
    array([ 2., -1.], dtype=float32)
    >>> print(Scale(4, 3, bias=False))
    Scale(4, 3, bias=False)  # 12 parameters
    """

    def __init__(self, *size, act=identity, bias=True, init=ones32, rng=None):
        if not size or any(int(n) != n or n < 1 for n in size):
            raise ValueError(f"Scale needs positive sizes, got {size}")
        self.size = tuple(int(n) for n in size)
        self.scale = init(*self.size) if rng is None else init(*self.size, rng=rng)
        self.bias = bias_for(bias, self.size, self.scale.dtype)
        self.act = act

    def __call__(self, x):
        check_trailing(self, x, self.scale.shape)
        if self.bias is None:
            return self.act(x * self.scale)
        return self.act(x * self.scale + self.bias)

    def __repr__(self):
        return signature("Scale(" + ", ".join(map(str, self.scale.shape)), self.act,
                         "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)


class Bilinear(Modes):
    """Bilinear layer ``y[n, o] = act(Σᵢⱼ x[n, i] W[o, i, j] z[n, j] + b[o])``.

    ``Bilinear((in1, in2), out)`` takes a pair ``(x, z)`` of batches ``(N, in1)`` and
    ``(N, in2)``, or one batch ``x`` standing for both (then ``in1 == in2``); the output is
    ``(N, out)``. ``weight`` has shape ``(out, in1, in2)`` (Glorot uniform), ``bias``
    ``(out,)`` (zeros, or none with ``bias=False``).

    >>> import numpy as np
    >>> layer = Bilinear((3, 2), 4, rng=0)
    >>> layer
    Bilinear((3, 2) => 4)
    >>> x, z = np.ones((5, 3), np.float32), np.ones((5, 2), np.float32)
    >>> layer((x, z)).shape
    (5, 4)
    >>> print(Bilinear(2, 1, rng=0))
    Bilinear((2, 2) => 1)  # 5 parameters
    """

    def __init__(self, in_features, out_features, act=identity, *, bias=True,
                 init=glorot_uniform, rng=None):
        in1, in2 = ((in_features, in_features) if isinstance(in_features, (int, np.integer))
                    else in_features)
        if rng is None:
            self.weight = init(out_features, in1, in2)
        else:
            self.weight = init(out_features, in1, in2, rng=rng)
        self.bias = bias_for(bias, out_features, self.weight.dtype)
        self.act = act

    def __call__(self, xs):
        x, z = xs if isinstance(xs, tuple) else (xs, xs)
        out, in1, in2 = self.weight.shape
        check_trailing(self, x, (in1,), exact=True)
        check_trailing(self, z, (in2,), exact=True)
        # x W: one matrix product gives every x[n]ᵀ W[o] as a row of in2 numbers.
        x_weight = (x @ np.transpose(self.weight, (1, 0, 2)).reshape(in1, out * in2))
        y = np.sum(x_weight.reshape(-1, out, in2) * z[:, None, :], axis=2)
        if self.bias is None:
            return self.act(y)
        return self.act(y + self.bias)

    def __repr__(self):
        out, in1, in2 = self.weight.shape
        return signature(f"Bilinear(({in1}, {in2}) => {out}", self.act,
                         "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)
