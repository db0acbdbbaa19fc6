"""Forward mode at run time: the forward call protocol, the helpers generated forward code calls, and
how forward and reverse mode nest.

``calls`` dispatches ``jvp_call(fn, dfn, args, dargs) -> (y, dy)``; ``helpers`` holds the
small functions the forward stage's code calls for displays, writes and operators; ``nesting``
lets reverse mode differentiate forward code and forward mode differentiate reverse code.
"""
from .calls import (FORWARD, MissingTangentError, attr_tangent, float_jvp, item_tangent, jvp_call,
                    jvp_call_kw, jvp_method, _bind)
from .helpers import ForwardHelpers
from . import nesting  # noqa: F401  (registers jvp_call's rule for reverse mode)

FORWARD.helpers = ForwardHelpers()

__all__ = ["FORWARD", "MissingTangentError", "jvp_call", "jvp_call_kw", "jvp_method", "float_jvp",
           "attr_tangent", "item_tangent", "ForwardHelpers"]
