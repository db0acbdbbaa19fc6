"""In-place writes keep Python's semantics: the value, the objects left behind and the gradient
of the plain call, through aliases, views, containers, helpers, globals and closures."""
import numpy as np
import pytest

import zygote
from zygote.writes import InPlaceWriteError

from .semantics import check_same

W = np.array([1.0, 2.0, 3.0, 4.0])
BOX = {}
LOG = []
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# -- arrays: aliases and views -----------------------------------------------------------------


@case
def alias(x):
    z = x * 1.0
    y = z
    y[0] = 0.0
    return np.sum(z * W[:2])


@case
def a_constant_array_written_through_a_second_name(x):
    acc = np.zeros(2)
    b = acc
    b[1:] = x[:1] * 0.3
    return np.sum(np.sin(b) * W[:2]) + np.sum(np.sin(acc) * W[:2])


@case
def through_transpose(x):
    z = x * 1.0
    z.T[0] = x[1] * 3.0
    return np.sum(np.sin(z) * W[:2])


@case
def through_a_strided_view(x):
    z = x * 2.0
    v = z[::2]
    v[0] = np.sin(x[1])
    return np.sum(z * z * W[:2])


@case
def through_reshape(x):
    z = x * 1.0
    r = z.reshape(2, 1)
    r[1, 0] = x[0] * x[1]
    return np.sum(z ** 2 * W[:2])


@case
def a_views_augmented_assignment(x):
    z = x * 1.0
    v = z[1:]
    v += x[0] ** 2
    return np.sum(np.exp(z) * W[:2])


@case
def augmented_name_seen_through_an_earlier_view(x):
    a = np.cos(x * 1.5) * x
    v = a.reshape(1, 2)[0]
    a *= 0.5
    return np.sum(np.sin(v * -0.7) * W[:2]) + np.sum(np.sin(a) * W[:2])


@case
def augmented_item(x):
    z = x * 1.0
    z[0] += z[1] * 3
    return np.sum(z * z * W[:2])


@case
def into_the_argument(x):
    x[0] = x[1] * 2.0
    return np.sum(x * W[:2])


@case
def nested_views(x):
    z = np.outer(x, x)
    a = z[0]
    b = a[1:]
    b *= 3.0
    return np.sum(np.sin(z) * W.reshape(2, 2))


@case
def read_before_the_write(x):
    z = x * 1.0
    s = np.sum(np.sin(z))
    z[1] = 10.0 * x[0]
    return s + np.sum(z * z)


@case
def one_element_per_step(x):
    y = np.zeros(2)
    for i in range(2):
        y[i] = x[i] * x[1 - i] + 1.0
    return np.sum(y * W[:2])


@case
def repeated_indices_last_write_wins(x):
    y = x * 1.0
    y[[0, 0]] = np.array([2.0, 3.0]) * x
    return np.sum(y * W[:2])


@case
def repeated_indices_augmented_once(x):
    y = x * 1.0
    y[[0, 0]] += x * x
    return np.sum(y * W[:2])


@case
def a_tuple_holding_the_array(x):
    z = x * 1.0
    t = (z, 2.0)
    z[0] = 5.0
    return np.sum(t[0] * W[:2])


@case
def a_list_holding_the_array(x):
    z = x * 1.0
    a = [z]
    z[1] = x[0] * 7.0
    return np.sum(a[0] * W[:2])


# -- in-place methods and out= -----------------------------------------------------------------


@case
def array_sort(x):
    y = x * W[:2][::-1]
    y.sort()
    return np.sum(y * W[:2])


@case
def array_fill(x):
    y = x * 1.0
    s = np.sum(y * y)
    y.fill(x[0])
    return s + np.sum(y * W[:2])


@case
def out_of_a_ufunc(x):
    a = x * 1.0
    np.add(a, x * x, out=a)
    return np.sum(a * W[:2])


@case
def out_of_a_reduction(x):
    o = np.zeros(())
    np.sum(x * x, out=o)
    return o * 2.0


@case
def copyto(x):
    d = np.zeros(2)
    np.copyto(d, x * 2.0)
    return np.sum(d * W[:2])


@case
def clip_into_itself(x):
    y = x * 1.0
    y.clip(0.4, 0.6, out=y)
    return np.sum(y * W[:2])


# -- lists and dicts ---------------------------------------------------------------------------


@case
def a_list_shared_by_two_names(x):
    a = [x]
    b = a
    b.append(5 * x)
    return np.sum(a[-1] * W[:2])


@case
def a_list_another_list_holds(x):
    box = []
    xs = [x[0]]
    box.append(xs)
    xs.append(x[1] * 3.0)
    return sum(box[0]) * 2.0


@case
def list_methods(x):
    a = [x[0], 2.0 * x[1]]
    b = a
    b.extend([x[1] ** 2, 3.0])
    b.insert(1, x[0] * 5.0)
    p = b.pop()
    q = b.pop(0)
    b.reverse()
    b.sort()
    b.remove(b[0])
    return sum(a) * p + q * 2.0 + len(b)


@case
def list_clear(x):
    a = [x[0], x[1]]
    c = a
    s = a[0] * a[1]
    c.clear()
    c.append(x[1] * 3.0)
    return s + a[0]


@case
def dict_methods(x):
    d = {"a": x[0]}
    e = d
    e["b"] = x[1] * 2.0
    e.update({"c": x[0] * x[1]})
    v = e.setdefault("d", 4.0 * x[0])
    w = e.setdefault("a", 100.0)
    _, last = e.popitem()
    del e["b"]
    r = e.pop("a")
    return r * 3.0 + v + w + last + sum(d.values())


