"""Closures read their cells when they are called: values and gradients of late binding.

The fuzzer (``closure_programs``) draws where closures are defined, where the variable they
read is rebound and where they are called; the differentiated call must return the plain
call's value, and its gradient must match central differences. CI runs a fixed set;
``ZYGOTE_FUZZ_EXAMPLES`` sets a longer random run.
"""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings

import zygote
from zygote.errors import ZygoteError
from zygote.testing import check_grad

from closure_programs import closure_programs
from fuzz_programs import load

LONG_RUN = int(os.environ.get("ZYGOTE_FUZZ_EXAMPLES", "0"))
COUNTS = {"checked": 0, "refused": 0}


@settings(max_examples=LONG_RUN or 40, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(closure_programs())
def test_closure_programs_match_python_and_differences(tmp_path_factory, program):
    source, x, y = program
    note(source)
    fuzzed = load(source, tmp_path_factory.mktemp("closures"), "closures").fuzzed
    try:
        value, _ = zygote.withgradient(fuzzed, x, y)
    except ZygoteError:
        COUNTS["refused"] += 1
        return
    COUNTS["checked"] += 1
    assert value == pytest.approx(fuzzed(x, y), rel=1e-12, abs=1e-12)
    check_grad(fuzzed, x, y, rtol=1e-5, atol=1e-6)


def teardown_module():
    if LONG_RUN:
        print(f"\nclosure programs: {COUNTS['checked']} checked, {COUNTS['refused']} refused")


# -- regressions: one per way a closure can read a cell late ------------------------------------


def late_rebound(x):
    a = x * 2.0
    g = lambda: a * x
    a = x * 3.0
    return g()


def rebound_in_loop(x):
    a = x
    total = 0.0
    for _ in range(3):
        a = a * x
        def current():
            return a
        total = total + current()
    return total


def defined_in_loop_called_after(x):
    a = x
    for _ in range(3):
        def current():
            return a * a
        a = a * x
    return current()


def made_then_rebound(x):
    a = x
    def square():
        return a * a
    a = x * 5.0
    return square


def calls_made_elsewhere(x):
    return made_then_rebound(x)() + x


def passed_to_helper(x):
    a = x
    def times(t):
        return a * t
    first = apply_to(times, x)
    a = np.sin(x)
    return first + apply_to(times, x)


def apply_to(g, v):
    return g(v)


def nested_closures(x):
    a = x
    def inner(t):
        return a * t
    def outer(t):
        return inner(t) + a
    a = x * x
    return outer(2.0)


def parameter_rebound(x):
    g = lambda: x * x
    x = x * 2.0
    return g()


def rebound_in_a_branch(x):
    def times(t):
        return t * x
    if np.all(x > 0):
        x = x * 3.0
    return times(2.0)


def called_before_and_after(x):
    a = x
    def g():
        return a * x
    first = g()
    a = a * a
    return first + g()


def closure_reading_a_closure(x):
    a = x
    def c():
        return a
    def d():
        return c() * a
    a = a * 2.0
    return d()


@pytest.mark.parametrize("f", [late_rebound, rebound_in_loop, defined_in_loop_called_after,
                               calls_made_elsewhere, passed_to_helper, nested_closures,
                               parameter_rebound, rebound_in_a_branch, called_before_and_after,
                               closure_reading_a_closure])
@pytest.mark.parametrize("x", [0.7, np.array([0.3, -1.1, 2.0])])
def test_closure_reads_the_value_at_call_time(f, x):
    value, _ = zygote.withgradient(lambda v: np.sum(f(v) * np.array([0.7, 1.3, 0.9])[:np.size(v)]), x)
    assert np.allclose(value, np.sum(f(x) * np.array([0.7, 1.3, 0.9])[:np.size(x)]))
    check_grad(lambda v: np.sum(f(v) * np.array([0.7, 1.3, 0.9])[:np.size(v)]), x)


def test_late_rebound_gradient_is_that_of_the_new_value():
    # a = 3x when g runs: g() = 3x², whose slope at 2 is 12 (the made-time value would give 10).
    assert zygote.withgradient(late_rebound, 2.0) == (12.0, (12.0,))


def cells_of_plain_function(scale):
    def scaled(x):
        return np.sum(x * scale)

    def set_scale(v):
        nonlocal scale
        scale = v
    return scaled, set_scale


def test_transform_reads_cells_of_an_outer_function_when_it_runs():
    scaled, set_scale = cells_of_plain_function(np.array([1.0, 2.0]))
    x = np.array([3.0, 4.0])
    assert zygote.withgradient(scaled, x)[0] == 11.0
    set_scale(np.array([-1.0, 5.0]))
    value, (dx,) = zygote.withgradient(scaled, x)
    assert value == 17.0 and np.array_equal(dx, [-1.0, 5.0])
    set_scale(np.array([2.0, 0.5]))
    assert np.array_equal(zygote.gradient(scaled, x)[0], [2.0, 0.5])


def kept_then_rebound(x):
    a = x
    def g():
        return a * x
    kept = [g]
    a = x * 3.0
    return kept[0]()


def kept_never_rebound(x):
    a = x * 2.0
    def g():
        return a * x
    kept = [g]
    return kept[0]()


def test_closure_kept_while_its_cell_changes_is_refused_with_the_line():
    with pytest.raises(ZygoteError, match=r"test_closures.py:\d+: keeping the closure 'g'.*'a'"):
        zygote.gradient(kept_then_rebound, 2.0)


def test_closure_kept_over_a_cell_that_stays_is_differentiated():
    assert zygote.withgradient(kept_never_rebound, 2.0) == (8.0, (8.0,))


def differentiated_default(x):
    a = x * 2.0
    g = lambda t, a=a: a * t
    return g(x)


def test_differentiated_default_argument_is_refused_with_the_line():
    with pytest.raises(ZygoteError, match=r"test_closures.py:\d+: a default argument computed from"):
        zygote.gradient(differentiated_default, 2.0)
    # A constant default is fine.
    assert zygote.gradient(lambda x: (lambda t, k=3.0: k * t)(x), 2.0) == (3.0,)


def identity(g):
    return g


def handed_back_then_rebound(x):
    a = x
    c = lambda: a * x
    d = identity(c)
    a = x * 3.0
    return d()


def handed_back_after_the_last_rebinding(x):
    a = x
    c = lambda: a * x
    a = x * 3.0
    kept = [c]
    return identity(c)() + kept[0]()


def test_closure_handed_back_by_a_call_while_its_cell_changes_is_refused():
    with pytest.raises(ZygoteError, match=r"test_closures.py:\d+: keeping the closure 'c' \(returned"):
        zygote.gradient(handed_back_then_rebound, 2.0)


def test_closure_kept_after_its_cells_last_change_is_differentiated():
    assert zygote.withgradient(handed_back_after_the_last_rebinding, 2.0) == (24.0, (24.0,))
