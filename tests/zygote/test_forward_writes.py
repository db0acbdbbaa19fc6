"""Forward mode and in-place writes: a write is followed when nothing else sees the object
written, and refused with the user's line when something does (never a wrong tangent)."""
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


@pytest.mark.parametrize("f", [fills_a_fresh_array, grows_a_fresh_list, writes_a_fresh_object])
def test_writes_into_objects_only_the_function_sees_are_followed(f):
    y, dy = zygote.jvp(f, (0.7,), (1.0,))
    assert y == f(0.7)
    assert dy == pytest.approx(zygote.gradient(f, 0.7)[0], rel=1e-12)


@pytest.mark.parametrize("f", [appends_through_another_name, writes_under_a_view,
                               calls_a_method_that_writes_self])
def test_writes_into_objects_others_see_are_refused_with_the_line(f):
    with pytest.raises(InPlaceWriteError, match=r"forward mode .*test_forward_writes\.py:\d+"):
        zygote.jvp(f, (0.7,), (1.0,))
    # reverse mode follows the same writes, through every name
    g = zygote.gradient(f, 0.7)[0]
    assert g == pytest.approx((f(0.7 + 1e-6) - f(0.7 - 1e-6)) / 2e-6, rel=1e-6)


def test_building_an_object_from_differentiated_values_is_refused_in_forward_mode():
    with pytest.raises(zygote.UnsupportedSyntaxError, match="constructing a Point object .* in forward mode"):
        zygote.jvp(builds_an_object, (0.7,), (1.0,))
    assert zygote.gradient(builds_an_object, 0.7)[0] == pytest.approx(2.8)
