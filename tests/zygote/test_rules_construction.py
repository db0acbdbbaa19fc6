"""Gradient checks of the construction and reshaping rules (ranges, np.r_/np.c_, splits, joins)."""
import types

import numpy as np
import pytest

import zygote
from zygote.testing import check_grad, weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
    test_rule_value_is_the_plain_value,
)

TABLE = SampleTable(20261203)
SAMPLES, sample, u, away = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.away

# -- index-built concatenations (subscripts, so never called as a value) ----------------------
sample(np.r_, lambda a, b: weighted_sum(np.r_[a, b]), u(3), u(2), mirrors=False)
sample(np.r_, lambda a, b: weighted_sum(np.r_[a, 0:3, b, 0.5]), u(3), 0.7, mirrors=False)
sample(np.r_, lambda a, b: weighted_sum(np.r_[a, b]), u(2, 3), u(1, 3), mirrors=False)
sample(np.r_, lambda a, b: weighted_sum(np.r_["-1", a, b]), u(2, 3), u(2, 2), mirrors=False)
sample(np.r_, lambda a: weighted_sum(np.r_[a]), u(4), mirrors=False)
sample(np.c_, lambda a, b: weighted_sum(np.c_[a, b]), u(3), u(3), mirrors=False)
sample(np.c_, lambda a, b: weighted_sum(np.c_[a, b]), u(3, 2), u(3), mirrors=False)

# -- ranges -------------------------------------------------------------------------------------
sample(np.linspace, lambda a, b: weighted_sum(np.linspace(a, b, 5)), 0.3, 2.1, kwargs=dict(num=5),
       float32=False)
sample(np.linspace, lambda a, b: weighted_sum(np.linspace(a, b, 4, endpoint=False)), u(3), u(3),
       kwargs=dict(num=4, endpoint=False))
sample(np.linspace, lambda a, b: weighted_sum(np.linspace(a, b, 3, axis=1)), u(2), u(2), kwargs=dict(num=3, axis=1))
sample(np.linspace, lambda a, b: weighted_sum(np.linspace(a, b, num=1)), u(2), u(1), kwargs=dict(num=1))
sample(np.logspace, lambda a, b: weighted_sum(np.logspace(a, b, 4)), u(2, lo=-1, hi=0), u(2, lo=0, hi=1),
       kwargs=dict(num=4))
sample(np.logspace, lambda a, b, base: weighted_sum(np.logspace(a, b, 4, True, base)), 0.2, 1.1, 2.5,
       mirrors=False)
sample(np.geomspace, lambda a, b: weighted_sum(np.geomspace(a, b, 5)), u(2, lo=0.5, hi=1.0), u(2, lo=2, hi=3),
       kwargs=dict(num=5))
sample(np.geomspace, lambda a, b: weighted_sum(np.geomspace(a, b, 3, endpoint=False, axis=-1)),
       -u(2, lo=0.5, hi=1.0), -u(2, lo=2, hi=3), kwargs=dict(num=3, endpoint=False, axis=-1))
sample(np.arange, lambda a, b: weighted_sum(np.arange(a, 3.0, b)), 0.25, 0.5, mirrors=False, float32=False)
sample(np.arange, lambda a: weighted_sum(np.arange(a, 4.0)), 0.25, mirrors=False, float32=False)
sample(np.full, lambda v: weighted_sum(np.full((2, 3), v)), 0.7, mirrors=False, float32=False)
sample(np.full, lambda v: weighted_sum(np.full((2, 3), v)), u(3), mirrors=False)
sample(np.full_like, lambda x, v: weighted_sum(np.full_like(x, v)), u(2, 3), 0.4, mirrors=False)

# -- splits -------------------------------------------------------------------------------------
sample(np.array_split, lambda x: weighted_sum(np.array_split(x, 3)[0]) + weighted_sum(np.array_split(x, 3)[2]),
       u(7, 2), mirrors=False)
sample(np.array_split, lambda x: weighted_sum(np.array_split(x, 2, axis=1)[1]), u(2, 5), mirrors=False)
sample(np.hsplit, lambda x: weighted_sum(np.hsplit(x, 2)[1]), u(3, 4), mirrors=False)
sample(np.hsplit, lambda x: weighted_sum(np.hsplit(x, [1])[0]) - weighted_sum(np.hsplit(x, [1])[1]), u(5),
       mirrors=False)
