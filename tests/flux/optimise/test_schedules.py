"""Tests for flux.optimise.schedules: values against their formulas, errors, use with adjust."""

import math

import numpy as np
import pytest

from flux import Adam, CosAnneal, Descent, Exp, Step, adjust, setup, update


def test_step_decays_every_step_steps():
    schedule = Step(0.1, 0.5, 3)
    assert [schedule(t) for t in range(7)] == [0.1 * 0.5 ** (t // 3) for t in range(7)]
    assert repr(schedule) == "Step(start=0.1, decay=0.5, step=3)"


def test_exp_decays_every_step():
    schedule = Exp(2.0, 0.9)
    for t in range(5):
        assert math.isclose(schedule(t), 2.0 * 0.9 ** t)


def test_cosine_warms_up_linearly_then_anneals_to_stop():
    schedule = CosAnneal(1.0, 0.1, 10, warmup=4)
    warm = [schedule(t) for t in range(4)]
    np.testing.assert_allclose(warm, [0.25, 0.5, 0.75, 1.0])
    anneal = [schedule(t) for t in range(4, 15)]
    assert anneal[0] == 1.0 and math.isclose(anneal[10], 0.1)
    assert all(a > b for a, b in zip(anneal, anneal[1:]))          # falls throughout
    assert math.isclose(schedule(4 + 5), 0.55)                      # half way: the midpoint
    assert schedule(100) == pytest.approx(0.1)                      # stays at stop


def test_cosine_without_warmup_starts_at_start():
    assert CosAnneal(0.5, 0.0, 4)(0) == 0.5


@pytest.mark.parametrize("bad", [-1, 1.5, True])
def test_schedules_want_whole_step_counts(bad):
    with pytest.raises(ValueError, match="step count"):
        Exp(1.0, 0.5)(bad)


def test_schedule_settings_are_checked():
    with pytest.raises(ValueError, match="step must be"):
        Step(0.1, 0.5, 0)
    with pytest.raises(ValueError, match="period must be"):
        CosAnneal(0.1, 0.0, 0)
    with pytest.raises(ValueError, match="warmup must be"):
        CosAnneal(0.1, 0.0, 5, warmup=-1)


def test_a_schedule_drives_the_learning_rate_through_adjust():
    x = {"w": np.array([0.0])}
    state = setup(Descent(1.0), x)
    schedule = Step(1.0, 0.5, 1)
    for t in range(3):
        adjust(state, eta=schedule(t))
        update(state, x, {"w": np.array([1.0])})
    np.testing.assert_allclose(x["w"], [-(1.0 + 0.5 + 0.25)])


def test_adjusting_adam_keeps_its_moments():
    x, twin = np.array([1.0]), np.array([1.0])
    state, twin_state = setup(Adam(0.1), {"w": x}), setup(Adam(0.1), {"w": twin})
    update(state, {"w": x}, {"w": np.array([2.0])})
    update(twin_state, {"w": twin}, {"w": np.array([2.0])})
    after_first = x.copy()
    adjust(state, 0.05)
    update(state, {"w": x}, {"w": np.array([-1.0])})
    update(twin_state, {"w": twin}, {"w": np.array([-1.0])})
    # The same moments, half the learning rate: the second step is half the twin's.
    np.testing.assert_allclose(x - after_first, (twin - after_first) / 2, rtol=1e-12)
    assert not np.allclose(x - after_first, 0.05)    # not a fresh Adam's first step
