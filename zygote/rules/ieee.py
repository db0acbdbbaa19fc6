"""IEEE arithmetic on Python numbers for rule expressions: inf or nan where Python raises.

Python raises ``ZeroDivisionError`` for ``1.0 / 0.0`` and ``0.0 ** -0.5``, where numpy's
float64 arithmetic (and every array framework) gives ``inf``. A rule's derivative may divide
by zero at a point where the function itself is fine (``math.sqrt`` at 0, ``math.acos`` at 1),
so rule expressions divide and raise to powers through these two functions, which answer
what numpy's float64 arithmetic answers there, as a Python number, without a warning.

>>> divide(1.0, 0.0), divide(-1.0, 0.0), divide(0.0, 0.0)
(inf, -inf, nan)
>>> power(0.0, -0.5), divide(6.0, 3.0)
(inf, 2.0)
"""
import numpy as np


def _as_numpy(a):
    return np.complex128(a) if type(a) is complex else np.float64(a)


def divide(a, b):
    """``a / b``; for Python numbers with ``b == 0``, numpy's ``±inf`` or ``nan`` instead of an error."""
    try:
        return a / b
    except ZeroDivisionError:
        with np.errstate(all="ignore"):
            return (_as_numpy(a) / _as_numpy(b)).item()


def power(a, b):
    """``a ** b``; for Python numbers, numpy's ``inf`` where Python raises (a zero base with a
    negative exponent, or a result too large for a float)."""
    try:
        return a ** b
    except (ZeroDivisionError, OverflowError):
        with np.errstate(all="ignore"):
            return (_as_numpy(a) ** _as_numpy(b)).item()
