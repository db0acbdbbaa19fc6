"""Attention layers: masked softmax, multi-head attention, positional embeddings, transformer block.

Sequences are batch first, ``(N, L, E)``: ``N`` sequences of ``L`` tokens, each an ``E``-wide
embedding. Attention weighs every value by how well its key matches a query,

    attention(q, k, v) = softmax(q kᵀ / √d) v,

computed for ``nheads`` heads at once, each on its own ``d = E / nheads`` slice of the
projections. A mask says which keys each query may see (``True`` where it may); masked
scores get exactly zero weight. Everything is plain numpy that zygote differentiates from
source, but for two rules: the masked softmax's, and one for the softmax of ``q kᵀ``, so
that the backward pass keeps a single ``(N, heads, L, L)`` array per layer, the weights
the forward pass computed anyway.
"""

import functools
import math

import numpy as np

import zygote

from ..activations import gelu, softmax
from ..initialisers import as_rng, glorot_uniform
from .basic import Chain, Dense, Dropout
from .mode import Modes
from .normalise import LayerNorm
from .show import with_counts

__all__ = ["masked_softmax", "causal_mask", "dot_product_attention", "MultiHeadAttention",
           "PositionalEmbedding", "SinusoidalEmbedding", "sinusoidal_positions",
           "TransformerBlock"]


# ---------------------------------------------------------------- softmax and masks ------

def masked_softmax(x, mask, *, axis=-1):
    """Softmax of ``x`` along ``axis`` over the entries where ``mask`` is True; zero elsewhere.

    ``mask`` is a boolean array broadcastable to ``x``, or ``None`` for no mask. The largest
    visible entry is subtracted first, so large scores do not overflow; a row with nothing
    visible comes out all zeros (not NaN), and so does its gradient.

    >>> import numpy as np
    >>> x = np.array([[1.0, 1.0, 1000.0], [5.0, 6.0, 7.0]])
    >>> masked_softmax(x, np.array([[True, True, False], [False, False, False]]))
    array([[0.5, 0.5, 0. ],
           [0. , 0. , 0. ]])
    """
    if mask is None:
        return softmax(x, axis=axis)
    visible = np.where(mask, x, -np.inf)
    top = visible.max(axis=axis, keepdims=True)
    # A row with nothing visible has top -inf; shifting by 0 instead keeps exp at exactly 0.
    exp_shifted = np.exp(visible - np.where(np.isfinite(top), top, 0))
    total = exp_shifted.sum(axis=axis, keepdims=True)
    return exp_shifted / np.where(total > 0, total, 1)


@zygote.adjoint(masked_softmax)
def masked_softmax_rule(x, mask, *, axis=-1):
    y = masked_softmax(x, mask, axis=axis)

    def masked_softmax_back(dy):
        # The softmax Jacobian y (dy - <dy, y>): masked entries have y = 0, so they get none.
        dy_dot_y = (dy * y).sum(axis=axis, keepdims=True)
        return y * (dy - dy_dot_y), None
    return y, masked_softmax_back


@functools.lru_cache(maxsize=32)
def causal_table(query_length, key_length):
    table = np.tril(np.ones((query_length, key_length), dtype=bool), key_length - query_length)
    table.flags.writeable = False   # shared between calls
    return table


def causal_mask(query_length, key_length=None):
    """The ``(Lq, Lk)`` mask letting query ``i`` see keys ``j <= i`` (aligned at the end).

    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    """
    return causal_table(query_length, query_length if key_length is None else key_length)


def attention_mask(mask, query_length, key_length):
    """The boolean mask for scores ``(N, heads, Lq, Lk)``: ``None``, ``"causal"`` or an array.

    An array must broadcast to the scores: ``(Lq, Lk)``, ``(N, 1, Lq, Lk)``, or ``(N, 1, 1,
    Lk)`` for padding; anything else is refused with the shape it had.
    """
    if mask is None:
        return None
    if isinstance(mask, str):
        if mask != "causal":
            raise ValueError(f"mask must be None, 'causal' or a boolean array, got {mask!r}")
        return causal_mask(query_length, key_length)
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"an attention mask must be boolean (True where a query may look), "
                        f"got dtype {mask.dtype} and shape {mask.shape}")
    if mask.ndim < 2 or mask.shape[-2] not in (1, query_length) or mask.shape[-1] != key_length:
        raise ValueError(f"an attention mask must broadcast to (N, heads, {query_length}, "
                         f"{key_length}), got shape {mask.shape}")
    return mask


