"""Minimal reproducers of zygote bugs found by the corpus and the program fuzzer.

Each test is the smallest program we found that shows one bug. A test for an open bug is
marked ``xfail(strict=True)``: when the bug is fixed the test passes, strict makes that an
error, and the mark must be removed so that the test guards against the bug's return.
Tests named ``test_fuzz_*`` hold programs as the fuzzer generated them after hypothesis
shrank them (helpers renamed, unused ones dropped), so they read as generated code; a
hand-reduced form of the same bug sits next to each.
"""
import math

import numpy as np
import pytest

import zygote
from zygote.testing import check_grad

# -- inlined rules ---------------------------------------------------------------------------


def twice_abs(r):
    # This module imports numpy as np, but this function never reads np.
    return abs(r) * 2.0


def test_abs_in_a_module_that_imports_numpy_as_np():
    assert zygote.gradient(twice_abs, -0.5) == (-2.0,)


def twice_fabs(r):
    return math.fabs(r) * 2.0


def test_fabs_in_a_module_that_imports_numpy_as_np():
    assert zygote.gradient(twice_fabs, -0.5) == (-2.0,)


# -- broadcasting ----------------------------------------------------------------------------


def shift_and_add(a, z):
    return a + np.sum(z - a)


def scale_and_divide(m, x):
    return m * np.sum(x / m)


def stable_logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def test_scalar_used_alone_and_broadcast():
    z = np.array([0.3, 1.2, -0.5])
    (da, dz) = zygote.gradient(shift_and_add, 0.5, z)
    assert da == pytest.approx(1.0 - 3.0)  # zygote once gave 0.0


def test_scalar_times_sum_of_array_over_scalar():
    check_grad(scale_and_divide, 0.8, np.array([1.0, 2.0]))  # d/dm is 0; zygote once gave 3.75


def test_stable_logsumexp():
    z = np.array([0.3, 1.2, -0.5])
    (dz,) = zygote.gradient(stable_logsumexp, z)
    np.testing.assert_allclose(dz, np.exp(z) / np.sum(np.exp(z)))


# -- dicts -----------------------------------------------------------------------------------


def dict_set_then_read(x):
    d = {}
    d["a"] = x * x
    return d["a"]


def dict_set_then_read_twice(x):
    d = {}
    d["a"] = x
    return d["a"] * d["a"]


def test_dict_item_assignment():
    assert zygote.gradient(dict_set_then_read, 3.0) == (6.0,)


def test_dict_item_assignment_read_twice():
    assert zygote.gradient(dict_set_then_read_twice, 3.0) == (6.0,)


# -- objects ---------------------------------------------------------------------------------


class Box:
    def __init__(self):
        self.total = 0.0

    def add(self, value):
        self.total = self.total + value


def add_through_method(x):
    box = Box()
    box.add(x * x)
    return box.total


def add_through_method_of_argument(x, box):
    box.add(x * x)
    return box.total


def test_method_assigning_an_attribute_reaches_the_caller():
    # The new attribute is read by the caller: its cotangent reaches the method's write.
    assert zygote.gradient(add_through_method, 3.0) == (6.0,)


def test_method_assigning_an_attribute_of_an_argument_changes_it_as_python_does():
    box = Box()
    box.total = 1.5
    assert zygote.gradient(add_through_method_of_argument, 3.0, box) == (6.0, {"total": 1.0})
    assert box.total == 10.5


class Base:
    def __init__(self, scale):
        self.scale = scale

    def area(self, r):
        return r * r * self.scale


class Circle(Base):
    def area(self, r):
        return 3.0 * super().area(r)


def circle_area(c, r):
    return c.area(r)


def test_super_call_keeps_the_gradient_of_self():
    dc, dr = zygote.gradient(circle_area, Circle(2.0), 0.5)
    assert dr == pytest.approx(6.0)
    assert dc == {"scale": pytest.approx(0.75)}


# -- found by the program fuzzer ---------------------------------------------------------------


def overwrite_in_loop(x):
    for i in range(2):
        x = 0.5
    return x * 3.0


def active_loop_then_constant(y):
    for i in range(2):
        y = y * 2.0
        y = 0.5
    return y


def test_loop_rebinding_to_a_constant_cuts_the_gradient():
    assert zygote.gradient(overwrite_in_loop, 1.0) in ((None,), (0.0,))


def test_active_loop_ending_in_a_constant_cuts_the_gradient():
    assert zygote.gradient(active_loop_then_constant, 1.0) in ((None,), (0.0,))


