"""Convolution and pooling primitives on NHWC batches, with the zygote rules of the array views under them.

Images are ``(N, H, W, C)``: batch first, channels last. A convolution is written as numpy
that zygote differentiates from source: pad the spatial axes (`pad_hw`), take a strided
view of every window (`windows`, ``(N, OH, OW, kh, kw, C)``, no copy), flatten it to a
matrix (the one copy, "im2col") and multiply by the kernel in a single GEMM for the whole
batch. The rules are few and small: the adjoint of `pad_hw` is a slice; the adjoint of
`windows` is `window_sum` (col2im), which adds the windows back in a handful of vectorised
additions, and `window_sum`'s adjoint is `windows` again, so second derivatives need no
further rules. Mean pooling sums the taps of the same views (`tap_sum`, whose adjoint
broadcasts); max pooling has one rule that sends each window's gradient to its winner.
Everything stays in the input's dtype.

Tuples follow numpy's axis order: ``window = (kh, kw)``, ``stride = (sh, sw)``,
``dilation = (dh, dw)`` and ``pad = (top, bottom, left, right)``.
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided

import zygote

__all__ = ["pad_hw", "windows", "window_sum", "tap_sum", "output_size", "conv", "maxpool",
           "meanpool", "conv_transpose", "depthwise_conv"]


def output_size(size, window, stride, dilation=1):
    """Length of a spatial axis after a window of ``window`` taps slides over ``size`` places.

    >>> output_size(28, 5, 1), output_size(24, 2, 2), output_size(7, 3, 2, dilation=2)
    (24, 12, 2)
    """
    return (size - dilation * (window - 1) - 1) // stride + 1


def lowest(dtype):
    """The value that never wins a max: ``-inf`` for floats, the minimum for integers."""
    if np.issubdtype(dtype, np.floating):
        return -np.inf
    return np.iinfo(dtype).min


def pad_hw(x, pad, value=0):
    """Pad the spatial axes of an NHWC batch by ``pad = (top, bottom, left, right)`` with ``value``.

    With no padding, ``x`` itself is returned (no copy).

    >>> import numpy as np
    >>> pad_hw(np.ones((1, 1, 2, 1)), (1, 0, 0, 1))[0, :, :, 0]
    array([[0., 0., 0.],
           [1., 1., 0.]])
    """
    top, bottom, left, right = pad
    if top == bottom == left == right == 0:
        return x
    n, h, w, c = np.shape(x)
    y = np.full((n, top + h + bottom, left + w + right, c), value, dtype=x.dtype)
    y[:, top:top + h, left:left + w] = x
    return y


def windows(x, window, stride=(1, 1), dilation=(1, 1)):
    """A read-only view of every window of an NHWC batch: ``(N, OH, OW, kh, kw, C)``, no copy.

    ``view[n, i, j]`` is the ``kh × kw`` patch whose top-left corner is ``x[n, i*sh, j*sw]``,
    its taps ``dh`` rows and ``dw`` columns apart.

    >>> import numpy as np
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> view = windows(x, (2, 2), stride=(2, 2))
    >>> view.shape
    (1, 2, 2, 2, 2, 1)
    >>> view[0, 1, 0, :, :, 0]
    array([[ 8.,  9.],
           [12., 13.]])
    """
    n, h, w, c = np.shape(x)
    kh, kw = window
    sh, sw = stride
    dh, dw = dilation
    oh, ow = output_size(h, kh, sh, dh), output_size(w, kw, sw, dw)
    if oh < 1 or ow < 1:
        raise ValueError(f"a {kh}×{kw} window (dilation {dh}×{dw}) does not fit in an input of "
                         f"{h}×{w} pixels (after padding)")
    step_n, step_h, step_w, step_c = x.strides
    return as_strided(x, shape=(n, oh, ow, kh, kw, c),
                      strides=(step_n, step_h * sh, step_w * sw, step_h * dh, step_w * dw, step_c),
                      writeable=False)


def window_sum(cols, shape, stride=(1, 1), dilation=(1, 1)):
    """The adjoint of `windows` (col2im): add every window of ``cols`` back where it was read.

    ``cols`` is ``(N, OH, OW, kh, kw, C)``; the result has the NHWC ``shape`` of the input.
    Windows whose starts lie a whole window span apart do not overlap, so the windows are
    split into classes by their start modulo that many windows, and each class is added in
    one vectorised step: ``kh * kw`` steps at stride 1, a single one when the stride equals
    the window. Each step adds runs of ``kw * C`` contiguous numbers (numpy's per-run cost,
    not the arithmetic, is what small channel counts pay for).

    >>> import numpy as np
    >>> window_sum(np.ones((1, 2, 2, 2, 2, 1)), (1, 3, 3, 1))[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    n, oh, ow, kh, kw, c = np.shape(cols)
    sh, sw = stride
    dh, dw = dilation
    out = np.zeros(shape, dtype=cols.dtype)
    apart_h = -(-(dh * (kh - 1) + 1) // sh)
    apart_w = -(-(dw * (kw - 1) + 1) // sw)
    step_n, step_h, step_w, step_c = out.strides
    for a in range(min(apart_h, oh)):
        for b in range(min(apart_w, ow)):
            part = cols[:, a::apart_h, b::apart_w]
            target = as_strided(out[:, a * sh:, b * sw:], shape=np.shape(part),
                                strides=(step_n, step_h * sh * apart_h, step_w * sw * apart_w,
                                         step_h * dh, step_w * dw, step_c))
            target += part
    return out


def tap_max(cols):
    """The largest of each window's taps, ``(N, OH, OW, kh, kw, C) -> (N, OH, OW, C)``.

    One ``np.maximum`` per tap: numpy's reductions over several short axes are far slower.
    """
    kh, kw = np.shape(cols)[3:5]
    top = cols[:, :, :, 0, 0].copy()
    for p in range(kh):
        for q in range(kw):
            if p or q:
                np.maximum(top, cols[:, :, :, p, q], out=top)
    return top


def tap_sum(cols):
    """The sum of each window's taps, ``(N, OH, OW, kh, kw, C) -> (N, OH, OW, C)``, one addition per tap.

    >>> import numpy as np
    >>> tap_sum(np.ones((1, 1, 1, 2, 3, 2)))
    array([[[[6., 6.]]]])
    """
    kh, kw = np.shape(cols)[3:5]
    total = cols[:, :, :, 0, 0].copy()
    for p in range(kh):
        for q in range(kw):
            if p or q:
                total += cols[:, :, :, p, q]
    return total


def first_winners(cols, top):
    """Mask of the first tap (in row-major order) of each window equal to its maximum ``top``."""
    kh, kw = np.shape(cols)[3:5]
    mask = np.empty(np.shape(cols), dtype=bool)
    free = np.ones(np.shape(top), dtype=bool)
    for p in range(kh):
        for q in range(kw):
            hit = np.equal(cols[:, :, :, p, q], top)
            hit &= free
            mask[:, :, :, p, q] = hit
            np.not_equal(free, hit, out=free)
    return mask


def conv(x, weight, bias=None, *, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1)):
    """Cross-correlate an NHWC batch with a ``(kh, kw, cin, cout)`` kernel: ``(N, OH, OW, cout)``.

    ``y[n, i, j] = Σ_{p, q, c} x_pad[n, i*sh + p*dh, j*sw + q*dw, c] · weight[p, q, c] + bias``,
    computed as one matrix product of the flattened windows with the kernel reshaped to
    ``(kh * kw * cin, cout)``. The windows are copied into that matrix window by window, or,
    when an output row is longer than a window row (few channels, as in a first layer), tap
    by tap into its transpose. Like every deep-learning "convolution", the kernel is not
    flipped.

    >>> import numpy as np
    >>> x = np.arange(9.0).reshape(1, 3, 3, 1)
    >>> conv(x, np.ones((2, 2, 1, 1)))[0, :, :, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """
    kh, kw, cin, cout = np.shape(weight)
    cols = windows(pad_hw(x, pad), (kh, kw), stride, dilation)
    n, oh, ow = np.shape(cols)[:3]
    if ow > kw * cin:
        # Few channels: copy the windows tap by tap, each tap a run along an image row,
        # rather than window by window in runs of kw * cin numbers (numpy pays per run).
        taps = np.transpose(cols, (3, 4, 5, 0, 1, 2)).reshape(kh * kw * cin, n * oh * ow)
        y = taps.T @ weight.reshape(kh * kw * cin, cout)
    else:
        y = cols.reshape(n * oh * ow, kh * kw * cin) @ weight.reshape(kh * kw * cin, cout)
    if bias is not None:
        y = y + bias
    return y.reshape(n, oh, ow, cout)


def maxpool(x, window, stride, pad=(0, 0, 0, 0)):
    """The largest entry of each window, per channel: ``(N, H, W, C) -> (N, OH, OW, C)``.

    Padding never wins (it is ``-inf``). The gradient of each window goes to one winner:
    the first of its tied maxima in row-major order, as in PyTorch.

    >>> import numpy as np
    >>> maxpool(np.arange(16.0).reshape(1, 4, 4, 1), (2, 2), (2, 2))[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]])
    """
    return tap_max(windows(pad_hw(x, pad, lowest(x.dtype)), window, stride))


def meanpool(x, window, stride, pad=(0, 0, 0, 0)):
    """The mean of each window, per channel; zero padding counts towards the mean.

    >>> import numpy as np
    >>> meanpool(np.arange(16.0).reshape(1, 4, 4, 1), (2, 2), (2, 2))[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]])
    """
    return tap_sum(windows(pad_hw(x, pad), window, stride)) / (window[0] * window[1])


def conv_transpose(x, weight, bias=None, *, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1)):
    """The transpose of `conv`: ``(N, H, W, cin) -> (N, OH, OW, cout)``, with a ``(kh, kw, cout, cin)`` kernel.

    ``conv_transpose(x, w)`` is the gradient of ``conv(z, w)`` with respect to ``z``: each
    input pixel spreads ``x[n, h, w] · weight[p, q]ᵀ`` over the window whose corner is
    ``(h·sh, w·sw)``, and `window_sum` adds the windows up; ``pad`` is then cropped from
    the borders. ``OH = (H - 1)·sh + dh·(kh - 1) + 1 - top - bottom``, likewise ``OW``.

    >>> import numpy as np
    >>> conv_transpose(np.ones((1, 2, 2, 1)), np.ones((2, 2, 1, 1)))[0, :, :, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    kh, kw, cout, cin = np.shape(weight)
    n, h, w = np.shape(x)[:3]
    (sh, sw), (dh, dw) = stride, dilation
    full_h, full_w = (h - 1) * sh + dh * (kh - 1) + 1, (w - 1) * sw + dw * (kw - 1) + 1
    spread = x.reshape(n * h * w, cin) @ np.transpose(weight, (3, 0, 1, 2)).reshape(cin, kh * kw * cout)
    y = window_sum(spread.reshape(n, h, w, kh, kw, cout), (n, full_h, full_w, cout), stride, dilation)
    top, bottom, left, right = pad
    if top or bottom or left or right:
        y = y[:, top:full_h - bottom, left:full_w - right]
    if bias is not None:
        y = y + bias
    return y


def depthwise_conv(x, weight, bias=None, *, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1)):
    """Convolve each input channel on its own: ``(N, H, W, cin) -> (N, OH, OW, cout)``.

    The kernel is ``(kh, kw, 1, cout)`` with ``cout = m·cin``; output channel ``c·m + k``
    is input channel ``c`` cross-correlated with ``weight[:, :, 0, c·m + k]``. Sizes as for `conv`.

    >>> import numpy as np
    >>> x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))], axis=-1)[None]
    >>> depthwise_conv(x, np.ones((2, 2, 1, 2)))[0, 0, 0]
    array([4., 8.])
    """
    kh, kw, _, cout = np.shape(weight)
    cin = np.shape(x)[3]
    cols = windows(pad_hw(x, pad), (kh, kw), stride, dilation)
    n, oh, ow = np.shape(cols)[:3]
    y = np.einsum("nhwpqc,pqcm->nhwcm", cols, weight.reshape(kh, kw, cin, cout // cin))
    y = y.reshape(n, oh, ow, cout)
    if bias is not None:
        y = y + bias
    return y


zygote.nograd(output_size, lowest, first_winners)


# -- rules ---------------------------------------------------------------------------------------
# The two views and their adjoints; conv and meanpool are differentiated from their source.


@zygote.adjoint(pad_hw)
def pad_hw_rule(x, pad, value=0):
    y = pad_hw(x, pad, value)
    top, bottom, left, right = pad
    h, w = np.shape(x)[1:3]

    def pad_hw_back(dy):
        return dy[:, top:top + h, left:left + w], None, None
    return y, pad_hw_back


@zygote.adjoint(windows)
def windows_rule(x, window, stride=(1, 1), dilation=(1, 1)):
    y = windows(x, window, stride, dilation)
    shape = np.shape(x)

    def windows_back(dy):
        return window_sum(dy, shape, stride, dilation), None, None, None
    return y, windows_back


@zygote.adjoint(window_sum)
def window_sum_rule(cols, shape, stride=(1, 1), dilation=(1, 1)):
    y = window_sum(cols, shape, stride, dilation)
    oh, ow, kh, kw = np.shape(cols)[1:5]

    def window_sum_back(dy):
        return windows(dy, (kh, kw), stride, dilation)[:, :oh, :ow], None, None, None
    return y, window_sum_back


@zygote.adjoint(tap_sum)
def tap_sum_rule(cols):
    shape = np.shape(cols)

    def tap_sum_back(dy):
        return (np.broadcast_to(dy[:, :, :, None, None, :], shape),)
    return tap_sum(cols), tap_sum_back


@zygote.adjoint(maxpool)
def maxpool_rule(x, window, stride, pad=(0, 0, 0, 0)):
    padded = pad_hw(x, pad, lowest(x.dtype))
    cols = windows(padded, window, stride)
    y = tap_max(cols)

    def maxpool_back(dy):
        dcols = first_winners(cols, y) * dy[:, :, :, None, None, :]
        top, bottom, left, right = pad
        h, w = np.shape(x)[1:3]
        dx = window_sum(dcols, np.shape(padded), stride)
        return dx[:, top:top + h, left:left + w], None, None, None
    return y, maxpool_back
