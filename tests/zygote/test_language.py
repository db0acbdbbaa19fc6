"""The Python language inside differentiated functions: each construct has the plain call's
value and side effects, and a gradient that matches central differences."""
import contextlib
import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote.testing import check_grad

LOG = []


@contextlib.contextmanager
def logged(tag):
    LOG.append(("enter", tag))
    try:
        yield tag
    finally:
        LOG.append(("exit", tag))


def same_as_plain(fn, *args):
    """Check value and the context managers' log against the plain call; return the gradient."""
    LOG.clear()
    expected = fn(*args)
    plain_log = list(LOG)
    LOG.clear()
    value, _ = zygote.pullback(fn, *args)
    assert np.allclose(value, expected)
    assert LOG == plain_log
    return check_grad(fn, *args)


# -- comprehensions and assignment expressions --------------------------------------------------


def dict_comprehension(x):
    scaled = {i: x * i for i in range(3)}
    squares = {k: v ** 2 for k, v in scaled.items() if k > 0}
    return sum(squares.values()) + scaled[1]


def dict_comprehension_overwrites(x):
    last = {i % 2: x * (i + 1) for i in range(5)}  # keys written again keep the last value
    return last[0] * last[1]


def set_comprehension(x):
    residues = {i % 3 for i in range(7)}
    return x * len(residues) + x * len({1, 2, 2})


def walrus_in_condition(x):
    if (doubled := x * 2) > 1:
        return doubled * doubled
    return doubled


def walrus_in_comprehension(xs):
    kept = [y for v in xs if (y := v * v) > 0.1]
    return sum(kept) * y  # y is the last value bound inside the comprehension


@pytest.mark.parametrize("fn, args", [
    (dict_comprehension, (3.0,)), (dict_comprehension_overwrites, (1.5,)), (set_comprehension, (1.5,)),
    (walrus_in_condition, (1.0,)), (walrus_in_condition, (0.2,)),
    (walrus_in_comprehension, (np.array([0.1, 0.5, 2.0]),)),
])
def test_comprehensions_and_walrus(fn, args):
    same_as_plain(fn, *args)


def set_of_values(x):
    return sum({x, 2 * x, 3.0}) + sum(v * v for v in {x * i for i in range(3)})


def test_sets_of_differentiated_values_keep_the_first_of_equal_items():
    same_as_plain(set_of_values, 1.1)
    assert zygote.gradient(set_of_values, 1.5) == (18.0,)  # 2x == 3.0: the set keeps 2x, inserted first
    assert zygote.gradient(set_of_values, 0.0) == (1.0,)  # x == 2x: the set keeps x


# -- loops with else, del ---------------------------------------------------------------------


def for_else(x, n):
    total = x
    for i in range(n):
        total = total * 1.5
        if total > 10:
            break
    else:
        total = total - x * x
    return total


def while_else(x):
    k = 0
    while k < 3:
        x = x * 2
        k += 1
        if x > 100:
            break
    else:
        x = x + 1
    return x


def nested_loop_else(xs):
    found = 0.0
    for v in xs:
        for w in xs:
            if w > v:
                break  # leaves only the inner loop
        else:
            found = found + v * v  # v is the largest so far
            continue
        found = found + v
    return found


def deleted(x):
    y = x * 2
    del y
    y = x * 3
    return y


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 3.0), st.integers(0, 8))
def test_for_else_runs_else_when_no_break(x, n):
    same_as_plain(for_else, x, n)


@pytest.mark.parametrize("fn, args", [
    (while_else, (1.0,)), (while_else, (30.0,)),
    (nested_loop_else, (np.array([1.0, 3.0, 2.0, 5.0]),)), (deleted, (2.0,)),
])
def test_loop_else_and_del(fn, args):
    same_as_plain(fn, *args)


# -- jumps out of with blocks ---------------------------------------------------------------------


def return_in_with(x):
    with logged("a"):
        y = x * 3
        if y > 2:
            return y * y
        y = y + 1
    return y


def continue_and_break_in_with(xs):
    total = 0.0
    for v in xs:
        with logged("step"):
            if v < 0:
                continue
            if v > 5:
                break
            total = total + v * v
    return total


def return_in_with_in_loop(x):
    for i in range(3):
        with logged(i):
            x = x * 2
            with logged("inner"):
                if x > 5:
                    return x * i
    return -x


@pytest.mark.parametrize("fn, args", [
    (return_in_with, (1.0,)), (return_in_with, (0.1,)),
    (continue_and_break_in_with, (np.array([1.0, -2.0, 3.0, 7.0, 1.0]),)),
    (return_in_with_in_loop, (1.0,)), (return_in_with_in_loop, (0.1,)),
])
def test_jumps_out_of_with_run_exit(fn, args):
    same_as_plain(fn, *args)


