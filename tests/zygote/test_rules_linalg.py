"""Gradient checks of the linear-algebra rules: kron, cross, norms and the decompositions."""
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

TABLE = SampleTable(20261204)
SAMPLES, sample, u, away, RNG = TABLE.rows, TABLE.add, TABLE.uniform, TABLE.away, TABLE.rng
F32 = dict(rtol=1e-4, atol=1e-6)   # (decompositions in float32 agree to fewer digits)


def spread(*shape, gap=1.0):
    """A matrix (stack) with well separated singular values: ``U diag(s) Vᵀ``."""
    *batch, m, n = shape
    u_, _ = np.linalg.qr(RNG.normal(size=(*batch, m, m)))
    v_, _ = np.linalg.qr(RNG.normal(size=(*batch, n, n)))
    k = min(m, n)
    s = 1.0 + gap * np.arange(k)[::-1]
    middle = np.zeros((*batch, m, n))
    middle[..., np.arange(k), np.arange(k)] = s
    return u_ @ middle @ np.swapaxes(v_, -1, -2)


def separated_eigenvalues(n):
    """A non-symmetric matrix with real eigenvalues 1, 2, ..., n."""
    basis = np.eye(n) + 0.3 * RNG.normal(size=(n, n))
    return basis @ np.diag(np.arange(1.0, n + 1)) @ np.linalg.inv(basis)


# -- products -----------------------------------------------------------------------------------
sample(np.kron, lambda a, b: weighted_sum(np.kron(a, b)), u(2, 3), u(3, 2))
sample(np.kron, lambda a, b: weighted_sum(np.kron(a, b)), u(3), u(2))
sample(np.kron, lambda a, b: weighted_sum(np.kron(a, b)), u(2), u(2, 2))
sample(np.kron, lambda a, b: weighted_sum(np.kron(a, b)), u(2, 1, 2), u(1, 2, 2))
sample(np.cross, lambda a, b: weighted_sum(np.cross(a, b, axis=0)), u(3, 4), u(3, 4), kwargs=dict(axis=0))
sample(np.cross, lambda a, b: weighted_sum(np.cross(a, b, axisa=0, axisb=1, axisc=0)), u(3, 2), u(2, 3),
       kwargs=dict(axisa=0, axisb=1, axisc=0))

# -- norms: every order numpy takes, vectors and matrices ---------------------------------------
for _ord in (None, 2, 1, -1, np.inf, -np.inf, 3, 4, 0.5, -2):
    sample(np.linalg.norm, lambda x, o=_ord: weighted_sum(np.linalg.norm(x, o, axis=1)), away(3, 4),
           mirrors=False)
