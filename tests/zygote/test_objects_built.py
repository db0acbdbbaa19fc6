"""Objects built inside differentiated code, attributes written with Python's semantics, operators
dispatched to a class's own methods, and the gradient structure of namedtuples and dataclasses."""
import collections
import copy
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote.testing import check_grad

# -- building objects ---------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: float
    y: float


@dataclasses.dataclass(frozen=True)
class FrozenPoint:
    x: float
    y: float


Pair = collections.namedtuple("Pair", "x y")


class Plain:
    def __init__(self, x, y, scale=2.0):
        self.x = x * scale
        self.y = np.sin(y)


class Slotted:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y * y


@pytest.mark.parametrize("cls", [Point, FrozenPoint, Pair, Plain, Slotted])
def test_an_object_built_inside_passes_the_gradient_to_what_built_it(cls):
    def f(u, v):
        p = cls(u * v, v + 1.0)
        return p.x * p.y + p.y
    check_grad(f, 0.7, -0.4)
    check_grad(lambda u, v: f(u, v) ** 2, 0.3, 1.1)


def test_keyword_arguments_reach_the_constructor():
    check_grad(lambda u: Plain(u, y=u, scale=u).x + Pair(y=u * u, x=3.0).y, 0.8)


def test_objects_built_inside_have_second_derivatives():
    def f(u):
        return Plain(u * u, u, 2.0).x * Point(u, u).y
    check_grad(lambda u: zygote.gradient(f, u)[0], 0.6)


# -- writing attributes -------------------------------------------------------------------------


class Running:
    def __init__(self):
        self.total = 0.0
        self.last = None
        self.history = []

    def add(self, x):
        self.total = self.total + x * x
        self.last = x
        self.history.append(self.total)
        return self.total


def running(x, y):
    r = Running()
    before = r.add(x)
    r.add(y * before)
    return r.total + r.last * sum(r.history)


def test_a_method_keeping_running_state():
    check_grad(running, 0.4, -0.9)
    check_grad(lambda x, y: zygote.gradient(running, x, y)[0], 0.4, -0.9)


class Box:
    def __init__(self, value):
        self.value = value


def write_into(box, x):
    old = box.value          # read before the write: the adjoint sees this value
    box.value = old * x + x
    return old * box.value


def test_writing_an_attribute_of_an_argument_changes_it_as_the_plain_call_does():
    plain, differentiated = Box(1.5), Box(1.5)
    expected = write_into(plain, 0.7)
    value, (gbox, gx) = zygote.withgradient(write_into, differentiated, 0.7)
    assert value == expected and differentiated.value == plain.value
    # d/dv [v * (v x + x)] = 2 v x + x ; d/dx = v (v + 1)
    assert gbox == {"value": pytest.approx(2 * 1.5 * 0.7 + 0.7)}
    assert gx == pytest.approx(1.5 * 2.5)


def test_an_object_changed_by_a_helper_is_seen_by_the_caller():
    def fill(box, x):
        box.value = np.tanh(x)

    def f(x):
        box = Box(0.0)
        fill(box, x * 2.0)
        return np.sum(box.value * np.array([1.0, -2.0]))
    check_grad(f, np.array([0.3, -0.1]))


def test_a_cache_of_the_last_activation():
    class Layer:
        def __init__(self, w):
            self.w = w
            self.cache = None

        def __call__(self, x):
            self.cache = np.tanh(self.w * x)
            return self.cache

    def f(w, x):
        layer = Layer(w)
        y = layer(x)
        return np.sum(layer.cache * y * np.array([0.5, 2.0]))
    check_grad(f, np.array([0.3, -0.6]), np.array([1.0, 2.0]))


# -- operators ----------------------------------------------------------------------------------


class Vector:
    __array_ufunc__ = None  # an array on the left defers to the reflected methods

    def __init__(self, x, y):
        self.x = x
        self.y = y

    def __add__(self, other):
        if not isinstance(other, Vector):
            return NotImplemented
        return Vector(self.x + other.x, self.y + other.y)

    def __radd__(self, other):
        return Vector(self.x + other, self.y + other)

    def __sub__(self, other):
        return Vector(self.x - other.x, self.y - other.y)

    def __rsub__(self, other):
        return Vector(other - self.x, other - self.y)

    def __mul__(self, s):
        return Vector(self.x * s, self.y * s)

    __rmul__ = __mul__

    def __truediv__(self, s):
        return Vector(self.x / s, self.y / s)

    def __rtruediv__(self, s):
        return Vector(s / self.x, s / self.y)

    def __matmul__(self, other):
        return self.x * other.x + self.y * other.y

    def __rmatmul__(self, m):
        return Vector(m[0, 0] * self.x + m[0, 1] * self.y, m[1, 0] * self.x + m[1, 1] * self.y)

    def __neg__(self):
        return Vector(-self.x, -self.y)

    def __pos__(self):
        return Vector(self.x * 1.0, self.y * 1.0)

    def __abs__(self):
        return (self @ self) ** 0.5

    def __pow__(self, k):
        return Vector(self.x ** k, self.y ** k)

    def __rpow__(self, base):
        return Vector(base ** self.x, base ** self.y)

    def __getitem__(self, i):
        return (self.x, self.y)[i]

    def __len__(self):
        return 2

    def __iter__(self):
        return iter((self.x, self.y))

    def __call__(self, t):
        return self.x * t + self.y

    def __lt__(self, other):
        return self @ self < other @ other

    def __iadd__(self, other):
        self.x = self.x + other.x
        self.y = self.y + other.y
        return self