# -- global and nonlocal ----------------------------------------------------------------------------

SCALE = 1.0
CALLS = 0


def scale_global(x):
    global SCALE, CALLS
    CALLS += 1
    SCALE = SCALE * x
    return SCALE * x


def make_accumulator(start):
    total = start

    def add(x):
        nonlocal total
        total = total + x
        return total * x
    return add, lambda: total


def test_global_writes_are_visible_after_the_call():
    global SCALE, CALLS
    SCALE, CALLS = 2.0, 0
    plain = scale_global(3.0)
    SCALE, CALLS = 2.0, 0
    value, back = zygote.pullback(scale_global, 3.0)
    assert value == plain and SCALE == 6.0 and CALLS == 1
    assert back(1.0) == (12.0,)  # d/dx of (2 x) x


def test_nonlocal_writes_reach_the_cell():
    add, read = make_accumulator(2.0)
    assert zygote.gradient(add, 1.0) == (4.0,)  # d/dx of (2 + x) x
    assert read() == 3.0


def test_nonlocal_in_a_function_defined_inside_is_refused():
    def outer(x):
        count = 0

        def bump():
            nonlocal count
            count += 1
        bump()
        return x * count
    with pytest.raises(zygote.UnsupportedSyntaxError, match="nonlocal statement in a function defined inside"):
        zygote.gradient(outer, 1.0)


# -- try / except / else / finally ----------------------------------------------------------------


def checked_log(v):
    if v <= 0:
        raise ValueError("not positive")
    return np.log(v)


def handled_in_loop(xs):
    total = 0.0
    for v in xs:
        try:
            total = total + checked_log(v) * v  # raises from a called function
            if v > 4:
                break
        except ValueError:
            total = total - v * v
            continue
        else:
            total = total + v
        finally:
            LOG.append("finally")
        total = total * 1.1
    return total


def all_clauses(x):
    try:
        y = math.log(x)
        z = y * y
    except ValueError as error:
        z = -x * len(str(error))
    else:
        z = z + x
    finally:
        LOG.append("finally")
    return z


def raising_log(x):
    if x <= 0:
        raise ValueError("math domain error")
    return np.log(x)


def handler_chain(x, kind):
    try:
        if kind == 0:
            y = raising_log(x - 10.0)
        elif kind == 1:
            y = [x][3]
        else:
            y = x * x
    except (KeyError, IndexError):
        y = x * 3.0
    except ValueError:
        y = x ** 3
    except Exception:
        y = x
    return y * x


def return_through_finally(x):
    for i in range(4):
        try:
            x = x * 1.5
            if x > 3:
                return x * i
        finally:
            x = x + 0.25
    return x


def nested_tries(x):
    try:
        try:
            y = raising_log(x)
        except ValueError:
            y = x * 2.0
            raise KeyError("inner handler")
        finally:
            y = y + x
    except KeyError:
        y = y * x
    return y


def with_inside_try(x):
    try:
        with logged("resource"):
            y = x * 2
            y = raising_log(y - 3.0) + y
    except ValueError:
        y = -x
    return y


@pytest.mark.parametrize("fn, args", [
    (handled_in_loop, (np.array([1.0, -2.0, 3.0, -0.5, 5.0, 2.0]),)),
    (all_clauses, (2.0,)), (all_clauses, (-2.0,)),
    (handler_chain, (12.0, 0)), (handler_chain, (2.0, 0)), (handler_chain, (2.0, 1)), (handler_chain, (2.0, 2)),
    (return_through_finally, (1.0,)), (return_through_finally, (0.1,)),
    (nested_tries, (2.0,)), (nested_tries, (-2.0,)),
    (with_inside_try, (3.0,)), (with_inside_try, (1.0,)),
])
def test_try_covers_exactly_the_statements_that_ran(fn, args):
    same_as_plain(fn, *args)


def test_an_exception_not_handled_propagates_unchanged():
    error = KeyError("mine")

    def raise_it(x):
        raise error

    def f(x):
        try:
            y = x * 2
            raise_it(y)
        except ValueError:
            y = x
        finally:
            LOG.append("finally")
        return y
    LOG.clear()
    with pytest.raises(KeyError) as info:
        zygote.gradient(f, 1.0)
    assert info.value is error and LOG == ["finally"]


