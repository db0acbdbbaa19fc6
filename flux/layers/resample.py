"""Resizing NHWC image batches: Upsample, PixelShuffle, AdaptiveMeanPool and AdaptiveMaxPool.

Images are ``(N, H, W, C)`` as for `flux.Conv`; sizes are ``(height, width)`` pairs, an
``int`` meaning the same for both.
"""

import numpy as np

import zygote

from ..activations import identity
from ..nnlib import maxpool, meanpool
from .conv import check_images, pair, positive, settings
from .mode import Modes
from .show import signature

__all__ = ["Upsample", "PixelShuffle", "AdaptiveMeanPool", "AdaptiveMaxPool"]


def interpolation_matrix(size, out_size, dtype):
    """``(out_size, size)`` weights of linear interpolation with aligned corners.

    Output ``i`` samples the input at ``i (size - 1) / (out_size - 1)``, so the first and
    last pixels of input and output coincide; each row mixes two neighbouring inputs.
    """
    matrix = np.zeros((out_size, size), dtype)
    where = np.arange(out_size) * ((size - 1) / (out_size - 1)) if out_size > 1 else np.zeros(1)
    low = np.minimum(np.floor(where).astype(int), size - 1)
    high = np.minimum(low + 1, size - 1)
    frac = where - low
    rows = np.arange(out_size)
    np.add.at(matrix, (rows, low), 1 - frac)
    np.add.at(matrix, (rows, high), frac)
    return matrix


def upsampled_size(layer, x):
    """The ``(height, width)`` of ``layer``'s output for the batch ``x``."""
    check_images(layer, x, None, (1, 1), (1, 1), (0, 0, 0, 0))
    if layer.size is not None:
        return layer.size
    h, w = np.shape(x)[1:3]
    return h * layer.scale[0], w * layer.scale[1]


def adaptive_window(layer, x):
    """The window and stride that pool ``x`` to ``layer.out`` pixels, as Flux.jl chooses
    them: ``stride = size // out`` and ``window = size - (out - 1) · stride``."""
    check_images(layer, x, None, (1, 1), (1, 1), (0, 0, 0, 0))
    size = np.shape(x)[1:3]
    if size[0] < layer.out[0] or size[1] < layer.out[1]:
        raise ValueError(f"{layer!r} cannot pool images of {size[0]}×{size[1]} pixels up to "
                         f"{layer.out[0]}×{layer.out[1]}; it only shrinks them")
    stride = tuple(s // o for s, o in zip(size, layer.out))
    window = tuple(s - (o - 1) * t for s, o, t in zip(size, layer.out, stride))
    return window, stride


def check_shuffle(layer, x):
    shape = np.shape(x)
    r = layer.factor
    if len(shape) != 4 or shape[-1] % (r * r):
        raise ValueError(f"{layer!r} expects NHWC images whose channels are a multiple of "
                         f"{r * r}, but received an array of shape {shape}")


zygote.nograd(interpolation_matrix, upsampled_size, adaptive_window, check_shuffle)


class Upsample(Modes):
    """Enlarge images by ``scale`` (or to ``size``): ``(N, H, W, C) -> (N, sh·H, sw·W, C)``.

    ``mode="nearest"`` repeats each pixel over an ``sh × sw`` block (integer scales only);
    ``mode="bilinear"`` interpolates linearly along each axis, with the corner pixels of
    input and output aligned (Flux.jl's choice; PyTorch's default leaves them unaligned).
    Give either ``scale`` or ``size``; ``size`` works with ``"bilinear"`` only.

    >>> import numpy as np
    >>> Upsample(2)(np.array([[1.0, 2.0]]).reshape(1, 1, 2, 1))[0, :, :, 0]
    array([[1., 1., 2., 2.],
           [1., 1., 2., 2.]])
    >>> up = Upsample(mode="bilinear", size=(1, 3))
    >>> up
    Upsample(mode="bilinear", size=(1, 3))
    >>> up(np.array([[1.0, 2.0]]).reshape(1, 1, 2, 1))[0, :, :, 0]
    array([[1. , 1.5, 2. ]])
    """

    def __init__(self, scale=None, mode="nearest", *, size=None):
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f'Upsample mode must be "nearest" or "bilinear", got {mode!r}')
        if (scale is None) == (size is None):
            raise ValueError("Upsample takes either scale or size")
        if size is not None and mode == "nearest":
            raise ValueError('Upsample(size=...) needs mode="bilinear"; nearest takes integer scales')
        self.mode = mode
        self.scale = None if scale is None else positive(pair(scale, "scale"), "scale")
        self.size = None if size is None else positive(pair(size, "size"), "size")

    def __call__(self, x):
        out_h, out_w = upsampled_size(self, x)
        n, h, w, c = np.shape(x)
        if self.mode == "nearest":
            sh, sw = settings(self, "scale")[0]
            blocks = np.broadcast_to(x[:, :, None, :, None, :], (n, h, sh, w, sw, c))
            return blocks.reshape(n, out_h, out_w, c)
        rows = interpolation_matrix(h, out_h, x.dtype)
        cols = interpolation_matrix(w, out_w, x.dtype)
        # Interpolate along the height, then along the width.
        tall = np.einsum("ih,nhwc->niwc", rows, x)
        return np.einsum("jw,niwc->nijc", cols, tall)

    def __repr__(self):
        parts = [] if self.mode == "nearest" else [f'mode="{self.mode}"']
        if self.scale is not None:
            parts.insert(0, f"{self.scale[0] if self.scale[0] == self.scale[1] else self.scale}")
        else:
            parts.append(f"size={self.size}")
        return "Upsample(" + ", ".join(parts) + ")"


