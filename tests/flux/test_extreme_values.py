"""Softmax-family functions and their gradients stay finite for logits of ±1e4."""
import numpy as np
import pytest

import zygote
from flux import logitcrossentropy, logsoftmax, logsumexp, softmax
from zygote.testing import check_grad

LOGITS = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]])
TARGETS = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])


@pytest.mark.parametrize("fn", [softmax, logsoftmax, logsumexp])
def test_values_and_gradients_are_finite(fn):
    w = np.arange(1.0, 1.0 + np.size(fn(LOGITS))).reshape(np.shape(fn(LOGITS)))
    value, (grad,) = zygote.withgradient(lambda z: np.sum(fn(z) * w), LOGITS)
    assert np.isfinite(value) and np.all(np.isfinite(grad))


def test_logitcrossentropy_is_finite_and_right_at_extremes():
    loss, (grad,) = zygote.withgradient(lambda z: logitcrossentropy(z, TARGETS), LOGITS)
    assert loss == pytest.approx((0.0 + (1e4 - 3.0)) / 2)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, (softmax(LOGITS) - TARGETS) / 2, atol=1e-12)


def test_logsumexp_values_and_gradient():
    np.testing.assert_allclose(logsumexp(LOGITS), [1e4, 1e4])
    check_grad(lambda z: np.sum(logsumexp(z, axis=0) * np.array([1.0, 2.0, 3.0])),
               np.array([[0.3, -1.0, 2.0], [1.5, 0.2, -0.7]]))
