"""Tests for flux.layers.attention: masked softmax, multi-head attention, positions and the block."""

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zygote
import flux
from flux import (MultiHeadAttention, PositionalEmbedding, SinusoidalEmbedding, TransformerBlock,
                  causal_mask, dot_product_attention, f64, masked_softmax, sinusoidal_positions,
                  softmax, trainmode)
from flux import testmode as to_testmode
from flux.layers.attention import attention_weights
from zygote.testing import check_grad as check_directions, weighted_sum

FIXTURES = settings(max_examples=12, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def normal(shape, seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).normal(size=shape)


def random_mask(shape, seed):
    """A boolean mask with some rows wholly hidden, some wholly visible, most mixed."""
    return np.random.default_rng(seed).random(shape) < 0.6


def reference_attention(q, k, v, nheads, mask=None):
    """Attention head by head and query by query, in loops: the definition, written out."""
    n, lq, e = q.shape
    d = e // nheads
    out = np.zeros((n, lq, v.shape[2]))
    weights = np.zeros((n, nheads, lq, k.shape[1]))
    full = (np.ones((n, nheads, lq, k.shape[1]), bool) if mask is None
            else np.broadcast_to(mask, weights.shape))
    dv = v.shape[2] // nheads
    for b in range(n):
        for h in range(nheads):
            for i in range(lq):
                visible = full[b, h, i]
                if not visible.any():
                    continue
                scores = k[b, :, h * d:(h + 1) * d] @ q[b, i, h * d:(h + 1) * d] / np.sqrt(d)
                row = np.where(visible, np.exp(scores - scores[visible].max()), 0)
                weights[b, h, i] = row / row.sum()
                out[b, i, h * dv:(h + 1) * dv] = weights[b, h, i] @ v[b, :, h * dv:(h + 1) * dv]
    return out, weights


masks = st.sampled_from(["none", "causal", "random", "padding"])


def mask_for(kind, n, lq, lk, seed):
    if kind == "none":
        return None
    if kind == "causal":
        return "causal"
    if kind == "padding":   # each sequence hides its last few keys
        lengths = np.random.default_rng(seed).integers(1, lk + 1, n)
        return (np.arange(lk) < lengths[:, None])[:, None, None, :]
    return random_mask((n, 1, lq, lk), seed)


# ------------------------------------------------------------ masked softmax ------------

def test_masked_softmax_is_softmax_over_the_visible_entries():
    x = normal((3, 4, 5))
    mask = random_mask((3, 4, 5), 1)
    mask[0, 0] = False
    y = masked_softmax(x, mask)
    assert np.all(y[~mask] == 0) and np.all(y[0, 0] == 0)
    for index in np.ndindex(3, 4):
        if mask[index].any():
            np.testing.assert_allclose(y[index][mask[index]], softmax(x[index][mask[index]]))
    np.testing.assert_array_equal(masked_softmax(x, None), softmax(x))
    np.testing.assert_allclose(masked_softmax(x, mask, axis=0).sum(axis=0),
                               mask.any(axis=0).astype(float))


def test_masked_softmax_is_stable_for_huge_scores_and_keeps_dtype():
    x = np.array([[1e4, -1e4, 1e30], [-1e4, -1e4, 3.0]], np.float32)
    mask = np.array([[True, True, False], [True, True, False]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = masked_softmax(x, mask)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [[1, 0, 0], [0.5, 0.5, 0]])
    (dx,) = zygote.gradient(lambda x: weighted_sum(masked_softmax(x, mask)), x)
    assert np.all(np.isfinite(dx)) and np.all(dx[:, 2] == 0)


@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), seed=st.integers(0, 100),
       axis=st.sampled_from([-1, 0]))
@settings(max_examples=25, deadline=None)
def test_masked_softmax_gradient(shape, seed, axis):
    x = normal(shape, seed, scale=3.0)
    mask = random_mask(shape, seed + 1)
    dx = check_directions(lambda x: weighted_sum(masked_softmax(x, mask, axis=axis)), x)[0]
    assert np.all(dx[~mask] == 0)   # a hidden score has no influence
    check_directions(lambda x: weighted_sum(masked_softmax(x, None, axis=axis)), x)


