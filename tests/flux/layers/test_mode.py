"""Tests for flux.layers.mode: the train/test switch of Dropout and BatchNorm, and `training`."""

import numpy as np
import pytest

from flux import BatchNorm, Chain, Dense, Dropout, trainmode
from flux import testmode as to_testmode   # a name starting with "test" would be collected
from flux.layers import is_active, training


def test_mode_switches_walk_nested_models():
    inner = Dropout(0.5)
    model = Chain(Dense(2, 2), Chain(inner))
    assert trainmode(model) is model and inner.active is True
    to_testmode(model)
    assert inner.active is False


def test_automatic_layers_follow_training_and_it_restores_the_mode():
    automatic, forced_off = Dropout(0.5, rng=0), Dropout(0.5, active=False, rng=0)
    assert not is_active(automatic)
    with training():
        assert is_active(automatic) and not is_active(forced_off)
        with training():
            pass
        assert is_active(automatic)            # an inner block leaves the outer one on
        assert np.any(automatic(np.ones(100)) == 0)
    assert not is_active(automatic)
    with pytest.raises(RuntimeError), training():
        raise RuntimeError("inside")
    assert not is_active(automatic)            # restored on the way out of an error too


def test_batchnorm_uses_batch_statistics_only_in_train_mode():
    layer = BatchNorm(2)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(layer(x), x / np.sqrt(1 + 1e-5), rtol=1e-5)   # running mean 0, variance 1
    with training():
        np.testing.assert_allclose(layer(x).mean(axis=0), 0.0, atol=1e-5)


def exported_layer_classes():
    import flux.layers
    return [getattr(flux.layers, name) for name in flux.layers.__all__
            if isinstance(getattr(flux.layers, name), type)
            and callable(getattr(getattr(flux.layers, name), "__call__", None))
            and not issubclass(getattr(flux.layers, name), BaseException)]


def test_every_layer_has_the_pytorch_mode_methods():
    classes = exported_layer_classes()
    assert len(classes) > 30
    missing = [c.__name__ for c in classes
               if not all(callable(getattr(c, name, None)) for name in ("train", "eval", "parameters"))]
    assert not missing, missing


def test_train_and_eval_methods_switch_every_nested_layer():
    from flux import SkipConnection, TransformerBlock, params
    block = TransformerBlock(4, 2, 8, dropout=0.5, rng=0)
    inner, outer = Dropout(0.5, rng=0), BatchNorm(4)
    model = Chain(Dense(3, 4, rng=0), SkipConnection(Chain(inner, outer), np.add), block)
    switched = [inner, outer, block.drop]
    assert model.train() is model and all(layer.active is True for layer in switched)
    assert model.eval() is model and all(layer.active is False for layer in switched)
    assert model.train(True) is model and all(layer.active is True for layer in switched)
    assert model.train(False) is model and all(layer.active is False for layer in switched)
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(model[0].eval()(x), model[0](x))
    assert [id(p) for p in model.parameters()] == [id(p) for p in params(model)]
    trainmode(model, None)
    assert all(layer.active is None for layer in switched)


def test_train_method_is_not_the_training_loop():
    model = Chain(Dense(2, 1, rng=0))
    with pytest.raises(TypeError, match=r"switches train mode on or off, got function; the "
                                        r"training loop is flux.train"):
        model.train(lambda x: x)
