"""Normalisation within each sample, channels last: GroupNorm and InstanceNorm.

Unlike `flux.BatchNorm`, the statistics never mix samples of a batch, so train and test mode
agree; only an ``InstanceNorm(..., track_stats=True)`` keeps running statistics, for test mode.
"""

import numpy as np

import zygote

from ..activations import identity
from .mode import Modes
from .normalise import (check_channels, per_channel_affine, running_statistics, update_running_statistics,
                        uses_batch_statistics)
from .show import signature, with_counts

__all__ = ["GroupNorm", "InstanceNorm"]


def check_spatial(layer, x):
    """Raise a ``ValueError`` unless ``x`` has a batch axis, at least one spatial axis and
    the layer's channels last."""
    shape = np.shape(x)
    if len(shape) < 3:
        raise ValueError(f"{layer!r} expects images or sequences of shape (N, ..., {layer.channels}) "
                         f"with at least one axis between batch and channels, "
                         f"but received an array of shape {shape}")


def grouped_shape(layer, x):
    """``(N, pixels, groups, channels per group)``, the shape GroupNorm's statistics run over.

    Computed here, where zygote does not look: integers read off a differentiated layer
    count as numbers it may differentiate.
    """
    return np.shape(x)[0], -1, layer.groups, layer.channels // layer.groups


def track_instance_statistics(layer, x, mean, var):
    """Move the running statistics towards the batch's mean of each sample's ``mean`` and
    ``var`` (biased, over the ``pixels`` axes; kept unbiased, as Flux.jl and PyTorch do)."""
    pixels = np.size(x) // (np.shape(x)[0] * layer.channels)
    channels = (-1, layer.channels)
    update_running_statistics(layer, mean.reshape(channels).mean(axis=0),
                              var.reshape(channels).mean(axis=0), pixels)


zygote.nograd(check_spatial, grouped_shape, track_instance_statistics)


def moments(x, axes):
    """``(μ, x - μ, σ²)``: the mean and biased variance over ``axes``, kept as axes of length 1."""
    mean = np.mean(x, axis=axes, keepdims=True)
    centred = x - mean
    return mean, centred, np.mean(centred * centred, axis=axes, keepdims=True)


def standardise(x, axes, eps):
    """``(x - μ) / √(σ² + ε)``, with ``μ`` and ``σ²`` the mean and biased variance over ``axes``."""
    _, centred, var = moments(x, axes)
    return centred / np.sqrt(var + eps)


def scaled(layer, normalised):
    """``act(γ · normalised + β)``, or ``act(normalised)`` without the affine parameters."""
    if layer.scale is None:
        return layer.act(normalised)
    return layer.act(normalised * layer.scale + layer.bias)


class GroupNorm(Modes):
    """Normalise each sample over groups of channels: ``y = act(γ (x - μ) / √(σ² + ε) + β)``.

    The ``channels`` (last axis) split into ``groups`` runs of ``channels / groups``
    neighbours; ``μ`` and ``σ²`` (biased) are taken per sample and group, over that run
    and every axis between batch and channels: ``(N, C)``, ``(N, L, C)`` or ``(N, H, W, C)``.
    ``groups=1`` is LayerNorm over everything but the batch; ``groups=channels`` is
    InstanceNorm. ``scale`` (``γ``, ones) and ``bias`` (``β``, zeros) are per channel,
    absent with ``affine=False``.

    >>> import numpy as np
    >>> gn = GroupNorm(4, 2)
    >>> gn
    GroupNorm(4, 2)
    >>> y = gn(np.arange(16.0).reshape(2, 2, 4))
    >>> y[0, :, :2].round(3)    # the first group of the first sample: 0, 1, 4, 5
    array([[-1.213, -0.728],
           [ 0.728,  1.213]])
    """

    def __init__(self, channels, groups, act=identity, *, eps=1e-5, affine=True, dtype=np.float32):
        if groups < 1 or channels % groups:
            raise ValueError(f"GroupNorm: {channels} channels do not split into {groups} groups")
        self.channels, self.groups = channels, groups
        self.act, self.eps = act, eps
        self.scale, self.bias = per_channel_affine(channels, affine, dtype)

    def __call__(self, x):
        check_channels(self, x, 2)
        shape = np.shape(x)
        grouped = x.reshape(grouped_shape(self, x))
        return scaled(self, standardise(grouped, (1, 3), self.eps).reshape(shape))

    def __repr__(self):
        return signature(f"GroupNorm({self.channels}, {self.groups}", self.act,
                         "affine=False" if self.scale is None else "")

    def __str__(self):
        return with_counts(self)


