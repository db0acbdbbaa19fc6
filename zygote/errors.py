"""The exceptions zygote raises, all deriving from ZygoteError."""


class ZygoteError(Exception):
    """Base class of every error raised by zygote."""


class UnsupportedSyntaxError(ZygoteError):
    """A Python construct that the source transformation does not handle.

    The message names the construct and the user's ``file:line``.
    """

    def __init__(self, construct, filename=None, lineno=None, hint=""):
        self.construct = construct
        self.filename = filename
        self.lineno = lineno
        where = f"{filename}:{lineno}: " if filename else ""
        message = f"{where}{construct} is not supported inside a differentiated function"
        if hint:
            message += f"; {hint}"
        super().__init__(message)


class SourceUnavailableError(ZygoteError):
    """The function has no readable Python source and no registered rule."""

    def __init__(self, fn, reason=""):
        name = getattr(fn, "__qualname__", None) or repr(fn)
        message = (
            f"cannot differentiate {name}: its source code is not available"
            f"{' (' + reason + ')' if reason else ''}. Register a rule with "
            f"@zygote.adjoint({getattr(fn, '__name__', 'fn')}) or mark it with zygote.nograd"
        )
        super().__init__(message)


class MissingRuleError(ZygoteError):
    """A built-in or C function is called on a differentiable path without a rule."""

    def __init__(self, fn):
        module = getattr(fn, "__module__", None) or type(fn).__module__
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        full = f"{module}.{name}" if module and module != "builtins" else name
        self.fn = fn
        super().__init__(
            f"no differentiation rule for {full}. Register one with "
            f"@zygote.adjoint({name.split('.')[-1]}) (the rule returns (y, back) with back(dy) "
            f"giving one cotangent per argument), or declare it non-differentiable with "
            f"zygote.nograd({name.split('.')[-1]})"
        )


class NonScalarOutputError(ZygoteError):
    """``gradient`` was asked for a function whose output is not a real scalar."""


class GradientUsageError(ZygoteError):
    """A public function was called with arguments it cannot accept."""
