"""Tests for flux.layers.containers: SkipConnection, Parallel, PairwiseFusion and Maxout."""

import numpy as np
import pytest

import zygote
from flux import (Chain, Dense, Maxout, PairwiseFusion, Parallel, SkipConnection, f64, params,
                  tanh)


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def dense64(n_in, n_out, seed, act=tanh):
    layer = f64(Dense(n_in, n_out, act, rng=seed))
    layer.bias = normal(n_out, seed + 10)
    return layer


def concatenate(*ys):
    return np.concatenate(ys, axis=-1)


def test_skip_connection_is_the_connection_of_layer_and_input(check_model_grad, check_grad):
    block = SkipConnection(dense64(3, 3, 0), np.add)
    x = normal((4, 3), 1)
    np.testing.assert_allclose(block(x), block.layer(x) + x)
    check_model_grad(lambda m: m(x), block)
    (dx,) = check_grad(lambda x: block(x), x)
    assert dx.shape == x.shape


def test_skip_connection_with_a_concatenation(check_model_grad):
    block = SkipConnection(dense64(3, 2, 0), lambda y, x: np.concatenate([y, x], axis=1))
    x = normal((4, 3), 1)
    assert block(x).shape == (4, 5)
    check_model_grad(lambda m: m(x), block)


def test_parallel_shares_one_input_or_takes_one_each(check_model_grad, check_grad):
    m = Parallel(concatenate, dense64(3, 2, 0), dense64(3, 4, 1))
    x = normal((5, 3), 2)
    np.testing.assert_allclose(m(x), np.concatenate([m.layers[0](x), m.layers[1](x)], axis=1))
    check_model_grad(lambda m: m(x), m)
    check_grad(lambda x: m(x), x)
    pair = Parallel(np.add, dense64(3, 2, 0), dense64(4, 2, 1))
    x1, x2 = normal((5, 3), 3), normal((5, 4), 4)
    np.testing.assert_allclose(pair((x1, x2)), pair.layers[0](x1) + pair.layers[1](x2))
    check_model_grad(lambda m: m((x1, x2)), pair)
    dx1, dx2 = check_grad(lambda a, b: pair((a, b)), x1, x2)
    assert dx1.shape == x1.shape and dx2.shape == x2.shape


def test_parallel_counts_its_inputs():
    m = Parallel(np.add, Dense(2, 2), Dense(2, 2))
    with pytest.raises(ValueError, match="2 layers was given a tuple of 3 inputs"):
        m((np.ones((1, 2)),) * 3)
    with pytest.raises(ValueError, match="at least one layer"):
        Parallel(np.add)


def test_pairwise_fusion_feeds_each_layer_the_previous_output_and_its_input(check_model_grad):
    m = PairwiseFusion(np.add, dense64(3, 3, 0), dense64(3, 3, 1), dense64(3, 2, 2))
    xs = (normal((4, 3), 3), normal((4, 3), 4), normal((4, 3), 5))
    y1, y2, y3 = m(xs)
    np.testing.assert_allclose(y1, m.layers[0](xs[0]))
    np.testing.assert_allclose(y2, m.layers[1](y1 + xs[1]))
    np.testing.assert_allclose(y3, m.layers[2](y2 + xs[2]))
    check_model_grad(lambda m: m(xs)[2] + np.sum(m(xs)[1]), m)
    one = normal((4, 3), 6)
    assert len(m(one)) == 3


def test_maxout_takes_the_largest_output_and_sends_the_gradient_to_it(check_model_grad, check_grad):
    m = Maxout(dense64(3, 4, 0), dense64(3, 4, 1), dense64(3, 4, 2))
    x = normal((6, 3), 7)
    outputs = np.stack([layer(x) for layer in m.layers])
    np.testing.assert_allclose(m(x), outputs.max(axis=0))
    check_model_grad(lambda m: m(x), m)
    check_grad(lambda x: m(x), x)


def test_maxout_from_a_constructor_draws_independent_layers():
    m = Maxout(lambda: Dense(3, 2), 3)
    assert len(m.layers) == 3 and len(params(m)) == 6
    assert not np.array_equal(m.layers[0].weight, m.layers[1].weight)
    with pytest.raises(ValueError, match="at least one layer"):
        Maxout(lambda: Dense(3, 2), 0)


def test_containers_show_their_layers_and_train_in_a_chain():
    model = Chain(SkipConnection(Dense(2, 2, tanh, rng=0), np.add), Dense(2, 1, rng=1))
    assert repr(model) == "Chain(SkipConnection(Dense(2 => 2, tanh), add), Dense(2 => 1))"
    assert str(model.layers[0]) == "SkipConnection(Dense(2 => 2, tanh), add)  # 6 parameters"
    (grads,) = zygote.gradient(lambda m: np.sum(m(np.ones((3, 2), np.float32))), model)
    assert grads["layers"][0]["layer"]["weight"].shape == (2, 2)
