"""Gradient checks of the np.fft rules: every transform, its n/s, axes and norm forms, and fftshift."""
import numpy as np
import pytest

import zygote
from zygote.testing import weighted_sum
from rule_samples import SampleTable
from rule_samples import (  # noqa: F401 -- the checks pytest runs over this module's rows
    test_rule_matches_differences,
    test_rule_called_as_a_value,
    test_rule_keeps_float32,
    test_rule_cotangents_have_the_arguments_shapes,
    test_rule_value_is_the_plain_value,
)
from test_rules_complex import complex_differences

TABLE = SampleTable(20261206)
SAMPLES, sample, u = TABLE.rows, TABLE.add, TABLE.uniform
F32 = dict(rtol=1e-4, atol=1e-6)


def parts(y):
    """A real reduction of a complex transform's output, weighing real and imaginary parts unevenly."""
    return weighted_sum(np.real(y)) + weighted_sum(np.imag(y), seed=1)


fft = np.fft
for _fn in (fft.fft, fft.ifft):
    sample(_fn, lambda x, f=_fn: parts(f(x)), u(6), mirrors=False, **F32)
    sample(_fn, lambda x, f=_fn: parts(f(x, 8, 0, "ortho")), u(5, 2), mirrors=False, **F32)
    sample(_fn, lambda x, f=_fn: parts(f(x, n=4, norm="forward")), u(2, 6), mirrors=False, **F32)
for _fn in (fft.fft2, fft.ifft2, fft.fftn, fft.ifftn):
    sample(_fn, lambda x, f=_fn: parts(f(x)), u(2, 3, 4), mirrors=False, **F32)
    sample(_fn, lambda x, f=_fn: parts(f(x, s=(4, 2), axes=(0, 2))), u(3, 2, 3), mirrors=False, **F32)
    sample(_fn, lambda x, f=_fn: parts(f(x, norm="ortho")), u(3, 4), mirrors=False, **F32)
sample(fft.rfft, lambda x: parts(fft.rfft(x)), u(7), mirrors=False, **F32)
sample(fft.rfft, lambda x: parts(fft.rfft(x, 8, axis=0, norm="ortho")), u(6, 2), mirrors=False, **F32)
sample(fft.rfft, lambda x: parts(fft.rfft(x, n=4, norm="forward")), u(6), mirrors=False, **F32)
sample(fft.irfft, lambda x: weighted_sum(fft.irfft(x)), u(5), **F32)
sample(fft.irfft, lambda x: weighted_sum(fft.irfft(x, 7, 0, "ortho")), u(4, 2),
       kwargs=dict(n=7, axis=0, norm="ortho"), **F32)
sample(fft.irfft, lambda x: weighted_sum(fft.irfft(x, n=4, norm="forward")), u(5),
       kwargs=dict(n=4, norm="forward"), **F32)
sample(fft.irfft, lambda x: weighted_sum(fft.irfft(x, n=12)), u(4), kwargs=dict(n=12), **F32)
sample(fft.fftshift, lambda x: weighted_sum(fft.fftshift(x)), u(5, 4))
sample(fft.fftshift, lambda x: weighted_sum(fft.fftshift(x, axes=1)), u(3, 5), kwargs=dict(axes=1))
sample(fft.ifftshift, lambda x: weighted_sum(fft.ifftshift(x)), u(5))


Z = np.array([0.3 + 0.4j, -0.5 + 0.2j, 0.6 - 0.3j, 0.1 + 0.9j])
# the rules whose complex inputs the test below checks (the coverage table lists them)
COMPLEX_CHECKED = [fft.fft, fft.ifft, fft.fftn, fft.ifftn, fft.irfft, fft.ifft2]


@pytest.mark.parametrize("fn", [fft.fft, fft.ifft, fft.fftn, fft.ifftn, lambda z: fft.irfft(z, 6),
                                lambda z: fft.fft(z, 6), lambda z: fft.ifft2(np.reshape(z, (2, 2)))],
                         ids=["fft", "ifft", "fftn", "ifftn", "irfft", "fft-n", "ifft2"])
def test_complex_inputs_follow_the_convention(fn):
    loss = lambda z: parts(fn(z))  # noqa: E731
    (dz,) = zygote.gradient(loss, Z)
    np.testing.assert_allclose(dz, complex_differences(loss, Z), rtol=1e-6, atol=1e-8)


def test_a_round_trip_is_the_identity_for_gradients():
    x = u(8)
    (dx,) = zygote.gradient(lambda x: weighted_sum(np.real(fft.ifft(fft.fft(x)))), x)
    np.testing.assert_allclose(dx, np.random.default_rng(0).uniform(0.5, 2.0, 8))


# -- second order --------------------------------------------------------------------------------
from rule_coverage import second_derivative_check  # noqa: E402

W6, W4 = TABLE.rng.uniform(0.5, 2, 6), TABLE.rng.uniform(0.5, 2, 4)
SECOND_ORDER_CASES = {
    fft.fft: (lambda x: np.sum(np.real(fft.fft(x)) * W6) + np.sum(np.imag(fft.fft(x)) * W6[::-1]), u(6)),
    fft.ifft: (lambda x: np.sum(np.imag(fft.ifft(x)) * W6), u(6)),
    fft.rfft: (lambda x: np.sum(np.real(fft.rfft(x)) * W4) + np.sum(np.imag(fft.rfft(x)) * W4[::-1]), u(6)),
    fft.fft2: (lambda x: np.sum(np.real(fft.fft2(x)) ** 2 * W6.reshape(2, 3)), u(2, 3)),
}


@pytest.mark.parametrize("key", list(SECOND_ORDER_CASES), ids=lambda key: key.__name__)
def test_second_order_of_transforms(key):
    second_derivative_check(*SECOND_ORDER_CASES[key])
