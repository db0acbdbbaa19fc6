"""Rules for ``scipy.stats``: logpdf, pdf and cdf of norm, t, gamma and beta, poisson's logpmf,
pmf and cdf, and ``multivariate_normal.logpdf``.

The distributions are objects (``scipy.stats.norm`` is an instance of ``norm_gen``), so a
rule is registered for the bound method itself, ``stats.norm.logpdf``; a frozen distribution
such as ``stats.norm(0, 1)`` is a different object and has no rules. Each rule takes the
parameters by position or by name (``loc``, ``scale`` and the shape parameters) and gives a
cotangent to every float argument, inside the distribution's support.
"""
import math

import numpy as np
import scipy.integrate as integrate
import scipy.special as special
import scipy.stats as stats

from .. import adjoint, lookup
from ...errors import MissingRuleError
from ...runtime import unbroadcast
from ..complex import holomorphic
from .special import SQRT_2PI


def parts(dy, slopes, args):
    """One cotangent per argument: ``dy`` times its slope, summed to the argument's shape and
    in its float dtype (scipy computes float32 distributions in float64)."""
    return tuple(None if slope is None else like(unbroadcast(dy * holomorphic(slope), arg), arg)
                 for slope, arg in zip(slopes, args))


def like(part, arg):
    """``part`` in the dtype of the float array ``arg``."""
    if isinstance(arg, np.ndarray) and arg.dtype.kind == "f" and np.result_type(part) != arg.dtype:
        return np.asarray(part).astype(arg.dtype)
    return part


def log_density_pullback(y, log_slopes, args):
    """``(y, back)`` for a logpdf or logpmf ``y`` whose slopes in ``args`` are ``log_slopes``."""
    return y, lambda dy: parts(dy, log_slopes, args)


def density_pullback(y, log_slopes, args):
    """``(y, back)`` for a pdf or pmf ``y``: its slopes are ``y`` times those of its log."""
    return y, lambda dy: parts(dy * holomorphic(y), log_slopes, args)


def location_scale_log_slopes(dlog_dz, z, scale):
    """Slopes of ``log f((x - loc)/scale) - log scale`` in x, loc and scale, from ``d log f/dz``."""
    return dlog_dz / scale, -dlog_dz / scale, -(z * dlog_dz + 1) / scale


def location_scale_cdf_slopes(density, z, scale):
    """Slopes of ``F((x - loc)/scale)`` in x, loc and scale, from the standard density ``f(z)``."""
    return density / scale, -density / scale, -z * density / scale


def shape_cdf_slope(density_slope, lower, z, shapes, theta, like):
    """``∂F(z)/∂θ = ∫ f(t) ∂log f(t)/∂θ dt`` from ``lower`` to ``z``, for the shape parameter
    ``theta`` among ``shapes``, by adaptive quadrature entry by entry (there is no closed form);
    ``density_slope(t, *shapes)`` is the integrand. None when ``theta`` is a whole number
    (``t.cdf(x, 3)``): it has no cotangent. The result has the dtype of ``like`` and the shapes.
    """
    if np.asarray(theta).dtype.kind != "f":
        return None

    def one(z_i, *shapes_i):
        value, _ = integrate.quad(density_slope, lower, z_i, args=shapes_i, epsabs=1e-13, epsrel=1e-11)
        return value
    return np.vectorize(one, otypes=[np.float64])(z, *shapes).astype(dtype_of(like, *shapes))


def dtype_of(*args):
    """The float dtype the cotangents of ``args`` keep (float32 only if every array is float32)."""
    arrays = [a for a in args if isinstance(a, np.ndarray)]
    return np.result_type(*arrays, np.float32) if arrays else np.dtype(np.float64)


# -- the normal distribution ----------------------------------------------------------------------


def norm_log_slopes(x, loc, scale):
    """Slopes of ``log φ(z) - log σ`` with ``z = (x - μ)/σ``, where ``d log φ/dz = -z``."""
    z = (x - loc) / scale
    return location_scale_log_slopes(-z, z, scale)


@adjoint(stats.norm.logpdf)
def norm_logpdf_rule(x, loc=0.0, scale=1.0):
    return log_density_pullback(stats.norm.logpdf(x, loc, scale), norm_log_slopes(x, loc, scale), (x, loc, scale))


@adjoint(stats.norm.pdf)
def norm_pdf_rule(x, loc=0.0, scale=1.0):
    return density_pullback(stats.norm.pdf(x, loc, scale), norm_log_slopes(x, loc, scale), (x, loc, scale))


