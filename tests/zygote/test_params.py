"""Implicit ``Params``: gradients keyed by the parameter arrays, also through views of them."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote import Params
from zygote.params import through_view
from zygote.testing import check_grad

W = np.arange(1.0, 7.0).reshape(2, 3) / 4
HEAD = W[0, :2]          # views made once, outside the loss
COLUMNS = W.T
FLAT = W.reshape(6)
STRIDED = FLAT[::2]


def _views():
    return [HEAD, COLUMNS, FLAT, STRIDED, W[:, 1:].T]


def view_loss():
    return (np.sum(np.sin(HEAD) * np.array([0.7, 1.3])) + np.sum(COLUMNS * COLUMNS * 0.5)
            + np.sum(np.cos(STRIDED)) * 0.3)


def plain_loss(w):
    head, columns, strided = w[0, :2], w.T, w.reshape(6)[::2]
    return (np.sum(np.sin(head) * np.array([0.7, 1.3])) + np.sum(columns * columns * 0.5)
            + np.sum(np.cos(strided)) * 0.3)


def test_gradient_through_views_made_outside_reaches_the_parameter():
    gs = zygote.gradient(view_loss, Params([W]))
    expected = check_grad(plain_loss, W.copy())[0]
    assert np.allclose(gs[W], expected)


def test_view_made_inside_and_outside_add_up():
    ps = Params([W])
    gs = zygote.gradient(lambda: np.sum(HEAD * 2.0) + np.sum(W[0, :2] * 3.0) + np.sum(W), ps)
    expected = np.ones_like(W)
    expected[0, :2] += 5.0
    assert np.array_equal(gs[W], expected)


class Holder:
    def __init__(self, rows):
        self.rows = rows


def test_view_held_by_an_object_or_a_list():
    holder, rows = Holder(W[1]), [W[:, 0], W[:, 2]]
    gs = zygote.gradient(lambda: np.sum(holder.rows * 2.0) + np.sum(rows[0] * rows[1]), Params([W]))
    expected = np.zeros_like(W)
    expected[1] += 2.0
    expected[:, 0] += W[:, 2]
    expected[:, 2] += W[:, 0]
    assert np.allclose(gs[W], expected)


def test_view_of_one_of_two_params_sharing_a_buffer():
    buffer = np.linspace(0.1, 0.8, 8)
    left, right = buffer[:4], buffer[4:]
    middle = buffer[2:6]
    gs = zygote.gradient(lambda: np.sum(middle * np.arange(1.0, 5.0)), Params([left, right]))
    assert np.array_equal(gs[left], [0.0, 0.0, 1.0, 2.0]) and np.array_equal(gs[right], [3.0, 4.0, 0.0, 0.0])


def test_arrays_that_are_not_views_stay_constant():
    copy = W.copy()
    gs = zygote.gradient(lambda: np.sum(copy * W), Params([W]))
    assert np.array_equal(gs[W], copy)


def test_viewed_by():
    ps = Params([W])
    assert all(ps.viewed_by(v) == [W] for v in _views())
    assert ps.viewed_by(W) == [] and ps.viewed_by(W.copy()) == [] and ps.viewed_by(np.ones(3)) == []


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.data())
def test_through_view_is_the_adjoint_of_taking_the_view(rows, cols, data):
    param = np.zeros((rows, cols))
    r0, c0 = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, cols - 1))
    step = data.draw(st.integers(1, 2))
    transpose = data.draw(st.booleans())
    view = param[r0::step, c0:]
    view = view.T if transpose else view
    cot = np.random.default_rng(rows * 7 + cols).normal(size=view.shape)
    # <through_view(cot), e> == <cot, view of e> for every unit array e
    expected = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        unit = np.zeros_like(param)
        unit[index] = 1.0
        picked = unit[r0::step, c0:]
        expected[index] = np.sum(cot * (picked.T if transpose else picked))
    assert np.allclose(through_view(param, view, cot), expected)


GLOBAL_HOLDER = Holder(W)


def test_attributes_of_a_differentiated_global_are_differentiated():
    ps = Params([W])
    assert np.array_equal(zygote.gradient(lambda: np.sum(W.T[2]), ps)[W], [[0, 0, 1], [0, 0, 1]])
    assert np.array_equal(zygote.gradient(lambda: np.sum(W.T * np.arange(2.0)), ps)[W],
                          [[0, 0, 0], [1, 1, 1]])
    assert np.array_equal(zygote.gradient(lambda: np.sum(GLOBAL_HOLDER.rows * 2.0), ps)[W],
                          np.full_like(W, 2.0))