sample(np.vsplit, lambda x: weighted_sum(np.vsplit(x, [1, 3])[1]), u(4, 2), mirrors=False)
sample(np.dsplit, lambda x: weighted_sum(np.dsplit(x, 2)[0] * 2.0), u(2, 2, 4), mirrors=False)

# -- joins and rearrangements -------------------------------------------------------------------
sample(np.column_stack, lambda xs: weighted_sum(np.column_stack(xs)), [u(3), u(3, 2)])
sample(np.column_stack, lambda a, b: weighted_sum(np.column_stack((a, b))), u(4), u(4), mirrors=False)
sample(np.append, lambda a, b: weighted_sum(np.append(a, b)), u(2, 2), u(3))
sample(np.append, lambda a, b: weighted_sum(np.append(a, b, axis=1)), u(2, 2), u(2, 3), kwargs=dict(axis=1))
sample(np.rot90, lambda m: weighted_sum(np.rot90(m)), u(3, 4))
sample(np.rot90, lambda m: weighted_sum(np.rot90(m, 3, (1, 2))), u(2, 3, 4), kwargs=dict(k=3, axes=(1, 2)))
sample(np.rollaxis, lambda a: weighted_sum(np.rollaxis(a, 2)), u(2, 3, 4), kwargs=dict(axis=2))
sample(np.rollaxis, lambda a: weighted_sum(np.rollaxis(a, 0, 3)), u(2, 3, 4), kwargs=dict(axis=0, start=3))
sample(np.rollaxis, lambda a: weighted_sum(np.rollaxis(a, -1, 1)), u(2, 3, 4), kwargs=dict(axis=-1, start=1))
CONDITIONS = [np.array([True, False, True, False]), np.array([True, True, False, False])]
sample(np.select, lambda a, b, d: weighted_sum(np.select(CONDITIONS, [a, b], d)), u(4), u(4), u(4),
       mirrors=False)
sample(np.select, lambda a, b: weighted_sum(np.select(CONDITIONS, [a, b])), u(4), 1.5, mirrors=False)
sample(np.partition, lambda a: weighted_sum(np.partition(a, 2)), u(6), kwargs=dict(kth=2))
sample(np.partition, lambda a: weighted_sum(np.partition(a, (0, 2), axis=0)), u(4, 3),
       kwargs=dict(kth=(0, 2), axis=0))
sample(np.partition, lambda a: weighted_sum(np.partition(a, 1, axis=None)), u(2, 3), kwargs=dict(kth=1, axis=None))
sample(np.gradient, lambda f: weighted_sum(np.gradient(f)), u(6))
sample(np.gradient, lambda f, h: weighted_sum(np.gradient(f, h, edge_order=2)), u(6), 0.3, mirrors=False)
sample(np.gradient, lambda f: weighted_sum(np.gradient(f)[0]) + weighted_sum(np.gradient(f)[1]), u(3, 4),
       mirrors=False)
sample(np.gradient, lambda f, h, k: weighted_sum(np.gradient(f, h, k)[1]), u(3, 4), 0.5, 2.0, mirrors=False)
sample(np.gradient, lambda f: weighted_sum(np.gradient(f, axis=1)), u(3, 4), kwargs=dict(axis=1))
NANS = np.array([1.0, np.nan, 0.0, np.nan, -2.0, 0.0])  # (the default inf -> 1.8e308 drowns a sum)
INFINITE = np.array([1.0, np.nan, np.inf, -np.inf, -2.0, np.nan])
sample(np.nan_to_num, lambda x: weighted_sum(np.nan_to_num(x + NANS, nan=0.5)), u(6), kwargs=dict(nan=0.5),
       mirrors=False)
sample(np.nan_to_num, lambda x, n, p, m: weighted_sum(np.nan_to_num(INFINITE + x, True, n, p, m)),
       u(6, lo=0.5, hi=1.0), 0.5, 10.0, -10.0, mirrors=False)


def plain_and_gradient(f, *args):
    return f(*args), zygote.gradient(f, *args)


