"""Tests for the losses' argument checks: mismatched shapes raise, integer class targets work."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flux
import zygote
from flux import Dense, LossShapeError, crossentropy, logitcrossentropy, onehotbatch, softmax

RNG = np.random.default_rng(3)
LOGITS = RNG.normal(size=(5, 4))
LABELS = np.array([3, 0, 1, 3, 2])
ONEHOT = onehotbatch(LABELS, range(4)).astype(np.float64)

ELEMENTWISE = ["mse", "mae", "msle", "huber_loss", "poisson_loss", "binarycrossentropy",
               "logitbinarycrossentropy", "hinge_loss", "squared_hinge_loss",
               "siamese_contrastive_loss", "binary_focal_loss", "dice_coeff_loss",
               "tversky_loss"]
MULTICLASS = ["crossentropy", "logitcrossentropy", "kldivergence", "focal_loss"]


@pytest.mark.parametrize("name", ELEMENTWISE + MULTICLASS)
def test_a_column_of_predictions_against_a_vector_of_targets_raises(name):
    # Dense(n, 1) gives (4, 1); numpy would broadcast against (4,) targets to (4, 4)
    y_hat = Dense(3, 1, rng=0)(np.ones((4, 3), np.float32)) * 0 + 0.5
    with pytest.raises(LossShapeError, match=rf"{name}: ŷ has shape \(4, 1\) but y has shape \(4,\)"):
        getattr(flux, name)(y_hat, np.full(4, 0.5, np.float32))


def test_the_broadcast_that_once_gave_a_wrong_number_is_refused():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    with pytest.raises(LossShapeError, match="reshape"):
        flux.mse(y.reshape(4, 1), y)
    assert flux.mse(y.reshape(4, 1), y.reshape(4, 1)) == 0.0


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_a_scalar_target_still_broadcasts(name):
    y_hat = np.full((2, 3), 0.25)
    assert np.isfinite(getattr(flux, name)(y_hat, 0.5))


@pytest.mark.parametrize("name", MULTICLASS)
def test_class_indices_equal_one_hot_targets(name):
    loss = getattr(flux, name)
    y_hat = softmax(LOGITS) if name != "logitcrossentropy" else LOGITS
    assert loss(y_hat, LABELS) == pytest.approx(loss(y_hat, ONEHOT), rel=1e-12)
    np.testing.assert_allclose(loss(y_hat, LABELS, agg=flux.identity),
                               loss(y_hat, ONEHOT, agg=flux.identity), rtol=1e-12)


def test_class_indices_along_another_axis():
    assert logitcrossentropy(LOGITS.T, LABELS, axis=0) == pytest.approx(
        logitcrossentropy(LOGITS, ONEHOT))


def test_class_indices_keep_float32():
    logits = LOGITS.astype(np.float32)
    assert logitcrossentropy(logits, LABELS).dtype == np.float32


@pytest.mark.parametrize("labels, message", [
    (np.array([0, 1, 2, 3, 4]), "class index 4 is outside 0..3"),
    (np.array([0, -1, 2, 3, 1]), "class index -1 is outside 0..3"),
    (np.array([0, 1, 2]), r"need shape \(5,\), got \(3,\)"),
])
def test_bad_class_indices_raise(labels, message):
    with pytest.raises(LossShapeError, match=message):
        logitcrossentropy(LOGITS, labels)


def test_gradient_through_class_indices_matches_one_hot():
    (with_indices,) = zygote.gradient(lambda x: logitcrossentropy(x, LABELS), LOGITS)
    (with_onehot,) = zygote.gradient(lambda x: logitcrossentropy(x, ONEHOT), LOGITS)
    np.testing.assert_allclose(with_indices, with_onehot, rtol=1e-12)


def test_soft_targets_keep_their_gradient(check_grad):
    probabilities = softmax(RNG.normal(size=(5, 4)))
    grads = check_grad(lambda p, q: crossentropy(p, q, agg=flux.identity),
                       softmax(LOGITS), probabilities)
    assert grads[1] is not None


# ---------------------------------------------------------------- properties -----

SHAPES = st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)


@settings(max_examples=60, deadline=None)
@given(SHAPES, SHAPES, st.sampled_from(ELEMENTWISE))
def test_any_two_different_shapes_are_refused(shape_hat, shape, name):
    y_hat, y = np.full(shape_hat, 0.25), np.full(shape, 0.5)
    if shape_hat == shape:
        assert np.isfinite(getattr(flux, name)(y_hat, y))
    else:
        with pytest.raises(LossShapeError, match=rf"{name}: ŷ has shape"):
            getattr(flux, name)(y_hat, y)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 6), st.integers(2, 5), st.integers(0, 2 ** 32 - 1))
def test_class_indices_and_one_hot_agree_for_any_batch(n, classes, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, classes)) * 4
    labels = rng.integers(0, classes, n)
    onehot = onehotbatch(labels, range(classes)).astype(np.float64)
    per_sample = logitcrossentropy(logits, labels, agg=flux.identity)
    np.testing.assert_allclose(per_sample, logitcrossentropy(logits, onehot, agg=flux.identity),
                               rtol=1e-12)
    by_hand = [np.log(np.sum(np.exp(row))) - row[c] for row, c in zip(logits, labels)]
    np.testing.assert_allclose(per_sample, by_hand, rtol=1e-10, atol=1e-12)


def test_training_on_class_indices_matches_training_on_one_hot_rows():
    x = RNG.normal(size=(20, 3)).astype(np.float32)
    labels = RNG.integers(0, 4, 20)
    onehot = onehotbatch(labels, range(4))
    models = [flux.Dense(3, 4, rng=0), flux.Dense(3, 4, rng=0)]
    for model, targets in zip(models, [labels, onehot]):
        state = flux.setup(flux.Adam(0.05), model)
        for _ in range(5):
            flux.train(lambda m, x, y: logitcrossentropy(m(x), y), model, [(x, targets)], state)
    np.testing.assert_allclose(models[0].weight, models[1].weight, rtol=1e-5)
    assert flux.accuracy(models[0](x), labels) > 0.25
