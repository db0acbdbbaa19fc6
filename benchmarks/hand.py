"""The limit: each benchmark function's forward and hand-derived backward pass, in math and numpy.

Every ``*_grad`` computes the value as the forward pass would, keeps what the backward pass
needs, and returns ``(value, gradient)`` with one gradient per argument differentiated, in
the same dtype and with the same operations as the function in `functions`. They are also
the reference the other frameworks' gradients are checked against.
"""

import math

import numpy as np

from .functions import H, S


# -- small scalar functions ----------------------------------------------------------------


def polynomial_grad(x):
    y = 3.0 * x ** 4 - 2.0 * x ** 3 + 0.5 * x ** 2 - 5.0 * x + 1.0
    return y, (12.0 * x ** 3 - 6.0 * x ** 2 + x - 5.0,)


def asinh_like_grad(x):
    r = math.sqrt(1.0 + x * x)
    s = x + r
    log_s = math.log(s)
    y = x * log_s
    ds = x / s
    return y, (log_s + ds * (1.0 + x / r),)


def gaussian_grad(x):
    y = math.exp(-x * x / (2.0 * S * S))
    return y, (-y * x / (S * S),)


def loop100_grad(x):
    ys = [x]
    y = x
    for i in range(100):
        y = y + 0.01 * math.sin(x * y)
        ys.append(y)
    dy, dx = 1.0, 0.0
    for i in range(99, -1, -1):
        c = 0.01 * math.cos(x * ys[i]) * dy
        dx += c * ys[i]
        dy = dy + c * x
    return y, (dx + dy,)


def branchy_grad(x):
    if x > 1.0:
        y, dydx = x * x, 2.0 * x
    elif x > 0.0:
        y, dydx = math.sin(x), math.cos(x)
    else:
        y, dydx = -x, -1.0
    if y > 0.5:
        return 2.0 * y, (2.0 * dydx,)
    return y, (dydx,)


def logsumexp_grad(x):
    top = np.max(x)
    e = np.exp(x - top)
    total = np.sum(e)
    return top + np.log(total), (e / total,)


def ten_ops_grad(x):
    a = x * x
    sin_a = math.sin(a)
    b = sin_a + x
    c = math.exp(-b * b)
    d = a * c + 1.0
    log_d = math.log(d)
    y = log_d * b - c
    dd = b / d
    dc = a * dd - 1.0
    db = log_d + dc * c * (-2.0 * b)
    da = dd * c + db * math.cos(a)
    return y, (db + da * 2.0 * x,)


# -- loops ---------------------------------------------------------------------------------


def euler_grad(x, n):
    ys = [x]
    y = x
    for i in range(n):
        y = y + H * math.sin(x * y)
        ys.append(y)
    dy, dx = 1.0, 0.0
    for i in range(n - 1, -1, -1):
        c = H * math.cos(x * ys[i]) * dy
        dx += c * ys[i]
        dy = dy + c * x
    return y, (dx + dy,)


# -- array code ----------------------------------------------------------------------------


def tanh_layer_grad(W, x, b):
    t = np.tanh(W @ x + b)
    dz = 1 - t * t
    return np.sum(t), (np.outer(dz, x), W.T @ dz, dz)


def tanh_layer_grad_x(W, x, b):
    t = np.tanh(W @ x + b)
    return np.sum(t), (W.T @ (1 - t * t),)


def softmax_crossentropy_grad(z, y):
    shifted = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(shifted)
    total = np.sum(e, axis=1, keepdims=True)
    logp = shifted - np.log(total)
    n = z.shape[0]
    return -np.sum(y * logp) / n, ((e / total - y) / n,)


def mlp_loss_grad(W1, b1, W2, b2, x, y):
    h = np.tanh(x @ W1.T + b1)
    loss, (dz,) = softmax_crossentropy_grad(h @ W2.T + b2, y)
    dh = (dz @ W2) * (1 - h * h)
    return loss, (dh.T @ x, np.sum(dh, axis=0), dz.T @ h, np.sum(dz, axis=0))


# -- second order --------------------------------------------------------------------------


def asinh_like_second(x):
    """``f''(x)`` of `functions.asinh_like`: ``1/r + 1/r**3`` with ``r = sqrt(1 + x*x)``."""
    r = math.sqrt(1.0 + x * x)
    return 1.0 / r + 1.0 / (r * r * r)


def tanh_sum_hessian(A, x):
    """Hessian in ``x`` of ``sum(tanh(A @ x))``: ``A.T @ diag(-2 t (1 - t*t)) @ A``."""
    t = np.tanh(A @ x)
    return A.T @ ((-2.0 * t * (1.0 - t * t))[:, None] * A)
