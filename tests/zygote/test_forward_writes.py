"""Forward mode and in-place writes: a write is followed when nothing else sees the object
written, an attribute write into an object that other names see keeps the tangent with the
object (every name reads it), and other writes that others see are refused with the user's
line (never a wrong tangent)."""
import collections
import dataclasses

import numpy as np
import pytest

import zygote
from zygote.writes import InPlaceWriteError


class Box:
    pass


class Accumulator:
    def __init__(self):
        self.total = 0.0

    def add(self, x):
        self.total = self.total + x * x


class Point:
    def __init__(self, a):
        self.a = 2.0 * a


def fills_a_fresh_array(v):
    out = np.zeros(3)
    for i in range(3):
        out[i] = v * i
    return np.sum(out * out)


def grows_a_fresh_list(v):
    xs = [v]
    for _ in range(3):
        xs.append(xs[-1] * v)
    return xs[-1]


def writes_a_fresh_object(v):
    box = Box()
    box.v = v * 2.0
    return box.v * v


def appends_through_another_name(v):
    xs = []
    xs.append(v * v)
    ys = xs
    ys.append(v)
    return xs[0] + xs[1]


def writes_under_a_view(v):
    out = np.zeros(3)
    tail = out[1:]
    out[1] = v
    return np.sum(tail)


def calls_a_method_that_writes_self(v):
    acc = Accumulator()
    acc.add(v)
    acc.add(2.0 * v)
    return acc.total


def builds_an_object(v):
    return Point(v).a * v


def writes_through_two_names(v):
    acc = Accumulator()
    same = acc
    acc.add(v)
    same.add(2.0 * v)
    return acc.total * same.total


class Twice:
    def __init__(self):
        self.total = 0.0

    def add(self, x):
        self.total = self.total + x
        self.total = self.total * 2.0


def writes_twice_in_one_method(v):
    twice = Twice()
    twice.add(v)
    twice.add(v * v)
    return twice.total


def writes_an_object_passed_in(v, acc):
    acc.add(v)
    return acc.total * 3.0


@dataclasses.dataclass
class State:
    x: float
    v: float


Pair = collections.namedtuple("Pair", "a b")


class Vector:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        return Vector(self.x + other.x, self.y + other.y)

    def __mul__(self, k):
        return Vector(self.x * k, self.y * k)

    def __rmul__(self, k):
        return self * k

    def norm2(self):
        return self.x * self.x + self.y * self.y


def steps_a_dataclass(v):
    s = State(v, 2.0 * v)
    for _ in range(3):
        s = State(s.x + 0.1 * s.v, s.v - 0.1 * np.sin(s.x))
    return s.x ** 2 + s.v


def builds_a_namedtuple(v):
    p = Pair(v, v ** 2)
    return p.a * p.b + np.cos(p[0])


def adds_vectors(v):
    a = Vector(v, 1.0)
    b = a + 2.0 * a * v
    return b.norm2()


FOLLOWED = [fills_a_fresh_array, grows_a_fresh_list, writes_a_fresh_object, calls_a_method_that_writes_self,
            writes_through_two_names, writes_twice_in_one_method, builds_an_object, steps_a_dataclass,
            builds_a_namedtuple, adds_vectors]


def _central(f, x, eps=1e-6):
    return (f(x + eps) - f(x - eps)) / (2 * eps)


@pytest.mark.parametrize("f", FOLLOWED)
def test_writes_into_objects_only_the_function_sees_are_followed(f):
    y, dy = zygote.jvp(f, (0.7,), (1.0,))
    assert y == f(0.7)
    assert dy == pytest.approx(_central(f, 0.7), rel=1e-6)


WRITES_OF_SECOND_ORDER_REFUSED = [fills_a_fresh_array, writes_through_two_names]


@pytest.mark.parametrize("f", [f for f in FOLLOWED if f not in WRITES_OF_SECOND_ORDER_REFUSED])
def test_second_derivatives_of_writes_and_objects(f):
    # forward over reverse where forward mode follows zygote's gradient code, else reverse
    # over reverse: the same numbers either way
    first = lambda v: zygote.gradient(f, v)[0]  # noqa: E731
    assert zygote.hessian(f, 0.7) == pytest.approx(_central(first, 0.7), rel=1e-5, abs=1e-8)
    assert zygote.hvp(f, 0.7, 2.0) == pytest.approx(2.0 * _central(first, 0.7), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("f", WRITES_OF_SECOND_ORDER_REFUSED)
def test_second_derivatives_through_writes_are_refused_and_leave_nothing_behind(f):
    with pytest.raises(InPlaceWriteError, match="a derivative of the adjoint of a function that writes in place"):
        zygote.hessian(f, 0.7)
    # the refused backward pass left no store open: the next gradients are right
    assert zygote.gradient(f, 0.7)[0] == pytest.approx(_central(f, 0.7), rel=1e-6)
    assert zygote.gradient(fills_a_fresh_array, 0.3)[0] == pytest.approx(_central(fills_a_fresh_array, 0.3))


def test_an_object_passed_in_and_written_keeps_its_tangent_and_changes_as_in_python():
    acc, plain = Accumulator(), Accumulator()
    acc.total = plain.total = 1.0
    y, dy = zygote.jvp(lambda v: writes_an_object_passed_in(v, acc), (0.7,), (1.0,))
    assert y == writes_an_object_passed_in(0.7, plain)
    assert acc.total == plain.total
    assert dy == pytest.approx(3.0 * 2 * 0.7)


@pytest.mark.parametrize("f", [appends_through_another_name, writes_under_a_view])
def test_writes_into_objects_others_see_are_refused_with_the_line(f):
    with pytest.raises(InPlaceWriteError, match=r"forward mode .*test_forward_writes\.py:\d+"):
        zygote.jvp(f, (0.7,), (1.0,))
    # reverse mode follows the same writes, through every name
    g = zygote.gradient(f, 0.7)[0]
    assert g == pytest.approx((f(0.7 + 1e-6) - f(0.7 - 1e-6)) / 2e-6, rel=1e-6)


class Slotted:
    __slots__ = ("a",)

    def __new__(cls, a):
        made = object.__new__(cls)
        made.a = a
        return made


def test_building_an_object_with_its_own_new_is_refused_in_forward_mode():
    with pytest.raises(zygote.UnsupportedSyntaxError, match="constructing a Slotted object .* in forward mode"):
        zygote.jvp(lambda v: Slotted(v).a, (0.7,), (1.0,))
