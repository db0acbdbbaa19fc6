"""Tests for flux.functor: walking models for parameters, names, mirrors and mapped copies."""

import numpy as np

import zygote
from flux import Chain, Dense, Dropout, f32, f64, fmap, modules, params, softmax
from flux.functor import children, lookup, mirror, named_leaves, trainable


class Block:
    """A layer-like object holding parameters in every kind of container."""

    def __init__(self):
        self.scale = np.ones(2)
        self.pair = (np.zeros(3), [np.zeros(4)])
        self.table = {"shift": np.zeros(5), "count": 7}
        self.labels = np.arange(3)          # integer array: not a parameter
        self.name = "block"
        self.act = softmax


class Frozen:
    def __init__(self):
        self.weight = np.ones(2)
        self.running = np.zeros(2)

    def trainable(self):
        return ("weight",)


def test_params_walks_containers_and_objects_in_order():
    block = Block()
    ps = params(Chain(block, Dense(2, 2)))
    sizes = [p.size for p in ps]
    assert sizes == [2, 3, 4, 5, 4, 2]
    assert isinstance(ps, zygote.Params)
    assert block.scale in ps and block.table["shift"] in ps


def test_params_skips_integer_arrays_and_plain_values():
    block = Block()
    assert block.labels not in params(block)
    assert len(params(block)) == 4


def test_params_counts_a_shared_array_once():
    shared = Dense(3, 3)
    model = Chain(shared, Dense(3, 3), shared)
    assert len(params(model)) == 4
    tied = Dense(3, 3)
    tied.bias = shared.bias
    assert len(params(Chain(shared, tied))) == 3


def test_trainable_method_narrows_params_but_not_saved_names():
    frozen = Frozen()
    assert [p is frozen.weight for p in params(frozen)] == [True]
    assert [key for key, _ in trainable(frozen)] == ["weight"]
    assert [name for name, _ in named_leaves(frozen)] == ["weight", "running"]
    assert [name for name, _ in named_leaves(frozen, only_trainable=True)] == ["weight"]


def test_cycles_do_not_loop_forever():
    block = Block()
    block.parent = block
    assert len(params(block)) == 4


def test_named_leaves_names_paths_and_repeats_tied_arrays():
    shared = Dense(2, 2)
    names = [name for name, _ in named_leaves(Chain(shared, shared))]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]


def test_children_of_leaves_are_empty():
    assert children(np.zeros(2)) == []
    assert children(softmax) == []
    assert children(3.0) == []


def test_mirror_follows_gradient_shape_and_shares_tied_results():
    shared = Dense(2, 2)
    tree = mirror(lambda a: object(), Chain(shared, shared, softmax))
    first, second, function = tree["layers"]
    assert first["weight"] is second["weight"]
    assert first["act"] is None and function is None


def test_lookup_follows_paths_and_returns_none_when_missing():
    tree = {"layers": ({"weight": 1}, None)}
    assert lookup(tree, ("layers", 0, "weight")) == 1
    assert lookup(tree, ("layers", 1, "weight")) is None
    assert lookup(tree, ("layers", 5)) is None
    assert lookup(tree, ("other",)) is None


def test_fmap_copies_structure_and_keeps_ties():
    shared = Dense(2, 2)
    model = Chain(shared, shared)
    doubled = fmap(lambda a: a * 2, model)
    assert doubled is not model and doubled[0] is doubled[1]
    np.testing.assert_array_equal(doubled[0].weight, model[0].weight * 2)
    assert model[0].weight is shared.weight      # the original is untouched


def test_f64_and_f32_convert_every_parameter():
    model = Chain(Dense(2, 3), Block())
    wide = f64(model)
    assert all(p.dtype == np.float64 for p in params(wide))
    assert all(p.dtype == np.float32 for p in params(f32(wide)))
    assert model[0].weight.dtype == np.float32 and model[1].scale.dtype == np.float64


def test_modules_lists_each_layer_once():
    dropout = Dropout(0.1)
    found = modules(Chain(dropout, Chain(dropout, Dense(1, 1))))
    assert [type(m).__name__ for m in found] == ["Chain", "Dropout", "Chain", "Dense"]


# -- inside a differentiated loss ----------------------------------------------------------------

X = np.random.default_rng(2).normal(size=(5, 3))


def small_model():
    return f64(Chain(Dense(3, 4, np.tanh, rng=0), Dense(4, 2, rng=1)))


def penalty(m):
    return 0.1 * sum(np.sum(p * p) for p in params(m))


def test_params_of_the_model_in_a_loss_reach_every_array(check_model_grad):
    check_model_grad(lambda m: m(X) + penalty(m), small_model())


def test_indexing_a_chain_in_a_loss(check_model_grad):
    check_model_grad(lambda m: m[1](m[0](X)) + np.sum(m[0].weight), small_model())


def test_a_penalty_over_tied_arrays_counts_each_once():
    shared = Dense(3, 3, np.tanh, rng=0)
    model = f64(Chain(shared, shared))
    w = model[0].weight
    assert model[1].weight is w

    def loss(m):
        return np.sum(m(X)) + penalty(m)

    (grads,) = zygote.gradient(loss, model)
    total = grads["layers"][0]["weight"] + grads["layers"][1]["weight"]
    eps, expected = 1e-6, np.zeros_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + eps
        up = loss(model)
        w[i] = old - eps
        down = loss(model)
        w[i] = old
        expected[i] = (up - down) / (2 * eps)
    np.testing.assert_allclose(total, expected, rtol=1e-6, atol=1e-8)


def test_params_in_an_implicit_loss():
    model = small_model()
    ps = params(model)
    plain = zygote.gradient(lambda: np.sum(model(X)), ps)
    penalised = zygote.gradient(lambda: np.sum(model(X)) + penalty(model), ps)
    for p in ps:
        np.testing.assert_allclose(penalised[p], plain[p] + 0.2 * p, rtol=1e-12)


def test_modules_and_iteration_over_a_chain_in_a_loss(check_model_grad):
    def f(m):
        dense = [layer for layer in modules(m) if isinstance(layer, Dense)]
        return m(X) + sum(np.sum(layer.weight ** 2) for layer in dense) \
            + sum(i * np.sum(layer.bias) for i, layer in enumerate(m))
    check_model_grad(f, small_model())