def check_attention_inputs(layer, q, k, v):
    """Raise a ``ValueError`` unless ``q``, ``k``, ``v`` are ``(N, L, E)`` and agree with ``layer``."""
    shapes = [np.shape(a) for a in (q, k, v)]
    embed = layer.q_proj.weight.shape[1]
    if any(len(s) != 3 or s[2] != embed for s in shapes):
        raise ValueError(f"{layer!r} expects (N, L, {embed}) queries, keys and values (batch "
                         f"first), but received shapes {shapes[0]}, {shapes[1]}, {shapes[2]}")
    if shapes[1][:2] != shapes[2][:2] or shapes[0][0] != shapes[1][0]:
        raise ValueError(f"{layer!r}: keys and values need the same (N, L) and queries the same "
                         f"N, but received shapes {shapes[0]}, {shapes[1]}, {shapes[2]}")


zygote.nograd(causal_mask, attention_mask, check_attention_inputs)


# ---------------------------------------------------------------- attention -------------

def split_heads(x, nheads):
    """``(N, L, heads * d)`` to ``(N, heads, L, d)``."""
    n, length, width = x.shape
    return x.reshape(n, length, nheads, width // nheads).transpose(0, 2, 1, 3)


def join_heads(x):
    """``(N, heads, L, d)`` back to ``(N, L, heads * d)``."""
    n, nheads, length, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(n, length, nheads * d)


def attention_weights(q, k, mask):
    """``masked_softmax(q @ kᵀ, mask)`` for stacks of queries ``(..., Lq, d)`` and keys ``(..., Lk, d)``.

    Its rule keeps ``q``, ``k`` and the weights for the backward pass, but not the scores
    before the softmax: differentiated from source, the matmul would keep its
    ``(..., Lq, Lk)`` output alive as well, only to know the cotangent's shape.

    >>> import numpy as np
    >>> attention_weights(np.ones((2, 1)), np.ones((3, 1)), causal_mask(2, 3))
    array([[0.5       , 0.5       , 0.        ],
           [0.33333333, 0.33333333, 0.33333333]])
    """
    return masked_softmax(q @ np.swapaxes(k, -1, -2), mask)


@zygote.adjoint(attention_weights)
def attention_weights_rule(q, k, mask):
    y = attention_weights(q, k, mask)

    def attention_weights_back(dy):
        dscores = y * (dy - (dy * y).sum(axis=-1, keepdims=True))
        return dscores @ k, np.swapaxes(dscores, -1, -2) @ q, None
    return y, attention_weights_back


def per_token(layer, x):
    """Apply a layer of feature vectors to every token of ``(N, L, E)`` as one ``(N L, E)`` batch.

    One matrix product for all tokens: numpy multiplies a stack ``(N, L, E) @ (E, F)`` one
    ``(L, E)`` slice at a time, and its gradient in the weight sums ``N`` products.
    """
    n, length, width = x.shape
    y = layer(x.reshape(n * length, width))
    return y.reshape(n, length, y.shape[-1])


def dot_product_attention(q, k, v, *, nheads=1, mask=None, dropout=None):
    """Scaled dot-product attention over ``nheads`` heads; returns ``(output, weights)``.

    ``q`` is ``(N, Lq, E)``, ``k`` ``(N, Lk, E)`` and ``v`` ``(N, Lk, Ev)``; each head works on
    one ``E / nheads`` slice. The weights, ``masked_softmax(q kᵀ / √d, mask)``, are ``(N,
    nheads, Lq, Lk)``; the output, the weighted values with the heads joined again, is ``(N,
    Lq, Ev)``. ``mask`` is ``None``, ``"causal"`` or a boolean array broadcastable to the
    weights; ``dropout`` is applied to the weights when given (a :class:`flux.Dropout`).

    >>> import numpy as np
    >>> q = k = v = np.eye(3)[None]
    >>> out, weights = dot_product_attention(q, k, v, mask="causal")
    >>> weights.shape, weights[0, 0, 0].tolist()
    ((1, 1, 3, 3), [1.0, 0.0, 0.0])
    >>> bool(np.allclose(out.sum(axis=-1), 1))
    True
    """
    visible = attention_mask(mask, q.shape[1], k.shape[1])
    # Scaling the queries, not the (L, L) scores, saves a pass over the largest array.
    q_heads = split_heads(q, nheads) * (1 / math.sqrt(q.shape[-1] // nheads))
    weights = attention_weights(q_heads, split_heads(k, nheads), visible)
    if dropout is not None:
        weights = dropout(weights)
    return join_heads(weights @ split_heads(v, nheads)), weights


class MultiHeadAttention(Modes):
    """Multi-head attention: project queries, keys and values, attend per head, project back.

    ``mha(q, k=q, v=k; mask=None, return_scores=False)`` maps ``(N, Lq, E)`` queries and
    ``(N, Lk, E)`` keys and values to ``(N, Lq, E)``. ``q_proj``, ``k_proj``, ``v_proj`` and
    ``out_proj`` are ``Dense(embed, embed)`` layers (without bias unless ``bias=True``, as in
    Flux); ``embed`` must divide by ``nheads``. ``dropout`` drops attention weights while
    training. ``mask`` is ``None``, ``"causal"`` or a boolean array broadcastable to ``(N,
    nheads, Lq, Lk)``, True where a query may look; ``return_scores=True`` also returns
    those ``(N, nheads, Lq, Lk)`` attention weights.

    >>> import numpy as np
    >>> mha = MultiHeadAttention(8, nheads=2, rng=0)
    >>> mha
    MultiHeadAttention(8, nheads=2)
    >>> x = np.ones((3, 5, 8), np.float32)
    >>> y, scores = mha(x, mask="causal", return_scores=True)
    >>> y.shape, scores.shape, y.dtype
    ((3, 5, 8), (3, 2, 5, 5), dtype('float32'))
    >>> print(mha)
    MultiHeadAttention(8, nheads=2)  # 256 parameters
    """

    def __init__(self, embed, nheads=8, *, bias=False, dropout=0.0, init=glorot_uniform,
                 rng=None):
        if embed % nheads:
            raise ValueError(f"MultiHeadAttention: embed {embed} must divide by nheads {nheads}")
        rng = as_rng(rng)
        self.nheads = nheads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            Dense(embed, embed, bias=bias, init=init, rng=rng) for _ in range(4))
        self.attn_drop = Dropout(dropout, rng=rng) if dropout else None

    def __call__(self, q, k=None, v=None, *, mask=None, return_scores=False):
        if k is None:
            k = q
        if v is None:
            v = k
        check_attention_inputs(self, q, k, v)
        out, scores = dot_product_attention(
            per_token(self.q_proj, q), per_token(self.k_proj, k), per_token(self.v_proj, v),
            nheads=self.nheads, mask=mask, dropout=self.attn_drop)
        y = per_token(self.out_proj, out)
        if return_scores:
            return y, scores
        return y

    def __repr__(self):
        options = [f"nheads={self.nheads}"]
        if self.q_proj.bias is not None:
            options.append("bias=True")
        if self.attn_drop is not None:
            options.append(f"dropout={self.attn_drop.p}")
        return f"MultiHeadAttention({self.q_proj.weight.shape[1]}, {', '.join(options)})"

    def __str__(self):
        return with_counts(self)


# ---------------------------------------------------------------- positions -------------

def check_sequence(layer, x, max_length, width):
    """Raise a ``ValueError`` unless ``x`` is ``(N, L, width)`` with ``L <= max_length``."""
    shape = np.shape(x)
    if len(shape) != 3 or shape[2] != width or (max_length is not None and shape[1] > max_length):
        longest = "L" if max_length is None else f"L <= {max_length}"
        raise ValueError(f"{layer!r} expects input of shape (N, {longest}, {width}), "
                         f"but received an array of shape {shape}")


@functools.lru_cache(maxsize=32)
def positions_table(length, dim, dtype):
    angles = np.arange(length)[:, None] / 10000.0 ** (np.arange(0, dim, 2) / dim)
    table = np.empty((length, dim))
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, :dim // 2])
    table = table.astype(dtype)
    table.flags.writeable = False   # shared between calls
    return table


def sinusoidal_positions(length, dim, dtype=np.float32):
    """The fixed ``(length, dim)`` table ``sin(p / 10000^(2i/dim))``, ``cos(...)`` at ``2i, 2i + 1``.

    >>> sinusoidal_positions(3, 4).round(3)
    array([[ 0.   ,  1.   ,  0.   ,  1.   ],
           [ 0.841,  0.54 ,  0.01 ,  1.   ],
           [ 0.909, -0.416,  0.02 ,  1.   ]], dtype=float32)
    """
    return positions_table(length, dim, np.dtype(dtype))


zygote.nograd(check_sequence, sinusoidal_positions)


class PositionalEmbedding(Modes):
    """Add a learned vector per position: ``(N, L, dim) -> x + weight[:L]``, ``L <= max_length``.

    ``weight`` is ``(max_length, dim)``, drawn by ``init(max_length, dim, rng=rng)`` (normal
    with standard deviation 0.02 by default).

    >>> import numpy as np
    >>> pe = PositionalEmbedding(16, 4, rng=0)
    >>> pe
    PositionalEmbedding(16 => 4)
    >>> pe(np.zeros((2, 5, 4), np.float32)).shape
    (2, 5, 4)
    """

    def __init__(self, max_length, dim, *, init=None, rng=None):
        if init is None:
            self.weight = 0.02 * as_rng(rng).standard_normal((max_length, dim), dtype=np.float32)
        else:
            self.weight = init(max_length, dim, rng=rng)

    def __call__(self, x):
        max_length, dim = self.weight.shape
        check_sequence(self, x, max_length, dim)
        return x + self.weight[:x.shape[1]]

    def __repr__(self):
        max_length, dim = self.weight.shape
        return f"PositionalEmbedding({max_length} => {dim})"

    def __str__(self):
        return with_counts(self)


class SinusoidalEmbedding(Modes):
    """Add the fixed table :func:`sinusoidal_positions` to ``(N, L, dim)``; nothing to train.

    >>> import numpy as np
    >>> pe = SinusoidalEmbedding(4)
    >>> pe
    SinusoidalEmbedding(4)
    >>> pe(np.zeros((1, 2, 4), np.float32))[0, 1].round(2)
    array([0.84, 0.54, 0.01, 1.  ], dtype=float32)
    """

    def __init__(self, dim):
        self.dim = dim

    def __call__(self, x):
        check_sequence(self, x, None, self.dim)
        return x + sinusoidal_positions(x.shape[1], self.dim, x.dtype)

    def __repr__(self):
        return f"SinusoidalEmbedding({self.dim})"


# ---------------------------------------------------------------- the block -------------

class TransformerBlock(Modes):
    """A pre-norm transformer encoder block, ``(N, L, E) -> (N, L, E)``.

    ``h = x + drop(attention(norm1(x)))`` then ``h + drop(mlp(norm2(h)))``, with ``attention``
    a :class:`MultiHeadAttention` of ``nheads`` heads, ``norm1``, ``norm2`` :class:`LayerNorm`
    layers and ``mlp`` the ``Chain(Dense(E, hidden, act), Dense(hidden, E))``. ``causal=True``
    lets each token attend only to itself and earlier ones (a decoder); a ``mask`` passed to
    the call replaces that.

    >>> import numpy as np
    >>> block = TransformerBlock(8, 2, 16, rng=0)
    >>> block
    TransformerBlock(8, nheads=2, hidden=16)
    >>> block(np.ones((3, 5, 8), np.float32)).shape
    (3, 5, 8)
    """

    def __init__(self, embed, nheads=8, hidden=None, *, act=gelu, dropout=0.0, causal=False,
                 rng=None):
        rng = as_rng(rng)
        hidden = 4 * embed if hidden is None else hidden
        self.norm1 = LayerNorm(embed)
        self.attention = MultiHeadAttention(embed, nheads, rng=rng)
        self.norm2 = LayerNorm(embed)
        self.mlp = Chain(Dense(embed, hidden, act, rng=rng), Dense(hidden, embed, rng=rng))
        self.drop = Dropout(dropout, rng=rng) if dropout else None
        self.causal = causal

    def __call__(self, x, *, mask=None):
        if mask is None and self.causal:
            mask = "causal"
        attended = self.attention(self.norm1(x), mask=mask)
        if self.drop is not None:
            attended = self.drop(attended)
        h = x + attended
        transformed = per_token(self.mlp, self.norm2(h))
        if self.drop is not None:
            transformed = self.drop(transformed)
        return h + transformed

    def __repr__(self):
        embed = self.norm1.channels
        options = [f"nheads={self.attention.nheads}", f"hidden={self.mlp[0].weight.shape[0]}"]
        if self.mlp[0].act is not gelu:
            options.append(f"act={getattr(self.mlp[0].act, '__name__', self.mlp[0].act)}")
        if self.drop is not None:
            options.append(f"dropout={self.drop.p}")
        if self.causal:
            options.append("causal=True")
        return f"TransformerBlock({embed}, {', '.join(options)})"

    def __str__(self):
        return with_counts(self)