@adjoint(stats.norm.cdf)
def norm_cdf_rule(x, loc=0.0, scale=1.0):
    """``Φ(z)``, whose slope in z is the standard normal density."""
    y = stats.norm.cdf(x, loc, scale)
    z = (x - loc) / scale
    density = np.exp(-0.5 * z * z) / SQRT_2PI
    return y, lambda dy: parts(dy, location_scale_cdf_slopes(density, z, scale), (x, loc, scale))


# -- Student's t ------------------------------------------------------------------------------------


def t_log_slopes(x, df, loc, scale):
    """Slopes of t's logpdf in x, df, loc and scale."""
    z = (x - loc) / scale
    dlog_dz = -(df + 1) * z / (df + z * z)
    dx, dloc, dscale = location_scale_log_slopes(dlog_dz, z, scale)
    return dx, t_df_log_slope(z, df), dloc, dscale


def t_df_log_slope(z, df):
    """∂/∂ν of ``log Γ((ν+1)/2) - log Γ(ν/2) - ½ log(νπ) - (ν+1)/2 log(1 + z²/ν)``."""
    return 0.5 * (special.digamma((df + 1) / 2) - special.digamma(df / 2) - 1 / df
                  - np.log1p(z * z / df) + (df + 1) * z * z / (df * (df + z * z)))


@adjoint(stats.t.logpdf)
def t_logpdf_rule(x, df, loc=0.0, scale=1.0):
    """Student's t with ``df`` degrees of freedom, located and scaled."""
    return log_density_pullback(stats.t.logpdf(x, df, loc, scale), t_log_slopes(x, df, loc, scale),
                                (x, df, loc, scale))


@adjoint(stats.t.pdf)
def t_pdf_rule(x, df, loc=0.0, scale=1.0):
    return density_pullback(stats.t.pdf(x, df, loc, scale), t_log_slopes(x, df, loc, scale),
                            (x, df, loc, scale))


# The integrands below take one number at a time (quad calls them some hundred times per
# entry), so they are written with math rather than with the array functions of scipy.stats.


def _t_density_df_slope(z, df):
    log_density = (math.lgamma((df + 1) / 2) - math.lgamma(df / 2) - 0.5 * math.log(df * math.pi)
                   - (df + 1) / 2 * math.log1p(z * z / df))
    return math.exp(log_density) * float(t_df_log_slope(z, df))


@adjoint(stats.t.cdf)
def t_cdf_rule(x, df, loc=0.0, scale=1.0):
    """In x, loc and scale through the density; in ``df`` by quadrature of ``∂f/∂ν``."""
    y = stats.t.cdf(x, df, loc, scale)
    z = (x - loc) / scale

    def t_cdf_back(dy):
        dx, dloc, dscale = location_scale_cdf_slopes(stats.t.pdf(z, df), z, scale)
        ddf = shape_cdf_slope(_t_density_df_slope, -np.inf, z, (df,), df, like=x)
        return parts(dy, (dx, ddf, dloc, dscale), (x, df, loc, scale))
    return y, t_cdf_back


# -- the gamma distribution -------------------------------------------------------------------------


def gamma_log_slopes(x, a, loc, scale):
    """Slopes of ``(a - 1) log z - z - log Γ(a) - log σ`` in x, a, loc and scale."""
    z = (x - loc) / scale
    dx, dloc, dscale = location_scale_log_slopes((a - 1) / z - 1, z, scale)
    return dx, np.log(z) - special.digamma(a), dloc, dscale


@adjoint(stats.gamma.logpdf)
def gamma_logpdf_rule(x, a, loc=0.0, scale=1.0):
    """The gamma distribution with shape ``a``, for ``x > loc``."""
    return log_density_pullback(stats.gamma.logpdf(x, a, loc, scale), gamma_log_slopes(x, a, loc, scale),
                                (x, a, loc, scale))


@adjoint(stats.gamma.pdf)
def gamma_pdf_rule(x, a, loc=0.0, scale=1.0):
    return density_pullback(stats.gamma.pdf(x, a, loc, scale), gamma_log_slopes(x, a, loc, scale),
                            (x, a, loc, scale))


def _gamma_density_a_slope(t, a):
    if t <= 0:
        return 0.0
    return math.exp((a - 1) * math.log(t) - t - math.lgamma(a)) * (math.log(t) - float(special.digamma(a)))