def test_r_and_c_compute_what_numpy_computes():
    a, b = u(3), u(3)
    assert np.array_equal(zygote.withgradient(lambda a: np.sum(np.r_[a, b] ** 2), a)[0],
                          np.sum(np.r_[a, b] ** 2))
    assert np.array_equal(zygote.withgradient(lambda a: np.sum(np.c_[a, b] * np.c_[b, a]), a)[0],
                          np.sum(np.c_[a, b] * np.c_[b, a]))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # (numpy's matrix, built first)
def test_matrix_directive_of_r_is_refused():
    with pytest.raises(NotImplementedError, match="directive 'r'"):
        zygote.gradient(lambda a: np.sum(np.r_["r", a, a]), u(3))


def test_linspace_with_retstep_is_refused():
    with pytest.raises(NotImplementedError, match="retstep"):
        zygote.gradient(lambda a: np.sum(np.linspace(a, 2.0, 4, retstep=True)[0]), 0.5)


def test_gradient_with_coordinates_is_refused():
    with pytest.raises(NotImplementedError, match="coordinate arrays"):
        zygote.gradient(lambda f: np.sum(np.gradient(f, np.array([0.0, 1.0, 3.0]))), u(3))


class Lookup:
    """A table without a rule, read at a differentiated key through its own __getitem__."""

    def __getitem__(self, key):
        return key * 2.0


def test_a_python_getitem_is_differentiated_in_its_key():
    table = Lookup()
    assert check_grad(lambda x: table[x] * x, 1.5)[0] == pytest.approx(6.0)


def test_a_c_getitem_without_a_rule_at_a_differentiated_key_raises():
    table = types.MappingProxyType({1.5: 2.0})
    with pytest.raises(zygote.MissingRuleError, match="__getitem__"):
        zygote.gradient(lambda x: table[x] * x, 1.5)


# -- shapes and counts vary, with hypothesis -----------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(num=st.integers(1, 6), endpoint=st.booleans(), size=st.integers(1, 3), axis=st.sampled_from([0, -1]),
       seed=st.integers(0, 2 ** 16))
def test_linspace_of_any_count_and_axis(num, endpoint, size, axis, seed):
    rng = np.random.default_rng(seed)
    check_grad(lambda a, b: weighted_sum(np.linspace(a, b, num, endpoint, axis=axis)),
               rng.normal(size=size), rng.normal(size=size))


@settings(max_examples=15, deadline=None)
@given(lengths=st.lists(st.integers(0, 3), min_size=1, max_size=4), seed=st.integers(0, 2 ** 16))
def test_r_and_c_of_any_pieces(lengths, seed):
    rng = np.random.default_rng(seed)
    pieces = [rng.normal(size=n) for n in lengths]
    check_grad(lambda pieces: weighted_sum(np.r_[tuple(pieces)]), pieces)
    same = [rng.normal(size=3) for _ in lengths]
    check_grad(lambda same: weighted_sum(np.c_[tuple(same)]), same)


# -- second order --------------------------------------------------------------------------------
from rule_coverage import second_derivative_check  # noqa: E402

W6 = TABLE.rng.uniform(0.5, 2, 6)
SECOND_ORDER_CASES = {
    np.linspace: (lambda a: np.sum(np.linspace(a, 2.0 * a, 6) ** 2 * W6[:, None]), u(2)),
    np.geomspace: (lambda a: np.sum(np.geomspace(a, 2.0, 6) * W6[:, None]), u(2, lo=0.5, hi=1.5)),
    np.logspace: (lambda a: np.sum(np.logspace(a, 1.0, 6) * W6[:, None]), u(2, lo=0.0, hi=0.5)),
    np.partition: (lambda a: np.sum(np.partition(a, 2) ** 2 * W6), u(6)),
    np.column_stack: (lambda a: np.sum(np.column_stack((a, a ** 2)) ** 2 * W6[:3, None]), u(3)),
    np.nan_to_num: (lambda a: np.sum(np.nan_to_num(a + NANS) ** 2 * W6), u(6)),
}


@pytest.mark.parametrize("key", list(SECOND_ORDER_CASES), ids=lambda key: key.__name__)
def test_second_order_of_constructions(key):
    second_derivative_check(*SECOND_ORDER_CASES[key])
