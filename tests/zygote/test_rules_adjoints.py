"""Gradient checks of the rules for helpers that generated adjoints call (they make nesting work)."""
import functools

import numpy as np

from zygote import protocol, runtime
from zygote.rules import objects
from zygote.rules.numpy import expand_reduced
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
)
from zygote.testing import check_grad, weighted_sum

TABLE = SampleTable(7)
SAMPLES = TABLE.rows


def sample(key, static, *args):
    """A row checked through the compiler only (these helpers are not called by users)."""
    TABLE.add(key, static, *args, mirrors=False, dynamic=False, float32=False)


row = TABLE.rng.standard_normal(3)
matrix = TABLE.rng.standard_normal((2, 3))


def scaled(a, b):
    return a * b + 1.0


sample(runtime.unbroadcast, lambda g: weighted_sum(runtime.unbroadcast(g, row)), matrix)
sample(runtime.unbroadcast, lambda g: weighted_sum(runtime.unbroadcast(g, matrix)), 0.7)
sample(runtime.add_cotangent, lambda a, b: weighted_sum(runtime.add_cotangent(a, b, row)), matrix, row)
sample(runtime.accum, lambda a, b: weighted_sum(runtime.accum(a, b, row)), row, matrix)
sample(runtime.add_back, lambda g: weighted_sum(runtime.add_back(g, row, row)[0] * 2.0), row)
sample(runtime.copy_for_write, lambda x: weighted_sum(runtime.copy_for_write(x) ** 2), row)
sample(runtime.dict_back, lambda v: runtime.dict_back({"a": v * 3.0}, "a") * 2.0, 0.4)
sample(runtime.getitem_back, lambda d: weighted_sum(runtime.getitem_back(matrix, (1, slice(0, 2)), d)),
       np.array([0.3, -0.8]))
sample(protocol.getitem_back, lambda d: weighted_sum(protocol.getitem_back(matrix, (0, slice(1, 3)), d)),
       np.array([0.6, -0.2]))
sample(runtime.split_cotangent, lambda a, b: runtime.split_cotangent((a * 2.0, b), 2)[0] * b, 0.4, 1.5)
sample(expand_reduced, lambda d: weighted_sum(expand_reduced(d, matrix, 1, False)), np.array([0.2, 0.9]))
sample(functools.partial, lambda a, b: functools.partial(scaled, a)(b) * 3.0, 0.4, 1.5)


def test_nested_gradient_through_a_broadcasting_adjoint():
    import zygote
    w = np.array([1.0, -2.0, 0.5])

    def f(x):
        return np.sum(np.sin(x * w)) + x * x

    def df(x):
        return zygote.gradient(f, x)[0]
    check_grad(df, 0.3)


class Shape:
    def __init__(self, scale):
        self.scale = scale

    def area(self, r):
        return r * r * self.scale


class Disc(Shape):
    def area(self, r):
        return 3.0 * super().area(r)


sample(super, lambda r, s: Disc(s).area(r) if False else disc_area(Disc(2.0), r) * s, 0.5, 1.5)


def disc_area(disc, r):
    return disc.area(r)


def test_super_passes_the_gradient_to_self():
    import zygote
    dd, dr = zygote.gradient(disc_area, Disc(2.0), 0.5)
    assert dr == 6.0 and dd == {"scale": 0.75}


# -- objects: writing attributes, building namedtuples, handing cotangents across calls ------------

class _Box:
    pass


_Pair = __import__("collections").namedtuple("_Pair", "x y")


def _set_then_read(write, v):
    box = _Box()
    write(box, "v", v * 2.0)
    return box.v * v


def _handed_over(v):
    box = _Box()
    kept = runtime.deposit(box, {"v": v * 2.0})
    return runtime.reclaim(box, kept)["v"] * v


def _withdrawn(v):
    box = _Box()
    runtime.deposit(box, {"v": v * 3.0})
    return runtime.withdraw(box)["v"] * v


sample(setattr, lambda v: _set_then_read(setattr, v), 0.7)
sample(object.__setattr__, lambda v: _set_then_read(object.__setattr__, v), 0.7)
sample(objects.make_namedtuple, lambda a, b: objects.make_namedtuple(_Pair, (a, b)).x * b, 0.4, 1.5)
sample(runtime.deposit, _handed_over, 0.6)
sample(runtime.reclaim, _handed_over, 0.8)
sample(runtime.withdraw, _withdrawn, 0.6)
sample(runtime.setattr_back, lambda a, b: runtime.setattr_back({"v": a * b, "w": b}, "v")[0] * a, 0.4, 1.5)

# -- a compiled gradient (zygote.native) called inside differentiated code ------------------------

try:
    import numba  # noqa: F401  (the numba extra)
except ImportError:
    numba = None
if numba is not None:
    import math

    from zygote.native.gradient import grad as _native_grad, run_compiled

    def _wave(x):
        return math.sin(x) * x * x

    _WAVE_GRADIENT = _native_grad(_wave).gradient
    sample(run_compiled, lambda x: run_compiled(_WAVE_GRADIENT, (x,)) * x, 0.7)
