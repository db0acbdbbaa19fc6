"""Tests for flux.losses: values, aggregation, stability for extreme inputs, gradients."""

import math

import numpy as np
import pytest

from flux import (binarycrossentropy, crossentropy, identity, logitbinarycrossentropy,
                  logitcrossentropy, mae, mse, onehotbatch, sigmoid, softmax)

RNG = np.random.default_rng(0)
Y_HAT = RNG.normal(size=(4, 3))
Y = RNG.normal(size=(4, 3))
LOGITS = RNG.normal(size=(4, 3)) * 3
ONEHOT = onehotbatch([0, 2, 1, 2], range(3)).astype(np.float64)
PROBS = softmax(RNG.normal(size=(4, 3)))
BINARY = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]])


def test_mse_and_mae_values():
    assert mse(Y_HAT, Y) == pytest.approx(np.mean((Y_HAT - Y) ** 2))
    assert mae(Y_HAT, Y) == pytest.approx(np.mean(np.abs(Y_HAT - Y)))


def test_aggregation_options():
    assert mse(Y_HAT, Y, agg=np.sum) == pytest.approx(np.sum((Y_HAT - Y) ** 2))
    np.testing.assert_allclose(mae(Y_HAT, Y, agg=identity), np.abs(Y_HAT - Y))
    per_sample = logitcrossentropy(LOGITS, ONEHOT, agg=identity)
    assert per_sample.shape == (4,)
    assert logitcrossentropy(LOGITS, ONEHOT, agg=np.sum) == pytest.approx(per_sample.sum())


def test_crossentropy_value_by_hand():
    expected = -np.mean([math.log(PROBS[i, c] + 1.1920929e-07)
                         for i, c in enumerate([0, 2, 1, 2])])
    assert crossentropy(PROBS, ONEHOT) == pytest.approx(expected)


def test_logitcrossentropy_equals_crossentropy_of_softmax():
    expected = crossentropy(softmax(LOGITS), ONEHOT, eps=0.0)
    assert logitcrossentropy(LOGITS, ONEHOT) == pytest.approx(expected)


def test_crossentropy_along_axis_zero():
    assert logitcrossentropy(LOGITS.T, ONEHOT.T, axis=0) == pytest.approx(
        logitcrossentropy(LOGITS, ONEHOT))


def test_binary_losses_agree():
    probabilities = sigmoid(LOGITS)
    expected = -np.mean(BINARY * np.log(probabilities) + (1 - BINARY) * np.log(1 - probabilities))
    assert binarycrossentropy(probabilities, BINARY, eps=0.0) == pytest.approx(expected)
    assert logitbinarycrossentropy(LOGITS, BINARY) == pytest.approx(expected)


def test_extreme_logits_are_stable():
    logits = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]], dtype=np.float32)
    labels = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=np.float32)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        per_sample = logitcrossentropy(logits, labels, agg=identity)
        binary = logitbinarycrossentropy(logits, labels, agg=identity)
    np.testing.assert_allclose(per_sample, [0.0, 2e4], atol=1e-3)
    np.testing.assert_allclose(binary[:, :2], [[0.0, 0.0], [1e4, 1e4]], atol=1e-3)
    np.testing.assert_allclose(binary[:, 2], math.log(2), rtol=1e-6)


def test_crossentropy_survives_zero_probabilities():
    probabilities = np.array([[0.0, 1.0]])
    assert np.isfinite(crossentropy(probabilities, np.array([[1.0, 0.0]])))
    assert np.isfinite(binarycrossentropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])))


def test_float32_losses_stay_float32():
    logits = LOGITS.astype(np.float32)
    labels = ONEHOT.astype(np.float32)
    for loss in [mse, mae, logitcrossentropy, logitbinarycrossentropy]:
        assert loss(logits, labels).dtype == np.float32, loss.__name__
    probabilities = softmax(logits)
    for loss in [crossentropy, binarycrossentropy]:
        assert loss(probabilities, labels).dtype == np.float32, loss.__name__


@pytest.mark.parametrize("loss, y_hat, y", [
    (mse, Y_HAT, Y),
    (mae, Y_HAT, Y),
    (crossentropy, PROBS, ONEHOT),
    (logitcrossentropy, LOGITS, ONEHOT),
    (binarycrossentropy, sigmoid(LOGITS), BINARY),
    (logitbinarycrossentropy, LOGITS, BINARY),
], ids=lambda v: getattr(v, "__name__", ""))
def test_loss_gradients(loss, y_hat, y, check_grad):
    check_grad(lambda y_hat: loss(y_hat, y), y_hat.copy())
    check_grad(lambda y_hat: loss(y_hat, y, agg=identity), y_hat.copy())


def test_logit_loss_gradients_at_large_logits(check_grad):
    logits = np.array([[25.0, -25.0, 3.0], [-40.0, 40.0, 0.5]])
    check_grad(lambda x: logitcrossentropy(x, ONEHOT[:2]), logits.copy())
    check_grad(lambda x: logitbinarycrossentropy(x, BINARY[:2]), logits.copy())


def test_softmax_before_logitcrossentropy_has_a_loss_floor():
    # The tutorial model ends in σ then softmax, and logitcrossentropy adds a softmax of its
    # own: even perfectly confident scores cannot push the loss below about 2.17.
    scores = np.array([[50.0] + [-50.0] * 9])
    target = onehotbatch([0], range(10))
    floor = logitcrossentropy(softmax(sigmoid(scores)), target)
    p = math.e / (math.e + 9)
    q = math.exp(p) / (math.exp(p) + 9 * math.exp((1 - p) / 9))
    assert floor == pytest.approx(-math.log(q))
    assert 2.17 < floor < 2.18