sample(np.linalg.norm, lambda x: np.linalg.norm(x, 0) * np.linalg.norm(x), away(5), mirrors=False)
sample(np.linalg.norm, lambda x: np.linalg.norm(x, 3), away(5), kwargs=dict(ord=3))
sample(np.linalg.norm, lambda x: np.linalg.norm(x, np.inf), away(5), kwargs=dict(ord=np.inf))
for _ord in ("fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf):
    sample(np.linalg.norm, lambda x, o=_ord: np.linalg.norm(x, o), spread(3, 4), mirrors=False, **F32)
sample(np.linalg.norm, lambda x: weighted_sum(np.linalg.norm(x, "nuc", axis=(1, 2))), spread(2, 3, 3),
       mirrors=False, **F32)
sample(np.linalg.norm, lambda x: weighted_sum(np.linalg.norm(x, 2, axis=(0, 2), keepdims=True)),
       np.moveaxis(spread(2, 3, 4), 0, 1), kwargs=dict(ord=2, axis=(0, 2), keepdims=True), **F32)
sample(np.linalg.norm, lambda x: weighted_sum(np.linalg.norm(x, -np.inf, axis=(-1, -2))), away(2, 3, 4),
       kwargs=dict(ord=-np.inf, axis=(-1, -2)))

# -- decompositions -----------------------------------------------------------------------------
sample(np.linalg.svd, lambda a: weighted_sum(np.linalg.svd(a, compute_uv=False)), spread(4, 3),
       kwargs=dict(compute_uv=False), **F32)
sample(np.linalg.svd, lambda a: weighted_sum(np.linalg.svd(a, compute_uv=False)), spread(2, 3, 5),
       kwargs=dict(compute_uv=False), **F32)
sample(np.linalg.svd, lambda a: weighted_sum(np.linalg.svd(a, full_matrices=False)[1])
       + weighted_sum(np.linalg.svd(a, full_matrices=False)[0] ** 2)
       + weighted_sum(np.linalg.svd(a, full_matrices=False)[2] ** 2), spread(4, 3), mirrors=False, **F32)
sample(np.linalg.svd, lambda a: weighted_sum(np.abs(np.linalg.svd(a, full_matrices=False).U[:, 0]))
       + weighted_sum(np.linalg.svd(a, full_matrices=False).Vh ** 2), spread(2, 4), mirrors=False, **F32)
sample(np.linalg.svd, lambda a: weighted_sum(np.linalg.svd(a).U[..., :3] ** 2)
       + weighted_sum(np.linalg.svd(a).S), spread(2, 5, 3), mirrors=False, **F32)
sample(np.linalg.qr, lambda a: weighted_sum(np.linalg.qr(a).Q * np.sign(np.diagonal(np.linalg.qr(a).R)))
       + weighted_sum(np.abs(np.linalg.qr(a).R)), spread(4, 3), mirrors=False, **F32)
sample(np.linalg.qr, lambda a: weighted_sum(np.linalg.qr(a)[1] ** 2) + weighted_sum(np.linalg.qr(a)[0] ** 2),
       spread(2, 3, 3), mirrors=False, **F32)
sample(np.linalg.qr, lambda a: weighted_sum(np.linalg.qr(a)[0] ** 2) + weighted_sum(np.linalg.qr(a)[1] ** 2),
       spread(2, 4), mirrors=False, **F32)
sample(np.linalg.qr, lambda a: weighted_sum(np.linalg.qr(a, mode="r") ** 2), spread(4, 3),
       kwargs=dict(mode="r"), **F32)
sample(np.linalg.pinv, lambda a: weighted_sum(np.linalg.pinv(a)), spread(4, 3), **F32)
sample(np.linalg.pinv, lambda a: weighted_sum(np.linalg.pinv(a)), spread(2, 2, 3), **F32)
sample(np.linalg.eig, lambda a: weighted_sum(np.linalg.eig(a)[0]) + weighted_sum(np.linalg.eig(a)[1] ** 2),
       separated_eigenvalues(3), mirrors=False, **F32)
sample(np.linalg.eig, lambda a: weighted_sum(np.linalg.eig(a).eigenvalues) + weighted_sum(np.linalg.eig(a)[1] ** 2),
       np.stack([separated_eigenvalues(3), separated_eigenvalues(3)]), mirrors=False, **F32)
sample(np.linalg.eigvals, lambda a: weighted_sum(np.linalg.eigvals(a)), separated_eigenvalues(4), **F32)
sample(np.linalg.eigvals, lambda a: weighted_sum(np.linalg.eigvals(a)),
       np.stack([separated_eigenvalues(3), separated_eigenvalues(3)]), **F32)
sample(np.linalg.eigvals, lambda a: weighted_sum(np.abs(np.linalg.eigvals(a))),
       np.array([[0.5, -2.0, 0.1], [1.5, 0.3, 0.0], [0.2, 0.4, 2.0]]), mirrors=False, **F32)
sample(np.linalg.lstsq, lambda a, b: weighted_sum(np.linalg.lstsq(a, b)[0]), spread(5, 3), u(5), dynamic=False, **F32)
sample(np.linalg.lstsq, lambda a, b: weighted_sum(np.linalg.lstsq(a, b)[0]) + weighted_sum(np.linalg.lstsq(a, b)[1])
       + weighted_sum(np.linalg.lstsq(a, b)[3]), spread(5, 3), u(5, 2), mirrors=False, **F32)


def test_lstsq_value_is_numpy_value():
    a, b = spread(5, 3), u(5)
    value, _ = zygote.withgradient(lambda a: weighted_sum(np.linalg.lstsq(a, b)[0]), a)
    assert value == weighted_sum(np.linalg.lstsq(a, b)[0])


def test_eigh_and_eigvalsh_read_the_upper_triangle_with_uplo_u():
    a = u(4, 4)   # not symmetric: only the upper triangle counts
    check_grad(lambda a: weighted_sum(np.linalg.eigvalsh(a, UPLO="U")), a)
    check_grad(lambda a: weighted_sum(np.linalg.eigh(a, "U")[1] ** 2) + weighted_sum(np.linalg.eigh(a, "U")[0]), a)
    (da,) = zygote.gradient(lambda a: weighted_sum(np.linalg.eigvalsh(a, UPLO="U")), a)
    assert np.all(np.tril(da, -1) == 0)


def test_einsum_in_operand_list_form():
    a, b = u(2, 3), u(3, 4)
    check_grad(lambda a, b: weighted_sum(np.einsum(a, [0, 1], b, [1, 2], [0, 2])), a, b)
    check_grad(lambda a, b: weighted_sum(np.einsum(a, [0, 1], b, [1, 2])), a, b)
    check_grad(lambda a: weighted_sum(np.einsum(a, [Ellipsis, 1], [Ellipsis])), u(2, 3, 4))


def test_svd_values_at_a_repeated_singular_value_are_a_valid_gradient():
    # σ₁ + σ₂ of a matrix with σ₁ = σ₂ is the nuclear norm, differentiable there: U Vᵀ
    a = np.diag([2.0, 2.0, 0.5])
    (da,) = zygote.gradient(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)), a)
    assert np.allclose(da, np.eye(3))
    check_grad(lambda a: np.sum(np.linalg.svd(a, compute_uv=False)), a)


