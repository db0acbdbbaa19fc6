"""Normalisation layers: BatchNorm, with running statistics for test mode, and LayerNorm.

Both work channels last: the statistics of ``BatchNorm`` run over every axis but the last
(the batch of ``(N, C)``, or the batch and the pixels of an NHWC image ``(N, H, W, C)``),
and ``LayerNorm`` normalises each sample over its last axis.
"""

import numpy as np

import zygote

from ..activations import identity
from .mode import Modes, is_active
from .show import signature, with_counts

__all__ = ["BatchNorm", "LayerNorm"]


def check_channels(layer, x, least_ndim):
    """Raise a ``ValueError`` unless ``x`` has at least ``least_ndim`` axes and the width last."""
    shape = np.shape(x)
    if len(shape) < least_ndim or shape[-1] != layer.channels:
        expected = "(N, ..., " if least_ndim > 1 else "(..., "
        raise ValueError(f"{layer!r} expects input of shape {expected}{layer.channels}) "
                         f"(channels last), but received an array of shape {shape}")


def per_channel_affine(channels, affine, dtype):
    """``(scale, bias)``: ones and zeros per channel, or ``(None, None)`` without ``affine``."""
    if not affine:
        return None, None
    return np.ones(channels, dtype), np.zeros(channels, dtype)


def running_statistics(channels, track_stats, dtype):
    """``(running_mean, running_var)``: zeros and ones per channel, or ``(None, None)``."""
    if not track_stats:
        return None, None
    return np.zeros(channels, dtype), np.ones(channels, dtype)


def uses_batch_statistics(layer):
    """Whether a BatchNorm normalises with the batch's own statistics now (train mode).

    The switch is the one Dropout uses: ``layer.active``, or while `flux.train` runs when
    that is ``None``. Without ``track_stats`` there are no running statistics to fall back on.
    """
    return is_active(layer) or not layer.track_stats


def update_running_statistics(layer, mean, var, count):
    """Move the running mean and variance a step ``momentum`` towards the batch's, in place.

    The variance kept is the unbiased one, ``var * count / (count - 1)``, as in Flux and
    PyTorch. Running in place keeps the arrays' identity, so `flux.load` and saved
    references still see them.
    """
    momentum = layer.momentum
    unbiased = var * (count / max(count - 1, 1))
    layer.running_mean *= 1 - momentum
    layer.running_mean += momentum * mean
    layer.running_var *= 1 - momentum
    layer.running_var += momentum * unbiased


# Statistics bookkeeping is not part of the function being differentiated (as in Flux.jl):
# zygote runs these on the forward pass and sends nothing back through them.
zygote.nograd(check_channels, uses_batch_statistics, update_running_statistics)


class BatchNorm(Modes):
    """Normalise each channel over the batch: ``y = act(γ (x - μ) / √(σ² + ε) + β)``.

    Channels are the last axis: ``(N, C)`` or NHWC images ``(N, H, W, C)``; ``μ`` and ``σ²``
    are taken over all the other axes. In train mode (``trainmode(model)``, or inside
    `flux.train` while ``active`` is ``None``) the layer uses the batch's own statistics,
    differentiates through them, and moves ``running_mean`` and ``running_var`` a step
    ``momentum`` towards them; in test mode it uses the running statistics instead, so
    each output depends on its own input only.

    ``scale`` (``γ``, ones) and ``bias`` (``β``, zeros) are the trainable parameters, absent
    with ``affine=False``. ``running_mean`` and ``running_var`` are saved with the model and
    converted by ``f32``/``f64``, but not trained. With ``track_stats=False`` the layer keeps
    no running statistics and always normalises with the batch's. ``active`` is the mode
    switch, as for Dropout: ``None`` (automatic), ``True`` (train) or ``False`` (test).

    >>> import numpy as np
    >>> from flux import relu, trainmode
    >>> bn = BatchNorm(3, relu)
    >>> bn
    BatchNorm(3, relu)
    >>> print(bn)
    BatchNorm(3, relu)  # 6 parameters, plus 6 non-trainable
    >>> x = np.arange(12, dtype=np.float32).reshape(4, 3)
    >>> y = trainmode(bn)(x)
    >>> y.shape, y.dtype, bn.running_mean.round(4)
    ((4, 3), dtype('float32'), array([0.45, 0.55, 0.65], dtype=float32))
    """

    def __init__(self, channels, act=identity, *, eps=1e-5, momentum=0.1, affine=True,
                 track_stats=True, active=None, dtype=np.float32):
        self.channels = channels
        self.act = act
        self.eps = eps
        self.momentum = momentum
        self.track_stats = track_stats
        self.active = active
        self.scale, self.bias = per_channel_affine(channels, affine, dtype)
        self.running_mean, self.running_var = running_statistics(channels, track_stats, dtype)

    def trainable(self):
        return ("scale", "bias")

    def __call__(self, x):
        check_channels(self, x, 2)
        if uses_batch_statistics(self):
            axes = tuple(range(np.ndim(x) - 1))
            mean = np.mean(x, axis=axes)
            centred = x - mean
            var = np.mean(centred * centred, axis=axes)
            if self.track_stats:
                update_running_statistics(self, mean, var, np.size(x) // self.channels)
        else:
            centred = x - zygote.dropgrad(self.running_mean)
            var = zygote.dropgrad(self.running_var)
        # One per-channel factor, so the full-size array is touched by one multiply.
        factor = 1 / np.sqrt(var + self.eps)
        if self.scale is None:
            return self.act(centred * factor)
        return self.act(centred * (self.scale * factor) + self.bias)

    def __repr__(self):
        return signature(f"BatchNorm({self.channels}", self.act,
                         "affine=False" if self.scale is None else "",
                         "" if self.track_stats else "track_stats=False")

    def __str__(self):
        return with_counts(self)


class LayerNorm(Modes):
    """Normalise each sample over its last axis: ``y = act(γ (x - μ) / √(σ² + ε) + β)``.

    ``μ`` and ``σ²`` are the mean and (biased) variance of the last axis, of length
    ``features``; ``scale`` (``γ``) and ``bias`` (``β``) have that length too and are left
    out with ``affine=False``. There are no running statistics: train and test mode agree.

    >>> import numpy as np
    >>> ln = LayerNorm(4)
    >>> ln
    LayerNorm(4)
    >>> ln(np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)).round(3)
    array([[-1.342, -0.447,  0.447,  1.342]], dtype=float32)
    """

    def __init__(self, features, act=identity, *, eps=1e-5, affine=True, dtype=np.float32):
        self.channels = features
        self.act = act
        self.eps = eps
        self.scale = np.ones(features, dtype) if affine else None
        self.bias = np.zeros(features, dtype) if affine else None

    def __call__(self, x):
        check_channels(self, x, 1)
        mean = np.mean(x, axis=-1, keepdims=True)
        centred = x - mean
        var = np.mean(centred * centred, axis=-1, keepdims=True)
        normalised = centred / np.sqrt(var + self.eps)
        if self.scale is None:
            return self.act(normalised)
        return self.act(normalised * self.scale + self.bias)

    def __repr__(self):
        return signature(f"LayerNorm({self.channels}", self.act,
                         "affine=False" if self.scale is None else "")

    def __str__(self):
        return with_counts(self)