# -- containers the function does not own ------------------------------------------------------


@case
def a_global_dict(x):
    loss = np.sum(x * W[:2])
    BOX["loss"] = loss
    return loss


@case
def a_global_list(x):
    LOG.append(x[0] * 2.0)
    return np.sum(x ** 2)


@case
def a_closure_cell(x):
    acc = np.zeros(2)

    def add(v):
        acc[:] = acc + v
    add(x * 2.0)
    add(np.sin(x))
    return np.sum(acc * W[:2])


def fill(out, v):
    out[:] = v


@case
def a_helper_fills_the_callers_array(x):
    out = np.zeros(2)
    fill(out, x * 3.0)
    return np.sum(out * W[:2])


# -- control flow, helpers that return views, index arrays and masks ---------------------------


@case
def writes_through_a_loop_over_a_list(x):
    a = x * 1.0
    b = x * 2.0
    for v in [a, b]:
        v[0] = v[1] * v[1]
    return np.sum(a * W[:2]) + np.sum(b * b)


@case
def writes_in_a_while_loop(x):
    y = x * 1.0
    i = 0
    while i < 1:
        y[i + 1] += y[i] * 0.5
        i += 1
    return np.sum(np.sin(y) * W[:2])


@case
def writes_in_a_branch(x):
    y = x * 1.0
    if x[0] > 0:
        y[1:] = y[:1] * 3.0
    else:
        y[0] = 1.0
    return np.sum(y * W[:2])


def first_row(m):
    return m[0]


@case
def through_a_view_a_helper_returns(x):
    m = np.outer(x, x)
    r = first_row(m)
    r[1] = 0.0
    return np.sum(m * m)


@case
def columns_and_rows(x):
    m = np.outer(x, W)
    m[:, 1] = x * 2.0
    m[1] -= m[0]
    return np.sum(np.tanh(m) * np.arange(8.0).reshape(2, 4))


@case
def integer_index_arrays(x):
    y = np.zeros(5)
    index = np.array([4, 4])
    y[index] = x
    y[index] += x * x
    return np.sum(y * np.arange(1.0, 6.0))


@case
def a_boolean_mask(x):
    y = x * 1.0
    y[y > 0.5] = 0.0
    return np.sum(y * W[:2])


@case
def a_list_read_by_a_rule_that_gives_an_array_cotangent(x):
    out = np.zeros(2)
    fill(out, x * 2.0)
    return np.sum(np.asarray([out[0], x[1] * out[1]]) * W[:2])


STATE = {"a_global_dict": lambda: BOX, "a_global_list": lambda: LOG}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_side_effects_and_gradient_are_the_plain_calls(name):
    check_same(CASES[name], np.array([0.3, 0.7]), state=STATE.get(name))


def test_the_alias_example_gives_the_plain_value():
    value, (grad,) = zygote.withgradient(alias, np.ones(2))
    assert value == alias(np.ones(2)) == 2.0
    np.testing.assert_allclose(grad, [0.0, 2.0])


def test_the_loss_recorded_for_logging_under_implicit_params():
    w = np.array([0.5, -1.0])
    box = {}

    def loss():
        value = np.sum(np.tanh(w * np.array([1.0, 2.0])) ** 2)
        box["loss"] = value
        return value

    grads = zygote.gradient(loss, zygote.Params([w]))
    assert box["loss"] == loss()
    expected = 2 * np.tanh(w * [1.0, 2.0]) * (1 - np.tanh(w * [1.0, 2.0]) ** 2) * [1.0, 2.0]
    np.testing.assert_allclose(grads[w], expected)


def test_a_pullback_called_twice_gives_the_same_cotangents():
    x = np.array([0.3, 0.7])
    y, back = zygote.pullback(through_a_strided_view, x)
    first = back(1.0)[0].copy()
    np.testing.assert_allclose(back(1.0)[0], first)
    np.testing.assert_allclose(x, [0.3, 0.7])


def test_functions_without_writes_keep_their_code():
    def f(x):
        y = x * 2.0
        y = y + x
        return np.sum(y)
    assert "store" not in zygote.adjoint_source(f, np.ones(2))


class Bag:
    def __init__(self):
        self.items = {}

    def __setitem__(self, key, value):
        self.items[key] = value


def test_a_write_into_an_object_it_cannot_undo_is_refused_with_its_line():
    def f(x):
        bag = Bag()
        bag["x"] = x
        y = x * 1.0
        y[0] = 1.0
        return np.sum(y)
    with pytest.raises(InPlaceWriteError, match=r"Bag at .*test_writes.py:\d+"):
        zygote.gradient(f, np.array([0.3, 0.7]))


def test_second_derivatives_through_a_write_are_refused_with_its_line():
    def f(x):
        y = x * 1.0
        y[0] = x[1] ** 3
        return np.sum(y * y)
    with pytest.raises(InPlaceWriteError, match=r"test_writes.py:\d+"):
        zygote.hessian(f, np.array([0.3, 0.7]))


class Filler:
    def fill(self, out, v):
        out[:] = v


def test_a_write_into_an_argument_by_a_callee_found_at_run_time_is_refused():
    def f(x, filler):
        out = np.zeros(2)
        filler.fill(out, x * 3.0)
        return np.sum(out * W[:2])
    with pytest.raises(InPlaceWriteError, match=r"test_writes.py:\d+ into an argument .* from 'f'"):
        zygote.gradient(f, np.array([0.3, 0.7]), Filler())
