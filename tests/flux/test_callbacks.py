"""Tests for flux.callbacks: early_stopping and plateau on scripted scores, throttle importable."""

import itertools

import pytest

import flux
from flux.callbacks import early_stopping, plateau, throttle


def scripted(scores):
    it = iter(scores)
    return lambda: next(it)


def test_early_stopping_waits_for_consecutive_non_improvements():
    stop = early_stopping(scripted([5, 4, 4, 4.5, 3, 3.5, 3.2, 3.1]), 3)
    assert [stop() for _ in range(8)] == [False, False, False, False, False, False, False, True]


def test_early_stopping_min_dist_and_rising_scores():
    stop = early_stopping(scripted([1.0, 0.95, 0.9, 0.5]), 2, min_dist=0.1)
    assert [stop() for _ in range(4)] == [False, False, True, False]
    rising = early_stopping(scripted([0.5, 0.6, 0.55, 0.58]), 2,
                            distance=lambda best, score: score - best, init_score=-1)
    assert [rising() for _ in range(4)] == [False, False, False, True]


def test_early_stopping_passes_arguments_on():
    seen = []
    stop = early_stopping(lambda a, *, b: seen.append((a, b)) or 1.0, 1)
    assert stop(1, b=2) is False        # the first score improves on +inf
    assert stop(3, b=4) is True
    assert seen == [(1, 2), (3, 4)]


def test_plateau_needs_small_changes_in_a_row():
    flat = plateau(scripted([1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5]), 2)
    assert [flat() for _ in range(7)] == [False, False, True, False, False, True, True]


def test_plateau_with_an_initial_score():
    flat = plateau(scripted([1.0, 1.0]), 1, init_score=1.0)
    assert flat() is True


@pytest.mark.parametrize("callback", [early_stopping, plateau])
def test_the_wait_must_be_a_positive_integer(callback):
    with pytest.raises(ValueError, match="positive integer, got 0"):
        callback(lambda: 1.0, 0)


def test_early_stopping_ends_a_training_loop():
    model = flux.Dense(1, 1, init=flux.zeros32)
    data = [(flux.ones32(4, 1), 2 * flux.ones32(4, 1))]
    loss = lambda x, y: flux.mse(model(x), y)  # noqa: E731
    stop = early_stopping(lambda: float(loss(*data[0])), 2, min_dist=1e-4)
    for epoch in itertools.count(1):
        flux.train(loss, flux.params(model), data, flux.Descent(0.1))
        if stop():
            break
    assert epoch < 200
    assert loss(*data[0]) < 1e-3


def test_throttle_stays_importable_from_train_and_flux():
    from flux.train import throttle as from_train
    assert throttle is from_train is flux.throttle
