"""Second derivatives through flux layers: Hessians of a loss in the input, forward over reverse."""
import numpy as np
import pytest

import flux
import zygote
from flux import Chain, Dense


class Scaled:
    """An activation object that is not a function: its call is a method."""

    def __init__(self, k):
        self.k = k

    def __call__(self, z):
        return self.k * np.tanh(z)


@pytest.mark.parametrize("act", [np.tanh, flux.σ, lambda z: z * z * 0.5, Scaled(1.5)],
                         ids=["ufunc", "flux function", "lambda", "callable object"])
def test_hessian_through_a_chain_agrees_with_differences_of_the_gradient(act):
    model = flux.f64(Chain(Dense(3, 4, act, rng=0), Dense(4, 1, rng=0)))

    def loss(x):
        return np.sum(model(x[None, :]))
    x = np.array([0.1, -0.2, 0.3])
    hessian = zygote.hessian(loss, x)
    h = 1e-5
    columns = [(zygote.gradient(loss, x + h * e)[0] - zygote.gradient(loss, x - h * e)[0]) / (2 * h)
               for e in np.eye(3)]
    np.testing.assert_allclose(hessian, np.array(columns), rtol=1e-6, atol=1e-9)
    v = np.array([0.3, -1.0, 0.5])
    np.testing.assert_allclose(zygote.hvp(loss, x, v), hessian @ v, rtol=1e-9, atol=1e-12)
