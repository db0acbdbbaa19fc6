"""One seed, `flux.seed(n)`, makes initialisation, shuffles, dropout and rrelu reproducible."""

import numpy as np

import flux


def one_run():
    """Build a model, shuffle a dataset and draw dropout masks and rrelu slopes, all unseeded."""
    model = flux.Chain(flux.Dense(4, 3, flux.relu), flux.Dropout(0.5, active=True))
    order = [batch.tolist() for batch in flux.DataLoader(np.arange(10), batchsize=3,
                                                          shuffle=True)]
    masks = [model(np.ones((2, 4), np.float32)) for _ in range(2)]
    slopes = flux.rrelu(-np.ones(5))
    return [model[0].weight, np.array(sum(order, [])), *masks, slopes]


def test_the_same_seed_gives_the_same_run():
    flux.seed(42)
    first = one_run()
    np.random.seed(1)            # numpy's legacy seed has no say
    flux.seed(42)
    second = one_run()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_another_run():
    flux.seed(1)
    first = one_run()
    flux.seed(2)
    second = one_run()
    assert not np.array_equal(first[0], second[0])


def test_layers_built_before_the_seed_follow_it():
    dropout = flux.Dropout(0.5, active=True)
    loader = flux.DataLoader(np.arange(20), batchsize=20, shuffle=True)
    flux.seed(7)
    mask, order = dropout(np.ones(50)), next(iter(loader))
    flux.seed(7)
    np.testing.assert_array_equal(dropout(np.ones(50)), mask)
    np.testing.assert_array_equal(next(iter(loader)), order)


def test_an_explicit_generator_ignores_the_seed():
    flux.seed(0)
    a = flux.glorot_uniform(3, 3, rng=np.random.default_rng(5))
    flux.seed(1)
    np.testing.assert_array_equal(a, flux.glorot_uniform(3, 3, rng=np.random.default_rng(5)))


def test_a_layer_holding_the_shared_generator_saves_and_copies():
    model = flux.Chain(flux.Dense(2, 2), flux.Dropout(0.1))
    assert [name for name, _ in flux.functor.named_leaves(model)] == [
        "layers.0.weight", "layers.0.bias"]
    copy = flux.f64(model)
    assert copy[0].weight.dtype == np.float64