def test_masked_softmax_has_a_second_derivative():
    x, mask = normal((2, 3)), np.array([[True, False, True], [True, True, True]])
    w = np.random.default_rng(1).uniform(0.5, 1.5, (2, 3))

    def weighted(x):
        return np.sum(masked_softmax(x, mask) * w)

    def weighted_slope(x):
        return np.sum(zygote.gradient(weighted, x)[0] * w[::-1])
    check_directions(weighted_slope, x)


def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), bool)))
    # more keys than queries: the queries are the last ones, and see everything before them
    np.testing.assert_array_equal(causal_mask(2, 4), [[1, 1, 1, 0], [1, 1, 1, 1]])
    with pytest.raises(ValueError):
        causal_mask(3)[0, 0] = False   # shared between calls, so it cannot be written


# ------------------------------------------------------------ attention -----------------

@given(n=st.integers(1, 2), lq=st.integers(1, 3), lk=st.integers(1, 3),
       nheads=st.sampled_from([1, 2]), mask=masks, seed=st.integers(0, 100))
@FIXTURES
def test_dot_product_attention_against_the_definition_and_differences(n, lq, lk, nheads, mask,
                                                                      seed, check_grad):
    if mask == "causal":
        lq = min(lq, lk)
    q, k, v = normal((n, lq, 2 * nheads), seed), normal((n, lk, 2 * nheads), seed + 1), \
        normal((n, lk, nheads), seed + 2)
    visible = mask_for(mask, n, lq, lk, seed)
    out, weights = dot_product_attention(q, k, v, nheads=nheads, mask=visible)
    expected_mask = causal_mask(lq, lk) if mask == "causal" else visible
    expected_out, expected_weights = reference_attention(q, k, v, nheads, expected_mask)
    np.testing.assert_allclose(out, expected_out, atol=1e-12)
    np.testing.assert_allclose(weights, expected_weights, atol=1e-12)
    check_grad(lambda q, k, v: dot_product_attention(q, k, v, nheads=nheads, mask=visible)[0],
               q, k, v)
    # the weights are an output too: their gradient flows back as well
    check_grad(lambda q, k: dot_product_attention(q, k, v, nheads=nheads, mask=visible)[1], q, k)


def test_attention_weights_rule_against_differences(check_grad):
    q, k = normal((2, 3, 2)), normal((2, 4, 2), 1)
    check_grad(lambda q, k: attention_weights(q, k, causal_mask(3, 4)), q, k)
    check_grad(lambda q, k: attention_weights(q, k, None), q, k)


def saved_arrays(back):
    """The distinct arrays a pullback holds on to, through closures, partials and containers."""
    found, seen, todo = {}, set(), [back]
    while todo:
        value = todo.pop()
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, np.ndarray):
            found[id(value)] = value
        elif isinstance(value, (tuple, list)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, functools.partial):
            todo.extend([value.func, *value.args, *value.keywords.values()])
        elif callable(value) and getattr(value, "__closure__", None):
            todo.extend(cell.cell_contents for cell in value.__closure__)
    return list(found.values())


@pytest.mark.parametrize("mask", [None, "causal"])
def test_attention_backward_keeps_one_square_array_the_softmax_output(mask):
    q, k, v = normal((1, 6, 4)), normal((1, 6, 4), 1), normal((1, 6, 4), 2)
    _, back = zygote.pullback(lambda q, k: dot_product_attention(q, k, v, nheads=2, mask=mask)[0],
                              q, k)
    square = [a for a in saved_arrays(back) if a.shape == (1, 2, 6, 6)]
    _, weights = dot_product_attention(q, k, v, nheads=2, mask=mask)
    assert len(square) == 1 and np.array_equal(square[0], weights)


# ------------------------------------------------------------ MultiHeadAttention --------

def mha64(embed=4, nheads=2, seed=0, **kwargs):
    return f64(MultiHeadAttention(embed, nheads, rng=seed, **kwargs))


