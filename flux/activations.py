"""Elementwise and softmax-style activation functions, with zygote rules for the hot ones.

Every activation is plain numpy that zygote can differentiate from source. ``sigmoid``,
``relu``, ``softplus``, ``gelu``, ``softmax`` and ``logsoftmax`` also carry hand-written
rules (as NNlib does) so that training does not pay for differentiating their insides; the pullbacks
are themselves plain numpy, so second derivatives can still be taken through them.

All functions keep the dtype of their input: a float32 array gives a float32 result.
The softmax family works along ``axis`` (default ``-1``, the feature axis of a batch-first
array of shape ``(N, C)``).
"""

import math

import numpy as np

import zygote

from .initialisers import as_rng

__all__ = [
    "identity", "sigmoid", "σ", "relu", "leakyrelu", "elu", "gelu", "swish", "tanh",
    "softplus", "softmax", "logsoftmax", "logsumexp",
    "celu", "selu", "hardtanh", "hardsigmoid", "hardσ", "hardswish", "relu6", "softsign",
    "logsigmoid", "logσ", "mish", "tanhshrink", "softshrink", "lisht", "logcosh", "rrelu",
    "trelu",
]


def identity(x):
    """Return ``x`` unchanged; the default activation of :class:`flux.Dense`.

    >>> identity(3.0)
    3.0
    """
    return x


def sigmoid(x):
    """Logistic function ``σ(x) = 1 / (1 + exp(-x))``, saturating cleanly for large ``|x|``.

    For very negative ``x``, ``exp(-x)`` overflows to ``inf`` and the quotient is the
    correct ``0``; the overflow is expected, so its warning is silenced. (Four passes over
    the array rather than the eight of a formula split by sign: an LSTM calls it three
    times a step.)

    >>> import numpy as np
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-x))


σ = sigmoid


def relu(x):
    """Rectified linear unit ``max(x, 0)``.

    >>> import numpy as np
    >>> relu(np.array([-2.0, 0.0, 3.0]))
    array([0., 0., 3.])
    """
    return np.maximum(x, 0)


def leakyrelu(x, a=0.01):
    """Leaky ReLU: ``x`` for ``x > 0``, else ``a * x``.

    >>> import numpy as np
    >>> leakyrelu(np.array([-2.0, 3.0]), 0.1)
    array([-0.2,  3. ])
    """
    return np.where(x > 0, x, a * x)


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> import numpy as np
    >>> elu(np.array([-1.0, 2.0])).round(4)
    array([-0.6321,  2.    ])
    """
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


GELU_SCALE = math.sqrt(2 / math.pi)


def gelu(x):
    """Gaussian error linear unit, in the tanh approximation used by NNlib and BERT.

    ``gelu(x) = x/2 * (1 + tanh(√(2/π) * (x + 0.044715 x³)))``

    >>> import numpy as np
    >>> gelu(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-0.1588,  0.    ,  0.8412])
    """
    inner = GELU_SCALE * (x + 0.044715 * x * x * x)
    return 0.5 * x * (1 + np.tanh(inner))


def swish(x):
    """Swish (SiLU): ``x * σ(x)``.

    >>> import numpy as np
    >>> swish(np.array([0.0, 2.0])).round(4)
    array([0.    , 1.7616])
    """
    return x * sigmoid(x)


def tanh(x):
    """Hyperbolic tangent, ``np.tanh``; named here so it prints well in a layer.

    >>> import numpy as np
    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(x)


def softplus(x):
    """Smooth ReLU ``log(1 + exp(x))``, computed as ``max(x, 0) + log1p(exp(-|x|))``.

    >>> import numpy as np
    >>> softplus(np.array([-1000.0, 0.0, 1000.0])).round(4).tolist()
    [0.0, 0.6931, 1000.0]
    """
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def softmax(x, *, axis=-1):
    """Normalised exponentials along ``axis``: ``exp(x) / sum(exp(x))``.

    The maximum along ``axis`` is subtracted first, so large inputs do not overflow.

    >>> import numpy as np
    >>> softmax(np.array([[1.0, 1.0], [0.0, 1000.0]]))
    array([[0.5, 0.5],
           [0. , 1. ]])
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    exp_shifted = np.exp(shifted)
    return exp_shifted / exp_shifted.sum(axis=axis, keepdims=True)


