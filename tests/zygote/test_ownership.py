"""``pullback`` owns what it saved: writes by the caller after it returns do not reach ``back``."""
import functools

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote import Params
from zygote.ownership import own

WEIGHTS = np.array([0.7, 1.3, 0.9])
SHIFT = np.array([0.5, -1.0, 2.0])


def square_sum(x):
    return np.sum(x * x * WEIGHTS)


def exp_of(x):
    return np.exp(x * 1.0)


def reads_view(x):
    head = x[:2]
    return np.sum(np.sin(head) * WEIGHTS[:2])


def reads_global(x):
    return np.sum(x * SHIFT * SHIFT)


def returns_input(x):
    return x, np.sum(x * x)


class Model:
    def __init__(self):
        self.W = np.array([1.0, 2.0, 3.0])


def with_model(m, x):
    return np.sum(np.tanh(m.W * x) * WEIGHTS)


def from_list(xs):
    return xs[0] * xs[-1]


def test_writing_into_the_input_after_pullback():
    x = np.array([1.0, 2.0, 3.0])
    _, back = zygote.pullback(square_sum, x)
    expected = 2 * x * WEIGHTS
    x[:] = 100.0
    assert np.array_equal(back(1.0)[0], expected)


def test_writing_into_the_result_after_pullback():
    x = np.array([0.1, 0.2, 0.3])
    y, back = zygote.pullback(exp_of, x)
    y[:] = -5.0
    assert np.allclose(back(WEIGHTS)[0], np.exp(x) * WEIGHTS)


def test_writing_into_the_input_behind_a_saved_view():
    x = np.array([0.1, 0.2, 0.3])
    _, back = zygote.pullback(reads_view, x)
    expected = np.append(np.cos(x[:2]) * WEIGHTS[:2], 0.0)
    x[:2] = 7.0
    assert np.allclose(back(1.0)[0], expected)


def test_writing_into_a_global_after_pullback():
    x = np.array([1.0, 2.0, 3.0])
    _, back = zygote.pullback(reads_global, x)
    expected = SHIFT * SHIFT
    saved_shift = SHIFT.copy()
    try:
        SHIFT[:] = 0.0
        assert np.array_equal(back(1.0)[0], expected)
    finally:
        SHIFT[:] = saved_shift


def test_writing_into_an_object_argument_after_pullback():
    m, x = Model(), np.array([0.1, -0.2, 0.3])
    _, back = zygote.pullback(with_model, m, x)
    before = back(1.0)
    _, back = zygote.pullback(with_model, m, x)
    m.W *= 10.0
    after = back(1.0)
    assert np.allclose(after[0]["W"], before[0]["W"]) and np.allclose(after[1], before[1])


def test_changing_a_list_argument_after_pullback():
    xs = [2.0, 3.0]
    _, back = zygote.pullback(from_list, xs)
    xs.append(10.0)
    assert back(1.0) == ([3.0, 2.0],)


def test_returned_input_may_be_written():
    x = np.array([1.0, 2.0, 3.0])
    (y, _), back = zygote.pullback(returns_input, x)
    y[0] = 50.0
    assert np.array_equal(back((np.zeros(3), 1.0))[0], [2.0, 4.0, 6.0])
    assert x[0] == 50.0  # the caller's own array: pullback changed nothing of it


def test_params_updated_in_place_before_back():
    W = np.array([0.5, -0.5, 1.0])
    x = np.array([1.0, 2.0, 3.0])
    ps = Params([W])
    _, back = zygote.pullback(lambda: np.sum(np.sin(W * x) * WEIGHTS), ps)
    expected = np.cos(W * x) * x * WEIGHTS
    W -= 0.1  # an optimiser step before the pullback is used
    assert np.allclose(back(1.0)[W], expected)


def test_back_runs_twice_with_the_same_result():
    x = np.array([1.0, 2.0, 3.0])
    _, back = zygote.pullback(square_sum, x)
    x += 1.0
    assert np.array_equal(back(1.0)[0], back(1.0)[0])