def test_multi_head_attention_is_projections_around_attention():
    mha = mha64(bias=True)
    for layer in (mha.q_proj, mha.k_proj, mha.v_proj, mha.out_proj):
        layer.bias = normal(4, seed=7)
    q, kv = normal((2, 3, 4)), normal((2, 5, 4), 1)
    y, scores = mha(q, kv, return_scores=True)
    inner, expected_scores = reference_attention(mha.q_proj(q), mha.k_proj(kv), mha.v_proj(kv), 2)
    np.testing.assert_allclose(y, mha.out_proj(inner), atol=1e-12)
    np.testing.assert_allclose(scores, expected_scores, atol=1e-12)
    np.testing.assert_array_equal(mha(q), mha(q, q, q))
    assert repr(mha) == "MultiHeadAttention(4, nheads=2, bias=True)"
    assert str(MultiHeadAttention(4, 2)) == "MultiHeadAttention(4, nheads=2)  # 64 parameters"


@given(lq=st.integers(1, 3), lk=st.integers(1, 3), mask=masks, seed=st.integers(0, 50))
@FIXTURES
def test_multi_head_attention_gradients(lq, lk, mask, seed, check_grad, check_model_grad):
    if mask == "causal":
        lq = min(lq, lk)
    mha = mha64(seed=seed)
    q, kv = normal((1, lq, 4), seed), normal((1, lk, 4), seed + 1)
    visible = mask_for(mask, 1, lq, lk, seed)
    check_grad(lambda q, kv: mha(q, kv, mask=visible), q, kv)
    check_model_grad(lambda m: m(q, kv, mask=visible), mha)


def test_multi_head_attention_parameters_through_params():
    mha = mha64()
    x = normal((2, 3, 4))
    grads = zygote.gradient(lambda: weighted_sum(mha(x, mask="causal")), flux.params(mha))
    (tree,) = zygote.gradient(lambda m: weighted_sum(m(x, mask="causal")), mha)
    for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
        np.testing.assert_allclose(grads[getattr(mha, name).weight], tree[name]["weight"])


def test_causal_attention_cannot_see_the_future():
    mha = mha64()
    x = normal((1, 5, 4))
    later = x.copy()
    later[0, 3:] += 10
    np.testing.assert_allclose(mha(x, mask="causal")[0, :3], mha(later, mask="causal")[0, :3])
    assert not np.allclose(mha(x)[0, :3], mha(later)[0, :3])


def test_attention_dropout_acts_only_in_train_mode():
    mha = MultiHeadAttention(8, 2, dropout=0.5, rng=0)
    assert repr(mha) == "MultiHeadAttention(8, nheads=2, dropout=0.5)"
    x = np.ones((2, 6, 8), np.float32)
    _, clean = to_testmode(mha)(x, return_scores=True)
    np.testing.assert_allclose(clean.sum(axis=-1), 1, rtol=1e-6)
    _, dropped = trainmode(mha)(x, return_scores=True)
    assert np.any(dropped == 0) and set(np.unique(dropped)) <= {0.0, 2 * clean.max()}
    (dx,) = zygote.gradient(lambda x: mha(x).sum(), x)
    assert dx.shape == x.shape and np.all(np.isfinite(dx))


