"""Rules for ``scipy.special``: error functions, gamma and beta functions, logistic and log-sum-exp.

Each adjoint is written with numpy and scipy.special functions that have rules themselves,
so second derivatives come from differentiating the adjoint again.
"""
import math

import numpy as np
import scipy.special as special

from .. import adjoint, expr_rule
from ..complex import holomorphic
from ..numpy import expand_reduced, float_dtype
from ...runtime import unbroadcast

SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2
TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
SQRT_2PI = math.sqrt(2 * math.pi)
LOG_SQRT_2PI = math.log(SQRT_2PI)


def xlogy_slope(a, b):
    """``a / b``, and 0 where ``a`` is 0 (``xlogy(0, 0)`` is 0 however ``b`` moves)."""
    return a / np.where(a == 0, 1, b)


def polygamma_like(n, x):
    """``polygamma(n, x)`` in x's float dtype (scipy computes it in float64)."""
    if np.iscomplexobj(x):
        # scipy's polygamma takes real arguments only (its digamma takes complex ones)
        raise NotImplementedError(f"the derivative of scipy.special's digamma/polygamma at a complex "
                                  f"argument (polygamma({n}, z) for complex z is not in scipy)")
    return special.polygamma(n, x).astype(float_dtype(x))


def i1e_slope(x, y):
    """d i1e(x)/dx = i0e(x) - i1e(x)/x - sign(x) i1e(x), which is 1/2 at x = 0."""
    nonzero = x != 0
    safe_x = np.where(nonzero, x, 1)
    return np.where(nonzero, special.i0e(x) - y / safe_x - np.sign(x) * y, 0.5)


# -- error functions and the normal distribution ----------------------------------------------
expr_rule(special.erf, lambda x, y, dy: dy * holomorphic(TWO_OVER_SQRT_PI * np.exp(-x * x)))
expr_rule(special.erfc, lambda x, y, dy: -dy * holomorphic(TWO_OVER_SQRT_PI * np.exp(-x * x)))
expr_rule(special.erfinv, lambda x, y, dy: dy * SQRT_PI_OVER_2 * np.exp(y * y))
expr_rule(special.erfcinv, lambda x, y, dy: -dy * SQRT_PI_OVER_2 * np.exp(y * y))
expr_rule(special.ndtr, lambda x, y, dy: dy * holomorphic(np.exp(-0.5 * x * x) / SQRT_2PI))
expr_rule(special.ndtri, lambda x, y, dy: dy * SQRT_2PI * np.exp(0.5 * y * y))
# φ(x)/Φ(x) as exp(log φ(x) - log Φ(x)), which neither underflows nor overflows far left.
expr_rule(special.log_ndtr, lambda x, y, dy: dy * holomorphic(np.exp(-0.5 * x * x - LOG_SQRT_2PI - y)))

# -- gamma and beta functions -------------------------------------------------------------------
expr_rule(special.gammaln, lambda x, y, dy: dy * special.digamma(x))
expr_rule(special.digamma, lambda x, y, dy: dy * polygamma_like(1, x))
expr_rule(special.polygamma, lambda n, x, y, dy: (None, dy * polygamma_like(n + 1, x)))
expr_rule(special.beta, lambda a, b, y, dy: (
    dy * y * (special.digamma(a) - special.digamma(a + b)),
    dy * y * (special.digamma(b) - special.digamma(a + b))))
expr_rule(special.betaln, lambda a, b, y, dy: (
    dy * (special.digamma(a) - special.digamma(a + b)),
    dy * (special.digamma(b) - special.digamma(a + b))))

# -- exponentially scaled Bessel functions --------------------------------------------------------
expr_rule(special.i0e, lambda x, y, dy: dy * (special.i1e(x) - np.sign(x) * y))
expr_rule(special.i1e, lambda x, y, dy: dy * i1e_slope(x, y))

# -- logistic function and products with logarithms -------------------------------------------------
expr_rule(special.expit, lambda x, y, dy: dy * y * (1 - y))
expr_rule(special.logit, lambda x, y, dy: dy / (x * (1 - x)))
expr_rule(special.xlogy, lambda a, b, y, dy: (dy * holomorphic(np.log(b)),
                                               dy * holomorphic(xlogy_slope(a, b))))
expr_rule(special.xlog1py, lambda a, b, y, dy: (dy * holomorphic(np.log1p(b)),
                                                 dy * holomorphic(xlogy_slope(a, 1 + b))))


# -- normalising over an axis -----------------------------------------------------------------------


@adjoint(special.logsumexp, output_kind="a")  # with return_sign=True, a (value, sign) pair
def logsumexp_rule(a, axis=None, b=None, keepdims=False, return_sign=False):
    """``y = log Σ b·exp(a)`` over ``axis``: ``da = dy·b·exp(a - y)``, ``db = dy·exp(a - y)``.

    With ``return_sign=True`` the result is ``(log|s|, sign s)``; the sign has no derivative.
    """
    result = special.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    y = result[0] if return_sign else result
    # a and b broadcast together before the sum
    summed = a if b is None else np.broadcast_to(a, np.broadcast_shapes(np.shape(a), np.shape(b)))

    def logsumexp_back(dresult):
        dy = dresult[0] if return_sign else dresult
        if return_sign:
            dy = dy * result[1]  # d log|s| = ds / s turns b·exp(a - log|s|) into b·exp(a) / s
        weights = np.exp(a - expand_reduced(y, summed, axis, keepdims))   # b·weights sums to 1
        # (conjugated slopes for complex arguments, as every holomorphic rule's)
        dy_weights = expand_reduced(dy, summed, axis, keepdims) * holomorphic(weights)
        if b is None:
            return dy_weights, None, None, None, None
        return unbroadcast(dy_weights * holomorphic(b), a), None, unbroadcast(dy_weights, b), None, None
    return result, logsumexp_back



@adjoint(special.softmax)
def softmax_rule(x, axis=None):
    """``y = exp(x) / Σ exp(x)`` over ``axis`` (all of x if None): ``dx = y (dy - Σ dy·y)``."""
    y = special.softmax(x, axis=axis)

    def softmax_back(dy):
        slope = holomorphic(y)  # the Jacobian is symmetric: its conjugate transpose conjugates y
        return slope * (dy - np.sum(dy * slope, axis=axis, keepdims=True)), None
    return y, softmax_back


@adjoint(special.log_softmax)
def log_softmax_rule(x, axis=None):
    """``y = x - logsumexp(x)`` over ``axis``: ``dx = dy - exp(y) Σ dy``."""
    y = special.log_softmax(x, axis=axis)

    def log_softmax_back(dy):
        return dy - holomorphic(np.exp(y)) * np.sum(dy, axis=axis, keepdims=True), None
    return y, log_softmax_back
