"""Rules for the parts of complex numbers: real, imag, conj, angle and real_if_close.

zygote's convention for a real loss ``L`` of a complex ``z = x + iy`` is the cotangent
``∂L/∂x + i ∂L/∂y`` (the direction of steepest ascent, as PyTorch and Zygote.jl use): so
``Re z`` passes back its cotangent as it is, ``Im z`` times ``i``, and a holomorphic ``f``
multiplies by the conjugate of ``f'(z)``. A real argument's cotangent is real.
"""
import numpy as np

from . import METHOD_RULES, RULES, adjoint, expr_rule, nograd

RADIAN = float(180.0 / np.pi)


def conj(x):
    """``x̄``, the conjugate of a number, an array or a list of numbers: ``x`` itself when it is real.

    Rules of holomorphic operators multiply cotangents by ``conj`` of a derivative; on an
    active number or array the compiler writes it as ``x.conjugate()``, which costs nothing
    for real values (see ``expr_rule``'s ``as_method``).
    """
    kind = type(x)
    if kind is float or kind is int:
        return x
    if kind is list or kind is tuple:
        return np.conjugate(x)
    return x.conjugate()


def holomorphic(slope):
    """The conjugate of a complex derivative ``f'(z)``, as it multiplies a cotangent; a real
    slope as it is. Every rule of a holomorphic function multiplies its cotangent by this."""
    kind = type(slope)
    if kind is float:
        return slope
    if kind is complex:
        return slope.conjugate()
    dtype = getattr(slope, "dtype", None)
    if dtype is not None and dtype.kind == "c":
        return np.conj(slope)
    return slope  # (checked by hand: np.iscomplexobj costs as much as a small ufunc)


def real_back(dy, x):
    """Cotangent of ``np.real(x)``: the cotangent itself, its real part (a real loss's)."""
    return np.real(dy) if np.iscomplexobj(x) else dy


def imag_back(dy, x):
    """Cotangent of ``np.imag(x)``: ``i dy`` for complex ``x``; a real ``x`` has no imaginary part."""
    return 1j * np.real(dy) if np.iscomplexobj(x) else 0 * dy


def conj_back(dy, x):
    """Cotangent of ``np.conj(x)``: ``conj(dy)``, which for a real ``x`` is ``dy``'s real part."""
    return np.conj(dy) if np.iscomplexobj(x) else np.real(dy)


def angle_back(dy, z, deg):
    """Cotangent of ``np.angle(z)``: ``dy i z / |z|²`` (``atan2(y, x)``: ``(-y + i x) / |z|²``);
    a real ``z`` has the piecewise-constant angle 0 or π."""
    scale = RADIAN if deg else 1.0
    if not np.iscomplexobj(z):
        return 0 * dy
    magnitude2 = np.real(z * np.conj(z))
    return np.real(dy) * scale * 1j * z / np.where(magnitude2 == 0, 1, magnitude2)


# -- the parts of a complex number ---------------------------------------------------------------
expr_rule(np.real, lambda val, y, dy: real_back(dy, val))
expr_rule(np.imag, lambda val, y, dy: imag_back(dy, val))
expr_rule(np.conj, lambda x, y, dy: conj_back(dy, x))   # (np.conjugate is the same ufunc)
expr_rule(conj, lambda x, y, dy: conj_back(dy, x), as_method="conjugate")
expr_rule(np.angle, lambda z, deg=False, y=None, dy=None: angle_back(dy, z, deg))


@adjoint(np.real_if_close)
def real_if_close_rule(a, tol=100):
    """The real part when every imaginary part is negligible (then the cotangent is real), else ``a``."""
    y = np.real_if_close(a, tol=tol)
    return y, lambda dy: (real_back(dy, a) if np.iscomplexobj(a) and not np.iscomplexobj(y) else dy, None)




@adjoint(None, method_of=(np.ndarray, "conjugate"))
def conjugate_method_rule(x):
    """``x.conjugate()`` of an array or a number. The generated adjoints of holomorphic operators
    call it, so it is a pullback rule: its ``back`` is Python that higher orders differentiate."""
    return x.conjugate(), lambda dy: (conj_back(dy, x),)


for _owner in (np.ndarray, np.generic, complex, float, int):
    METHOD_RULES[(_owner, "conj")] = METHOD_RULES[(_owner, "conjugate")] = METHOD_RULES[(np.ndarray, "conjugate")]
for _owner in (complex, float, int):
    del METHOD_RULES[(_owner, "conj")]  # (Python numbers have only conjugate())

nograd(np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal)