def test_a_bare_raise_re_raises_the_handled_exception():
    def f(x):
        try:
            return raising_log(x)
        except ValueError:
            LOG.append("seen")
            raise
    with pytest.raises(ValueError, match="math domain error"):
        zygote.gradient(f, -1.0)


def test_zygote_errors_are_not_caught_by_the_user_s_except():
    def f(x):
        try:
            y = eval("x") * x
        except Exception:
            y = x
        return y

    def g(x):
        try:
            y = np.vectorize(lambda v: v, signature="()->()")(x)
        except Exception:
            y = x
        return y
    with pytest.raises(zygote.UnsupportedSyntaxError, match="eval"):
        zygote.gradient(f, 1.0)
    with pytest.raises(zygote.UnsupportedSyntaxError, match="np.vectorize with a signature"):
        zygote.gradient(g, 1.0)


def test_second_derivative_through_a_handled_exception():
    # x log(x - 10) where the log is defined; x**4 where the handler ran
    assert np.isclose(zygote.hessian(lambda x: handler_chain(x, 0), 12.0), 2 / 2.0 - 12.0 / 4.0)
    assert np.isclose(zygote.hessian(lambda x: handler_chain(x, 0), 2.0), 12 * 2.0 ** 2)


# -- match statements ---------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: float
    y: float


def matcher(v, subject):
    match subject:
        case 0 | 1:
            r = v * 2
        case 2 if v > 1:
            r = v * v
        case [a, b, *rest]:
            r = a * b * v + len(rest)
        case {"scale": s, **others}:
            r = s * v + len(others)
        case Point(px, y=py):
            r = px * py * v
        case float(w):
            r = w * v
        case None:
            r = -v
        case (str() | bytes()) as text:
            r = v * len(text)
        case _:
            r = v ** 3
    return r


SUBJECTS = [0, 1, 2, (3.0, 4.0), [3.0, 4.0, 5, 6], {"scale": 3.0, "u": 1}, Point(2.0, 3.0), 2.5, None,
            "word", b"ab", (1.0,), {"other": 1.0}, 7]


@pytest.mark.parametrize("subject", SUBJECTS, ids=repr)
def test_match_takes_the_case_python_takes(subject):
    for v in (0.5, 2.0):
        same_as_plain(matcher, v, subject)


@settings(max_examples=30, deadline=None)
@given(st.recursive(st.none() | st.integers(-3, 3) | st.floats(-3, 3) | st.text(max_size=2),
                    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                    | st.dictionaries(st.sampled_from(["scale", "u"]), inner, max_size=2), max_leaves=6))
def test_match_agrees_with_python_on_any_subject(subject):
    try:
        expected = matcher(1.5, subject)
    except TypeError as error:  # the case taken multiplies what cannot be multiplied
        with pytest.raises(type(error)):
            zygote.pullback(matcher, 1.5, subject)
        return
    value, _ = zygote.pullback(matcher, 1.5, subject)
    assert value == expected


def test_gradients_flow_through_captured_items_and_fields():
    def corners(p, xs):
        match xs:
            case (first, *middle, last):
                total = first * last + sum(middle)
        match p:
            case Point(x=a, y=b):
                total = total + a * a * b
        return total
    dp, dxs = zygote.gradient(corners, Point(2.0, 3.0), (1.0, 2.0, 3.0, 4.0))
    assert dp == {"x": 12.0, "y": 4.0} and dxs == (4.0, 1.0, 1.0, 1.0)


# -- generators, map and filter --------------------------------------------------------------------


def values_of(x, n):
    for i in range(n):
        yield x * i
    yield from [x * x, np.sin(x)]
    if n > 5:
        return
    yield 2.0


def summed_generator(x, n):
    return sum(values_of(x, n))


def looped_generator(x, n):
    total = 0.0
    for v in values_of(x, n):
        total = total + v * v
    return total


def listed_generator(x, n):
    return np.sum(np.array(list(values_of(x, n))) ** 2)


def zipped_generators(x, n):
    return sum(a * b for a, b in zip(values_of(x, n), values_of(x * x, n)))


def generator_read_twice(x, n):
    values = values_of(x, n)
    first = sum(values)
    return first + sum(values)  # the second sum finds it exhausted, as in Python


def mapped_and_filtered(xs, c):
    scaled = map(lambda v: v * c, xs)
    kept = filter(lambda v: v > 1.0, scaled)
    return sum(map(np.tanh, kept)) + sum(map(lambda a, b: a * b, xs, xs))


@settings(max_examples=15, deadline=None)
@given(st.floats(0.2, 2.0), st.integers(0, 7))
def test_generators_called_from_differentiated_code(x, n):
    for fn in (summed_generator, looped_generator, listed_generator, zipped_generators, generator_read_twice):
        same_as_plain(fn, x, n)


