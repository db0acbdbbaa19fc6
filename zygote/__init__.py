"""zygote: reverse-mode automatic differentiation of Python + numpy by source transformation.

>>> import zygote
>>> zygote.gradient(lambda x: 3 * x ** 2 + 2 * x, 1.0)
(8.0,)
"""
from . import rules
from .rules import adjoint, expr_rule, nograd
from .rules import operators as _operators  # noqa: F401  (registers rules)
from .rules import math as _math  # noqa: F401
from .rules import numpy as _numpy  # noqa: F401
from .rules import builtins as _builtins  # noqa: F401
from .rules import containers as _containers  # noqa: F401
from .rules import construction as _construction  # noqa: F401
from .rules import linalg as _linalg  # noqa: F401
from .rules import complex as _complex  # noqa: F401
from .rules import fft as _fft  # noqa: F401
from .rules import adjoints as _adjoints  # noqa: F401  (rules for adjoint helpers)
from .rules import applying as _applying  # noqa: F401
from .rules import scipy as _scipy
_scipy.install()  # scipy's rules, registered as its modules are imported
from .api import adjoint_source, gradient, pullback, withgradient
from .transforms import grad, value_and_grad
from .rules import tangent_table as _tangent_table  # noqa: F401  (registers tangent rules)
from .rules import tangent_python as _tangent_python  # noqa: F401
from .rules.tangents import bilinear, linear, tangent
from .forward import MissingTangentError
from .derivatives import (checkpointed, diaghessian, forward_source, hessian, hvp, jacfwd, jacobian, jacrev,
                          jvp, pushforward)
from .errors import (GradientUsageError, MissingRuleError, NonScalarOutputError, SourceUnavailableError,
                     UnsupportedSyntaxError, ZygoteError)
from .params import Grads, Params


def dropgrad(x):
    """Return ``x`` unchanged, but let no gradient flow back through it.

    >>> import zygote
    >>> zygote.gradient(lambda x: x * zygote.dropgrad(x), 3.0)
    (3.0,)
    """
    return x


nograd(dropgrad)

__all__ = [
    "gradient", "grad", "value_and_grad", "pullback", "withgradient", "jacobian", "hessian", "adjoint_source",
    "adjoint", "expr_rule", "nograd", "dropgrad", "jvp", "pushforward", "jacfwd", "jacrev", "hvp", "diaghessian",
    "checkpointed", "forward_source", "tangent", "linear", "bilinear", "MissingTangentError",
    "Params", "Grads", "ZygoteError", "UnsupportedSyntaxError", "MissingRuleError",
    "SourceUnavailableError", "NonScalarOutputError", "GradientUsageError",
]