class InstanceNorm(Modes):
    """Normalise each sample's channels over their pixels: ``y = act(γ (x - μ) / √(σ² + ε) + β)``.

    ``μ`` and ``σ²`` (biased) are taken per sample and channel over the axes between batch
    and channels: ``(N, L, C)`` or ``(N, H, W, C)``. As in Flux.jl, ``affine`` is off by
    default; with ``affine=True`` there are per-channel ``scale`` and ``bias``.

    ``track_stats=True`` (off by default, as in Flux.jl) keeps ``running_mean`` and
    ``running_var`` per channel, as `flux.BatchNorm` does: in train mode each sample is
    still normalised by its own statistics, and the running ones move a step ``momentum``
    towards the batch's mean of them; in test mode every sample is normalised by the
    running ones. ``active`` is the mode switch, as for BatchNorm.

    >>> import numpy as np
    >>> norm = InstanceNorm(2)
    >>> norm
    InstanceNorm(2)
    >>> y = norm(np.random.default_rng(0).normal(3.0, 2.0, (4, 5, 5, 2)))
    >>> bool(np.allclose(y.mean(axis=(1, 2)), 0) and np.allclose(y.std(axis=(1, 2)), 1, atol=1e-3))
    True
    >>> tracked = InstanceNorm(2, track_stats=True, momentum=1.0)
    >>> x = np.array([[[1.0, 0.0], [3.0, 0.0]], [[5.0, 0.0], [7.0, 0.0]]])   # (2, 2, 2)
    >>> _ = tracked.train()(x)
    >>> tracked.running_mean, tracked.running_var    # means 2 and 6, unbiased variances 2
    (array([4., 0.], dtype=float32), array([2., 0.], dtype=float32))
    >>> tracked.eval()(x)[:, :, 0].round(3)
    array([[-2.121, -0.707],
           [ 0.707,  2.121]])
    """

    def __init__(self, channels, act=identity, *, eps=1e-5, momentum=0.1, affine=False,
                 track_stats=False, active=None, dtype=np.float32):
        self.channels = channels
        self.act, self.eps = act, eps
        self.momentum, self.track_stats, self.active = momentum, track_stats, active
        self.scale, self.bias = per_channel_affine(channels, affine, dtype)
        self.running_mean, self.running_var = running_statistics(channels, track_stats, dtype)

    def trainable(self):
        return ("scale", "bias")

    def __call__(self, x):
        check_channels(self, x, 2)
        check_spatial(self, x)
        if not uses_batch_statistics(self):
            centred = x - zygote.dropgrad(self.running_mean)
            return scaled(self, centred / np.sqrt(zygote.dropgrad(self.running_var) + self.eps))
        mean, centred, var = moments(x, tuple(range(1, np.ndim(x) - 1)))
        if self.track_stats:
            track_instance_statistics(self, x, mean, var)
        return scaled(self, centred / np.sqrt(var + self.eps))

    def __repr__(self):
        return signature(f"InstanceNorm({self.channels}", self.act,
                         "affine=True" if self.scale is not None else "",
                         "track_stats=True" if self.track_stats else "")

    def __str__(self):
        return with_counts(self)
