"""Calls that spread a sequence, ``f(*batch)``: values, gradients per spread element, and activity.

A spread sequence's elements get one cotangent each, shaped like the sequence (a tuple for
a tuple, a list for a list, an array for an array's rows). A batch of data held in the
environment of a loss differentiated for ``Params`` stays constant when it is spread, so
the callee is transformed with respect to the parameters only.
"""
import numpy as np
import pytest

import zygote
from zygote.protocol import TRANSFORMS
from zygote.testing import check_grad, weighted_sum

RNG = np.random.default_rng(15)


def three(a, b, c):
    return a * b + np.sin(c)


def squared_error(w, x, y):
    return np.sum((x @ w - y) ** 2)


class Scaler:
    def __init__(self, scale):
        self.scale = scale

    def apply(self, a, b):
        return self.scale * a * b


CASES = [
    ("a tuple argument", lambda a, rest: three(a, *rest), (0.5, (1.5, 2.5))),
    ("a list, then a positional", lambda a, rest: three(*rest, a), (0.5, [1.5, -2.5])),
    ("two displays", lambda a, b: three(*(a, b), *[b]), (0.5, 1.5)),
    ("a slice of a tuple", lambda t: three(*t[1:], t[0]), ((0.1, 0.2, 0.3),)),
    ("an array's rows", lambda m: weighted_sum(three(*m)), (RNG.standard_normal((3, 4)),)),
    ("a batch of arrays", lambda w, batch: squared_error(w, *batch),
     (RNG.standard_normal(3), (RNG.standard_normal((5, 3)), RNG.standard_normal(5)))),
]


@pytest.mark.parametrize("label, f, args", CASES, ids=[c[0] for c in CASES])
def test_each_spread_element_gets_its_gradient(label, f, args):
    y, _ = zygote.pullback(f, *args)
    assert np.allclose(y, f(*args))
    check_grad(f, *args)


def test_cotangents_have_the_spread_sequence_s_structure():
    _, d_tuple = zygote.gradient(lambda a, rest: three(a, *rest), 0.5, (1.5, 2.5))
    _, d_list = zygote.gradient(lambda a, rest: three(a, *rest), 0.5, [1.5, 2.5])
    (d_rows,) = zygote.gradient(lambda m: np.sum(three(*m)), np.ones((3, 2)))
    assert type(d_tuple) is tuple and type(d_list) is list
    assert isinstance(d_rows, np.ndarray) and d_rows.shape == (3, 2)


def test_a_method_called_with_a_spread_sequence():
    scaler = Scaler(2.0)

    def f(s, pair):
        return s.apply(*pair) + s.scale

    d_scaler, d_pair = zygote.gradient(f, scaler, (3.0, 4.0))
    assert d_scaler == {"scale": 3.0 * 4.0 + 1.0}
    assert d_pair == (2.0 * 4.0, 2.0 * 3.0)


def test_a_spread_batch_of_data_stays_constant_under_params():
    w = RNG.standard_normal(3)
    batch = (RNG.standard_normal((5, 3)), RNG.standard_normal(5))

    def loss(x, y):
        return np.sum((x @ w - y) ** 2)

    def spread():
        return loss(*batch)

    ps = zygote.Params([w])
    spread_grads = zygote.gradient(spread, ps)
    x, y = batch
    np.testing.assert_allclose(spread_grads[w], 2 * x.T @ (x @ w - y))
    # loss was transformed for constant x and y only: no gradient of the data is computed.
    assert {masks for masks, _ in TRANSFORMS.entries[id(loss.__code__)]} == {"--"}

