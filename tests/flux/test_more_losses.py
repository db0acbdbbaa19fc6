"""Tests for the losses beyond mse and the cross-entropies: values by hand, `agg`, gradients."""

import math

import numpy as np
import pytest

import flux
from flux import identity, softmax
from flux.losses import EPS32

RNG = np.random.default_rng(7)
PROBS = softmax(RNG.normal(size=(4, 3)))
TARGET_PROBS = softmax(RNG.normal(size=(4, 3)))
LABELS = np.array([2, 0, 1, 1])
BINARY = (RNG.random((4, 3)) < 0.5).astype(np.float64)
SIGNS = 2 * BINARY - 1
# Away from the kinks: |ŷ - y| never equals δ = 1, 1 - ŷ y never 0, margin - ŷ never 0
SCORES = np.array([[0.3, -1.7, 2.2], [1.4, -0.2, 0.6], [-2.5, 0.45, 1.9], [0.1, -0.8, 3.1]])
POSITIVE = RNG.uniform(0.2, 3.0, size=(4, 3))
COUNTS = np.array([[0.0, 2.0, 1.0], [3.0, 0.0, 0.0], [1.0, 1.0, 5.0], [0.0, 4.0, 2.0]])
MASK = RNG.uniform(0.05, 0.95, size=(4, 3))


def by_hand(name, y_hat, y):
    """Each loss's per-element (or per-sample) values, written out with plain loops."""
    rows = []
    for i in range(y_hat.shape[0]):
        row = []
        for j in range(y_hat.shape[1]):
            p, t = float(y_hat[i, j]), float(y[i, j])
            if name == "msle":
                row.append(math.log((p + EPS32) / (t + EPS32)) ** 2)
            elif name == "huber_loss":
                e = abs(p - t)
                row.append(0.5 * e * e if e <= 1 else e - 0.5)
            elif name == "poisson_loss":
                row.append(p - (t * math.log(p) if t else 0.0))
            elif name == "hinge_loss":
                row.append(max(0.0, 1 - p * t))
            elif name == "squared_hinge_loss":
                row.append(max(0.0, 1 - p * t) ** 2)
            elif name == "siamese_contrastive_loss":
                row.append((1 - t) * p * p + t * max(0.0, 1 - p) ** 2)
            elif name == "binary_focal_loss":
                q = p if t == 1 else 1 - p
                row.append(-(1 - q) ** 2 * math.log(q + EPS32))
        rows.append(row)
    return np.array(rows)


ELEMENTWISE = [
    ("msle", POSITIVE, POSITIVE[::-1].copy()),
    ("huber_loss", SCORES, SCORES[::-1] * 0.3),
    ("poisson_loss", POSITIVE, COUNTS),
    ("hinge_loss", SCORES, SIGNS),
    ("squared_hinge_loss", SCORES, SIGNS),
    ("siamese_contrastive_loss", np.abs(SCORES), BINARY),
    ("binary_focal_loss", MASK, BINARY),
]


