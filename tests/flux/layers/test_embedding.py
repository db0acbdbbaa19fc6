"""Tests for flux.layers.embedding: lookups of any index shape, and the scatter-add gradient."""

import numpy as np
import pytest

import zygote
import flux
from flux import Chain, Dense, Embedding, f64, params


@pytest.mark.parametrize("shape", [(), (4,), (2, 3), (2, 1, 3)])
def test_lookup_shapes(shape):
    layer = Embedding(7, 3, rng=0)
    indices = np.random.default_rng(0).integers(0, 7, shape)
    y = layer(indices)
    assert y.shape == shape + (3,) and y.dtype == np.float32
    np.testing.assert_array_equal(y, layer.weight[indices])


def test_gradient_adds_repeated_indices(check_model_grad):
    layer = f64(Embedding(5, 2, rng=1))
    indices = np.array([[1, 3, 1], [1, 0, 3]])             # 1 three times, 3 twice, 2 and 4 never
    grads = check_model_grad(lambda m: m(indices), layer)
    w = np.random.default_rng(2).normal(size=(2, 3, 2))
    (g,) = zygote.gradient(lambda m: np.sum(m(indices) * w), layer)
    expected = np.zeros((5, 2))
    for index, row in zip(indices.ravel(), w.reshape(-1, 2)):
        expected[index] += row
    np.testing.assert_allclose(g["weight"], expected, rtol=1e-12)
    assert not g["weight"][[2, 4]].any() and set(grads) == {"weight"}


def test_gradient_keeps_float32_and_trains_in_a_chain():
    model = Chain(Embedding(10, 4, rng=0), lambda e: e.mean(axis=1), Dense(4, 2, rng=1))
    indices = np.array([[0, 1, 2], [7, 8, 9]])
    y = flux.onehotbatch([0, 1], range(2))
    loss = lambda i, y: flux.logitcrossentropy(model(i), y)  # noqa: E731
    gs = zygote.gradient(lambda: loss(indices, y), params(model))
    assert gs[model[0].weight].dtype == np.float32
    assert not gs[model[0].weight][3:7].any()
    before = loss(indices, y)
    flux.train(loss, params(model), [(indices, y)] * 30, flux.Adam(0.05), progress=False)
    assert loss(indices, y) < before / 4


def test_repr_init_and_errors():
    layer = Embedding(100, 8, rng=0)
    assert repr(layer) == "Embedding(100 => 8)" and str(layer).endswith("# 800 parameters")
    assert layer.weight.shape == (100, 8) and abs(layer.weight.std() - 1) < 0.15
    np.testing.assert_array_equal(Embedding(100, 8, rng=0).weight, layer.weight)
    assert not Embedding(3, 2, init=flux.zeros32).weight.any()
    with pytest.raises(TypeError, match=r"integer indices.*float32 and shape \(2,\)"):
        layer(np.array([1.0, 2.0], np.float32))
    with pytest.raises(IndexError, match=r"\[0, 100\).*from 3 to 100"):
        layer(np.array([3, 100]))
