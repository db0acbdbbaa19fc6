"""The functions every framework differentiates, written once against ``m``, the maths module.

Each framework gets its own copy of this file as a module (`copy`) whose ``m`` is what that
framework differentiates: ``math`` (scalars) or ``numpy`` (arrays) for zygote and for the
function's own call, ``numpy`` for tangent (it has no rules for ``math``),
``autograd.numpy``, ``jax.numpy``, or torch under numpy's names. The source stays in this
real file, so zygote and tangent read it with ``inspect`` like any user function.
The hand-written derivatives are in `hand`.
"""

import importlib.util
import math
import sys

m = math  # the maths module; each copy sets its own

S = 0.7      # width of the Gaussian
H = 0.001    # step of the Euler loop


# -- small scalar functions (call overhead) ----------------------------------------------


def polynomial(x):
    return 3.0 * x ** 4 - 2.0 * x ** 3 + 0.5 * x ** 2 - 5.0 * x + 1.0


def asinh_like(x):
    return x * m.log(x + m.sqrt(1.0 + x * x))


def gaussian(x):
    return m.exp(-x * x / (2.0 * S * S))


def loop100(x):
    y = x
    for i in range(100):
        y = y + 0.01 * m.sin(x * y)
    return y


def branchy(x):
    if x > 1.0:
        y = x * x
    elif x > 0.0:
        y = m.sin(x)
    else:
        y = -x
    if y > 0.5:
        return 2.0 * y
    return y


def logsumexp(x):
    top = m.max(x)
    return top + m.log(m.sum(m.exp(x - top)))


def ten_ops(x):
    a = x * x
    b = m.sin(a) + x
    c = m.exp(-b * b)
    d = a * c + 1.0
    return m.log(d) * b - c


# -- loops ---------------------------------------------------------------------------------


def euler(x, n):
    y = x
    for i in range(n):
        y = y + H * m.sin(x * y)
    return y


def while50(x):
    y = x
    i = 0
    while i < 50:
        y = y + 0.02 * m.cos(x * y)
        i += 1
    return y


def oscillator(u, v, w):
    return v, -w * w * u - 0.1 * v


def rk4(u, v, w):
    """1,000 steps of RK4 for the damped oscillator ``u'' = -w² u - 0.1 u'``; the final energy."""
    h = 0.01
    for i in range(1000):
        k1u, k1v = oscillator(u, v, w)
        k2u, k2v = oscillator(u + 0.5 * h * k1u, v + 0.5 * h * k1v, w)
        k3u, k3v = oscillator(u + 0.5 * h * k2u, v + 0.5 * h * k2v, w)
        k4u, k4v = oscillator(u + h * k3u, v + h * k3v, w)
        u = u + h / 6 * (k1u + 2 * k2u + 2 * k3u + k4u)
        v = v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
    return u * u + v * v


# -- array code ----------------------------------------------------------------------------


def tanh_layer(W, x, b):
    return m.sum(m.tanh(W @ x + b))


def softmax_crossentropy(z, y):
    shifted = z - m.max(z, axis=1, keepdims=True)
    logp = shifted - m.log(m.sum(m.exp(shifted), axis=1, keepdims=True))
    return -m.sum(y * logp) / z.shape[0]


def mlp_loss(W1, b1, W2, b2, x, y):
    h = m.tanh(x @ W1.T + b1)
    z = h @ W2.T + b2
    shifted = z - m.max(z, axis=1, keepdims=True)
    logp = shifted - m.log(m.sum(m.exp(shifted), axis=1, keepdims=True))
    return -m.sum(y * logp) / z.shape[0]


def tanh_sum(A, x):
    return m.sum(m.tanh(A @ x))


# -- copies --------------------------------------------------------------------------------

_COPIES = {}


def copy(framework):
    """This module loaded afresh with ``m`` set for ``framework`` (see `peers.maths`)."""
    if framework not in _COPIES:
        from . import peers
        maths = peers.maths(framework)
        name = f"{__name__}_{framework}"
        spec = importlib.util.spec_from_file_location(name, __file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.m = maths
        sys.modules[name] = module
        _COPIES[framework] = module
    return _COPIES[framework]