def test_map_and_filter_objects():
    same_as_plain(mapped_and_filtered, np.array([0.3, 1.5, 2.0, 0.1]), 1.3)
    assert next(zygote.pullback(lambda x: map(np.sin, [x, x]), 1.0)[0]) == np.sin(1.0)  # an iterator


def test_a_generator_consumed_in_parts_is_refused():
    def parts(x):
        values = values_of(x, 3)
        return next(values) * sum(values)
    with pytest.raises(zygote.ZygoteError, match="next"):
        zygote.gradient(parts, 1.0)


def jumps_inside_try(xs):
    total = 0.0
    for v in xs:
        try:
            if v < 0:
                continue
            if v > 3:
                break
            total = total + v * v
            if total > 5:
                return total * v
        except ValueError:
            pass
    return total


@pytest.mark.parametrize("xs", [np.array([1.0, -1.0, 1.5, 4.0, 1.0]), np.array([2.0, 2.5, 0.5])])
def test_jumps_inside_a_try_body(xs):
    same_as_plain(jumps_inside_try, xs)


def loop_with_continue_inside_with(x):
    with logged("outer"):
        for i in range(4):
            if i == 1:
                continue
            x = x * 1.5
    return x


def test_a_loop_inside_a_with_keeps_its_own_jumps():
    same_as_plain(loop_with_continue_inside_with, 0.7)


# -- what is still refused --------------------------------------------------------------------------


def uses_exec(x):
    exec("y = x")
    return x


def uses_import(x):
    import math as m
    return m.sin(x)


def deletes_an_item(xs):
    del xs[0]
    return sum(xs)


def sends_into_yield(x):
    received = yield x
    yield received


def uses_exception_groups(x):
    try:
        y = x * 2
    except* ValueError:
        y = x
    return y


@pytest.mark.parametrize("fn, construct", [
    (uses_exec, "exec"), (uses_import, "import"), (uses_exception_groups, "except\\*"),
])
def test_what_cannot_be_supported_still_names_itself_and_its_line(fn, construct):
    with pytest.raises(zygote.UnsupportedSyntaxError, match=construct) as info:
        zygote.gradient(fn, 1.0)
    assert "test_language.py:" in str(info.value)


def test_del_of_an_item_of_an_argument_is_the_plain_call():
    """The list is changed as the plain call changes it; the gradient has the structure of the
    list as it was passed, None for the item deleted before it was read."""
    plain, passed = [1.0, 2.0], [1.0, 2.0]
    value, (g,) = zygote.withgradient(deletes_an_item, passed)
    assert value == deletes_an_item(plain) and passed == plain == [2.0]
    assert g == [None, 1.0]
    assert zygote.gradient(deletes_an_item, [3.0, 4.0, 5.0]) == ([None, 1.0, 1.0],)


def test_a_yield_whose_value_is_used_is_refused():
    with pytest.raises(zygote.UnsupportedSyntaxError, match="yield whose sent value is used"):
        zygote.gradient(lambda x: sum(sends_into_yield(x)), 1.0)


def list_rebuilt_in_a_try(xs, c):
    y = 0.0
    for v in xs:
        try:
            parts = []  # rebinding kills the list's cotangent, also when nothing else in it has an adjoint
            for w in xs:
                parts.append(w * v)
            y = sum(parts)
            y = raising_log(v - c) * y
        except ValueError:
            pass
    return y


@pytest.mark.parametrize("c", [0.5, 1.5, 3.0])
def test_a_list_rebuilt_in_each_iteration_of_a_try(c):
    same_as_plain(list_rebuilt_in_a_try, np.array([1.0, 2.0, 2.5]), c)


def comprehension_in_a_try(xs, c):
    try:
        total = sum(raising_log(v - c) * v for v in xs)  # raises from inside the comprehension's loop
    except ValueError:
        total = sum(v * v for v in xs)
    return total


@pytest.mark.parametrize("c", [0.5, 1.5])
def test_a_comprehension_that_raises_inside_a_try(c):
    same_as_plain(comprehension_in_a_try, np.array([1.0, 2.0, 2.5]), c)


def dict_items_read_with_broadcast_cotangents(y):
    table = {k: -y for k in range(3)}
    total = table[0] * table[2] + sum(table.values())
    return np.sum(total * np.array([0.7, 1.3, 0.9]))  # the number's cotangent comes broadcast


def test_dict_items_of_numbers_get_cotangents_of_their_shape():
    same_as_plain(dict_items_read_with_broadcast_cotangents, -0.68)
