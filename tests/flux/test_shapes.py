"""Tests for flux.outputsize: shapes of models, and a model left exactly as it was."""

import numpy as np
import pytest

import flux


def test_outputsize_of_dense_and_conv_models():
    assert flux.outputsize(flux.Dense(7, 3), (5, 7)) == (5, 3)
    lenet = flux.Chain(flux.Conv((5, 5), 1, 6, flux.relu, pad=2), flux.MaxPool((2, 2)),
                       flux.Conv((5, 5), 6, 16, flux.relu), flux.MaxPool((2, 2)), flux.flatten)
    assert flux.outputsize(lenet, (28, 28, 1), padbatch=True) == (1, 400)
    assert flux.outputsize(lenet, (2, 28, 28, 1)) == (2, 400)


def test_outputsize_changes_no_statistic_and_draws_nothing():
    model = flux.Chain(flux.Dense(4, 3), flux.BatchNorm(3), flux.Dropout(0.5))
    flux.trainmode(model)
    before = {name: a.copy() for name, a in flux.state(model).items()}
    flux.seed(0)
    expected_draw = flux.seeding.default_rng().random()
    flux.seed(0)
    assert flux.outputsize(model, (8, 4)) == (8, 3)
    assert flux.seeding.default_rng().random() == expected_draw
    for name, array in flux.state(model).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)
    assert model[1].active is True and model[2].active is True


def test_outputsize_reports_a_wrong_input_width():
    with pytest.raises(ValueError, match=r"expects input of shape \(N, 7\)"):
        flux.outputsize(flux.Dense(7, 3), (5, 6))