class Scaled(Vector):
    """A subclass whose reflected multiplication Python must try first."""

    def __rmul__(self, s):
        return Scaled(self.x * s * 2.0, self.y * s * 2.0)


def every_operator(a, b):
    u, v = Vector(a, b), Vector(b * b, a)
    w = 2.0 + (u + v - 0.5 * v) + (1.5 - u) / 3.0 + 3.0 / (4.0 + v)
    w = -(w ** 2) + 2.0 ** (u / 4.0) + np.array([[1.0, 0.5], [-0.3, 2.0]]) @ w
    total = w[0] * len(w) + abs(w) + w(0.5) + (u @ v)
    if u < v:
        total = total * 1.1
    return total + w.x * u.y + (+w).y


def unpacked(a, b):
    first, second = Vector(a * b, a) + Vector(b, 1.0)  # through __iter__: items it holds
    return first * second + sum(Vector(a, a * a))


def test_every_operator_method_is_differentiated():
    check_grad(every_operator, 0.6, -0.8)
    check_grad(every_operator, 1.3, 0.2)
    check_grad(unpacked, 0.6, -0.8)


def arithmetic(a, b):
    u, v = Vector(a, b), Vector(b * b, a)
    w = 2.0 + (u + v - 0.5 * v) + (1.5 - u) / 3.0 + 3.0 / (4.0 + v)
    w = -(w ** 2) + 2.0 ** (u / 4.0) + np.array([[1.0, 0.5], [-0.3, 2.0]]) @ w
    return abs(w) + w(0.5) + (u @ v) + w.x * u.y


def test_operators_have_second_derivatives():
    check_grad(lambda a: zygote.gradient(arithmetic, a, 0.4)[0], 0.7)
    check_grad(lambda b: zygote.gradient(arithmetic, 0.3, b)[1], -0.6)


def test_a_subclass_reflected_method_goes_first():
    def f(a):
        return (Vector(a, 1.0) * Scaled(a, a)).x if False else (Vector(1.0, a) @ (a * Scaled(a, 2.0)))
    # a * Scaled: float's __mul__ gives NotImplemented, Scaled.__rmul__ doubles
    value = f(0.5)
    assert value == pytest.approx(1.0 * 0.5 * 0.5 * 2 + 0.5 * 2.0 * 0.5 * 2)
    check_grad(f, 0.5)

    def g(a):
        base, sub = Vector(a, a), Scaled(a, 1.0)
        return (base + sub).x + (sub * a).y  # Scaled.__mul__ is Vector's
    check_grad(g, 0.9)


def test_in_place_add_mutates_the_object():
    def f(a):
        v = Vector(a, a) + Vector(1.0, a)
        x_before = v.x * 2.0
        v += Vector(a * a, 2.0)
        return v.x * v.y + x_before
    assert f(2.0) == (3.0 + 4.0) * (4.0 + 2.0) + 6.0
    check_grad(f, 0.7)


def test_in_place_add_mutates_the_object_and_its_aliases():
    def f(a):
        v = Vector(a, 2.0)
        keep = v
        v += Vector(a * a, a)
        return v.x * keep.y

    assert f(3.0) == (3.0 + 9.0) * 5.0
    check_grad(f, 0.7)


def test_in_place_add_falls_back_to_add():
    class Frozen:
        def __init__(self, x):
            self.x = x

        def __add__(self, other):
            return Frozen(self.x + other.x * 3.0)

    def f(a):
        v = Frozen(a)
        w = v
        v += Frozen(a * a)
        return v.x + w.x  # w is still the old object
    assert f(2.0) == 2.0 + 12.0 + 2.0
    check_grad(f, 0.8)


def test_an_operator_computed_by_an_array_from_an_object_is_refused():
    class Loose:
        def __init__(self, x):
            self.x = x

        def __rmul__(self, s):
            return Loose(self.x * s)

    with pytest.raises(zygote.UnsupportedSyntaxError, match="ndarray \\* Loose"):
        zygote.gradient(lambda a: np.sum((np.ones(2) * Loose(a)).x), 1.0)


# -- gradients of namedtuples, dataclasses and nested containers ---------------------------------


def test_a_namedtuple_argument_gets_the_same_namedtuple():
    (g,) = zygote.gradient(lambda p: p.x * p.y + p[0], Pair(2.0, 3.0))
    assert type(g) is Pair and g == Pair(4.0, 2.0)
    (g,) = zygote.gradient(lambda p: p.x * 2.0, Pair(2.0, "label"))
    assert g == Pair(2.0, None)


