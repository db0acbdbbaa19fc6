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