@adjoint(stats.gamma.cdf)
def gamma_cdf_rule(x, a, loc=0.0, scale=1.0):
    """The regularised lower incomplete gamma function; in ``a`` by quadrature."""
    y = stats.gamma.cdf(x, a, loc, scale)
    z = (x - loc) / scale

    def gamma_cdf_back(dy):
        dx, dloc, dscale = location_scale_cdf_slopes(stats.gamma.pdf(z, a), z, scale)
        da = shape_cdf_slope(_gamma_density_a_slope, 0.0, z, (a,), a, like=x)
        return parts(dy, (dx, da, dloc, dscale), (x, a, loc, scale))
    return y, gamma_cdf_back


# -- the beta distribution ----------------------------------------------------------------------------


def beta_shape_log_slopes(z, a, b):
    """Slopes of ``(a-1) log z + (b-1) log(1-z) - log B(a, b)`` in a and b."""
    both = special.digamma(a + b)
    return np.log(z) - special.digamma(a) + both, np.log1p(-z) - special.digamma(b) + both


def beta_log_slopes(x, a, b, loc, scale):
    z = (x - loc) / scale
    dx, dloc, dscale = location_scale_log_slopes((a - 1) / z - (b - 1) / (1 - z), z, scale)
    da, db = beta_shape_log_slopes(z, a, b)
    return dx, da, db, dloc, dscale


@adjoint(stats.beta.logpdf)
def beta_logpdf_rule(x, a, b, loc=0.0, scale=1.0):
    """The beta distribution with shapes ``a`` and ``b``, for ``loc < x < loc + scale``."""
    return log_density_pullback(stats.beta.logpdf(x, a, b, loc, scale), beta_log_slopes(x, a, b, loc, scale),
                                (x, a, b, loc, scale))


@adjoint(stats.beta.pdf)
def beta_pdf_rule(x, a, b, loc=0.0, scale=1.0):
    return density_pullback(stats.beta.pdf(x, a, b, loc, scale), beta_log_slopes(x, a, b, loc, scale),
                            (x, a, b, loc, scale))


def _beta_density(t, a, b):
    return math.exp((a - 1) * math.log(t) + (b - 1) * math.log1p(-t) - float(special.betaln(a, b)))


def _beta_density_a_slope(t, a, b):
    if not 0 < t < 1:
        return 0.0
    return _beta_density(t, a, b) * (math.log(t) - float(special.digamma(a) - special.digamma(a + b)))


def _beta_density_b_slope(t, a, b):
    if not 0 < t < 1:
        return 0.0
    return _beta_density(t, a, b) * (math.log1p(-t) - float(special.digamma(b) - special.digamma(a + b)))


@adjoint(stats.beta.cdf)
def beta_cdf_rule(x, a, b, loc=0.0, scale=1.0):
    """The regularised incomplete beta function; in ``a`` and ``b`` by quadrature."""
    y = stats.beta.cdf(x, a, b, loc, scale)
    z = (x - loc) / scale

    def beta_cdf_back(dy):
        dx, dloc, dscale = location_scale_cdf_slopes(stats.beta.pdf(z, a, b), z, scale)
        da = shape_cdf_slope(_beta_density_a_slope, 0.0, z, (a, b), a, like=x)
        db = shape_cdf_slope(_beta_density_b_slope, 0.0, z, (a, b), b, like=x)
        return parts(dy, (dx, da, db, dloc, dscale), (x, a, b, loc, scale))
    return y, beta_cdf_back


# -- the Poisson distribution ----------------------------------------------------------------------
# The count k (and loc, which shifts it) is a whole number: only the rate mu has a cotangent.


@adjoint(stats.poisson.logpmf)
def poisson_logpmf_rule(k, mu, loc=0):
    """``k log μ - μ - log k!``: ``dμ = k/μ - 1``."""
    return log_density_pullback(stats.poisson.logpmf(k, mu, loc), (None, (k - loc) / mu - 1, None), (k, mu, loc))


@adjoint(stats.poisson.pmf)
def poisson_pmf_rule(k, mu, loc=0):
    return density_pullback(stats.poisson.pmf(k, mu, loc), (None, (k - loc) / mu - 1, None), (k, mu, loc))


@adjoint(stats.poisson.cdf)
def poisson_cdf_rule(k, mu, loc=0):
    """``P(K ≤ k)``: raising μ moves mass past k at the rate ``pmf(⌊k⌋)``."""
    y = stats.poisson.cdf(k, mu, loc)
    return y, lambda dy: parts(dy, (None, -stats.poisson.pmf(np.floor(k - loc), mu), None), (k, mu, loc))


# -- the multivariate normal ------------------------------------------------------------------------


