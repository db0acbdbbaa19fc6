"""Rules for the ``math`` module."""
import math

import numpy as np

from . import expr_rule, nograd

LN2 = math.log(2.0)
LN10 = math.log(10.0)
TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)

# -- elementary functions ------------------------------------------------------------------
expr_rule(math.sin, lambda x, y, dy: dy * math.cos(x))
expr_rule(math.cos, lambda x, y, dy: -dy * math.sin(x))
expr_rule(math.tan, lambda x, y, dy: dy * (1 + y * y))
expr_rule(math.exp, lambda x, y, dy: dy * y)
expr_rule(math.expm1, lambda x, y, dy: dy * (y + 1))
expr_rule(math.log, lambda x, y, dy, base=None: (
    dy / x if base is None else dy / (x * math.log(base)),
    None if base is None else -dy * y / (base * math.log(base))))
expr_rule(math.log1p, lambda x, y, dy: dy / (1 + x))
expr_rule(math.log2, lambda x, y, dy: dy / (x * LN2))
expr_rule(math.log10, lambda x, y, dy: dy / (x * LN10))
expr_rule(math.sqrt, lambda x, y, dy: dy / (2 * y))
expr_rule(math.tanh, lambda x, y, dy: dy * (1 - y * y))
expr_rule(math.sinh, lambda x, y, dy: dy * math.cosh(x))
expr_rule(math.cosh, lambda x, y, dy: dy * math.sinh(x))
expr_rule(math.asin, lambda x, y, dy: dy / math.sqrt(1 - x * x))
expr_rule(math.acos, lambda x, y, dy: -dy / math.sqrt(1 - x * x))
expr_rule(math.atan, lambda x, y, dy: dy / (1 + x * x))
expr_rule(math.asinh, lambda x, y, dy: dy / math.sqrt(x * x + 1))
expr_rule(math.acosh, lambda x, y, dy: dy / math.sqrt(x * x - 1))
expr_rule(math.atanh, lambda x, y, dy: dy / (1 - x * x))
expr_rule(math.erf, lambda x, y, dy: dy * TWO_OVER_SQRT_PI * math.exp(-x * x))
expr_rule(math.erfc, lambda x, y, dy: -dy * TWO_OVER_SQRT_PI * math.exp(-x * x))
expr_rule(math.fabs, lambda x, y, dy: dy * np.sign(x))

# -- two arguments ---------------------------------------------------------------------------
expr_rule(math.pow, lambda a, b, y, dy: (dy * b * a ** (b - 1), dy * y * math.log(a) if a > 0 else 0.0 * dy))
expr_rule(math.atan2, lambda a, b, y, dy: (dy * b / (a * a + b * b), -dy * a / (a * a + b * b)))
expr_rule(math.hypot, lambda a, b, y, dy: (dy * a / y, dy * b / y))
expr_rule(math.copysign, lambda a, b, y, dy: (dy * np.sign(a) * np.sign(y), None))

# -- piecewise constant ----------------------------------------------------------------------
nograd(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
       math.factorial, math.gcd, math.comb, math.perm)