class PixelShuffle(Modes):
    """Trade channels for pixels: ``(N, H, W, C·r²) -> (N, r·H, r·W, C)``.

    Channel ``c·r² + i·r + j`` of input pixel ``(h, w)`` becomes channel ``c`` of output pixel
    ``(r·h + i, r·w + j)``, PyTorch's order; a sub-pixel convolution is a `flux.Conv` to
    ``C·r²`` channels followed by this layer.

    >>> import numpy as np
    >>> x = np.arange(4.0).reshape(1, 1, 1, 4)
    >>> PixelShuffle(2)(x)[0, :, :, 0]
    array([[0., 1.],
           [2., 3.]])
    """

    def __init__(self, factor):
        if int(factor) != factor or factor < 1:
            raise ValueError(f"PixelShuffle factor must be a positive integer, got {factor!r}")
        self.factor = int(factor)

    def __call__(self, x):
        check_shuffle(self, x)
        (r,) = settings(self, "factor")
        n, h, w, channels = np.shape(x)
        c = channels // (r * r)
        blocks = np.transpose(x.reshape(n, h, w, c, r, r), (0, 1, 4, 2, 5, 3))
        return blocks.reshape(n, h * r, w * r, c)

    def __repr__(self):
        return f"PixelShuffle({self.factor})"


class AdaptivePool(Modes):
    """What the adaptive pools share: the output size and the repr."""

    def __init__(self, out):
        self.out = positive(pair(out, "out"), "out")

    def __repr__(self):
        return signature(f"{type(self).__name__}({self.out}", identity)


class AdaptiveMeanPool(AdaptivePool):
    """Mean-pool images to ``out`` pixels whatever their size: ``(N, H, W, C) -> (N, oh, ow, C)``.

    The windows are those of Flux.jl: stride ``H // oh`` and window ``H - (oh - 1)·stride``
    (likewise for the width), which tile the image exactly when ``oh`` divides ``H``;
    otherwise neighbouring windows overlap (PyTorch's windows differ in that case).

    >>> import numpy as np
    >>> AdaptiveMeanPool((1, 2))(np.arange(8.0).reshape(1, 2, 4, 1))[0, :, :, 0]
    array([[2.5, 4.5]])
    >>> AdaptiveMeanPool(3)(np.ones((2, 7, 9, 4))).shape
    (2, 3, 3, 4)
    """

    def __call__(self, x):
        window, stride = adaptive_window(self, x)
        return meanpool(x, window, stride)


class AdaptiveMaxPool(AdaptivePool):
    """Max-pool images to ``out`` pixels whatever their size: ``(N, H, W, C) -> (N, oh, ow, C)``.

    The windows are those of `AdaptiveMeanPool`.

    >>> import numpy as np
    >>> AdaptiveMaxPool(1)(np.arange(8.0).reshape(1, 2, 2, 2))[0, 0, 0]
    array([6., 7.])
    """

    def __call__(self, x):
        window, stride = adaptive_window(self, x)
        return maxpool(x, window, stride)
