"""The other convolutions of NHWC batches: ConvTranspose, DepthwiseConv, and CrossCor.

Arguments read as for `flux.Conv`: a window, the input and output channel counts, an
activation, then ``stride``, ``pad``, ``dilation``, ``bias``, ``init`` and ``rng``.
"""

import numpy as np

import zygote

from ..activations import identity
from ..initialisers import glorot_uniform
from ..nnlib import conv_transpose, depthwise_conv
from .basic import bias_for
from .conv import Conv, check_images, options, padding, pair, positive, settings
from .mode import Modes
from .show import signature, with_counts

__all__ = ["ConvTranspose", "DepthwiseConv", "CrossCor"]

DEFAULTS = {"stride": (1, 1), "pad": (0, 0, 0, 0), "dilation": (1, 1)}


def drawn_kernel(init, rng, dims, axes):
    """``init(*dims)`` (with ``rng`` if given), transposed by ``axes`` into the stored layout."""
    drawn = init(*dims) if rng is None else init(*dims, rng=rng)
    return np.ascontiguousarray(np.transpose(drawn, axes))


def check_transposed_fits(layer, x):
    """Raise a ``ValueError`` unless ``x`` is an NHWC batch whose output is at least one pixel."""
    check_images(layer, x, layer.weight.shape[3], (1, 1), (1, 1), (0, 0, 0, 0))
    kh, kw = layer.weight.shape[:2]
    top, bottom, left, right = layer.pad
    h, w = np.shape(x)[1:3]
    out_h = (h - 1) * layer.stride[0] + layer.dilation[0] * (kh - 1) + 1 - top - bottom
    out_w = (w - 1) * layer.stride[1] + layer.dilation[1] * (kw - 1) + 1 - left - right
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{layer!r} crops more padding than its output of an input of shape "
                         f"{np.shape(x)} has")


zygote.nograd(check_transposed_fits)


