"""Rules for ``scipy.signal``: N-dimensional convolution and correlation.

Every ``mode`` is a window of the full result, so a cotangent is padded back to the full
result's shape and then correlated (or convolved) with the other input in ``'valid'`` mode.
"""
import numpy as np
import scipy.signal as signal

from .. import adjoint


def full_window(mode, shape1, shape2):
    """``(start, stop)`` per axis of the ``mode`` result inside the ``'full'`` one."""
    window = []
    for n1, n2 in zip(shape1, shape2):
        full = n1 + n2 - 1
        if mode == "full":
            start, size = 0, full
        elif mode == "same":
            start, size = (full - n1) // 2, n1
        elif mode == "valid":
            start, size = min(n1, n2) - 1, abs(n1 - n2) + 1
        else:
            raise ValueError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
        window.append((start, full - start - size))
    return window


def padded_to_full(dy, mode, in1, in2):
    """The cotangent of the full result: ``dy`` in its window, zeros around it."""
    if mode == "full":
        return dy
    return np.pad(dy, full_window(mode, np.shape(in1), np.shape(in2)))


@adjoint(signal.convolve)
def convolve_rule(in1, in2, mode="full", method="auto"):
    """``y = in1 ∗ in2``: ``d in1 = dy ⋆ in2`` and ``d in2 = dy ⋆ in1`` (⋆: valid correlation)."""
    y = signal.convolve(in1, in2, mode, method)

    def convolve_back(dy):
        dfull = padded_to_full(dy, mode, in1, in2)
        return (signal.correlate(dfull, in2, "valid", method),
                signal.correlate(dfull, in1, "valid", method), None, None)
    return y, convolve_back


@adjoint(signal.correlate)
def correlate_rule(in1, in2, mode="full", method="auto"):
    """``y = in1 ⋆ in2 = in1 ∗ flip(conj(in2))``: ``d in1 = dy ∗ in2``, and, y being
    conjugate-linear in in2, ``d in2 = conj(flip(dy ⋆ in1))``."""
    y = signal.correlate(in1, in2, mode, method)

    def correlate_back(dy):
        dfull = padded_to_full(dy, mode, in1, in2)
        return (signal.convolve(dfull, in2, "valid", method),
                np.conj(np.flip(signal.correlate(dfull, in1, "valid", method))), None, None)
    return y, correlate_back
