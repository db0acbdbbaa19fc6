"""Rules for np.fft: the discrete Fourier transforms and fftshift.

Each transform is linear, so its pullback is its adjoint: ``fft``'s is ``ifft`` with the
dual normalisation (``"backward"`` and ``"forward"`` swap, ``"ortho"`` stays), applied to the
cotangent and cut or zero-padded back to the input's length where ``n`` (or ``s``) changed
it. Complex cotangents follow zygote's convention (``zygote.rules.complex``); a real
input's cotangent is the real part.
"""
import numpy as np

from . import adjoint, expr_rule
from ..runtime import unbroadcast

DUAL_NORM = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def fitted(g, shape, axes):
    """``g`` cut or zero-padded along ``axes`` to the lengths of ``shape`` there."""
    for axis in axes:
        have, want = np.shape(g)[axis], shape[axis]
        if have > want:
            g = np.take(g, np.arange(want), axis=axis)
        elif have < want:
            widths = [(0, 0)] * np.ndim(g)
            widths[axis] = (0, want - have)
            g = np.pad(g, widths)
    return g


def as_input(g, x, axes):
    """The cotangent ``g`` of a transform's input ``x``: fitted to its shape, real if ``x`` is real."""
    return unbroadcast(fitted(g, np.shape(x), axes), x)


def transform_axes(x, s, axes, last):
    """The axes a multi-dimensional transform works on (``last`` of them by default, or all)."""
    if axes is not None:
        return [a % np.ndim(x) for a in axes]
    count = len(s) if s is not None else (last if last else np.ndim(x))
    return list(range(np.ndim(x) - count, np.ndim(x)))


def one_axis_rule(transform, adjoint_transform):
    """The pullback rule of a one-axis transform ``transform(a, n, axis, norm)``."""
    def rule(a, n=None, axis=-1, norm=None, out=None):
        y = transform(a, n=n, axis=axis, norm=norm)

        def fourier_back(dy):
            g = adjoint_transform(dy, n=np.shape(y)[axis], axis=axis, norm=DUAL_NORM[norm])
            return as_input(g, a, [axis % np.ndim(a)]), None, None, None, None
        return y, fourier_back
    return rule


def many_axes_rule(transform, adjoint_transform, last):
    """The pullback rule of ``transform(a, s, axes, norm)`` (fft2, ifft2, fftn, ifftn)."""
    def rule(a, s=None, axes=None if last is None else (-2, -1), norm=None, out=None):
        y = transform(a, s=s, axes=axes, norm=norm)
        along = transform_axes(a, s, axes, last)

        def fourier_back(dy):
            g = adjoint_transform(dy, s=[np.shape(y)[i] for i in along], axes=along, norm=DUAL_NORM[norm])
            return as_input(g, a, along), None, None, None, None
        return y, fourier_back
    return rule


for _transform, _adjoint in ((np.fft.fft, np.fft.ifft), (np.fft.ifft, np.fft.fft)):
    adjoint(_transform)(one_axis_rule(_transform, _adjoint))
for _transform, _adjoint, _last in ((np.fft.fft2, np.fft.ifft2, 2), (np.fft.ifft2, np.fft.fft2, 2),
                                    (np.fft.fftn, np.fft.ifftn, None), (np.fft.ifftn, np.fft.fftn, None)):
    adjoint(_transform)(many_axes_rule(_transform, _adjoint, _last))


@adjoint(np.fft.rfft)
def rfft_rule(a, n=None, axis=-1, norm=None, out=None):
    """The first ``n // 2 + 1`` terms of ``fft``: the adjoint pads the cotangent with zeros to
    ``n`` terms and takes the real part of its ``ifft``."""
    y = np.fft.rfft(a, n=n, axis=axis, norm=norm)
    length = np.shape(a)[axis] if n is None else n

    def rfft_back(dy):
        full = fitted(dy, [length if i == axis % np.ndim(dy) else m for i, m in enumerate(np.shape(dy))],
                      [axis % np.ndim(dy)])
        g = np.fft.ifft(full, n=length, axis=axis, norm=DUAL_NORM[norm])
        return as_input(np.real(g), a, [axis % np.ndim(a)]), None, None, None, None
    return y, rfft_back


@adjoint(np.fft.irfft)
def irfft_rule(a, n=None, axis=-1, norm=None, out=None):
    """A real signal from the first half of a Hermitian spectrum: each term between the first
    and the Nyquist one stands for itself and its conjugate, so the adjoint is ``rfft`` of the
    cotangent with those terms doubled (the imaginary parts of the first and Nyquist terms,
    which irfft ignores, get none)."""
    y = np.fft.irfft(a, n=n, axis=axis, norm=norm)
    length = np.shape(y)[axis]
    terms = length // 2 + 1
    weights = np.full(terms, 2.0, dtype=y.dtype)
    weights[0] = 1.0
    if length % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * np.ndim(y)
    shape[axis] = terms
    weights = np.reshape(weights, shape)

    def irfft_back(dy):
        g = np.fft.rfft(dy, n=length, axis=axis, norm=DUAL_NORM[norm]) * weights
        return as_input(g, a, [axis % np.ndim(a)]), None, None, None, None
    return y, irfft_back


expr_rule(np.fft.fftshift, lambda x, axes=None, y=None, dy=None: np.fft.ifftshift(dy, axes), elementwise=False)
expr_rule(np.fft.ifftshift, lambda x, axes=None, y=None, dy=None: np.fft.fftshift(dy, axes), elementwise=False)
