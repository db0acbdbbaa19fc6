"""Gradients compiled to machine code with numba: ``zygote.native.grad(f)``.

The generated primal and adjoint of ``f`` (see ``zygote.adjoint_source``) are lowered into the
subset of Python numba compiles, fused into one function and jitted; the machine code is kept
on disk (``zygote.native.store``), so a second process loads it instead of compiling. numba is
an extra: ``pip install 'zygote-flux[numba]'``.

>>> import math, zygote.native
>>> def f(x):
...     s = 0.0
...     for i in range(3):
...         s = s + math.sin(x * s + 1.0)
...     return s
>>> df = zygote.native.grad(f)
>>> abs(df(0.5) - zygote.gradient(f, 0.5)[0]) < 1e-12
True
"""
from .gradient import NativeFallbackWarning, grad, value_and_grad
from .lower import NativeUnsupportedError

__all__ = ["grad", "value_and_grad", "NativeUnsupportedError", "NativeFallbackWarning"]