@pytest.mark.parametrize("name, y_hat, y", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_losses_by_hand_and_agg(name, y_hat, y):
    loss = getattr(flux, name)
    expected = by_hand(name, y_hat, y)
    np.testing.assert_allclose(loss(y_hat, y, agg=identity), expected, rtol=1e-10, atol=1e-14)
    assert loss(y_hat, y) == pytest.approx(expected.mean(), rel=1e-10)
    assert loss(y_hat, y, agg=np.sum) == pytest.approx(expected.sum(), rel=1e-10)


@pytest.mark.parametrize("name, y_hat, y", ELEMENTWISE, ids=[c[0] for c in ELEMENTWISE])
def test_elementwise_loss_gradients(name, y_hat, y, check_grad):
    loss = getattr(flux, name)
    check_grad(lambda p: loss(p, y, agg=identity), y_hat.copy())
    check_grad(lambda p: loss(p, y), y_hat.copy())


def test_huber_is_quadratic_inside_and_linear_outside_delta():
    errors = np.array([0.5, 1.5, -4.0])
    values = flux.huber_loss(errors, np.zeros(3), agg=identity, delta=2.0)
    np.testing.assert_allclose(values, [0.125, 1.125, 2.0 * (4.0 - 1.0)])


def test_kldivergence_is_crossentropy_minus_entropy():
    entropy = -np.sum(TARGET_PROBS * np.log(TARGET_PROBS), axis=-1)
    cross = -np.sum(TARGET_PROBS * np.log(PROBS), axis=-1)
    np.testing.assert_allclose(flux.kldivergence(PROBS, TARGET_PROBS, agg=identity, eps=0.0),
                               cross - entropy, rtol=1e-12)
    assert flux.kldivergence(PROBS, PROBS, eps=0.0) == pytest.approx(0.0, abs=1e-15)
    assert flux.kldivergence(PROBS, TARGET_PROBS) > 0


def test_kldivergence_handles_zero_target_probabilities():
    target = np.array([[0.0, 1.0, 0.0]])
    assert flux.kldivergence(PROBS[:1], target) == pytest.approx(
        flux.crossentropy(PROBS[:1], target))


def test_focal_loss_by_hand():
    expected = [-(1 - PROBS[i, c]) ** 2 * math.log(PROBS[i, c] + EPS32)
                for i, c in enumerate(LABELS)]
    np.testing.assert_allclose(flux.focal_loss(PROBS, LABELS, agg=identity), expected)
    assert flux.focal_loss(PROBS, LABELS, gamma=0.0) == pytest.approx(
        flux.crossentropy(PROBS, LABELS))


@pytest.mark.parametrize("name", ["kldivergence", "focal_loss"])
def test_multiclass_loss_gradients(name, check_grad):
    loss = getattr(flux, name)
    check_grad(lambda p: loss(p, TARGET_PROBS, agg=identity), PROBS.copy())
    check_grad(lambda p: loss(p, LABELS), PROBS.copy())


def test_kldivergence_gradient_in_the_target(check_grad):
    check_grad(lambda q: flux.kldivergence(PROBS, q, agg=identity), TARGET_PROBS.copy())


def test_dice_and_tversky_by_hand():
    overlap = np.sum(MASK * BINARY)
    dice = 1 - (2 * overlap + 1) / (np.sum(BINARY ** 2) + np.sum(MASK ** 2) + 1)
    assert flux.dice_coeff_loss(MASK, BINARY) == pytest.approx(dice)
    fp, fn = np.sum((1 - BINARY) * MASK), np.sum(BINARY * (1 - MASK))
    tversky = 1 - (overlap + 1) / (overlap + 0.7 * fp + 0.3 * fn + 1)
    assert flux.tversky_loss(MASK, BINARY) == pytest.approx(tversky)
    half = 1 - (overlap + 1) / (overlap + 0.5 * fp + 0.5 * fn + 1)
    assert flux.tversky_loss(MASK, BINARY, beta=0.5) == pytest.approx(half)


@pytest.mark.parametrize("name", ["dice_coeff_loss", "tversky_loss"])
def test_overlap_loss_gradients(name, check_grad):
    loss = getattr(flux, name)
    check_grad(lambda p: loss(p, BINARY), MASK.copy())
    check_grad(lambda p, q: loss(p, q), MASK.copy(), TARGET_PROBS.copy())


@pytest.mark.parametrize("name", ["dice_coeff_loss", "tversky_loss"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 2), (5,)], ids=str)
def test_overlap_losses_per_sample_with_agg(name, shape, check_grad):
    """With ``agg`` each sample is scored alone: the loss of the batch of one sample, per sample."""
    loss = getattr(flux, name)
    rng = np.random.default_rng(len(shape))
    mask, target = rng.uniform(0.05, 0.95, shape), (rng.random(shape) < 0.5).astype(np.float64)
    alone = np.array([loss(mask[i:i + 1], target[i:i + 1]) for i in range(shape[0])])
    np.testing.assert_allclose(loss(mask, target, agg=identity), alone, rtol=1e-12)
    assert loss(mask, target, agg=np.mean) == pytest.approx(alone.mean(), rel=1e-12)
    assert loss(mask, target, agg=np.sum) == pytest.approx(alone.sum(), rel=1e-12)
    assert loss(mask, target) == pytest.approx(loss(mask.ravel(), target.ravel()), rel=1e-12)
    check_grad(lambda p: loss(p, target, agg=identity), mask.copy())
    check_grad(lambda p, q: loss(p, q, agg=np.mean), mask.copy(), target.copy())


def test_label_smoothing():
    onehot = flux.onehotbatch(LABELS, range(3)).astype(np.float64)
    smoothed = flux.label_smoothing(onehot, 0.3)
    np.testing.assert_allclose(smoothed.sum(axis=-1), 1.0)
    np.testing.assert_allclose(smoothed[np.arange(4), LABELS], 0.7 + 0.1)
    np.testing.assert_allclose(flux.label_smoothing(BINARY, 0.4, axis=None),
                               BINARY * 0.6 + 0.2)
    np.testing.assert_allclose(flux.label_smoothing(onehot.T, 0.3, axis=0), smoothed.T)
    with pytest.raises(ValueError, match="alpha must lie in"):
        flux.label_smoothing(onehot, 1.5)


def test_label_smoothing_gradient(check_grad):
    check_grad(lambda p: flux.crossentropy(p, flux.label_smoothing(TARGET_PROBS, 0.1)),
               PROBS.copy())