def logsoftmax(x, *, axis=-1):
    """Logarithm of :func:`softmax`, ``x - log(sum(exp(x)))``, stable for large inputs.

    >>> import numpy as np
    >>> logsoftmax(np.array([[0.0, 1000.0]]))
    array([[-1000.,     0.]])
    """
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def logsumexp(x, *, axis=-1, keepdims=False):
    """``log(sum(exp(x)))`` along ``axis``, stable for large inputs (its gradient is softmax).

    >>> import numpy as np
    >>> float(logsumexp(np.array([0.0, 1e4])))
    10000.0
    """
    top = x.max(axis=axis, keepdims=True)
    out = top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


# ---------------------------------------------------------------- more shapes ----
# The rest of NNlib's elementwise activations, each plain numpy that zygote differentiates.

def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``x`` for ``x ≥ 0``, else ``α (exp(x / α) - 1)``.

    >>> import numpy as np
    >>> celu(np.array([-1.0, 2.0]), 2.0).round(4)
    array([-0.7869,  2.    ])
    """
    return np.where(x >= 0, x, alpha * (np.exp(np.minimum(x, 0) / alpha) - 1))


SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def selu(x):
    """Scaled ELU, ``λ x`` for ``x > 0`` else ``λ α (exp(x) - 1)``, with the self-normalising
    constants ``λ ≈ 1.0507`` and ``α ≈ 1.6733`` of Klambauer et al. (2017).

    >>> import numpy as np
    >>> selu(np.array([-1.0, 1.0])).round(4)
    array([-1.1113,  1.0507])
    """
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(np.minimum(x, 0)) - 1))


def hardtanh(x):
    """``tanh``'s piecewise-linear stand-in: ``x`` clipped to ``[-1, 1]``.

    >>> import numpy as np
    >>> hardtanh(np.array([-3.0, 0.5, 2.0]))
    array([-1. ,  0.5,  1. ])
    """
    return np.minimum(np.maximum(x, -1), 1)


def hardsigmoid(x):
    """The sigmoid's piecewise-linear stand-in: ``(x + 3) / 6`` clipped to ``[0, 1]``.

    >>> import numpy as np
    >>> hardsigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))
    array([0.  , 0.5 , 0.75, 1.  ])
    """
    return np.minimum(np.maximum((x + 3) / 6, 0), 1)


hardσ = hardsigmoid


def hardswish(x):
    """``x * hardsigmoid(x)``, the swish of MobileNetV3 without an exponential.

    >>> import numpy as np
    >>> hardswish(np.array([-4.0, 1.5, 4.0]))
    array([-0.   ,  1.125,  4.   ])
    """
    return x * hardsigmoid(x)


def relu6(x):
    """ReLU capped at six: ``min(max(x, 0), 6)``.

    >>> import numpy as np
    >>> relu6(np.array([-1.0, 3.0, 9.0]))
    array([0., 3., 6.])
    """
    return np.minimum(np.maximum(x, 0), 6)


def softsign(x):
    """``x / (1 + |x|)``, a tanh-like squashing into ``(-1, 1)`` with polynomial tails.

    >>> import numpy as np
    >>> softsign(np.array([-3.0, 1.0]))
    array([-0.75,  0.5 ])
    """
    return x / (1 + np.abs(x))


def logsigmoid(x):
    """``log σ(x) = -softplus(-x)``, finite even where ``σ(x)`` underflows to zero.

    >>> import numpy as np
    >>> logsigmoid(np.array([-1000.0, 0.0])).round(4).tolist()
    [-1000.0, -0.6931]
    """
    return -softplus(-x)


logσ = logsigmoid


def mish(x):
    """Mish (Misra 2019): ``x tanh(softplus(x))``.

    >>> import numpy as np
    >>> mish(np.array([-1.0, 0.0, 1.0])).round(4)
    array([-0.3034,  0.    ,  0.8651])
    """
    return x * np.tanh(softplus(x))


def tanhshrink(x):
    """``x - tanh(x)``: small inputs shrink towards zero, large ones pass shifted by about one.

    >>> import numpy as np
    >>> tanhshrink(np.array([0.0, 1.0])).round(4)
    array([0.    , 0.2384])
    """
    return x - np.tanh(x)


def softshrink(x, lambd=0.5):
    """Soft thresholding: ``x - λ`` above ``λ``, ``x + λ`` below ``-λ``, and ``0`` between.

    >>> import numpy as np
    >>> softshrink(np.array([-2.0, 0.3, 1.0]))
    array([-1.5,  0. ,  0.5])
    """
    return np.minimum(np.maximum(x - lambd, 0), x + lambd)


def lisht(x):
    """Linearly scaled hyperbolic tangent, ``x tanh(x)``.

    >>> import numpy as np
    >>> lisht(np.array([-1.0, 2.0])).round(4)
    array([0.7616, 1.9281])
    """
    return x * np.tanh(x)


LOG2 = math.log(2)


def logcosh(x):
    """``log(cosh(x))``, computed as ``x + softplus(-2x) - log 2`` so that it never overflows.

    >>> import numpy as np
    >>> logcosh(np.array([0.0, 1.0, 1000.0])).round(4).tolist()
    [0.0, 0.4338, 999.3069]
    """
    return x + softplus(-2 * x) - LOG2


def rrelu_slopes(x, lo, hi, rng):
    """Random slopes uniform on ``[lo, hi]``, one per element of ``x``, in ``x``'s dtype."""
    dtype = np.result_type(x, np.float32)
    return (lo + (hi - lo) * as_rng(rng).random(np.shape(x))).astype(dtype)