def test_attention_errors_name_what_they_got():
    mha = MultiHeadAttention(4, 2)
    with pytest.raises(ValueError, match=r"must divide by nheads 3"):
        MultiHeadAttention(4, 3)
    with pytest.raises(ValueError, match=r"\(N, L, 4\).*\(3, 4\)"):
        mha(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(N, L, 4\).*\(2, 3, 5\)"):
        mha(np.ones((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"same \(N, L\)"):
        mha(np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 4, 4)))
    x = np.ones((2, 3, 4), np.float32)
    with pytest.raises(TypeError, match=r"boolean.*int64.*\(3, 3\)"):
        mha(x, mask=np.ones((3, 3), int))
    with pytest.raises(ValueError, match=r"broadcast to \(N, heads, 3, 3\), got shape \(3, 2\)"):
        mha(x, mask=np.ones((3, 2), bool))
    with pytest.raises(ValueError, match=r"'causal'.*'future'"):
        mha(x, mask="future")
    with pytest.raises(ValueError, match=r"broadcast"):   # also under differentiation
        zygote.gradient(lambda x: mha(x, mask=np.ones((3, 2), bool)).sum(), x)


# ------------------------------------------------------------ positions -----------------

def test_sinusoidal_positions_follow_the_formula():
    table = sinusoidal_positions(7, 6, np.float64)
    p, i = 5, 2
    assert table[p, 2 * i] == pytest.approx(np.sin(p / 10000 ** (2 * i / 6)))
    assert table[p, 2 * i + 1] == pytest.approx(np.cos(p / 10000 ** (2 * i / 6)))
    assert sinusoidal_positions(3, 5).shape == (3, 5)   # an odd width ends with a sine
    x = normal((2, 7, 6))
    np.testing.assert_array_equal(SinusoidalEmbedding(6)(x), x + table)
    assert len(flux.params(SinusoidalEmbedding(6))) == 0   # nothing to train


def test_positional_embeddings_gradients(check_grad, check_model_grad):
    pe = f64(PositionalEmbedding(5, 3, rng=0))
    x = normal((2, 4, 3))
    np.testing.assert_array_equal(pe(x), x + pe.weight[:4])
    check_model_grad(lambda m: m(x), pe)   # rows 4 and up are unused: their gradient is zero
    check_grad(lambda x: pe(x), x)
    check_grad(lambda x: SinusoidalEmbedding(3)(x), x)
    assert str(pe) == "PositionalEmbedding(5 => 3)  # 15 parameters"


def test_positional_embedding_errors():
    with pytest.raises(ValueError, match=r"\(N, L <= 5, 3\).*\(2, 6, 3\)"):
        PositionalEmbedding(5, 3)(np.ones((2, 6, 3), np.float32))
    with pytest.raises(ValueError, match=r"\(N, L, 4\).*\(2, 4\)"):
        SinusoidalEmbedding(4)(np.ones((2, 4), np.float32))


# ------------------------------------------------------------ TransformerBlock ----------

def block64(causal=False, seed=0, **kwargs):
    block = f64(TransformerBlock(4, 2, 6, causal=causal, rng=seed, **kwargs))
    for norm in (block.norm1, block.norm2):   # uneven affine parameters hide nothing
        norm.scale = np.random.default_rng(seed + 1).uniform(0.5, 2.0, 4)
        norm.bias = normal(4, seed + 2)
    return block


def test_block_is_pre_norm_residual_attention_then_mlp():
    block = block64()
    x = normal((2, 3, 4))
    h = x + block.attention(block.norm1(x))
    np.testing.assert_allclose(block(x), h + block.mlp(block.norm2(h)), atol=1e-12)
    assert repr(block) == "TransformerBlock(4, nheads=2, hidden=6)"
    assert repr(TransformerBlock(8, 2, act=flux.relu, dropout=0.1, causal=True)) == (
        "TransformerBlock(8, nheads=2, hidden=32, act=relu, dropout=0.1, causal=True)")


@given(length=st.integers(1, 3), causal=st.booleans(), seed=st.integers(0, 50))
@FIXTURES
def test_block_gradients(length, causal, seed, check_grad, check_model_grad):
    block = block64(causal, seed)
    x = normal((1, length, 4), seed)
    check_grad(lambda x: block(x), x)
    check_model_grad(lambda m: m(x), block)


def test_block_mask_replaces_causal_and_a_chain_of_blocks_trains():
    block = block64(causal=True)
    x = normal((1, 4, 4))
    np.testing.assert_allclose(block(x), block(x, mask=causal_mask(4)))
    assert not np.allclose(block(x), block(x, mask=np.ones((4, 4), bool)))
    model = flux.Chain(flux.Dense(3, 8, rng=0), TransformerBlock(8, 2, rng=1),
                       TransformerBlock(8, 2, rng=2), flux.Dense(8, 1, rng=3))
    x = np.random.default_rng(0).normal(size=(16, 5, 3)).astype(np.float32)
    y = x.sum(axis=(1, 2))[:, None, None] * np.ones((1, 5, 1), np.float32)  # needs every token
    loss = lambda x, y: flux.mse(model(x), y)  # noqa: E731
    before = loss(x, y)
    opt = flux.Adam(0.01)
    for _ in range(40):
        flux.train(loss, flux.params(model), [(x, y)], opt, progress=False)
    assert loss(x, y) < 0.2 * before
