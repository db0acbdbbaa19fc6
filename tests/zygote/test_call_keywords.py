"""Calls whose keywords share a name with the call protocol's own parameters, and integer
arithmetic on an object's attributes, as a layer's ``__call__`` writes them."""

import numpy as np
import pytest

import zygote
from zygote.testing import check_grad


def masked_scale(x, *, mask=None, fn=None, name=None, obj=None):
    y = x * 2.0 if mask is None else np.where(mask, x * 2.0, 0.0)
    return y if fn is None else fn(y)


def calls_with_protocol_keywords(x):
    return np.sum(masked_scale(x, mask=x > 0, fn=np.sin, name="s", obj=None) * [1.0, 2.0, 3.0])


def per_head(x, heads):
    return x / (x.shape[-1] // heads)   # floor division of ints, one of them passed in active


class Heads:
    def __init__(self):
        self.heads = 2
        self.weight = np.array([1.0, 2.0, 3.0, 4.0])

    def __call__(self, x, *, mask=None):
        width = x.shape[-1] // self.heads   # an int from an active object: no gradient
        return masked_scale(per_head(x[..., :width] * self.weight[:width], self.heads), mask=mask)


def test_keywords_named_like_the_call_protocol_reach_the_callee():
    x = np.array([-1.0, 0.5, 2.0])
    (dx,) = check_grad(calls_with_protocol_keywords, x)
    np.testing.assert_allclose(dx, np.where(x > 0, 2 * np.cos(2 * x) * [1, 2, 3], 0))


@pytest.mark.parametrize("nested", [False, True])
def test_method_with_mask_keyword_and_floordiv_of_an_attribute(nested):
    layer = Heads()
    x = np.array([[1.0, -2.0, 3.0, 4.0]])
    mask = np.array([True, False])
    if nested:   # the layer itself is differentiated: its attributes are active
        (grads,) = zygote.gradient(lambda m: np.sum(m(x, mask=mask) * [1.0, 5.0]), layer)
        np.testing.assert_allclose(grads["weight"], [2.0, 0.0, 0.0, 0.0])
        assert grads.get("heads", None) in (None, 0)
    else:
        params = zygote.Params([layer.weight])
        grads = zygote.gradient(lambda: np.sum(layer(x, mask=mask) * [1.0, 5.0]), params)
        np.testing.assert_allclose(grads[layer.weight], [2.0, 0.0, 0.0, 0.0])
