"""Tests for flux.layers.resample: Upsample, PixelShuffle and the adaptive pools, by loops and central differences."""

import numpy as np
import pytest

from flux import (AdaptiveMaxPool, AdaptiveMeanPool, Chain, Conv, PixelShuffle, Upsample, f64,
                  flatten)


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def test_nearest_upsample_repeats_pixels(check_grad):
    x = normal((2, 3, 2, 2), 1)
    y = Upsample((2, 3))(x)
    assert y.shape == (2, 6, 6, 2)
    for i in range(6):
        for j in range(6):
            np.testing.assert_array_equal(y[:, i, j], x[:, i // 2, j // 3])
    (dx,) = check_grad(lambda x: Upsample((2, 3))(x), x)
    assert dx.shape == x.shape


def bilinear_reference(x, out_h, out_w):
    """Linear interpolation with aligned corners, one output pixel at a time."""
    n, h, w, c = x.shape
    y = np.zeros((n, out_h, out_w, c))
    for i in range(out_h):
        for j in range(out_w):
            u = i * (h - 1) / (out_h - 1) if out_h > 1 else 0.0
            v = j * (w - 1) / (out_w - 1) if out_w > 1 else 0.0
            i0, j0 = int(np.floor(u)), int(np.floor(v))
            i1, j1 = min(i0 + 1, h - 1), min(j0 + 1, w - 1)
            a, b = u - i0, v - j0
            y[:, i, j] = ((1 - a) * (1 - b) * x[:, i0, j0] + (1 - a) * b * x[:, i0, j1]
                          + a * (1 - b) * x[:, i1, j0] + a * b * x[:, i1, j1])
    return y


@pytest.mark.parametrize("layer, out", [(Upsample(2, "bilinear"), (6, 8)),
                                        (Upsample(mode="bilinear", size=(5, 7)), (5, 7)),
                                        (Upsample(mode="bilinear", size=(1, 2)), (1, 2))],
                         ids=repr)
def test_bilinear_upsample_interpolates_with_aligned_corners(layer, out, check_grad):
    x = normal((2, 3, 4, 2), 2)
    y = layer(x)
    np.testing.assert_allclose(y, bilinear_reference(x, *out), rtol=1e-12, atol=1e-12)
    if out[0] > 1:
        np.testing.assert_allclose(y[:, [0, -1]][:, :, [0, -1]], x[:, [0, -1]][:, :, [0, -1]])
    check_grad(lambda x: layer(x), x)


def test_upsample_keeps_float32_and_checks_its_arguments():
    x = np.ones((1, 2, 2, 3), np.float32)
    assert Upsample(2)(x).dtype == np.float32 and Upsample(2, "bilinear")(x).dtype == np.float32
    with pytest.raises(ValueError, match="either scale or size"):
        Upsample()
    with pytest.raises(ValueError, match='needs mode="bilinear"'):
        Upsample(size=(4, 4))
    with pytest.raises(ValueError, match="nearest"):
        Upsample(2, "cubic")
    with pytest.raises(ValueError, match=r"NHWC.*\(2, 2\)"):
        Upsample(2)(np.ones((2, 2)))
    assert repr(Upsample((2, 3))) == "Upsample((2, 3))"


def test_pixel_shuffle_moves_channels_to_pixels(check_grad):
    r = 2
    x = normal((2, 3, 2, 3 * r * r), 3)
    y = PixelShuffle(r)(x)
    assert y.shape == (2, 6, 4, 3)
    for h in range(3):
        for w in range(2):
            for c in range(3):
                for i in range(r):
                    for j in range(r):
                        np.testing.assert_array_equal(y[:, h * r + i, w * r + j, c],
                                                      x[:, h, w, c * r * r + i * r + j])
    check_grad(lambda x: PixelShuffle(2)(x), x)
    with pytest.raises(ValueError, match="multiple of 4"):
        PixelShuffle(2)(np.ones((1, 2, 2, 6)))


def pooled_reference(x, out, reduce):
    h, w = x.shape[1:3]
    sh, sw = h // out[0], w // out[1]
    kh, kw = h - (out[0] - 1) * sh, w - (out[1] - 1) * sw
    return np.stack([np.stack([reduce(x[:, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(1, 2))
                               for j in range(out[1])], axis=1) for i in range(out[0])], axis=1)


@pytest.mark.parametrize("shape, out", [((2, 6, 4, 3), (3, 2)), ((2, 7, 5, 2), (3, 2)),
                                        ((1, 4, 4, 2), (1, 1))])
def test_adaptive_pools_reach_the_output_size(shape, out, check_grad):
    x = normal(shape, 4)
    mean_pool, max_pool = AdaptiveMeanPool(out), AdaptiveMaxPool(out)
    np.testing.assert_allclose(mean_pool(x), pooled_reference(x, out, np.mean), rtol=1e-12)
    np.testing.assert_allclose(max_pool(x), pooled_reference(x, out, np.max))
    assert mean_pool(x).shape == (shape[0], *out, shape[3])
    check_grad(lambda x: mean_pool(x), x)
    check_grad(lambda x: max_pool(x), x)


def test_adaptive_pool_makes_any_image_size_fit_a_classifier(check_model_grad):
    model = f64(Chain(Conv(3, 2, 3, rng=0), AdaptiveMeanPool((2, 2)), flatten))
    for size in [(6, 6), (9, 7)]:
        assert model(np.ones((1, *size, 2))).shape == (1, 12)
    check_model_grad(lambda m: m(normal((2, 7, 6, 2), 5)), model)
    with pytest.raises(ValueError, match="only shrinks"):
        AdaptiveMaxPool(4)(np.ones((1, 3, 5, 1)))
    assert repr(AdaptiveMaxPool((2, 3))) == "AdaptiveMaxPool((2, 3))"