@adjoint(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf_rule(x, mean=None, cov=1, allow_singular=False):
    """``-½ rᵀ Σ⁻¹ r - ½ log det 2πΣ`` with ``r = x - μ``, for points ``x`` of shape (..., d).

    ``cov`` is a matrix, a vector of variances or one variance. scipy reads a matrix through
    its lower triangle, so an off-diagonal pair's cotangent lands there (twice) and the upper
    triangle gets none.
    """
    y = stats.multivariate_normal.logpdf(x, mean, cov, allow_singular)
    # scipy reads complex values through their real parts (with a ComplexWarning), so the
    # imaginary parts move nothing and the cotangents are real
    x, mean, cov = (v if v is None or not np.iscomplexobj(v) else np.real(v) for v in (x, mean, cov))
    # scipy's dimension: the mean's length, else the covariance's, else 1 (x then holds numbers)
    d = np.size(mean) if mean is not None else (np.shape(cov)[0] if np.ndim(cov) else 1)
    points = x if d > 1 or np.shape(x)[-1:] == (1,) else np.reshape(x, np.shape(x) + (1,))
    dtype = dtype_of(x, cov)
    mean_full = np.zeros(d, dtype) if mean is None else np.reshape(mean, (d,))
    if np.ndim(cov) == 2:
        sigma = np.tril(cov) + np.swapaxes(np.tril(cov, -1), -1, -2)
    else:
        sigma = np.asarray(cov, dtype) * np.eye(d, dtype=dtype)
    precision = np.linalg.inv(sigma)
    r = points - mean_full
    precision_r = r @ precision  # Σ⁻¹ is symmetric

    def multivariate_normal_logpdf_back(dy):
        dy = np.asarray(dy)
        dx = -dy[..., None] * precision_r
        weighted = np.reshape(precision_r, (-1, d))
        dy_flat = np.reshape(dy, (-1,))
        dsigma = 0.5 * ((weighted.T * dy_flat) @ weighted - np.sum(dy_flat) * precision)
        if np.ndim(cov) == 2:
            dcov = np.tril(dsigma + dsigma.T) - np.diag(np.diag(dsigma))
        elif np.ndim(cov) == 1:
            dcov = np.diag(dsigma)
        else:
            dcov = np.trace(dsigma)
        dmean = None if mean is None else np.reshape(unbroadcast(-dx, mean_full), np.shape(mean))
        return like(np.reshape(dx, np.shape(x)), x), dmean, like(unbroadcast(dcov, cov), cov), None
    return y, multivariate_normal_logpdf_back


# -- frozen distributions -----------------------------------------------------------------------
# ``stats.norm(0.3, scale=2.0)`` keeps its parameters and hands them to ``stats.norm``'s own
# methods, so its methods use those rules. The parameters are constants of the frozen object
# (building one from differentiated values is refused), so only x gets a cotangent.
CONTINUOUS_FROZEN = type(stats.norm())
DISCRETE_FROZEN = type(stats.poisson(1.0))
# A frozen distribution holds a copy of its distribution object: the one with rules, by type.
DISTRIBUTIONS = {type(d): d for d in (stats.norm, stats.t, stats.gamma, stats.beta, stats.poisson)}


def through_frozen(frozen, name, x):
    """``(y, back)`` of ``frozen.name(x)`` from the rule of the distribution's own method."""
    dist = DISTRIBUTIONS.get(type(frozen.dist))
    rule = lookup(getattr(dist, name)) if dist is not None else None
    if rule is None:
        raise MissingRuleError(getattr(frozen.dist, name))
    y, back = rule.impl(x, *frozen.args, **frozen.kwds)
    return y, lambda dy: (None, back(dy)[0])


@adjoint(CONTINUOUS_FROZEN.logpdf)
def frozen_logpdf_rule(frozen, x):
    return through_frozen(frozen, "logpdf", x)


@adjoint(CONTINUOUS_FROZEN.pdf)
def frozen_pdf_rule(frozen, x):
    return through_frozen(frozen, "pdf", x)


@adjoint(CONTINUOUS_FROZEN.cdf)
def frozen_cdf_rule(frozen, x):
    return through_frozen(frozen, "cdf", x)


@adjoint(DISCRETE_FROZEN.logpmf)
def frozen_logpmf_rule(frozen, k):
    return through_frozen(frozen, "logpmf", k)


@adjoint(DISCRETE_FROZEN.pmf)
def frozen_pmf_rule(frozen, k):
    return through_frozen(frozen, "pmf", k)
