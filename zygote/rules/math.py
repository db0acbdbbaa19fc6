"""Rules for the ``math`` module."""
import math

import numpy as np

from . import adjoint, expr_rule, nograd
from .complex import holomorphic
from .ieee import divide
from .operators import power_slope

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# -- elementary functions ------------------------------------------------------------------
expr_rule(math.sin, lambda x, y, dy: dy * math.cos(x))
expr_rule(math.cos, lambda x, y, dy: -dy * math.sin(x))
expr_rule(math.tan, lambda x, y, dy: dy * (1 + y * y))
expr_rule(math.exp, lambda x, y, dy: dy * y)
expr_rule(math.exp2, lambda x, y, dy: dy * y * LN2)
expr_rule(math.cbrt, lambda x, y, dy: divide(dy, 3 * y * y))
expr_rule(math.degrees, lambda x, y, dy: dy * (180.0 / math.pi))
expr_rule(math.radians, lambda x, y, dy: dy * (math.pi / 180.0))
expr_rule(math.expm1, lambda x, y, dy: dy * (y + 1))
expr_rule(math.log, lambda x, y, dy, base=None: (
    dy / x if base is None else dy / (x * math.log(base)),
    None if base is None else -dy * y / (base * math.log(base))))
expr_rule(math.log1p, lambda x, y, dy: dy / (1 + x))
expr_rule(math.log2, lambda x, y, dy: dy / (x * LN2))
expr_rule(math.log10, lambda x, y, dy: dy / (x * LN10))
expr_rule(math.sqrt, lambda x, y, dy: divide(dy, 2 * y))
expr_rule(math.tanh, lambda x, y, dy: dy * (1 - y * y))
expr_rule(math.sinh, lambda x, y, dy: dy * math.cosh(x))
expr_rule(math.cosh, lambda x, y, dy: dy * math.sinh(x))
expr_rule(math.asin, lambda x, y, dy: divide(dy, math.sqrt(1 - x * x)))
expr_rule(math.acos, lambda x, y, dy: divide(-dy, math.sqrt(1 - x * x)))
expr_rule(math.atan, lambda x, y, dy: dy / (1 + x * x))
expr_rule(math.asinh, lambda x, y, dy: dy / math.sqrt(x * x + 1))
expr_rule(math.acosh, lambda x, y, dy: divide(dy, math.sqrt(x * x - 1)))
expr_rule(math.atanh, lambda x, y, dy: dy / (1 - x * x))
expr_rule(math.erf, lambda x, y, dy: dy * TWO_OVER_SQRT_PI * math.exp(-x * x))
expr_rule(math.erfc, lambda x, y, dy: -dy * TWO_OVER_SQRT_PI * math.exp(-x * x))
expr_rule(math.fabs, lambda x, y, dy: dy * np.sign(x))

# -- two arguments ---------------------------------------------------------------------------
expr_rule(math.pow, lambda a, b, y, dy: (dy * power_slope(a, b), dy * y * math.log(a) if a > 0 else 0.0 * dy))
expr_rule(math.atan2, lambda a, b, y, dy: (divide(dy * b, a * a + b * b), divide(-dy * a, a * a + b * b)))
expr_rule(math.fmod, lambda a, b, y, dy: (dy, -dy * np.trunc(divide(a, b))))  # (nan stays nan)
expr_rule(math.copysign, lambda a, b, y, dy: (dy * np.sign(a) * np.sign(y), None))


@adjoint(math.hypot)
def hypot_rule(*coordinates):
    """``math.hypot(*x)`` = |x|: each coordinate receives ``dy·xᵢ/|x|`` (0 at the origin)."""
    y = math.hypot(*coordinates)
    return y, lambda dy: tuple(dy * x / y if y else 0.0 * dy for x in coordinates)


@adjoint(math.dist)
def dist_rule(p, q):
    """``math.dist(p, q)`` = |p - q| for two sequences of coordinates."""
    y = math.dist(p, q)

    def dist_back(dy):
        dp = [dy * (a - b) / y if y else 0.0 * dy for a, b in zip(p, q)]
        return type(p)(dp) if isinstance(p, tuple) else dp, \
            tuple(-d for d in dp) if isinstance(q, tuple) else [-d for d in dp]
    return y, dist_back


@adjoint(math.fsum)
def fsum_rule(items):
    """``math.fsum(items)``: every item receives the cotangent of the total."""
    seq = items if isinstance(items, (list, tuple)) else list(items)
    return math.fsum(seq), lambda dy: (tuple(dy for _ in seq) if isinstance(seq, tuple) else [dy for _ in seq],)


@adjoint(math.prod)
def prod_rule(items, *, start=1):
    """``math.prod(items, start=start)``: item i receives ``dy`` times the product of all the others.

    ``start`` is keyword-only, so (like every keyword of a pullback rule) it gets no cotangent.
    """
    seq = items if isinstance(items, (list, tuple)) else list(items)
    y = math.prod(seq, start=start)

    def prod_back(dy):
        parts = [dy * holomorphic(math.prod(seq[:i] + seq[i + 1:], start=start))
                 for i in range(len(seq))]
        return (tuple(parts) if isinstance(seq, tuple) else parts,)
    return y, prod_back


# -- piecewise constant ----------------------------------------------------------------------
nograd(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
       math.factorial, math.gcd, math.lcm, math.comb, math.perm, math.isqrt)
