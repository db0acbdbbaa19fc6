"""Gradient checks of every numpy rule: called by name, called as a value, and in float32."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zygote
from zygote.testing import check_grad, weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
)


TABLE = SampleTable(20240501)
SAMPLES, sample, u, away, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.away, TABLE.rng
NAN_MASK = np.where(np.arange(12).reshape(3, 4) % 5 == 2, np.nan, 1.0)   # NaN at 3 places






# -- elementwise, one argument -------------------------------------------------------------------
sample(np.sin, lambda x: weighted_sum(np.sin(x)), u(3, 4))
sample(np.cos, lambda x: weighted_sum(np.cos(x)), u(3, 4))
sample(np.tan, lambda x: weighted_sum(np.tan(x)), u(3, 4, lo=-1.2, hi=1.2))
sample(np.exp, lambda x: weighted_sum(np.exp(x)), u(3, 4))
sample(np.exp2, lambda x: weighted_sum(np.exp2(x)), u(3, 4))
sample(np.expm1, lambda x: weighted_sum(np.expm1(x)), u(3, 4))
sample(np.log, lambda x: weighted_sum(np.log(x)), u(3, 4, lo=0.5, hi=3.0))
sample(np.log2, lambda x: weighted_sum(np.log2(x)), u(3, 4, lo=0.5, hi=3.0))
sample(np.log10, lambda x: weighted_sum(np.log10(x)), u(3, 4, lo=0.5, hi=3.0))
sample(np.log1p, lambda x: weighted_sum(np.log1p(x)), u(3, 4, lo=-0.5, hi=2.0))
sample(np.sqrt, lambda x: weighted_sum(np.sqrt(x)), u(3, 4, lo=0.5, hi=3.0))
sample(np.cbrt, lambda x: weighted_sum(np.cbrt(x)), away(3, 4))
sample(np.square, lambda x: weighted_sum(np.square(x)), u(3, 4))
sample(np.reciprocal, lambda x: weighted_sum(np.reciprocal(x)), away(3, 4))
sample(np.tanh, lambda x: weighted_sum(np.tanh(x)), u(3, 4))
sample(np.sinh, lambda x: weighted_sum(np.sinh(x)), u(3, 4))
sample(np.cosh, lambda x: weighted_sum(np.cosh(x)), u(3, 4))
sample(np.arcsin, lambda x: weighted_sum(np.arcsin(x)), u(3, 4, lo=-0.8, hi=0.8))
sample(np.arccos, lambda x: weighted_sum(np.arccos(x)), u(3, 4, lo=-0.8, hi=0.8))
sample(np.arctan, lambda x: weighted_sum(np.arctan(x)), u(3, 4))
sample(np.arcsinh, lambda x: weighted_sum(np.arcsinh(x)), u(3, 4))
sample(np.arccosh, lambda x: weighted_sum(np.arccosh(x)), u(3, 4, lo=1.2, hi=3.0))
sample(np.arctanh, lambda x: weighted_sum(np.arctanh(x)), u(3, 4, lo=-0.8, hi=0.8))
sample(np.sinc, lambda x: weighted_sum(np.sinc(x)), u(3, 4))
sample(np.sinc, lambda x: weighted_sum(np.sinc(x)), np.array([0.0, 0.5, -1.5]))
sample(np.deg2rad, lambda x: weighted_sum(np.deg2rad(x)), u(3, 4))
sample(np.radians, lambda x: weighted_sum(np.radians(x)), u(3, 4))
sample(np.rad2deg, lambda x: weighted_sum(np.rad2deg(x)), u(3, 4))
sample(np.degrees, lambda x: weighted_sum(np.degrees(x)), u(3, 4))
sample(np.abs, lambda x: weighted_sum(np.abs(x)), away(3, 4))
sample(np.abs, lambda x: weighted_sum(np.absolute(x)), away(3, 4))
sample(np.fabs, lambda x: weighted_sum(np.fabs(x)), away(3, 4))
sample(np.sign, lambda x: weighted_sum(np.sign(x) * x), away(3, 4))
sample(np.negative, lambda x: weighted_sum(np.negative(x)), u(3, 4))
sample(np.positive, lambda x: weighted_sum(np.positive(x)), u(3, 4))
sample(np.sin, lambda x: np.sin(x) * 2.0, 0.3)
sample(np.exp, lambda x: np.exp(x) * 2.0, np.float64(0.3))

# -- elementwise, two arguments ------------------------------------------------------------------
sample(np.add, lambda a, b: weighted_sum(np.add(a, b)), u(3, 1), u(1, 4))
sample(np.subtract, lambda a, b: weighted_sum(np.subtract(a, b)), u(3, 4), u(4))
sample(np.multiply, lambda a, b: weighted_sum(np.multiply(a, b)), u(3, 4), u(3, 1))
sample(np.multiply, lambda a, b: weighted_sum(np.multiply(a, b)), 1.7, u(3, 4))
sample(np.divide, lambda a, b: weighted_sum(np.divide(a, b)), u(3, 4), away(4))
sample(np.divide, lambda a, b: weighted_sum(np.true_divide(a, b)), u(2, 3), away(2, 1))
sample(np.power, lambda a, b: weighted_sum(np.power(a, b)), u(3, 4, lo=0.5, hi=2.0), u(4))
sample(np.power, lambda a, n: weighted_sum(np.power(a, n)), u(3, 4), 3)
sample(np.float_power, lambda a, b: weighted_sum(np.float_power(a, b)), u(3, 4, lo=0.5, hi=2.0), u(3, 1),
       float32=False)  # float_power computes in float64 by definition
sample(np.remainder, lambda a, b: weighted_sum(np.remainder(a, b)), np.array([1.1, 2.3, -0.4, 3.2]), 0.7)
sample(np.fmod, lambda a, b: weighted_sum(np.fmod(a, b)), np.array([1.1, 2.3, -0.4, -3.2]), 0.7)
sample(np.divmod, lambda a, b: weighted_sum(np.divmod(a, b)[1] * a), np.array([1.1, 2.3, -0.4, 3.2]), 0.7,
       mirrors=False)
sample(np.maximum, lambda a, b: weighted_sum(np.maximum(a, b)), u(3, 1), u(1, 4))
sample(np.minimum, lambda a, b: weighted_sum(np.minimum(a, b)), u(3, 4), u(4))
sample(np.fmax, lambda a, b: weighted_sum(np.fmax(a, b)), u(3, 1), u(1, 4))
sample(np.fmin, lambda a, b: weighted_sum(np.fmin(a, b)), u(3, 4), u(4))
sample(np.arctan2, lambda a, b: weighted_sum(np.arctan2(a, b)), away(3, 4), away(4))
sample(np.hypot, lambda a, b: weighted_sum(np.hypot(a, b)), away(3, 4), away(3, 1))
sample(np.copysign, lambda a, b: weighted_sum(np.copysign(a, b)), away(3, 4), away(4))
sample(np.logaddexp, lambda a, b: weighted_sum(np.logaddexp(a, b)), u(3, 1), u(1, 4))
sample(np.logaddexp2, lambda a, b: weighted_sum(np.logaddexp2(a, b)), u(3, 4), u(4))
sample(np.clip, lambda x: weighted_sum(np.clip(x, -0.5, 1.0)), away(3, 4, lo=0.1, hi=2.0))
sample(np.clip, lambda x, lo, hi: weighted_sum(np.clip(x, lo, hi)), away(3, 4, lo=0.1), away(4, lo=0.05, hi=0.3),
       u(3, 1, lo=0.7, hi=0.9))
sample(np.clip, lambda x: weighted_sum(np.clip(x, None, 0.5)), away(3, 4, lo=0.1))
sample(np.clip, lambda x: weighted_sum(np.clip(x, min=-0.5, max=0.8)), away(3, 4, lo=0.1),
       kwargs=dict(min=-0.5, max=0.8))
sample(np.clip, lambda x, hi: weighted_sum(np.clip(x, min=-0.5, max=hi)), away(3, 4, lo=0.1), u(4, lo=0.2, hi=0.8),
       dynamic=False, float32=False)
STEPS = np.array([-1.0, 0.0, 2.0, 0.0])   # (heaviside is discontinuous in its first argument at 0)
sample(np.heaviside, lambda h: weighted_sum(np.heaviside(STEPS, h)), u(4), mirrors=False)
sample(np.where, lambda c, x, z: weighted_sum(np.where(c, x, z)), u(3, 4) > 0, u(3, 4), u(4))
sample(np.float64, lambda x: np.float64(x) * 3.0, 0.7)
sample(np.float32, lambda x: np.float32(x) * 3.0, 0.7, eps=1e-2, rtol=1e-3)
sample(np.float16, lambda x: np.float16(x) * 3.0, 0.7, eps=0.25, rtol=2e-2)

# -- reductions ----------------------------------------------------------------------------------
sample(np.sum, lambda x: np.sum(np.sin(x)), u(3, 4))
sample(np.sum, lambda x: weighted_sum(np.sum(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.sum, lambda x: weighted_sum(np.sum(x, axis=(0, -1), keepdims=True)), u(2, 3, 4),
       kwargs=dict(axis=(0, -1), keepdims=True))
sample(np.sum, lambda x, axis: weighted_sum(np.sum(x, axis)), u(3, 4), 0)
sample(np.mean, lambda x: np.mean(np.sin(x)), u(3, 4))
sample(np.mean, lambda x: weighted_sum(np.mean(x, axis=-1)), u(3, 4), kwargs=dict(axis=-1))
sample(np.mean, lambda x: weighted_sum(np.mean(x, axis=(0, 2), keepdims=True)), u(2, 3, 4),
       kwargs=dict(axis=(0, 2), keepdims=True))
sample(np.prod, lambda x: np.prod(x), u(2, 3, lo=0.5, hi=1.5))
sample(np.prod, lambda x: weighted_sum(np.prod(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.prod, lambda x: weighted_sum(np.prod(x, axis=0, keepdims=True)), np.array([[0.0, 2.0], [3.0, 0.5],
                                                                                     [0.0, 1.5]]),
       kwargs=dict(axis=0, keepdims=True))
sample(np.prod, lambda x: weighted_sum(np.prod(x, axis=(0, 2))), u(2, 3, 2), kwargs=dict(axis=(0, 2)))
sample(np.max, lambda x: np.max(x), u(3, 4))
sample(np.max, lambda x: weighted_sum(np.max(x, axis=0)), u(3, 4), kwargs=dict(axis=0))
sample(np.min, lambda x: np.min(x) * 2.0, u(3, 4))
sample(np.min, lambda x: weighted_sum(np.min(x, axis=1, keepdims=True)), u(3, 4), kwargs=dict(axis=1, keepdims=True))
sample(np.amax, lambda x: weighted_sum(np.amax(x, axis=(0, 2))), u(2, 3, 4), kwargs=dict(axis=(0, 2)))
sample(np.amin, lambda x: weighted_sum(np.amin(x, axis=-1)), u(3, 4), kwargs=dict(axis=-1))
sample(np.var, lambda x: np.var(x), u(3, 4))
sample(np.var, lambda x: weighted_sum(np.var(x, axis=1, ddof=1)), u(3, 4), kwargs=dict(axis=1, ddof=1))
sample(np.var, lambda x: weighted_sum(np.var(x, axis=0, keepdims=True)), u(3, 4), kwargs=dict(axis=0, keepdims=True))
sample(np.std, lambda x: np.std(x), u(3, 4))
sample(np.std, lambda x: weighted_sum(np.std(x, axis=0)) + np.sum(x), np.ones((2, 3)), kwargs=dict(axis=0))
sample(np.std, lambda x: weighted_sum(np.std(x, axis=(0, 1), ddof=1)), u(2, 3, 4), kwargs=dict(axis=(0, 1), ddof=1))
sample(np.cumsum, lambda x: weighted_sum(np.cumsum(x)), u(3, 4))
sample(np.cumsum, lambda x: weighted_sum(np.cumsum(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.nansum, lambda x: weighted_sum(np.nansum(x, axis=0)), u(3, 4), kwargs=dict(axis=0))
sample(np.nansum, lambda x: np.nansum(x), u(3, 4) * NAN_MASK)
sample(np.nanmean, lambda x: np.nanmean(x), u(3, 4) * NAN_MASK)
sample(np.nanmean, lambda x: weighted_sum(np.nanmean(x, axis=1, keepdims=True)), u(3, 4) * NAN_MASK,
       kwargs=dict(axis=1, keepdims=True))
sample(np.average, lambda x: np.average(x), u(3, 4))
sample(np.average, lambda x: weighted_sum(np.average(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.average, lambda x, w: weighted_sum(np.average(x, axis=1, weights=w)), u(3, 4),
       u(3, 4, lo=0.5, hi=1.5), mirrors=False, dynamic=False)
sample(np.average, lambda x, w: weighted_sum(np.average(x, axis=0, weights=w)), u(3, 4),
       u(3, lo=0.5, hi=1.5), mirrors=False, dynamic=False)
sample(np.vdot, lambda a, b: np.vdot(a, b), u(2, 3), u(3, 2))
sample(np.cross, lambda a, b: weighted_sum(np.cross(a, b)), u(3), u(3))
sample(np.cross, lambda a, b: weighted_sum(np.cross(a, b)), u(4, 3), u(3))
sample(np.convolve, lambda a, v: weighted_sum(np.convolve(a, v)), u(5), u(3))
sample(np.convolve, lambda a, v: weighted_sum(np.convolve(a, v, mode="same")), u(5), u(4),
       kwargs=dict(mode="same"))
sample(np.convolve, lambda a, v: weighted_sum(np.convolve(a, v, mode="valid")), u(3), u(6),
       kwargs=dict(mode="valid"))
sample(np.median, lambda x: np.median(x), u(5))
sample(np.median, lambda x: np.median(x) * 2.0, u(3, 4))
sample(np.median, lambda x: weighted_sum(np.median(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.median, lambda x: weighted_sum(np.median(x, axis=0, keepdims=True)), u(5, 2),
       kwargs=dict(axis=0, keepdims=True))
sample(np.cumprod, lambda x: weighted_sum(np.cumprod(x)), u(2, 3))
sample(np.cumprod, lambda x: weighted_sum(np.cumprod(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.cumprod, lambda x: weighted_sum(np.cumprod(x, axis=0)), np.array([[1.5, 0.0], [0.0, 2.0], [0.5, -1.0]]),
       kwargs=dict(axis=0))
sample(np.ptp, lambda x: np.ptp(x), u(3, 4))
sample(np.ptp, lambda x: weighted_sum(np.ptp(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.interp, lambda x, xp, fp: weighted_sum(np.interp(x, xp, fp)),
       np.array([-1.7, -0.4, 0.15, 0.9, 2.6]), np.array([-1.0, 0.0, 0.5, 2.0]), u(4), mirrors=False)
sample(np.interp, lambda x, xp, fp: weighted_sum(np.interp(x, xp, fp, left=-3.0, right=4.0)),
       np.array([-1.7, 0.15, 2.6]), np.array([-1.0, 0.5, 2.0]), u(3), mirrors=False,
       kwargs=dict(left=-3.0, right=4.0))
sample(np.polyval, lambda p, x: weighted_sum(np.polyval(p, x)), u(4), u(3))
sample(np.polyval, lambda p, x: np.polyval(p, x), u(3), 0.7)
sample(np.diff, lambda x: weighted_sum(np.diff(x)), u(3, 5))
sample(np.diff, lambda x: weighted_sum(np.diff(x, n=2, axis=0)), u(5, 3), kwargs=dict(n=2, axis=0))
sample(np.linalg.norm, lambda x: np.linalg.norm(x), u(3, 4))
sample(np.linalg.norm, lambda x: weighted_sum(np.linalg.norm(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.linalg.norm, lambda x: weighted_sum(np.linalg.norm(x, ord=1, axis=0, keepdims=True)), away(3, 4),
       kwargs=dict(ord=1, axis=0, keepdims=True))

# -- linear algebra ------------------------------------------------------------------------------
sample(np.matmul, lambda a, b: weighted_sum(np.matmul(a, b)), u(3, 4), u(4, 2))
sample(np.matmul, lambda a, b: weighted_sum(np.matmul(a, b)), u(2, 1, 3, 4), u(5, 4, 2))
sample(np.matmul, lambda a, b: weighted_sum(np.matmul(a, b)), u(4), u(2, 4, 3))
sample(np.matmul, lambda a, b: weighted_sum(np.matmul(a, b)), u(2, 3, 4), u(4))
sample(np.matmul, lambda a, b: np.matmul(a, b), u(4), u(4))
sample(np.dot, lambda a, b: weighted_sum(np.dot(a, b)), u(3, 4), u(4, 2))
sample(np.dot, lambda a, b: weighted_sum(np.dot(a, b)), u(3, 4), u(4))
sample(np.dot, lambda a, b: np.dot(a, b), u(4), u(4))
sample(np.dot, lambda a, b: weighted_sum(np.dot(a, b)), 1.5, u(3, 2))
sample(np.dot, lambda a, b: weighted_sum(np.dot(a, b)), u(2, 3, 4), u(5, 4, 2))
sample(np.dot, lambda a, b: weighted_sum(np.dot(a, b)), u(2, 3, 4), u(4))
sample(np.inner, lambda a, b: weighted_sum(np.inner(a, b)), u(3, 4), u(2, 4))
sample(np.inner, lambda a, b: np.inner(a, b), u(4), u(4))
sample(np.outer, lambda a, b: weighted_sum(np.outer(a, b)), u(3), u(2, 2))
sample(np.tensordot, lambda a, b: weighted_sum(np.tensordot(a, b, axes=1)), u(2, 3), u(3, 4),
       kwargs=dict(axes=1))
sample(np.tensordot, lambda a, b: weighted_sum(np.tensordot(a, b, axes=([0, 2], [2, 1]))), u(2, 3, 4),
       u(5, 4, 2), kwargs=dict(axes=([0, 2], [2, 1])))
sample(np.tensordot, lambda a, b: np.tensordot(a, b), u(2, 3), u(2, 3))
sample(np.linalg.inv, lambda a: weighted_sum(np.linalg.inv(a)), u(3, 3) + 4 * np.eye(3))
sample(np.linalg.inv, lambda a: weighted_sum(np.linalg.inv(a)), u(2, 3, 3) + 4 * np.eye(3))
sample(np.linalg.solve, lambda a, b: weighted_sum(np.linalg.solve(a, b)), u(3, 3) + 4 * np.eye(3), u(3))
sample(np.linalg.solve, lambda a, b: weighted_sum(np.linalg.solve(a, b)), u(3, 3) + 4 * np.eye(3),
       u(3, 2))
sample(np.linalg.solve, lambda a, b: weighted_sum(np.linalg.solve(a, b)), u(2, 3, 3) + 4 * np.eye(3),
       u(3, 2))
sample(np.linalg.det, lambda a: np.linalg.det(a), u(3, 3) + 2 * np.eye(3))
sample(np.linalg.det, lambda a: weighted_sum(np.linalg.det(a)), u(2, 3, 3) + 2 * np.eye(3))
sample(np.linalg.slogdet, lambda a: np.linalg.slogdet(a)[1] * 2.0, u(3, 3) - 3 * np.eye(3))
sample(np.linalg.slogdet, lambda a: weighted_sum(np.linalg.slogdet(a).logabsdet),
       u(2, 3, 3) + 3 * np.eye(3), mirrors=False)
sample(np.linalg.matrix_power, lambda a, n: weighted_sum(np.linalg.matrix_power(a, n)), u(3, 3) * 0.5, 3,
       mirrors=False)
sample(np.linalg.matrix_power, lambda a, n: weighted_sum(np.linalg.matrix_power(a, n)), u(3, 3), 0,
       mirrors=False)
sample(np.linalg.matrix_power, lambda a, n: weighted_sum(np.linalg.matrix_power(a, n)),
       u(3, 3) + 4 * np.eye(3), -2, mirrors=False)
sample(np.linalg.eigvalsh, lambda a: weighted_sum(np.linalg.eigvalsh(a)), u(4, 4))
sample(np.linalg.eigvalsh, lambda a: weighted_sum(np.linalg.eigvalsh(a)), u(2, 3, 3))
sample(np.linalg.eigh, lambda a: weighted_sum(np.linalg.eigh(a)[0]) + weighted_sum(np.linalg.eigh(a)[1] ** 2),
       u(4, 4), mirrors=False)
sample(np.linalg.eigh, lambda a: weighted_sum(np.linalg.eigh(a).eigenvectors ** 2), u(2, 3, 3),
       mirrors=False)
sample(np.linalg.cholesky, lambda a: weighted_sum(np.linalg.cholesky(a)), u(3, 3) + 5 * np.eye(3))
sample(np.linalg.cholesky, lambda a: weighted_sum(np.linalg.cholesky(a)), u(2, 3, 3) + 5 * np.eye(3))
sample(np.triu, lambda x: weighted_sum(np.triu(x)), u(3, 4))
sample(np.triu, lambda x: weighted_sum(np.triu(x, -1)), u(2, 3, 3), kwargs=dict(k=-1))
sample(np.tril, lambda x: weighted_sum(np.tril(x, 1)), u(3, 4), kwargs=dict(k=1))
sample(np.trace, lambda x: np.trace(x) * 2.0, u(3, 4))
sample(np.trace, lambda x: weighted_sum(np.trace(x, offset=1, axis1=2, axis2=0)), u(3, 2, 4),
       kwargs=dict(offset=1, axis1=2, axis2=0))
sample(np.diagonal, lambda x: weighted_sum(np.diagonal(x)), u(3, 4))
sample(np.diagonal, lambda x: weighted_sum(np.diagonal(x, offset=-1, axis1=1, axis2=2)), u(2, 3, 4),
       kwargs=dict(offset=-1, axis1=1, axis2=2))
sample(np.diag, lambda x: weighted_sum(np.diag(x)), u(4))
sample(np.diag, lambda x, k: weighted_sum(np.diag(x, k)), u(3, 4), 1)
sample(np.diag, lambda x: weighted_sum(np.diag(x, k=-1)), u(3), kwargs=dict(k=-1))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "ij,jk->ik", u(3, 4), u(4, 2))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "Ab,bc", u(2, 3), u(3, 4))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "cb,Ab", u(2, 3), u(4, 3))
sample(np.einsum, lambda s, a: np.einsum(s, a) * 2.0, "ii", u(3, 3))
sample(np.einsum, lambda s, a: weighted_sum(np.einsum(s, a)), "ii->i", u(3, 3))
sample(np.einsum, lambda s, a: weighted_sum(np.einsum(s, a)), "ijk->ki", u(2, 3, 4))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "i,j->ij", u(3), u(4))
sample(np.einsum, lambda s, a, b: np.einsum(s, a, b), "ij,ij", u(3, 4), u(3, 4))
sample(np.einsum, lambda s, a, b, c: weighted_sum(np.einsum(s, a, b, c)), "ij,jk,kl->il", u(2, 3), u(3, 4),
       u(4, 2))
sample(np.einsum, lambda s, a, b, c: weighted_sum(np.einsum(s, a, b, c)), "iij,j,k->ik", u(3, 3, 2), u(2),
       u(4))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "...ij,...jk->...ik", u(2, 3, 4),
       u(2, 4, 2))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b)), "...i,...i", u(1, 3), u(2, 3))
sample(np.einsum, lambda s, a, b: weighted_sum(np.einsum(s, a, b, optimize=True)), "bij,bjk->bik",
       u(2, 3, 4), u(2, 4, 2), kwargs=dict(optimize=True))

# -- shapes --------------------------------------------------------------------------------------
sample(np.reshape, lambda x: weighted_sum(np.reshape(x, (4, 3))), u(3, 4), kwargs=dict(shape=(4, 3)))
sample(np.reshape, lambda x, shape: weighted_sum(np.reshape(x, shape)), u(3, 4), (2, -1))
sample(np.ravel, lambda x: weighted_sum(np.ravel(x)), u(3, 4))
sample(np.squeeze, lambda x: weighted_sum(np.squeeze(x)), u(3, 1, 4))
sample(np.squeeze, lambda x: weighted_sum(np.squeeze(x, axis=0)), u(1, 3, 1), kwargs=dict(axis=0))
sample(np.expand_dims, lambda x: weighted_sum(np.expand_dims(x, 1)), u(3, 4), kwargs=dict(axis=1))
sample(np.atleast_1d, lambda x: weighted_sum(np.atleast_1d(x)), 0.4)
sample(np.atleast_2d, lambda x: weighted_sum(np.atleast_2d(x)), u(3))
sample(np.atleast_3d, lambda x: weighted_sum(np.atleast_3d(x)), u(3, 2))
sample(np.copy, lambda x: weighted_sum(np.copy(x)), u(3, 4))
sample(np.transpose, lambda x: weighted_sum(np.transpose(x)), u(3, 4))
sample(np.transpose, lambda x: weighted_sum(np.transpose(x, (2, 0, 1))), u(2, 3, 4), kwargs=dict(axes=(2, 0, 1)))
sample(np.moveaxis, lambda x: weighted_sum(np.moveaxis(x, 0, -1)), u(2, 3, 4), kwargs=dict(source=0, destination=-1))
sample(np.moveaxis, lambda x: weighted_sum(np.moveaxis(x, (0, 1), (2, 0))), u(2, 3, 4),
       kwargs=dict(source=(0, 1), destination=(2, 0)))
sample(np.swapaxes, lambda x: weighted_sum(np.swapaxes(x, 0, 2)), u(2, 3, 4), kwargs=dict(axis1=0, axis2=2))
sample(np.flip, lambda x: weighted_sum(np.flip(x)), u(3, 4))
sample(np.flip, lambda x: weighted_sum(np.flip(x, axis=1)), u(3, 4), kwargs=dict(axis=1))
sample(np.fliplr, lambda x: weighted_sum(np.fliplr(x)), u(3, 4))
sample(np.flipud, lambda x: weighted_sum(np.flipud(x)), u(3, 4))
sample(np.roll, lambda x: weighted_sum(np.roll(x, 2)), u(3, 4), kwargs=dict(shift=2))
sample(np.roll, lambda x: weighted_sum(np.roll(x, (1, -1), axis=(0, 1))), u(3, 4),
       kwargs=dict(shift=(1, -1), axis=(0, 1)))
sample(np.broadcast_to, lambda x: weighted_sum(np.broadcast_to(x, (2, 3, 4))), u(3, 1), kwargs=dict(shape=(2, 3, 4)))
sample(np.tile, lambda x: weighted_sum(np.tile(x, 3)), u(2, 2), kwargs=dict(reps=3))
sample(np.tile, lambda x: weighted_sum(np.tile(x, (2, 1, 3))), u(2, 2), kwargs=dict(reps=(2, 1, 3)))
sample(np.repeat, lambda x: weighted_sum(np.repeat(x, 2)), u(2, 3), kwargs=dict(repeats=2))
sample(np.repeat, lambda x: weighted_sum(np.repeat(x, 3, axis=1)), u(2, 3), kwargs=dict(repeats=3, axis=1))
sample(np.repeat, lambda x: weighted_sum(np.repeat(x, [1, 0, 2], axis=0)), u(3, 2),
       kwargs=dict(repeats=[1, 0, 2], axis=0))
sample(np.pad, lambda x: weighted_sum(np.pad(x, ((1, 0), (2, 1)))), u(3, 4), kwargs=dict(pad_width=((1, 0), (2, 1))))
sample(np.pad, lambda x, c: weighted_sum(np.pad(x, 1, constant_values=c)), u(2, 3), 0.3, mirrors=False)
sample(np.sort, lambda x: weighted_sum(np.sort(x)), u(3, 4))
sample(np.sort, lambda x: weighted_sum(np.sort(x, axis=0)), u(3, 4), kwargs=dict(axis=0))
sample(np.sort, lambda x: weighted_sum(np.sort(x, axis=None)), u(3, 4), kwargs=dict(axis=None))
sample(np.take, lambda x: weighted_sum(np.take(x, [0, 5, 5, 11])), u(3, 4), kwargs=dict(indices=[0, 5, 5, 11]))
sample(np.take, lambda x: weighted_sum(np.take(x, [2, 0, 2], axis=1)), u(3, 4), kwargs=dict(indices=[2, 0, 2], axis=1))
sample(np.take, lambda x, i: np.take(x, i) * 3.0, u(3, 4), 4)
sample(np.take_along_axis, lambda x, i: weighted_sum(np.take_along_axis(x, i, axis=1)), u(3, 4),
       np.array([[0, 0], [3, 1], [2, 3]]), kwargs=dict(axis=1))
sample(np.take_along_axis, lambda x, i, axis: weighted_sum(np.take_along_axis(x, i, axis)), u(3, 2),
       np.array([[2, 0], [2, 2]]), 0)
sample(np.take_along_axis, lambda x, i: weighted_sum(np.take_along_axis(x, i, axis=None)), u(3, 2),
       np.array([5, 0, 5]), kwargs=dict(axis=None))
sample(np.take_along_axis, lambda x: weighted_sum(np.take_along_axis(x, np.array([[2, 0, 2, 1]]), axis=1)), u(3, 3),
       mirrors=False)  # indices broadcast along the other axis
sample(np.concatenate, lambda xs: weighted_sum(np.concatenate(xs)), [u(2, 3), u(4, 3)])
sample(np.concatenate, lambda xs, axis: weighted_sum(np.concatenate(xs, axis)), [u(2, 3), u(2, 1)], 1)
sample(np.concatenate, lambda xs: weighted_sum(np.concatenate(xs, axis=1)), (u(2, 3), u(2, 1)), kwargs=dict(axis=1))
sample(np.concatenate, lambda a, b: weighted_sum(np.concatenate([a, b])), u(2, 3), u(4, 3), mirrors=False)
sample(np.concatenate, lambda a, b: weighted_sum(np.concatenate((a, b), axis=1)), u(2, 3), u(2, 1), mirrors=False)
sample(np.concatenate, lambda a, b: weighted_sum(np.concatenate([a, b], axis=None)), u(2, 3), u(4), mirrors=False)
sample(np.stack, lambda xs: weighted_sum(np.stack(xs, axis=1)), [u(2, 3), u(2, 3)], kwargs=dict(axis=1))
sample(np.stack, lambda xs, axis: weighted_sum(np.stack(xs, axis)), [u(2, 3), u(2, 3)], -1)
sample(np.stack, lambda a, b: weighted_sum(np.stack([a, b])), u(2, 3), u(2, 3), mirrors=False)
sample(np.stack, lambda a, b: weighted_sum(np.stack((a, b, a), axis=-1)), u(2, 3), u(2, 3), mirrors=False)
sample(np.stack, lambda a, b: weighted_sum(np.stack([a, b, 0.5])), 0.3, 1.2, mirrors=False)
sample(np.stack, lambda x: weighted_sum(np.stack(x)), u(3, 2))
sample(np.hstack, lambda xs: weighted_sum(np.hstack(xs)), [u(3), u(2)])
sample(np.hstack, lambda a, b: weighted_sum(np.hstack([a, b])), u(2, 3), u(2, 1), mirrors=False)
sample(np.vstack, lambda xs: weighted_sum(np.vstack(xs)), [u(3), u(2, 3)])
sample(np.vstack, lambda a, b: weighted_sum(np.vstack((a, b))), u(1, 2), u(2, 2), mirrors=False)
sample(np.split, lambda x, n: weighted_sum(np.split(x, n)[1]) + weighted_sum(np.split(x, n)[2]), u(6, 2), 3,
       dynamic=False)
sample(np.split, lambda x: weighted_sum(np.split(x, [1, 3], axis=1)[2]), u(2, 4), mirrors=False)
sample(np.split, lambda x, n, axis: weighted_sum(np.split(x, n, axis)[1]), u(2, 4), 2, 1, dynamic=False)
sample(np.asarray, lambda a, b: weighted_sum(np.asarray([a, b, a])), 0.5, 1.5, mirrors=False)
sample(np.asarray, lambda x: weighted_sum(np.asarray(x)), u(3, 4))
sample(np.asarray, lambda x: weighted_sum(np.asarray(x, np.float64)), u(3, 4), mirrors=False)
sample(np.array, lambda a, b: weighted_sum(np.array([a, b])), 0.5, 1.5, mirrors=False)
sample(np.array, lambda x: weighted_sum(np.array(x) * x), u(3, 4))
sample(np.array, lambda x: weighted_sum(np.array(x, np.float64) * x), u(3, 4), mirrors=False)

# -- array methods -------------------------------------------------------------------------------
ND = np.ndarray
sample((ND, "sum"), lambda x: weighted_sum(x.sum(axis=1)), u(3, 4), kwargs=dict(axis=1))
sample((ND, "sum"), lambda x: x.sum() * 2.0, u(3, 4))
sample((ND, "sum"), lambda x, axis: weighted_sum(x.sum(axis)), u(3, 4), 0)
sample((ND, "mean"), lambda x: weighted_sum(x.mean(axis=0, keepdims=True)), u(3, 4), kwargs=dict(axis=0, keepdims=True))
sample((ND, "prod"), lambda x: weighted_sum(x.prod(axis=1)), u(3, 4), kwargs=dict(axis=1))
sample((ND, "max"), lambda x: weighted_sum(x.max(axis=1)), u(3, 4), kwargs=dict(axis=1))
sample((ND, "min"), lambda x: x.min() * 2.0, u(3, 4))
sample((ND, "var"), lambda x: weighted_sum(x.var(axis=1, ddof=1)), u(3, 4), kwargs=dict(axis=1, ddof=1))
sample((ND, "std"), lambda x: x.std() * 2.0, u(3, 4))
sample((ND, "cumsum"), lambda x: weighted_sum(x.cumsum(axis=0)), u(3, 4), kwargs=dict(axis=0))
sample((ND, "dot"), lambda x, b: weighted_sum(x.dot(b)), u(3, 4), u(4, 2))
sample((ND, "ravel"), lambda x: weighted_sum(x.ravel()), u(3, 4))
sample((ND, "flatten"), lambda x: weighted_sum(x.flatten()), u(3, 4))
sample((ND, "squeeze"), lambda x: weighted_sum(x.squeeze()), u(3, 1, 4))
sample((ND, "swapaxes"), lambda x, i, j: weighted_sum(x.swapaxes(i, j)), u(3, 4), 0, 1)
sample((ND, "clip"), lambda x: weighted_sum(x.clip(max=0.5)), away(3, 4, lo=0.1), kwargs=dict(max=0.5))
sample((ND, "clip"), lambda x, lo, hi: weighted_sum(x.clip(lo, hi)), away(3, 4, lo=0.1), -0.5, 0.5)
sample((ND, "trace"), lambda x: x.trace() * 2.0, u(3, 3))
sample((ND, "diagonal"), lambda x: weighted_sum(x.diagonal(offset=1)), u(3, 4), kwargs=dict(offset=1))
sample((ND, "repeat"), lambda x: weighted_sum(x.repeat(repeats=2, axis=0)), u(3, 4), kwargs=dict(repeats=2, axis=0))
sample((ND, "take"), lambda x: weighted_sum(x.take(indices=[1, 1, 3])), u(3, 4), kwargs=dict(indices=[1, 1, 3]))
sample((ND, "reshape"), lambda x, m, n: weighted_sum(x.reshape(m, n)), u(3, 4), 2, 6)
sample((ND, "reshape"), lambda x, shape: weighted_sum(x.reshape(shape)), u(3, 4), (6, 2))
sample((ND, "transpose"), lambda x: weighted_sum(x.transpose()), u(3, 4))
sample((ND, "transpose"), lambda x, i, j, k: weighted_sum(x.transpose(i, j, k)), u(2, 3, 4), 1, 2, 0)
sample((ND, "transpose"), lambda x, axes: weighted_sum(x.transpose(axes)), u(2, 3, 4), (2, 0, 1))
sample((ND, "astype"), lambda x: weighted_sum(x.astype(np.float64)), u(3, 4), kwargs=dict(dtype=np.float64))
sample((ND, "copy"), lambda x: weighted_sum(x.copy() * x), u(3, 4))
sample((ND, "copy"), lambda x: weighted_sum(x.copy("F") * x), u(3, 4), mirrors=False)
sample((ND, "astype"), lambda x: weighted_sum(x.astype(np.float64, "C")), u(3, 4), mirrors=False)
sample((ND, "item"), lambda x: x.item() * 3.0, u(1, 1))
sample((ND, "item"), lambda x, i: x.item(i) * 3.0, u(3, 4), 5)
sample((ND, "item"), lambda x, i, j: x.item(i, j) * 3.0, u(3, 4), 1, 2)
sample((ND, "tolist"), lambda x: x.tolist()[1][2] * 3.0 + x.tolist()[0][0], u(3, 4))

GENERIC = np.generic
sample((GENERIC, "sum"), lambda x: (np.sum(x) * 1.0).sum() * 2.0, u(3), mirrors=False)
sample((GENERIC, "mean"), lambda x: (np.sum(x) * 1.0).mean() * 2.0, u(3), mirrors=False)
sample((GENERIC, "prod"), lambda x: (np.sum(x) * 1.0).prod() * 2.0, u(3), mirrors=False)
sample((GENERIC, "max"), lambda x: (np.sum(x) * 1.0).max() * 2.0, u(3), mirrors=False)
sample((GENERIC, "min"), lambda x: (np.sum(x) * 1.0).min() * 2.0, u(3), mirrors=False)
sample((GENERIC, "var"), lambda x: (np.sum(x) * 1.0).var() + np.sum(x), u(3), mirrors=False)
sample((GENERIC, "std"), lambda x: (np.sum(x) * 1.0).std() + np.sum(x), u(3), mirrors=False)
sample((GENERIC, "cumsum"), lambda x: weighted_sum((np.sum(x) * 1.0).cumsum()), u(3), mirrors=False)
sample((GENERIC, "ravel"), lambda x: weighted_sum((np.sum(x) * 1.0).ravel()), u(3), mirrors=False)
sample((GENERIC, "flatten"), lambda x: weighted_sum((np.sum(x) * 1.0).flatten()), u(3), mirrors=False)
sample((GENERIC, "squeeze"), lambda x: (np.sum(x) * 1.0).squeeze() * 2.0, u(3), mirrors=False)
sample((GENERIC, "clip"), lambda x: (np.sum(x) * 1.0).clip(-10.0, 10.0) * 2.0, u(3), mirrors=False)

# -- the tests -----------------------------------------------------------------------------------


# -- broadcasting, with hypothesis ---------------------------------------------------------------
POSITIVE = st.floats(0.5, 2.0)
ANY = st.floats(-2.0, 2.0)
AWAY = st.one_of(st.floats(0.5, 2.0), st.floats(-2.0, -0.5))
BINARY = {  # name: (function, domain of a, domain of b, how far apart a and b must stay)
    "add": (np.add, ANY, ANY, None), "subtract": (np.subtract, ANY, ANY, None),
    "multiply": (np.multiply, ANY, ANY, None), "divide": (np.divide, ANY, AWAY, None),
    "power": (np.power, POSITIVE, ANY, None), "float_power": (np.float_power, POSITIVE, ANY, None),
    "maximum": (np.maximum, ANY, ANY, 1e-3), "minimum": (np.minimum, ANY, ANY, 1e-3),
    "fmax": (np.fmax, ANY, ANY, 1e-3), "fmin": (np.fmin, ANY, ANY, 1e-3),
    "arctan2": (np.arctan2, AWAY, AWAY, None), "hypot": (np.hypot, AWAY, AWAY, None),
    "logaddexp": (np.logaddexp, ANY, ANY, None), "logaddexp2": (np.logaddexp2, ANY, ANY, None),
    "copysign": (np.copysign, AWAY, AWAY, None),
}
SHAPES = [((3, 1), (1, 4)), ((), (3,)), ((2, 3), ()), ((2, 3), (3,)), ((4,), (4,)), ((2, 1, 3), (4, 1)),
          ((1,), (2, 2))]


def draw_operand(data, shape, elements):
    """A Python float for shape ``()``, else a float64 array of ``shape``."""
    if shape == ():
        return data.draw(elements)
    return data.draw(hnp.arrays(np.float64, shape, elements=elements))


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_binary_rule_broadcasts(name, data):
    fn, a_domain, b_domain, gap = BINARY[name]
    a_shape, b_shape = data.draw(st.sampled_from(SHAPES + [(b, a) for a, b in SHAPES]))
    a = draw_operand(data, a_shape, a_domain)
    b = draw_operand(data, b_shape, b_domain)
    if gap is not None:
        assume(np.all(np.abs(np.subtract(a, b)) > gap))
    grads = check_grad(lambda a, b: weighted_sum(fn(a, b)), a, b)
    for grad, arg in zip(grads, (a, b)):
        assert grad is None or np.shape(grad) == np.shape(arg)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_where_broadcasts(data):
    c_shape, a_shape, b_shape = data.draw(st.sampled_from([((3, 1), (1, 4), ()), ((4,), (3, 4), (3, 1)),
                                                           ((2, 3), (), (3,))]))
    condition = data.draw(hnp.arrays(bool, c_shape))
    a = draw_operand(data, a_shape, ANY)
    b = draw_operand(data, b_shape, ANY)
    check_grad(lambda c, a, b: weighted_sum(np.where(c, a, b)), condition, a, b)


@settings(max_examples=25, deadline=None)
@given(shapes=st.sampled_from([((2, 3), (3, 4)), ((5, 2, 3), (3, 4)), ((3,), (2, 3, 4)), ((2, 1, 2, 3), (4, 3, 2)),
                               ((3,), (3,)), ((2, 3), (3,))]), seed=st.integers(0, 2 ** 16))
def test_matmul_broadcasts(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    check_grad(lambda a, b: weighted_sum(a @ b) + weighted_sum(np.matmul(b.T, a.T)) if a.ndim == 2 == b.ndim
               else weighted_sum(a @ b), a, b)


# -- indexing (the runtime's getitem adjoint) ----------------------------------------------------


@pytest.mark.parametrize("index", [slice(1, 3), [0, 2, 2], (slice(None), 0), (None, Ellipsis),
                                   (1, slice(None, None, -1)), (slice(None), None, slice(1, None)), ([1, 0], [3, 3])],
                         ids=["slice", "integers", "column", "newaxis", "reversed", "newaxis-mid", "pairs"])
def test_indexing(index):
    def pick(x):
        return weighted_sum(x[index] * 2.0)
    check_grad(pick, u(3, 4))


def test_transpose_attribute():
    check_grad(lambda x: weighted_sum(x.T @ x) + weighted_sum(x.T), u(3, 2))


def test_boolean_mask_indexing():
    check_grad(lambda x: weighted_sum(np.sin(x[x > 0])), u(3, 4))


def test_indexing_keeps_float32():
    x = u(3, 4).astype(np.float32)
    (grad,) = zygote.gradient(lambda x: weighted_sum(x[[0, 2, 2], 1:]), x)
    assert grad.dtype == np.float32


# -- what is not differentiated ------------------------------------------------------------------


def test_nograd_functions_pass_no_gradient():
    def f(x):
        return np.argmax(x) * 1.0 + np.sum(np.floor(x)) + np.sum(np.zeros_like(x)) + np.shape(x)[0]
    assert zygote.gradient(f, u(3, 4)) == (None,)


def test_integer_valued_methods_pass_no_gradient():
    def f(x):
        order = x.argsort()
        return x[order[0]] * 2.0
    x = np.array([0.3, -1.2, 2.0])
    np.testing.assert_array_equal(zygote.gradient(f, x)[0], [0.0, 2.0, 0.0])


def test_nograd_method_result_in_the_output():
    x = np.array([0.3, -1.2, 2.0])
    assert zygote.gradient(lambda x: x.argmax() * x[0], x)[0].tolist() == [2.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["sum", "ravel"])
def test_bound_method_called_as_a_value(name):
    check_grad(apply_method, u(3, 4), name)


def apply_method(x, name):
    return weighted_sum(getattr(x, name)())


# -- methods of numpy scalars ----------------------------------------------------------------------
sample((np.generic, "astype"), lambda x: np.sum(x).astype(np.float64) * 2.0, u(3), mirrors=False, float32=False)
sample((np.generic, "item"), lambda x: np.sum(x * 2.0).item() * 3.0, u(3), mirrors=False, float32=False)
sample((np.generic, "copy"), lambda x: np.sum(x).copy() * 2.0, u(3), mirrors=False, float32=False)
