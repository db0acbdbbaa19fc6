"""Tests for flux.nnlib.conv_transpose/depthwise_conv and flux.layers.conv_variants: by loops, by
the adjoint identity with `conv`, and against central differences."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux import (Chain, Conv, ConvTranspose, CrossCor, DepthwiseConv, f64, nnlib, relu, tanh)

CASES = [  # stride, pad, dilation
    ((1, 1), (0, 0, 0, 0), (1, 1)),
    ((2, 2), (1, 0, 1, 1), (1, 1)),
    ((2, 1), (0, 1, 0, 0), (1, 2)),
]


def normal(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def naive_conv_transpose(x, weight, stride, pad, dilation):
    """Each input pixel adds its kernel-weighted copy into the output, one at a time."""
    kh, kw, cout, _ = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    n, h, w, _ = x.shape
    full = np.zeros((n, (h - 1) * sh + dh * (kh - 1) + 1, (w - 1) * sw + dw * (kw - 1) + 1, cout))
    for i in range(h):
        for j in range(w):
            for p in range(kh):
                for q in range(kw):
                    full[:, i * sh + p * dh, j * sw + q * dw] += x[:, i, j] @ weight[p, q].T
    top, bottom, left, right = pad
    return full[:, top:full.shape[1] - bottom, left:full.shape[2] - right]


@pytest.mark.parametrize("stride, pad, dilation", CASES)
def test_conv_transpose_is_the_loop_and_the_adjoint_of_conv(stride, pad, dilation):
    weight = normal((3, 2, 4, 3), 1)   # the layout of a Conv from 4 to 3 channels
    x = normal((2, 3, 4, 3), 2)
    y = nnlib.conv_transpose(x, weight, stride=stride, pad=pad, dilation=dilation)
    np.testing.assert_allclose(y, naive_conv_transpose(x, weight, stride, pad, dilation), rtol=1e-12)
    z = normal(y.shape, 3)
    forward = nnlib.conv(z, weight, stride=stride, pad=pad, dilation=dilation)
    assert forward.shape == x.shape
    np.testing.assert_allclose(np.sum(forward * x), np.sum(z * y), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2),
       st.tuples(*[st.integers(0, 1)] * 4), st.integers(1, 3), st.integers(1, 3))
def test_conv_transpose_is_the_adjoint_of_conv_for_any_shape(h, w, kh, kw, sh, sw, dh, dw, pad,
                                                             cin, cout):
    rng = np.random.default_rng(h * 7 + w)
    x = rng.normal(size=(2, h, w, cin))
    weight = rng.normal(size=(kh, kw, cout, cin))
    top, bottom, left, right = pad
    out_h = (h - 1) * sh + dh * (kh - 1) + 1 - top - bottom
    out_w = (w - 1) * sw + dw * (kw - 1) + 1 - left - right
    if out_h < 1 or out_w < 1:
        return
    stride, dilation = (sh, sw), (dh, dw)
    y = nnlib.conv_transpose(x, weight, stride=stride, pad=pad, dilation=dilation)
    assert y.shape == (2, out_h, out_w, cout)
    np.testing.assert_allclose(y, naive_conv_transpose(x, weight, stride, pad, dilation),
                               rtol=1e-10, atol=1e-12)
    z = rng.normal(size=y.shape)
    forward = nnlib.conv(z, weight, stride=stride, pad=pad, dilation=dilation)
    np.testing.assert_allclose(np.sum(forward * x), np.sum(z * y), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("stride, pad, dilation", CASES)
def test_conv_transpose_layer_gradients(stride, pad, dilation, check_model_grad, check_grad):
    layer = f64(ConvTranspose((3, 2), 3, 2, tanh, stride=stride, pad=pad, dilation=dilation, rng=0))
    layer.bias = normal(2, 4)
    x = normal((2, 3, 3, 3), 5)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_conv_transpose_undoes_a_strided_conv_shape():
    down = Conv((4, 4), 3, 8, stride=2, pad=1, rng=0)
    up = ConvTranspose((4, 4), 8, 3, stride=2, pad=1, rng=1)
    x = np.ones((2, 16, 16, 3), np.float32)
    y = Chain(down, relu, up)(x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert up.weight.shape == (4, 4, 3, 8)


def test_conv_transpose_errors_and_repr():
    layer = ConvTranspose((3, 3), 2, 4, relu, stride=2, rng=0)
    assert repr(layer) == "ConvTranspose((3, 3), 2 => 4, relu, stride=2)"
    assert str(ConvTranspose(2, 1, 1, bias=False)) == "ConvTranspose((2, 2), 1 => 1, bias=False)  # 4 parameters"
    with pytest.raises(ValueError, match=r"\(N, H, W, 2\).*\(1, 4, 4, 3\)"):
        layer(np.ones((1, 4, 4, 3)))
    with pytest.raises(ValueError, match="crops more padding"):
        ConvTranspose(2, 1, 1, pad=2)(np.ones((1, 1, 1, 1)))
    with pytest.raises(ValueError, match="pad as an int"):
        ConvTranspose(3, 1, 1, pad="same")


def naive_depthwise(x, weight, stride, pad, dilation):
    cin = x.shape[3]
    m = weight.shape[3] // cin
    outputs = []
    for c in range(cin):
        for k in range(m):
            kernel = weight[:, :, :, c * m + k:c * m + k + 1]
            outputs.append(nnlib.conv(x[..., c:c + 1], kernel, stride=stride, pad=pad,
                                      dilation=dilation))
    return np.concatenate(outputs, axis=-1)


@pytest.mark.parametrize("stride, pad, dilation", CASES)
def test_depthwise_conv_convolves_each_channel_alone(stride, pad, dilation, check_model_grad,
                                                     check_grad):
    layer = f64(DepthwiseConv((2, 3), 2, 6, tanh, stride=stride, pad=pad, dilation=dilation, rng=0))
    layer.bias = normal(6, 1)
    x = normal((2, 5, 6, 2), 2)
    expected = np.tanh(naive_depthwise(x, layer.weight, stride, pad, dilation) + layer.bias)
    np.testing.assert_allclose(layer(x), expected, rtol=1e-12)
    check_model_grad(lambda m: m(x), layer)
    check_grad(lambda x: layer(x), x)


def test_depthwise_conv_errors_and_repr():
    with pytest.raises(ValueError, match="not a multiple of 2 input channels"):
        DepthwiseConv(3, 2, 5)
    layer = DepthwiseConv(3, 2, 2, pad="same", rng=0)
    assert layer(np.ones((1, 4, 4, 2), np.float32)).shape == (1, 4, 4, 2)
    with pytest.raises(ValueError, match=r"\(N, H, W, 2\)"):
        layer(np.ones((1, 4, 4, 3)))
    assert layer.weight.shape == (3, 3, 1, 2)


def test_crosscor_computes_what_conv_does(check_model_grad):
    kwargs = dict(stride=2, pad=1, rng=0)
    cross, conv = f64(CrossCor((3, 3), 2, 3, **kwargs)), f64(Conv((3, 3), 2, 3, **kwargs))
    x = normal((2, 5, 5, 2), 3)
    np.testing.assert_array_equal(cross(x), conv(x))
    # Unflipped: the top-left tap of the kernel meets the top-left pixel of each window.
    patch = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))[:, :3, :3]
    np.testing.assert_allclose(cross(x)[:, 0, 0], np.einsum("npqc,pqco->no", patch, cross.weight)
                               + cross.bias)
    assert repr(cross) == "CrossCor((3, 3), 2 => 3, stride=2, pad=1)"
    check_model_grad(lambda m: m(x), cross)
