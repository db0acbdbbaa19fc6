"""Gradient checks of the rules for Python built-ins and of the loop intrinsics they rely on."""
import functools

import numpy as np

import zygote
from zygote import runtime
from zygote.testing import check_grad, weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
)

TABLE = SampleTable(11)
SAMPLES, sample, u, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.rng





def loop_zip(xs, ys):
    total = 0.0
    for x, y in zip(xs, ys):
        total = total + weighted_sum(np.sin(x) * y)
    return total


def loop_enumerate(xs):
    total = 0.0
    for i, x in enumerate(xs):
        total = total + (i + 1.0) * np.sin(x)
    return total


def loop_enumerate_from(xs, start):
    total = 0.0
    for i, x in enumerate(xs, start):
        total = total + i * np.sin(x)
    return total


def loop_reversed(xs):
    total = 0.0
    for x in reversed(xs):
        total = total * 0.5 + np.sin(x)
    return total


def loop_array_rows(x):
    total = 0.0
    for row in x:
        total = total + weighted_sum(np.sin(row))
    return total


def loop_list(xs):
    total = 1.0
    for x in xs:
        total = total * x + 0.5
    return total


def append_squares(xs):
    out = []
    for x in xs:
        out.append(x * x)
    return weighted_sum(np.stack(out))


def dict_items_loop(d):
    total = 0.0
    for key, value in d.items():
        total = total + len(key) * np.sin(value)
    return total


def squares(xs):
    return sum(map(lambda x: x * x, xs))


def products(xs, ys):
    return weighted_sum(np.array(list(map(lambda x, y: x * y * 2.0, xs, ys))))


# -- numbers -------------------------------------------------------------------------------------
sample(abs, lambda x: abs(x) * 2.0, -0.7)
sample(abs, lambda x: np.float64(abs(x)) * 2.0, -0.7)
sample(abs, lambda x: weighted_sum(np.abs(x) * abs(x)), u(3, 4))
sample(float, lambda x: float(x) * 2.0 + np.sum(x), np.array(0.7))
sample(float, lambda x: float(x[1]) * 2.0, u(3), mirrors=False)
sample(complex, lambda a, b: np.abs(complex(a, b)) * 1.5, 0.7, -1.3, dynamic=False)
sample(pow, lambda a, b: pow(a, b) * np.float64(1.5), 0.7, 2.3)
sample(divmod, lambda a, b: divmod(a, b)[1] * 1.5 + divmod(a, b)[0], 2.5, 0.7, mirrors=False)
sample(divmod, lambda a, b: weighted_sum(divmod(a, b)[1]), np.array([1.1, 2.3, -0.4, 3.2]), TABLE.away(3, 1),
       mirrors=False)
sample(pow, lambda x, b: weighted_sum(pow(x, b)), u(3, 4, lo=0.5), u(4))

# -- reductions of sequences ---------------------------------------------------------------------
sample(sum, lambda xs: sum(xs) * sum(xs) + np.float64(0.0), [0.7, -1.3, 0.4])
sample(sum, lambda xs: weighted_sum(sum(xs)), [u(3, 1), u(1, 4), u(4)])
sample(sum, lambda xs, start: weighted_sum(sum(xs, start)), [u(3), u(3)], u(3))
sample(enumerate, lambda xs, start: loop_enumerate_from(xs, start), [0.7, -1.3, 0.4], 1, mirrors=False)
sample(sum, lambda x: weighted_sum(sum(x)), u(3, 4))
sample(sum, lambda x: np.float64(sum(v * v for v in x)), u(4), mirrors=False)
sample(max, lambda xs: max(xs) * np.float64(2.0), [0.7, -1.3, 2.1])
sample(max, lambda a, b: max(a, b) * np.float64(2.0), 0.7, -1.3)
sample(max, lambda x: max(x) * np.float64(2.0), u(5))
sample(max, lambda xs: max(xs, key=np.abs) * np.float64(2.0), [0.7, -2.3, 2.1], kwargs=dict(key=np.abs))
sample(max, lambda xs: weighted_sum(max(xs, key=np.sum)), [u(3), u(3)], kwargs=dict(key=np.sum))
sample(min, lambda xs: min(xs) * np.float64(2.0), (0.7, -1.3, 2.1))
sample(min, lambda a, b, c: min(a, b, c) * np.float64(2.0), 0.7, -1.3, 0.2)
sample(min, lambda x: min(x) * np.float64(2.0), u(5))
sample(min, lambda xs: min(xs, key=np.abs) * np.float64(2.0), [0.7, -2.3, 2.1], kwargs=dict(key=np.abs))