zygote.nograd(rrelu_slopes)


def rrelu(x, lo=1 / 8, hi=1 / 3, *, rng=None):
    """Randomised leaky ReLU: ``x`` for ``x ≥ 0``, else ``a x`` with ``a`` drawn uniformly from
    ``[lo, hi]`` for every element and call (from flux's shared generator unless ``rng``).

    >>> import numpy as np
    >>> slopes = rrelu(-np.ones(1000), rng=0) / -1
    >>> bool(slopes.min() >= 1 / 8 and slopes.max() <= 1 / 3)
    True
    """
    return np.where(x >= 0, x, rrelu_slopes(x, lo, hi, rng) * x)


def trelu(x, theta=1.0):
    """Thresholded ReLU: ``x`` where ``x > θ``, else ``0``.

    >>> import numpy as np
    >>> trelu(np.array([0.5, 1.5]))
    array([0. , 1.5])
    """
    return np.where(x > theta, x, 0)


# ---------------------------------------------------------------- rules ----------
# Registered with zygote so that layers and losses differentiate these in one step.

@zygote.adjoint(sigmoid)
def sigmoid_rule(x):
    y = sigmoid(x)

    def sigmoid_back(dy):
        return (dy * y * (1 - y),)
    return y, sigmoid_back


@zygote.adjoint(relu)
def relu_rule(x):
    y = np.maximum(x, 0)

    def relu_back(dy):
        return (dy * (y > 0),)
    return y, relu_back


@zygote.adjoint(softplus)
def softplus_rule(x):
    y = softplus(x)

    def softplus_back(dy):
        return (dy * sigmoid(x),)
    return y, softplus_back


@zygote.adjoint(gelu)
def gelu_rule(x):
    # Differentiated from source, gelu keeps six intermediate arrays for its backward pass
    # and takes twice as long; the rule keeps x and the tanh.
    cubic = 0.044715 * x * x
    t = np.tanh(GELU_SCALE * (x + cubic * x))

    def gelu_back(dy):
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_SCALE * (1 + 3 * cubic)
        return (dy * slope,)
    return 0.5 * x * (1 + t), gelu_back


@zygote.adjoint(softmax)
def softmax_rule(x, *, axis=-1):
    y = softmax(x, axis=axis)

    def softmax_back(dy):
        dy_dot_y = (dy * y).sum(axis=axis, keepdims=True)
        return (y * (dy - dy_dot_y),)
    return y, softmax_back


@zygote.adjoint(logsoftmax)
def logsoftmax_rule(x, *, axis=-1):
    y = logsoftmax(x, axis=axis)

    def logsoftmax_back(dy):
        return (dy - np.exp(y) * dy.sum(axis=axis, keepdims=True),)
    return y, logsoftmax_back