def fuzz_1(x, y):
    for i in range(1):
        x = (1.0 * 0.5)
    return x


def test_fuzz_1_loop_rebinding_a_parameter():
    check_grad(fuzz_1, 0.0, 0.0)


def ignore_arguments(p, q):
    return 1.0


def unused_array_literal(x):
    return ignore_arguments(0.5, np.array([0.5, x]))


def test_array_literal_passed_to_a_function_that_ignores_it():
    assert zygote.gradient(unused_array_literal, 1.0) in ((None,), (0.0,))


def fuzz_2_pair(p, q):
    return (0.5 + 0.5), (0.5 + 0.5)


def fuzz_2(x, y):
    x = (1.0 * 0.5)
    t0, t1 = fuzz_2_pair(0.5, np.array([0.5, 0.5, x]))
    return t0


def test_fuzz_2_array_literal_to_a_helper():
    check_grad(fuzz_2, 0.0, 0.0)


def unused_array_literal_in_a_loop(x, y):
    for j in range(2):
        t = np.array([1.0, y, 1.5]) * x  # noqa: F841 - dead on purpose
    return y * 2.0


def test_unused_array_literal_in_a_loop():
    assert zygote.gradient(unused_array_literal_in_a_loop, 0.5, 0.7) in ((None, 2.0), (0.0, 2.0))


def fuzz_4_pair(p, q):
    return np.sin(np.maximum(q, q)), (1.0 * p)


def fuzz_4(x, y):
    for j in range(4):
        t5 = (np.array([(j + 1), y, 1.5]) * (x[2] + j))  # noqa: F841 - dead on purpose
    y, t6 = fuzz_4_pair(((2.0 * np.ones(3)) @ (y * np.ones(3))), (0.5 - 1.5))
    return t6


def test_fuzz_4_dead_array_literal_in_a_loop():
    check_grad(fuzz_4, np.array([0.06925836, 0.30377063, -1.00152982]), 1.494669854552341)


def fuzz_5(x, y):
    for i in range(1):
        y = np.array([0.5, 0.5, 0.5])
        y *= 0.5
    return x


def test_fuzz_5_constant_array_updated_in_place_in_a_loop():
    # Once a ValueError: the dead, constant array's pullback got the zero 0 and reshaped it.
    check_grad(fuzz_5, 0.0, np.zeros(3))


# -- early returns in loops (found by the fuzzer) ----------------------------------------------


def return_after_a_break_test(x, y):
    for i in range(3):
        if x > 5.0:
            break
        if y > 1.0:
            return x * y
    return x * 2.0


def return_after_a_continue(x, y):
    for i in range(3):
        if i == 0:
            continue
        if y > 1.0:
            return x * y
    return x * 2.0


def return_in_an_if_in_a_while(x, y):
    n = 0
    while n < 3:
        if y > 1.0:
            return x * y
        n += 1
    return x * 2.0


def return_in_a_nested_if_in_a_for(x, y):
    for i in range(3):
        if y > 0.0:
            if y > 1.0:
                return x * y
    return x * 2.0


def unconditional_return_in_a_while(x):
    n = 0
    while n < 3:
        if x > 5.0:
            return x * 3.0
        return x * 2.0
    return x


def test_return_in_a_loop_with_a_break():
    assert zygote.gradient(return_after_a_break_test, 0.7, 1.5) == (1.5, 0.7)


def test_return_in_a_loop_with_a_continue():
    assert zygote.gradient(return_after_a_continue, 0.7, 1.5) == (1.5, 0.7)


def test_return_in_an_if_in_a_while():
    assert zygote.gradient(return_in_an_if_in_a_while, 0.7, 1.5) == (1.5, 0.7)


def test_return_in_a_nested_if_in_a_for():
    assert zygote.gradient(return_in_a_nested_if_in_a_for, 0.7, 1.5) == (1.5, 0.7)


def test_unconditional_return_in_a_while():
    assert zygote.gradient(unconditional_return_in_a_while, 1.0) == (2.0,)


def fuzz_3_helper(p, q):
    return (1.0 * p)


def fuzz_3(x, y):
    for i in range(1):
        for j in range(4):
            if (i ** 3) > fuzz_3_helper(i, y):
                break
            if fuzz_3_helper(y[1], 0.3) < np.cos((j + 1)):
                return np.sum(y * np.array([0.7, 1.3, 0.9]))
            y = (-np.sqrt(1 + y * y))
    return x


def test_fuzz_3_return_in_nested_loops_with_a_break():
    check_grad(fuzz_3, 0.0, np.zeros(3))