# -- iteration -----------------------------------------------------------------------------------
sample(zip, loop_zip, [0.7, -1.3, 0.4], [1.5, 0.5, -2.0], dynamic=False)
sample(zip, loop_zip, u(3, 2), u(3), dynamic=False)
sample(enumerate, loop_enumerate, [0.7, -1.3, 0.4], dynamic=False)
sample(enumerate, loop_enumerate, u(4), dynamic=False)
sample(reversed, loop_reversed, [0.7, -1.3, 0.4], dynamic=False)
sample(reversed, loop_reversed, u(4), dynamic=False)
sample(list, lambda x: weighted_sum(list(x)[1]), u(3, 4), dynamic=False)
sample(list, lambda xs: weighted_sum(np.stack(list(xs))), (u(2), u(2)), dynamic=False)
sample(tuple, lambda xs: tuple(xs)[0] * tuple(xs)[2] + np.float64(0.0), [0.7, -1.3, 0.4], dynamic=False)
sample(map, squares, [0.7, -1.3, 0.4], mirrors=False)
sample(map, products, [0.7, -1.3, 0.4], [1.5, 0.5, -2.0], mirrors=False)
sample(getattr, lambda x: weighted_sum(getattr(x, "T")), u(3, 4), mirrors=False)
sample(sorted, lambda xs: sorted(xs)[0] * 1.5 + sorted(xs)[-1] * np.float64(2.0), [0.7, -1.3, 0.4],
       dynamic=False)
sample(sorted, lambda xs: sorted(xs, reverse=True)[0] * np.float64(2.0), u(4), kwargs=dict(reverse=True),
       dynamic=False)
sample(sorted, lambda xs: weighted_sum(np.stack(sorted(xs, key=np.sum))), [u(2), u(2), u(2)],
       kwargs=dict(key=np.sum), dynamic=False)
sample((dict, "get"), lambda d: d.get("a") * d.get("b", 2.0) * np.float64(1.5), {"a": 0.7, "b": -1.3},
       mirrors=False)
sample((dict, "get"), lambda d, x: d.get("b", 2.0) * d.get("c", x) * np.float64(1.5), {"a": 0.7, "b": -1.3}, 0.4,
       mirrors=False)
sample((dict, "values"), lambda d: weighted_sum(np.stack(list(d.values()))), {"a": u(2), "b": u(2)})
sample((dict, "items"), dict_items_loop, {"a": 0.7, "b": -1.3}, mirrors=False)
sample((list, "copy"), lambda xs: xs.copy()[0] * xs.copy()[2] * np.float64(1.5), [0.7, -1.3, 0.4])
sample(runtime.iterate, loop_array_rows, u(3, 4), mirrors=False)
sample(runtime.iterate, loop_list, [0.7, -1.3, 0.4], mirrors=False)
sample(runtime.list_append, append_squares, [u(2), u(2), u(2)], mirrors=False)


# -- structure of the gradients ------------------------------------------------------------------


def test_gradient_of_a_list_is_a_list_and_of_a_tuple_a_tuple():
    assert zygote.gradient(lambda xs: sum(xs) * 2.0, [1.0, 2.0]) == ([2.0, 2.0],)
    assert zygote.gradient(lambda xs: max(xs) * 2.0, (1.0, 3.0, 2.0)) == ((None, 2.0, None),)


def test_max_picks_the_first_of_equal_items():
    assert zygote.gradient(lambda a, b: max(a, b) * 2.0, 1.0, 1.0) == (2.0, None)


def test_max_of_an_empty_sequence_gives_the_default():
    assert zygote.withgradient(lambda x, xs: max(xs, default=0.5) * x, 1.5, []) == (0.75, (0.5, None))


def test_sum_with_a_partial_start():
    total = functools.partial(sum, start=0.5)
    check_grad(lambda xs: total(xs) * total(xs), [0.7, -1.3])


def test_appending_to_an_outer_list():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0
    assert zygote.gradient(f, 1.0) == (2.0,) and calls == [1]


# -- the intrinsics of the language's lowerings ---------------------------------------------------


def dict_comprehension(xs):
    table = {i: v * v for i, v in enumerate(xs)}
    return table[0] * table[2] + np.float64(0.0)


def set_comprehension(x):
    return sum(v * v for v in {x * i for i in range(3)}) + sum({x, 2 * x, 0.5})


def generator_sum(x):
    return sum(_generated_values(x)) + np.float64(0.0)


def _generated_values(x):
    yield x * x
    yield from [np.sin(x), 2.0]


def matched_fields(x):
    match x:
        case float(w):
            return w * w * np.float64(1.5)
    return x


def matched_rest(d):
    match d:
        case {"a": a, **rest}:
            return a * rest["b"] * np.float64(1.5)
    return np.float64(0.0)


sample(filter, lambda xs: sum(filter(lambda v: v > 0, xs)) * np.float64(1.5), [0.7, -1.3, 0.4], mirrors=False)
sample(runtime.dict_set, dict_comprehension, [0.7, -1.3, 0.4], mirrors=False)
sample(runtime.set_of, lambda x: sum({x, 2 * x, 0.5}) * np.float64(1.5), 0.7, mirrors=False)
sample(runtime.set_add, set_comprehension, 0.7, mirrors=False)
sample(runtime.generated, generator_sum, 0.7, mirrors=False)
sample(runtime.match_field, lambda x: matched_fields(x) * np.float64(1.0), 0.7, mirrors=False)
sample(runtime.mapping_rest, matched_rest, {"a": 0.7, "b": -1.3}, mirrors=False)


# -- checkpointing: the pullback runs the function again -----------------------------------------


def _layer(x, w):
    return np.tanh(w * x) * x


sample(zygote.checkpointed, lambda x, w: weighted_sum(zygote.checkpointed(_layer, x, w)), u(3), 0.7,
       mirrors=False)
sample(zygote.checkpointed, lambda x: zygote.checkpointed(_layer, x, 1.3) * 2.0, 0.4, mirrors=False)