def test_own_changes_nothing_of_the_caller():
    x = np.array([1.0, 2.0])

    def back(dy):
        return dy * x
    owned = own(back, [x])
    assert owned is not back and back.__closure__[0].cell_contents is x
    assert owned.__closure__[0].cell_contents is not x
    internal = np.ones(2)
    assert own(lambda dy: dy * internal, [x]).__closure__[0].cell_contents is internal


def test_gradient_and_withgradient_copy_nothing(monkeypatch):
    import zygote.api
    monkeypatch.setattr(zygote.api, "own", lambda *a: pytest.fail("gradient copied"))
    x = np.array([1.0, 2.0, 3.0])
    assert np.array_equal(zygote.gradient(square_sum, x)[0], 2 * x * WEIGHTS)
    assert zygote.withgradient(square_sum, x)[0] == square_sum(x)
    zygote.gradient(lambda: np.sum(x * x), Params([x]))


FUNCTIONS = [square_sum, reads_view, reads_global, lambda x: np.sum(np.exp(x) * x[::-1])]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(FUNCTIONS), st.lists(st.floats(-2, 2), min_size=3, max_size=3),
       st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_back_is_that_of_the_values_at_the_call(f, start, written):
    x = np.array(start)
    expected = zygote.gradient(f, x.copy())[0]
    _, back = zygote.pullback(f, x)
    x[:] = written
    assert np.allclose(back(1.0)[0], expected, rtol=1e-12, atol=1e-12)


def test_rules_methods_and_partials_own_what_they_saved():
    x = np.array([0.1, 0.2])
    _, back = zygote.pullback(np.sin, x)
    x[:] = 5.0
    assert np.allclose(back(np.ones(2))[0], np.cos([0.1, 0.2]))

    m, x = Model(), np.array([1.0, 3.0, 1.0])
    _, back = zygote.pullback(lambda v: np.sum(m.W * v * v), x)
    m.W[:] = 0.0  # a cell's object, changed in place
    x[:] = 0.0
    assert np.array_equal(back(1.0)[0], [2.0, 12.0, 6.0])

    weights = np.array([2.0, 3.0])
    scaled = functools.partial(lambda a, b: np.sum(a * b * b), weights)
    _, back = zygote.pullback(scaled, np.array([1.0, 1.0]))
    weights[:] = 0.0
    assert np.array_equal(back(1.0)[0], [4.0, 6.0])


def appends(xs, v):
    xs.append(v * 2.0)
    return sum(xs) * v


def deletes_then_appends(xs, v):
    del xs[0]
    xs.append(v)
    return xs[0] * v + xs[-1] ** 2


def inserts_and_pops(xs, v):
    xs.insert(0, v)
    last = xs.pop()
    return xs[0] * xs[1] + last * v


def extends(xs, v):
    xs.extend([v, v * v])
    xs.reverse()
    return xs[0] * xs[1] + xs[-1]


@pytest.mark.parametrize("f", [appends, deletes_then_appends, inserts_and_pops, extends])
@pytest.mark.parametrize("change_after", [False, True])
def test_pullback_of_a_function_changing_a_list_argument_s_length(f, change_after):
    expected = zygote.gradient(f, [1.5, 2.5, -0.5], 0.7)
    xs = [1.5, 2.5, -0.5]
    y, back = zygote.pullback(f, xs, 0.7)
    after = list(xs)
    assert y == f([1.5, 2.5, -0.5], 0.7) and after != [1.5, 2.5, -0.5]
    if change_after:
        xs.clear()
        xs.extend([9.0] * 7)
    assert back(1.0) == expected
    assert back(1.0) == expected  # a second call gives the same
    if not change_after:
        assert xs == after  # the backward pass changes nothing of the caller's
    h = 1e-6
    for i in range(3):
        up, down = [1.5, 2.5, -0.5], [1.5, 2.5, -0.5]
        up[i] += h
        down[i] -= h
        slope = (f(up, 0.7) - f(down, 0.7)) / (2 * h)
        assert (expected[0][i] or 0.0) == pytest.approx(slope, rel=1e-6, abs=1e-9)
