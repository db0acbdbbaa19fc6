"""Objects, attributes, properties, containers and implicit parameters."""
import numpy as np
import pytest

import zygote
from zygote.testing import check_grad


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, x):
        return np.tanh(self.W @ x + self.b)

    @property
    def doubled(self):
        return self.W * 2.0

    def energy(self, x):
        return np.sum(self(x) ** 2)


class Stack:
    def __init__(self, *layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


rng = np.random.default_rng(0)


def affine(n_in, n_out):
    return Affine(rng.standard_normal((n_out, n_in)), rng.standard_normal(n_out))


def test_object_gradient_is_a_dict_of_attributes():
    m = affine(3, 2)
    x = rng.standard_normal(3)
    gm, gx = zygote.gradient(lambda m, x: np.sum(m(x)), m, x)
    t = np.tanh(m.W @ x + m.b)
    d = 1 - t * t
    assert set(gm) == {"W", "b"}
    np.testing.assert_allclose(gm["W"], np.outer(d, x))
    np.testing.assert_allclose(gm["b"], d)
    np.testing.assert_allclose(gx, m.W.T @ d)


def test_nested_objects_give_nested_structure():
    model = Stack(affine(3, 4), affine(4, 2))
    x = rng.standard_normal(3)
    (g,) = zygote.gradient(lambda m: np.sum(m(x)), model)
    assert isinstance(g["layers"], tuple) and len(g["layers"]) == 2
    eps = 1e-6
    W = model.layers[0].W
    old = W[1, 2]
    W[1, 2] = old + eps
    up = np.sum(model(x))
    W[1, 2] = old - eps
    down = np.sum(model(x))
    W[1, 2] = old
    assert g["layers"][0]["W"][1, 2] == pytest.approx((up - down) / (2 * eps), rel=1e-6)


def test_methods_and_properties():
    m = affine(3, 2)
    x = rng.standard_normal(3)
    (g,) = zygote.gradient(lambda m: np.sum(m.doubled), m)
    np.testing.assert_allclose(g["W"], 2.0 * np.ones_like(m.W))
    assert "b" not in g
    check_grad(lambda W: Affine(W, m.b).energy(x) if False else np.sum(np.tanh(W @ x + m.b) ** 2), m.W)
    gm, = zygote.gradient(lambda m: m.energy(x), m)
    assert set(gm) == {"W", "b"}


def test_attribute_write_then_read():
    class Box:
        pass

    def f(x):
        box = Box()
        box.value = x * 3.0
        return box.value * x
    assert zygote.gradient(f, 2.0) == (12.0,)

    def g(x):
        box = holder  # an object that outlives the call: it keeps the value, as in Python
        box.value = x * 3.0
        return box.value * x
    holder = Box()
    assert zygote.gradient(g, 2.0) == (12.0,)
    assert holder.value == 6.0


def test_params_and_grads():
    m = affine(3, 2)
    x = rng.standard_normal(3)
    ps = zygote.Params([m.W, m.b])
    gs = zygote.gradient(lambda: np.sum(m(x)), ps)
    t = np.tanh(m.W @ x + m.b)
    d = 1 - t * t
    np.testing.assert_allclose(gs[m.W], np.outer(d, x))
    np.testing.assert_allclose(gs[m.b], d)
    assert list(gs) == [m.W, m.b]
    both = gs + gs
    np.testing.assert_allclose(both[m.W], 2 * gs[m.W])
    with pytest.raises(KeyError):
        gs[np.ones(2)]


def test_params_through_globals_closures_and_shared_arrays():
    W = rng.standard_normal((2, 2))
    unused = rng.standard_normal(2)
    model = Stack(Affine(W, np.zeros(2)), Affine(W, np.zeros(2)))  # shared weight
    x = rng.standard_normal(2)
    ps = zygote.Params([W, unused])
    gs = zygote.gradient(lambda: np.sum(model(x)), ps)
    eps = 1e-6
    old = W[0, 1]
    W[0, 1] = old + eps
    up = np.sum(model(x))
    W[0, 1] = old - eps
    down = np.sum(model(x))
    W[0, 1] = old
    assert gs[W][0, 1] == pytest.approx((up - down) / (2 * eps), rel=1e-6)
    assert gs[unused] is None


def sum_of_squares(arrays):
    total = 0.0
    for a in arrays:
        total = total + np.sum(a * a)
    return total


def test_params_iterated_or_indexed_inside_the_loss():
    """A weight penalty over ``ps`` reaches every array through the Params object itself."""
    m = affine(3, 2)
    x = rng.standard_normal(3)
    ps = zygote.Params([m.W, m.b])
    for penalty in (lambda: sum(np.sum(p * p) for p in ps), lambda: sum_of_squares(ps)):
        gs = zygote.gradient(penalty, ps)
        np.testing.assert_allclose(gs[m.W], 2 * m.W)
        np.testing.assert_allclose(gs[m.b], 2 * m.b)
    loss = zygote.gradient(lambda: np.sum(m(x)), ps)
    gs = zygote.gradient(lambda: np.sum(m(x)) + 0.1 * sum_of_squares(ps), ps)
    np.testing.assert_allclose(gs[m.W], loss[m.W] + 0.2 * m.W)
    np.testing.assert_allclose(gs[m.b], loss[m.b] + 0.2 * m.b)
    gs = zygote.gradient(lambda: np.sum(ps[0]) + 3 * np.sum(ps[1:][0]), ps)
    np.testing.assert_allclose(gs[m.W], np.ones_like(m.W))
    np.testing.assert_allclose(gs[m.b], np.full_like(m.b, 3.0))


class Indexed:
    """A container with its own __getitem__, which zygote differentiates from source."""

    def __init__(self, first, second):
        self.items = [first, second]

    def __getitem__(self, i):
        return self.items[i] * 2.0


def test_a_class_with_its_own_getitem():
    box = Indexed(rng.standard_normal(3), rng.standard_normal(3))
    (g,) = zygote.gradient(lambda b: np.sum(np.sin(b[1])), box)
    np.testing.assert_allclose(g["items"][1], 2.0 * np.cos(2.0 * box.items[1]))
    assert g["items"][0] is None
    ps = zygote.Params(box.items)
    gs = zygote.gradient(lambda: np.sum(box[0] * box[1]), ps)
    np.testing.assert_allclose(gs[box.items[0]], 4.0 * box.items[1])


class Curved:
    """A __getitem__ that is nonlinear in the object's field."""

    def __init__(self, c):
        self.c = c

    def __getitem__(self, i):
        return self.c[i] ** 2 * np.sin(self.c[i])

    def __len__(self):
        return len(self.c)


def _curved_loss(c):
    curved = Curved(c)
    return sum(curved[i] * (i + 1.0) for i in range(len(curved)))


def _central_jacobian(f, x, eps=1e-6):
    return np.stack([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(x.size)], axis=-1)


def test_a_class_with_its_own_getitem_inside_a_nested_gradient():
    c = np.array([0.3, -0.7, 1.1])
    gradient_of = lambda c: zygote.gradient(_curved_loss, c)[0]  # noqa: E731
    expected = _central_jacobian(gradient_of, c)
    (hessian,) = zygote.jacobian(gradient_of, c)
    np.testing.assert_allclose(hessian, expected, rtol=1e-6, atol=1e-8)
    squared = lambda c: np.sum(gradient_of(c) ** 2)  # noqa: E731
    (g,) = zygote.gradient(squared, c)
    np.testing.assert_allclose(g, _central_jacobian(lambda c: np.array([squared(c)]), c)[0], rtol=1e-6)

    def inner(y):
        return zygote.gradient(lambda y: Curved([y, 2.0 * y])[1] + y * Curved([y])[0], y)[0]
    # d/dy (8 y^2 sin 2y + y^3 sin y), differentiated once more
    (second,) = zygote.gradient(inner, 0.4)
    assert second == pytest.approx(_central_jacobian(lambda y: np.array([inner(y[0])]), np.array([0.4]))[0, 0],
                                   rel=1e-6)


class Holds:
    """Iterates over what it holds, or over values it computes."""

    def __init__(self, a, b, computed=False):
        self.pair = (a, b)
        self.computed = computed

    def __iter__(self):
        return iter([2.0 * v for v in self.pair] if self.computed else self.pair)


def test_iterating_over_an_object_sends_each_item_where_it_is_held():
    holds = Holds(rng.standard_normal(2), rng.standard_normal(2))
    (g,) = zygote.gradient(lambda h: sum(np.sum(v * v) * i for i, v in enumerate(h)), holds)
    np.testing.assert_allclose(g["pair"][1], 2.0 * holds.pair[1])
    np.testing.assert_allclose(g["pair"][0], 0.0)
    computed = Holds(1.0, 2.0, computed=True)
    with pytest.raises(zygote.UnsupportedSyntaxError, match="item 0 is computed by its __iter__"):
        zygote.gradient(lambda h: sum(v for v in h), computed)


GLOBAL_W = rng.standard_normal((2, 3))


def global_loss(x):
    return np.sum(np.sin(GLOBAL_W @ x))


def test_params_read_from_module_globals():
    x = rng.standard_normal(3)
    gs = zygote.gradient(lambda: global_loss(x), zygote.Params([GLOBAL_W]))
    np.testing.assert_allclose(gs[GLOBAL_W], np.outer(np.cos(GLOBAL_W @ x), x))


def test_containers_as_arguments():
    assert zygote.gradient(lambda p: p[0] * p[1], (2.0, 3.0)) == ((3.0, 2.0),)
    assert zygote.gradient(lambda xs: sum(xs), [1.0, 2.0]) == ([1.0, 1.0],)
    assert zygote.gradient(lambda d: d["a"] * 2, {"a": 1.0, "b": 2.0}) == ({"a": 2.0, "b": None},)


def test_containers_inside():
    def f(x):
        d = {"a": x, "b": x * x}
        pair = (d["a"], d["b"])
        a, (b, c) = x, (x * 2, x * 3)
        first, *rest = [a, b, c]
        items = []
        for v in pair:
            items.append(v * first)
        return sum(items) + max(rest) + min(rest) + len(items)
    check_grad(f, 0.6)


def test_item_assignment_on_local_arrays():
    def f(x):
        y = np.zeros(3)
        y[0] = x[1] * 2.0
        y[1:] = np.sin(x[:2])
        y[2] += x[0]
        return np.sum(y * np.array([1.0, 2.0, 3.0]))

    def g(x):
        y = x * 1.0
        for i in range(1, 3):
            y[i] = y[i - 1] * y[i]
        return np.sum(y)
    check_grad(f, np.array([0.3, 0.5, 0.9]))
    check_grad(g, np.array([0.3, 0.5, 0.9]))


def test_caller_array_is_not_mutated_by_item_assignment():
    x = np.array([1.0, 2.0])

    def f(x):
        x[0] = 5.0
        return np.sum(x * x)
    g = zygote.gradient(f, x)
    np.testing.assert_allclose(g[0], [0.0, 4.0])


class Holder:
    def __init__(self, model):
        self.model = model


HOLDER = Holder(Affine(np.array([[1.0, 2.0]]), np.array([0.5])))


def test_params_reached_through_a_method_of_a_global_object():
    x = np.array([3.0, 4.0])
    W = HOLDER.model.W
    gs = zygote.gradient(lambda: np.sum(HOLDER.model(x)), zygote.Params([W]))
    t = np.tanh(W @ x + HOLDER.model.b)
    np.testing.assert_allclose(gs[W], np.outer(1 - t * t, x))