class ConvTranspose(Modes):
    """Transposed convolution, ``(N, H, W, in) -> (N, OH, OW, out)``: the gradient of a `Conv` from ``out`` to ``in`` channels.

    Each input pixel spreads over a window of the output, windows ``stride`` apart; where
    they overlap the contributions add. ``OH = (H - 1)·sh + dh·(kh - 1) + 1 - top - bottom``
    (likewise ``OW``), so with ``stride=s`` it undoes the shrinking of a stride-``s`` `Conv`;
    ``pad`` crops the borders (an int, a pair or ``(top, bottom, left, right)``). ``weight``
    has shape ``(kh, kw, out, in)``, the layout of the `Conv` it transposes; `flux.nnlib.conv_transpose`
    computes it, one matrix product and one `flux.nnlib.window_sum`.

    >>> import numpy as np
    >>> layer = ConvTranspose((2, 2), 3, 4, stride=2, rng=0)
    >>> layer
    ConvTranspose((2, 2), 3 => 4, stride=2)
    >>> layer(np.ones((1, 5, 5, 3), np.float32)).shape
    (1, 10, 10, 4)
    >>> print(ConvTranspose(3, 1, 1, pad=1, rng=0))
    ConvTranspose((3, 3), 1 => 1, pad=1)  # 10 parameters
    """

    def __init__(self, window, in_channels, out_channels, act=identity, *, stride=1, pad=0,
                 dilation=1, bias=True, init=glorot_uniform, rng=None):
        kh, kw = positive(pair(window, "window"), "window")
        if isinstance(pad, str):
            raise ValueError("ConvTranspose takes pad as an int, a pair or (top, bottom, left, right)")
        self.stride = positive(pair(stride, "stride"), "stride")
        self.dilation = positive(pair(dilation, "dilation"), "dilation")
        self.pad = padding(pad, (kh, kw), self.dilation)
        self.weight = drawn_kernel(init, rng, (out_channels, in_channels, kh, kw), (2, 3, 0, 1))
        self.bias = bias_for(bias, out_channels, self.weight.dtype)
        self.act = act

    def __call__(self, x):
        stride, pad, dilation = settings(self, "stride", "pad", "dilation")
        check_transposed_fits(self, x)
        return self.act(conv_transpose(x, self.weight, self.bias, stride=stride, pad=pad,
                                       dilation=dilation))

    def __repr__(self):
        kh, kw, cout, cin = self.weight.shape
        return signature(f"ConvTranspose({(kh, kw)}, {cin} => {cout}", self.act,
                         *options(self, DEFAULTS), "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)


class DepthwiseConv(Modes):
    """Convolve each channel separately: ``(N, H, W, in) -> (N, OH, OW, out)``, ``out`` a multiple of ``in``.

    Input channel ``c`` gives output channels ``c·m`` to ``c·m + m - 1`` (``m = out / in``),
    each with its own ``kh × kw`` filter; no channel sees another, as in a `Conv` with
    ``in`` groups. ``weight`` has shape ``(kh, kw, 1, out)``. Output sizes, ``pad``
    (``"same"`` included), ``stride`` and ``dilation`` as for `flux.Conv`.

    >>> import numpy as np
    >>> layer = DepthwiseConv((3, 3), 4, 8, pad="same", rng=0)
    >>> layer
    DepthwiseConv((3, 3), 4 => 8, pad=1)
    >>> layer(np.ones((2, 6, 6, 4), np.float32)).shape
    (2, 6, 6, 8)
    >>> print(layer)
    DepthwiseConv((3, 3), 4 => 8, pad=1)  # 80 parameters
    """

    def __init__(self, window, in_channels, out_channels, act=identity, *, stride=1, pad=0,
                 dilation=1, bias=True, init=glorot_uniform, rng=None):
        kh, kw = positive(pair(window, "window"), "window")
        if out_channels % in_channels:
            raise ValueError(f"DepthwiseConv: {out_channels} output channels are not a multiple "
                             f"of {in_channels} input channels")
        self.stride = positive(pair(stride, "stride"), "stride")
        self.dilation = positive(pair(dilation, "dilation"), "dilation")
        self.pad = padding(pad, (kh, kw), self.dilation)
        self.in_channels = in_channels
        self.weight = drawn_kernel(init, rng, (out_channels, 1, kh, kw), (2, 3, 1, 0))
        self.bias = bias_for(bias, out_channels, self.weight.dtype)
        self.act = act

    def __call__(self, x):
        stride, pad, dilation = settings(self, "stride", "pad", "dilation")
        check_images(self, x, self.in_channels, self.weight.shape[:2], dilation, pad)
        return self.act(depthwise_conv(x, self.weight, self.bias, stride=stride, pad=pad,
                                       dilation=dilation))

    def __repr__(self):
        kh, kw, _, cout = self.weight.shape
        return signature(f"DepthwiseConv({(kh, kw)}, {self.in_channels} => {cout}", self.act,
                         *options(self, DEFAULTS), "bias=False" if self.bias is None else "")

    def __str__(self):
        return with_counts(self)


class CrossCor(Conv):
    """Cross-correlation, the name Flux.jl gives a convolution whose kernel is not flipped.

    flux's `Conv` already computes a cross-correlation (as PyTorch's does), so `CrossCor`
    computes exactly what `Conv` does with the same arguments and weights; it exists so
    that models written against Flux.jl's ``CrossCor`` read the same. (A Flux.jl ``Conv``
    flips its kernel: its weights match a flux `Conv` after ``weight[::-1, ::-1]``.)

    >>> import numpy as np
    >>> layer = CrossCor((2, 2), 1, 1, bias=False, rng=0)
    >>> layer
    CrossCor((2, 2), 1 => 1, bias=False)
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> bool(np.allclose(layer(x)[0, 0, 0, 0], np.sum(x[0, :2, :2, 0] * layer.weight[:, :, 0, 0])))
    True
    """

    def __repr__(self):
        return "CrossCor" + super().__repr__()[len("Conv"):]