def test_a_dataclass_argument_gets_a_dict_of_fields():
    (g,) = zygote.gradient(lambda p: p.x * p.y, Point(2.0, 3.0))
    assert g == {"x": 3.0, "y": 2.0}


def test_pullback_of_an_object_result_takes_its_cotangent_by_field():
    y, back = zygote.pullback(lambda u: Pair(u * u, 3.0 * u), 2.0)
    assert y == Pair(4.0, 6.0)
    assert back(Pair(1.0, 1.0)) == (7.0,)
    y, back = zygote.pullback(lambda u: Point(u * u, 3.0 * u), 2.0)
    assert back({"x": 1.0, "y": 0.5}) == (5.5,)


LEAF = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)
TREES = st.recursive(
    LEAF,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3),
        st.lists(inner, min_size=1, max_size=3).map(tuple),
        st.dictionaries(st.sampled_from("abc"), inner, min_size=1, max_size=3),
        st.tuples(inner, inner).map(lambda t: Pair(*t)),
        st.tuples(inner, inner).map(lambda t: Point(*t)),
    ),
    max_leaves=8,
)


def leaves(tree):
    """Every float in ``tree``, in a fixed order."""
    if isinstance(tree, float):
        return [tree]
    if isinstance(tree, dict):
        return [v for k in sorted(tree) for v in leaves(tree[k])]
    if isinstance(tree, Point):
        return leaves(tree.x) + leaves(tree.y)
    return [v for item in tree for v in leaves(item)]


def weighted(tree, depth=1.0):
    """A smooth scalar of every leaf, weighted by its place (written with the operations
    zygote differentiates: attribute and item reads, loops over items)."""
    if isinstance(tree, float):
        return math.sin(tree * depth) + tree * tree
    if isinstance(tree, Point):
        return weighted(tree.x, depth + 0.5) + 2.0 * weighted(tree.y, depth + 1.0)
    if isinstance(tree, Pair):
        return weighted(tree.x, depth + 0.25) * 1.5 + weighted(tree.y, depth)
    total = 0.0
    keys = sorted(tree) if isinstance(tree, dict) else range(len(tree))
    for i, key in enumerate(keys):
        total = total + (i + 1.0) * weighted(tree[key], depth + 0.1 * i)
    return total


def same_structure(g, tree):
    """The gradient of ``tree`` has its documented structure, leaf for leaf."""
    if isinstance(tree, float):
        return isinstance(g, float)
    if isinstance(tree, Point):
        return isinstance(g, dict) and all(same_structure(g[n], getattr(tree, n)) for n in ("x", "y"))
    if isinstance(tree, dict):
        return type(g) is dict and set(g) == set(tree) and all(same_structure(g[k], v) for k, v in tree.items())
    return type(g) is type(tree) and len(g) == len(tree) and all(map(same_structure, g, tree))


def rebuild(tree, values):
    """``tree`` with its leaves replaced, in ``leaves`` order, by ``values``."""
    if isinstance(tree, float):
        return values.pop(0)
    if isinstance(tree, dict):
        return {k: rebuild(tree[k], values) for k in sorted(tree)}
    if isinstance(tree, Point):
        return Point(rebuild(tree.x, values), rebuild(tree.y, values))
    if isinstance(tree, Pair):
        return Pair(rebuild(tree.x, values), rebuild(tree.y, values))
    return type(tree)(rebuild(item, values) for item in tree)


def gradient_leaves(g, tree):
    if isinstance(tree, float):
        return [g]
    if isinstance(tree, dict):
        return [v for k in sorted(tree) for v in gradient_leaves(g[k], tree[k])]
    if isinstance(tree, Point):
        return gradient_leaves(g["x"], tree.x) + gradient_leaves(g["y"], tree.y)
    return [v for gi, item in zip(g, tree) for v in gradient_leaves(gi, item)]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(TREES)
def test_nested_arguments_get_gradients_of_their_own_structure(tree):
    (g,) = zygote.gradient(weighted, tree)
    assert same_structure(g, tree)
    flat = leaves(tree)
    eps = 1e-6
    for k, got in enumerate(gradient_leaves(g, tree)):
        up, down = list(flat), list(flat)
        up[k] += eps
        down[k] -= eps
        expected = (weighted(rebuild(tree, up)) - weighted(rebuild(tree, down))) / (2 * eps)
        assert got == pytest.approx(expected, rel=1e-5, abs=1e-7)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.lists(LEAF, min_size=2, max_size=5))
def test_a_method_writing_attributes_matches_the_plain_call(values):
    """Value, gradient and the object afterwards, for running state over random inputs."""
    def f(xs, box):
        for x in xs:
            box.value = box.value * 0.5 + x * x
        return box.value
    plain = Box(0.3)
    expected = f(values, plain)
    box = Box(0.3)
    value, (gxs, gbox) = zygote.withgradient(f, list(values), box)
    assert value == expected and box.value == plain.value
    n = len(values)
    for k in range(n):
        assert gxs[k] == pytest.approx(2 * values[k] * 0.5 ** (n - 1 - k))
    assert gbox == {"value": pytest.approx(0.5 ** n)}
    assert copy.copy(box).value == box.value
