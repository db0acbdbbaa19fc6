"""Convolution and pooling layers for batches of images in NHWC layout (Conv, MaxPool, MeanPool, global pools).

Images are ``(N, H, W, C)``: batch first, like every flux array, and channels last, so that a
pixel's channels sit next to each other in memory and the windows of `flux.nnlib.windows`
flatten straight into the rows of one matrix product. A batch of MNIST digits ``(N, 28, 28)``
becomes ``x[..., None]``, ``(N, 28, 28, 1)``. Sizes and steps are ``(height, width)``
pairs; an ``int`` means the same for both.
"""

import numpy as np

import zygote

from ..activations import identity
from ..initialisers import glorot_uniform
from ..nnlib import conv, maxpool, meanpool
from .basic import bias_for
from .mode import Modes
from .show import signature, with_counts

__all__ = ["Conv", "MaxPool", "MeanPool", "GlobalMaxPool", "GlobalMeanPool"]


def pair(value, what):
    """``(a, b)`` from an int or a pair of ints; ``what`` names the argument in the error.

    >>> pair(3, "stride"), pair((2, 1), "stride")
    ((3, 3), (2, 1))
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    raise TypeError(f"{what} must be an int or a pair of ints, got {value!r}")


def positive(values, what):
    """``values`` (a pair), after checking that both are at least 1."""
    if min(values) < 1:
        raise ValueError(f"{what} must be at least 1, got {values}")
    return values


def padding(pad, window, dilation):
    """``(top, bottom, left, right)`` from an int, a pair ``(ph, pw)``, a 4-tuple or ``"same"``.

    ``"same"`` pads ``dilation * (k - 1)`` in all along each axis (the extra pixel, if odd,
    at the bottom or right), so that a stride-1 layer keeps the image size and a stride-``s``
    layer gives ``ceil(H / s)``.

    >>> padding(1, (3, 3), (1, 1)), padding((1, 2), (3, 3), (1, 1))
    ((1, 1, 1, 1), (1, 1, 2, 2))
    >>> padding("same", (4, 3), (1, 2))
    (1, 2, 2, 2)
    """
    if isinstance(pad, str):
        if pad != "same":
            raise ValueError(f'pad must be an int, a pair, a 4-tuple or "same", got {pad!r}')
        total = [d * (k - 1) for k, d in zip(window, dilation)]
        return (total[0] // 2, total[0] - total[0] // 2, total[1] // 2, total[1] - total[1] // 2)
    if isinstance(pad, (tuple, list)) and len(pad) == 4:
        widths = tuple(int(p) for p in pad)
    else:
        ph, pw = pair(pad, "pad")
        widths = (ph, ph, pw, pw)
    if min(widths) < 0:
        raise ValueError(f"pad must not be negative, got {pad!r}")
    return widths


def shown(values):
    """A pair or 4-tuple as a constructor argument: ``2`` when all equal, else the tuple."""
    if len(set(values)) == 1:
        return str(values[0])
    if len(values) == 4 and values[0] == values[1] and values[2] == values[3]:
        return str((values[0], values[2]))
    return str(tuple(values))


def options(layer, defaults):
    """``["stride=2", "pad=1"]``: the keyword arguments of ``layer`` that differ from ``defaults``."""
    return [f"{name}={shown(getattr(layer, name))}" for name, default in defaults.items()
            if getattr(layer, name) != default]


def check_images(layer, x, channels, window, dilation, pad):
    """Raise a ``ValueError`` unless ``x`` is an NHWC batch that the layer's windows fit in.

    ``channels`` is the number of input channels the layer needs, or None for any.
    """
    shape = np.shape(x)
    wanted = f"(N, H, W, {channels if channels is not None else 'C'})"
    if len(shape) != 4 or (channels is not None and shape[-1] != channels):
        hint = ""
        if len(shape) == 3 and channels == 1:
            hint = "; add the channel axis of a greyscale batch with x[..., None]"
        elif len(shape) == 4 and channels is not None and shape[1] == channels:
            hint = "; channels-first (NCHW) arrays become NHWC with np.transpose(x, (0, 2, 3, 1))"
        raise ValueError(f"{layer!r} expects a batch of images of shape {wanted} (NHWC: batch "
                         f"first, channels last), but received an array of shape {shape}{hint}")
    top, bottom, left, right = pad
    height, width = shape[1] + top + bottom, shape[2] + left + right
    span = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
    if height < span[0] or width < span[1]:
        raise ValueError(f"{layer!r} needs images of at least {span[0]}×{span[1]} pixels "
                         f"(padding included), but received an array of shape {shape}")


def settings(layer, *names):
    """The integer settings ``names`` of ``layer`` (stride, pad, ...), as constants.

    zygote counts Python ints as numbers it may differentiate, so integers read off a
    differentiated layer would make the padded input "active", and a first layer would
    compute the gradient of the data (a wasted col2im). Read through this function, which
    zygote steps over, they are plain constants.
    """
    return tuple(getattr(layer, name) for name in names)


# Shape checks are bookkeeping, not maths: zygote steps over them.
zygote.nograd(check_images, settings)


class Conv(Modes):
    """2-d convolution ``y = act(conv(x, weight) + bias)`` of an NHWC batch: ``(N, H, W, in) -> (N, OH, OW, out)``.

    ``y[n, i, j, o] = act(Σ_{p, q, c} x[n, i·sh + p·dh, j·sw + q·dw, c] · weight[p, q, c, o] + bias[o])``
    on the padded input (a cross-correlation, as in every deep-learning library), with
    ``OH = (H + top + bottom - dh·(kh - 1) - 1) // sh + 1`` and likewise ``OW``.

    ``weight`` has shape ``(kh, kw, in, out)`` and ``bias`` shape ``(out,)``; ``bias=False``
    leaves the bias out. ``stride`` and ``dilation`` take an int or an ``(h, w)`` pair; ``pad``
    an int, a pair, ``(top, bottom, left, right)`` or ``"same"``. ``init(out, in, kh, kw,
    rng=rng)`` draws the weight in the ``(out, in, ...)`` order every initialiser takes
    (Glorot uniform by default, fans counted over the window), stored transposed to
    ``(kh, kw, in, out)``; the bias starts at zero. zygote differentiates `flux.nnlib.conv`.

    >>> import numpy as np
    >>> from flux import relu
    >>> layer = Conv((5, 5), 1, 6, relu, rng=0)
    >>> layer
    Conv((5, 5), 1 => 6, relu)
    >>> layer.weight.shape, layer.weight.dtype
    ((5, 5, 1, 6), dtype('float32'))
    >>> layer(np.ones((2, 28, 28, 1), np.float32)).shape
    (2, 24, 24, 6)
    >>> Conv((3, 3), 6, 8, pad="same", stride=2, rng=0)(np.ones((2, 9, 9, 6), np.float32)).shape
    (2, 5, 5, 8)
    >>> print(Conv((3, 3), 1, 2, pad=1, bias=False, rng=0))
    Conv((3, 3), 1 => 2, pad=1, bias=False)  # 18 parameters
    """

    def __init__(self, window, in_channels, out_channels, act=identity, *, stride=1, pad=0,
                 dilation=1, bias=True, init=glorot_uniform, rng=None):
        kh, kw = positive(pair(window, "window"), "window")
        self.stride = positive(pair(stride, "stride"), "stride")
        self.dilation = positive(pair(dilation, "dilation"), "dilation")
        self.pad = padding(pad, (kh, kw), self.dilation)
        if rng is None:
            drawn = init(out_channels, in_channels, kh, kw)
        else:
            drawn = init(out_channels, in_channels, kh, kw, rng=rng)
        self.weight = np.ascontiguousarray(np.transpose(drawn, (2, 3, 1, 0)))
        self.bias = bias_for(bias, out_channels, self.weight.dtype)
        self.act = act

    def __call__(self, x):
        stride, pad, dilation = settings(self, "stride", "pad", "dilation")
        check_images(self, x, self.weight.shape[2], self.weight.shape[:2], dilation, pad)
        return self.act(conv(x, self.weight, self.bias, stride=stride, pad=pad, dilation=dilation))

    def __repr__(self):
        kh, kw, cin, cout = self.weight.shape
        return signature(f"Conv({(kh, kw)}, {cin} => {cout}", self.act,
                         *options(self, {"stride": (1, 1), "pad": (0, 0, 0, 0), "dilation": (1, 1)}),
                         "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)


class Pool(Modes):
    """What the window pools share: window, stride (the window by default), pad and repr."""

    def __init__(self, window, *, stride=None, pad=0):
        self.window = positive(pair(window, "window"), "window")
        self.stride = self.window if stride is None else positive(pair(stride, "stride"), "stride")
        self.pad = padding(pad, self.window, (1, 1))

    def __repr__(self):
        text = f"{type(self).__name__}({self.window}"
        return signature(text, identity, *options(self, {"stride": self.window, "pad": (0, 0, 0, 0)}))


class MaxPool(Pool):
    """The largest value of each ``window`` in each channel: ``(N, H, W, C) -> (N, OH, OW, C)``.

    ``stride`` defaults to the window (windows that tile the image); ``pad`` (as for
    `Conv`) adds ``-inf``, which never wins. Rows and columns that no window reaches are
    dropped, so ``MaxPool((2, 2))`` maps 7×7 to 3×3. The gradient of a window goes to its
    maximum; tied maxima share it equally.

    >>> import numpy as np
    >>> pool = MaxPool((2, 2))
    >>> pool
    MaxPool((2, 2))
    >>> pool(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    >>> MaxPool(3, stride=1, pad=1)(np.ones((2, 5, 5, 4))).shape
    (2, 5, 5, 4)
    """

    def __call__(self, x):
        window, stride, pad = settings(self, "window", "stride", "pad")
        check_images(self, x, None, window, (1, 1), pad)
        return maxpool(x, window, stride, pad)


class MeanPool(Pool):
    """The mean of each ``window`` in each channel: ``(N, H, W, C) -> (N, OH, OW, C)``.

    Arguments as for `MaxPool`; zero padding counts towards the mean (every window averages
    ``kh · kw`` values).

    >>> import numpy as np
    >>> MeanPool((2, 2))(np.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    >>> MeanPool((2, 2), stride=1)
    MeanPool((2, 2), stride=1)
    """

    def __call__(self, x):
        window, stride, pad = settings(self, "window", "stride", "pad")
        check_images(self, x, None, window, (1, 1), pad)
        return meanpool(x, window, stride, pad)


class GlobalMaxPool(Modes):
    """The largest value of each channel over the whole image: ``(N, H, W, C) -> (N, 1, 1, C)``.

    >>> import numpy as np
    >>> GlobalMaxPool()(np.arange(8.0).reshape(1, 2, 2, 2))[0, 0, 0]
    array([6., 7.])
    """

    def __call__(self, x):
        check_images(self, x, None, (1, 1), (1, 1), (0, 0, 0, 0))
        return np.max(x, axis=(1, 2), keepdims=True)

    def __repr__(self):
        return "GlobalMaxPool()"


class GlobalMeanPool(Modes):
    """The mean of each channel over the whole image: ``(N, H, W, C) -> (N, 1, 1, C)``.

    Follow it with `flux.flatten` to get ``(N, C)`` features.

    >>> import numpy as np
    >>> from flux import Chain, flatten
    >>> Chain(GlobalMeanPool(), flatten)(np.arange(8.0).reshape(1, 2, 2, 2))
    array([[3., 4.]])
    """

    def __call__(self, x):
        check_images(self, x, None, (1, 1), (1, 1), (0, 0, 0, 0))
        return np.mean(x, axis=(1, 2), keepdims=True)

    def __repr__(self):
        return "GlobalMeanPool()"