def test_svd_vectors_at_a_repeated_singular_value_stay_finite():
    a = np.diag([2.0, 2.0, 0.5])
    (da,) = zygote.gradient(lambda a: weighted_sum(np.linalg.svd(a)[0] ** 2), a)
    assert np.all(np.isfinite(da))


def test_svd_with_full_matrices_refuses_the_undetermined_columns():
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        zygote.gradient(lambda a: weighted_sum(np.linalg.svd(a)[0]), spread(4, 2))


def test_second_order_through_kron_and_norm():
    a, b = u(2, 2), u(2, 2)
    weights = u(4, 4)
    check_grad(lambda a: np.sum(zygote.gradient(lambda a: np.sum(np.kron(a, b) ** 2 * weights), a)[0] * b), a)
    check_grad(lambda x: np.sum(zygote.gradient(lambda x: np.linalg.norm(x, 3), x)[0] ** 2), away(4))


# -- shapes and orders vary, with hypothesis ------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

DIMS = st.lists(st.integers(1, 3), min_size=1, max_size=3)


@settings(max_examples=15, deadline=None)
@given(a_shape=DIMS, b_shape=DIMS, seed=st.integers(0, 2 ** 16))
def test_kron_of_any_shapes(a_shape, b_shape, seed):
    rng = np.random.default_rng(seed)
    check_grad(lambda a, b: weighted_sum(np.kron(a, b)), rng.normal(size=a_shape), rng.normal(size=b_shape))


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(2, 4), min_size=1, max_size=3), seed=st.integers(0, 2 ** 16),
       ord=st.sampled_from([None, 1, 2, 3, -1, np.inf, -np.inf, 0.5]), keepdims=st.booleans(), data=st.data())
def test_vector_norm_of_any_axis_and_order(shape, seed, ord, keepdims, data):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = np.random.default_rng(seed).uniform(0.5, 2.0, shape) * np.random.default_rng(seed + 1).choice([-1, 1], shape)
    check_grad(lambda x: weighted_sum(np.linalg.norm(x, ord, axis, keepdims)), x, rtol=1e-4)


# -- second order: the decompositions' pullbacks are written in differentiable numpy ---------------
from rule_coverage import second_derivative_check  # noqa: E402

W3, W4 = RNG.uniform(0.5, 2, 3), RNG.uniform(0.5, 2, 4)
S43, S33 = RNG.uniform(0.5, 2, (4, 3)), RNG.uniform(0.5, 2, (3, 3))
A43 = spread(4, 3)
SECOND_ORDER_CASES = {
    np.linalg.svd: (lambda a: np.sum(np.linalg.svd(a, False)[1] * W3) + np.sum(np.linalg.svd(a, False)[0] ** 2 * S43),
                    A43),
    np.linalg.qr: (lambda a: np.sum(np.linalg.qr(a)[1] ** 2 * S33) + np.sum(np.linalg.qr(a)[0] ** 2 * S43), A43),
    np.linalg.pinv: (lambda a: np.sum(np.linalg.pinv(a) * S43.T), A43),
    np.linalg.eig: (lambda a: np.sum(np.linalg.eig(a)[0] * W3) + np.sum(np.linalg.eig(a)[1] ** 2 * S33),
                    separated_eigenvalues(3)),
    np.linalg.eigvals: (lambda a: np.sum(np.linalg.eigvals(a) * W3), separated_eigenvalues(3)),
    np.linalg.lstsq: (lambda a: np.sum(np.linalg.lstsq(a, W4)[0] * W3), A43),
    np.cross: (lambda a: np.sum(np.cross(a, S33) ** 2 * S33), u(3, 3)),
}


@pytest.mark.parametrize("key", list(SECOND_ORDER_CASES), ids=lambda key: key.__name__)
def test_second_order_of_decompositions(key):
    second_derivative_check(*SECOND_ORDER_CASES[key])
