"""Tests for flux.nnlib and flux.layers.conv: window views and their rules, conv and pooling, and the layers in models.

Forward passes are compared with loops over output pixels, gradients with central
differences in float64; float32 runs stay float32. (The benchmark case `benchmarks/conv.py`
checks the gradients against PyTorch's before timing them.)
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flux
import zygote
from flux import (Chain, Conv, Dense, GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool, f32, f64,
                  flatten, fmap, logitcrossentropy, nnlib, onehotbatch, params, relu, tanh, zeros32)
from zygote.testing import check_grad, output_weights

def naive_conv(x, weight, bias, stride, pad, dilation):
    """The convolution as the formula reads, one output pixel at a time."""
    top, bottom, left, right = pad
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kh, kw, _, cout = weight.shape
    (sh, sw), (dh, dw) = stride, dilation
    oh = (padded.shape[1] - dh * (kh - 1) - 1) // sh + 1
    ow = (padded.shape[2] - dw * (kw - 1) - 1) // sw + 1
    y = np.zeros((len(x), oh, ow, cout))
    for i in range(oh):
        for j in range(ow):
            patch = padded[:, i * sh:i * sh + dh * (kh - 1) + 1:dh,
                           j * sw:j * sw + dw * (kw - 1) + 1:dw]
            y[:, i, j] = np.einsum("npqc,pqco->no", patch, weight)
    return y if bias is None else y + bias


def naive_pool(x, window, stride, pad, reduce, fill):
    top, bottom, left, right = pad
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    (kh, kw), (sh, sw) = window, stride
    oh, ow = (padded.shape[1] - kh) // sh + 1, (padded.shape[2] - kw) // sw + 1
    return np.stack([np.stack([reduce(padded[:, i * sh:i * sh + kh, j * sw:j * sw + kw], axis=(1, 2))
                               for j in range(ow)], axis=1) for i in range(oh)], axis=1)


def weighted(y, seed=0):
    """``Σ w·sin(y)`` with fixed uneven weights, a scalar that hides no misplaced entry."""
    return np.sum(np.sin(y) * output_weights(np.shape(y), seed))


RNG = np.random.default_rng(0)
CASES = [  # stride, pad, dilation
    ((1, 1), (0, 0, 0, 0), (1, 1)),
    ((2, 2), (1, 1, 1, 1), (1, 1)),
    ((2, 1), (0, 1, 2, 0), (1, 2)),
    ((3, 2), (2, 2, 1, 1), (2, 1)),
]


# ---------------------------------------------------------------- views ----------

def test_windows_is_a_read_only_view_of_the_patches():
    x = RNG.normal(size=(2, 7, 6, 3))
    view = nnlib.windows(x, (3, 2), stride=(2, 1), dilation=(2, 1))
    assert view.shape == (2, 2, 5, 3, 2, 3) and np.shares_memory(view, x)
    assert not view.flags.writeable
    np.testing.assert_array_equal(view[1, 1, 3], x[1, 2:7:2, 3:5])


def test_window_sum_is_the_adjoint_of_windows():
    for stride, _, dilation in CASES:
        x = RNG.normal(size=(2, 9, 8, 3))
        view = nnlib.windows(x, (3, 2), stride, dilation)
        cols = RNG.normal(size=view.shape)
        back = nnlib.window_sum(cols, x.shape, stride, dilation)
        np.testing.assert_allclose(np.sum(view * cols), np.sum(x * back), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 4), st.integers(1, 4),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2),
       st.integers(1, 3), st.integers(0, 10_000))
def test_window_sum_adjoint_property(h, w, kh, kw, sh, sw, dh, dw, c, seed):
    if dh * (kh - 1) + 1 > h or dw * (kw - 1) + 1 > w:
        with pytest.raises(ValueError, match="does not fit"):
            nnlib.windows(np.zeros((1, h, w, c)), (kh, kw), (sh, sw), (dh, dw))
        return
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, h, w, c))
    view = nnlib.windows(x, (kh, kw), (sh, sw), (dh, dw))
    assert view.shape[1:3] == (nnlib.output_size(h, kh, sh, dh), nnlib.output_size(w, kw, sw, dw))
    cols = rng.normal(size=view.shape)
    back = nnlib.window_sum(cols, x.shape, (sh, sw), (dh, dw))
    np.testing.assert_allclose(np.sum(view * cols), np.sum(x * back), rtol=1e-10, atol=1e-10)


def test_pad_hw_places_the_block_and_skips_a_copy_without_padding():
    x = RNG.normal(size=(1, 2, 3, 2))
    y = nnlib.pad_hw(x, (1, 0, 2, 1), value=-1.0)
    assert y.shape == (1, 3, 6, 2)
    np.testing.assert_array_equal(y[:, 1:, 2:5], x)
    assert (y[:, 0] == -1).all() and (y[:, :, :2] == -1).all()
    assert nnlib.pad_hw(x, (0, 0, 0, 0)) is x


def test_rules_against_finite_differences():
    x = RNG.normal(size=(2, 5, 6, 2))
    check_grad(lambda x: weighted(nnlib.pad_hw(x, (1, 2, 0, 1))), x)
    check_grad(lambda x: weighted(nnlib.windows(x, (2, 3), (2, 1), (1, 2))), x)
    cols = RNG.normal(size=(2, 2, 2, 2, 3, 2))
    check_grad(lambda c: weighted(nnlib.window_sum(c, (2, 4, 7, 2), (2, 2), (1, 1))), cols)
    check_grad(lambda c: weighted(nnlib.tap_sum(c)), cols)


def strided_conv(x, weight):
    cols = nnlib.windows(nnlib.pad_hw(x, (1, 0, 0, 1)), (2, 2), (1, 2), (1, 1))
    return np.reshape(cols, (-1, 4)) @ weight


def test_second_derivative_through_the_views():
    x = RNG.normal(size=(1, 4, 5, 1))
    weight = RNG.normal(size=(4, 2))

    def slope(x):
        (dx,) = zygote.gradient(lambda x: weighted(strided_conv(x, weight), 0), x)
        return np.sum(dx * np.cos(x))
    check_grad(slope, x)


# ---------------------------------------------------------------- conv -----------

@pytest.mark.parametrize("stride, pad, dilation", CASES)
@pytest.mark.parametrize("cin, cout", [(1, 2), (3, 1), (2, 4)])
def test_conv_matches_the_formula(stride, pad, dilation, cin, cout):
    x = RNG.normal(size=(2, 9, 7, cin))
    weight, bias = RNG.normal(size=(3, 2, cin, cout)), RNG.normal(size=cout)
    y = nnlib.conv(x, weight, bias, stride=stride, pad=pad, dilation=dilation)
    np.testing.assert_allclose(y, naive_conv(x, weight, bias, stride, pad, dilation), rtol=1e-10,
                               atol=1e-12)


@pytest.mark.parametrize("stride, pad, dilation", CASES)
def test_conv_gradient(stride, pad, dilation):
    x = RNG.normal(size=(2, 7, 6, 2))
    weight, bias = RNG.normal(size=(3, 2, 2, 3)), RNG.normal(size=3)
    check_grad(lambda x, w, b: weighted(nnlib.conv(x, w, b, stride=stride, pad=pad,
                                                   dilation=dilation)), x, weight, bias)


def test_conv_without_bias_gradient_in_full():
    x = RNG.normal(size=(1, 3, 3, 1))
    weight = RNG.normal(size=(2, 2, 1, 1))
    check_grad(lambda x, w: weighted(nnlib.conv(x, w)), x, weight, full_max=40)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 3), st.integers(3, 8), st.integers(3, 8), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 2),
       st.integers(0, 2), st.integers(0, 10_000))
def test_conv_property(n, h, w, cin, cout, k, stride, dilation, pad, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, h, w, cin))
    weight, bias = rng.normal(size=(k, k, cin, cout)), rng.normal(size=cout)
    options = {"stride": (stride, stride), "pad": (pad,) * 4, "dilation": (dilation, dilation)}
    if dilation * (k - 1) + 1 > min(h, w) + 2 * pad:
        with pytest.raises(ValueError):
            nnlib.conv(x, weight, bias, **options)
        return
    y = nnlib.conv(x, weight, bias, **options)
    np.testing.assert_allclose(y, naive_conv(x, weight, bias, options["stride"], options["pad"],
                                             options["dilation"]), rtol=1e-10, atol=1e-10)
    check_grad(lambda x, w, b: weighted(nnlib.conv(x, w, b, **options)), x, weight, bias,
               directions=2)


def test_conv_keeps_float32():
    x = RNG.normal(size=(2, 6, 6, 3)).astype(np.float32)
    weight = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32)
    bias = np.zeros(4, np.float32)
    y = nnlib.conv(x, weight, bias, pad=(1, 1, 1, 1), stride=(2, 2))
    assert y.dtype == np.float32
    grads = zygote.gradient(lambda x, w, b: np.sum(nnlib.conv(x, w, b, pad=(1, 1, 1, 1),
                                                              stride=(2, 2)) * y), x, weight, bias)
    assert [g.dtype for g in grads] == [np.float32] * 3


# ---------------------------------------------------------------- pooling --------

POOLS = [((2, 2), (2, 2), (0, 0, 0, 0)), ((3, 3), (1, 1), (1, 1, 1, 1)),
         ((3, 2), (2, 1), (0, 1, 1, 0)), ((2, 2), (2, 2), (1, 0, 0, 1))]


@pytest.mark.parametrize("window, stride, pad", POOLS)
def test_pools_match_the_formula_and_differences(window, stride, pad):
    x = RNG.normal(size=(2, 7, 6, 3))
    np.testing.assert_array_equal(nnlib.maxpool(x, window, stride, pad),
                                  naive_pool(x, window, stride, pad, np.max, -np.inf))
    np.testing.assert_allclose(nnlib.meanpool(x, window, stride, pad),
                               naive_pool(x, window, stride, pad, np.mean, 0.0), rtol=1e-12)
    check_grad(lambda x: weighted(nnlib.maxpool(x, window, stride, pad)), x)
    check_grad(lambda x: weighted(nnlib.meanpool(x, window, stride, pad)), x)


def test_maxpool_gradient_goes_to_the_first_of_tied_maxima():
    x = np.array([[3.0, 3.0, 1.0, 2.0], [0.0, 3.0, 2.0, 2.0]]).reshape(1, 2, 4, 1)
    (dx,) = zygote.gradient(lambda x: np.sum(nnlib.maxpool(x, (2, 2), (2, 2)) * [[[[1.0], [5.0]]]]),
                            x)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0]])


def test_overlapping_maxpool_adds_the_gradients_of_a_shared_winner():
    x = np.zeros((1, 3, 3, 1))
    x[0, 1, 1, 0] = 1.0                       # the maximum of all four 2×2 windows
    (dx,) = zygote.gradient(lambda x: np.sum(nnlib.maxpool(x, (2, 2), (1, 1))), x)
    assert dx[0, 1, 1, 0] == 4.0 and dx.sum() == 4.0


def images(n, h, w, c, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=(n, h, w, c)).astype(dtype)


# ---------------------------------------------------------------- Conv -----------

def test_conv_shapes_dtype_and_init():
    layer = Conv((5, 3), 2, 4, relu)
    assert layer.weight.shape == (5, 3, 2, 4) and layer.bias.shape == (4,)
    assert layer.weight.dtype == np.float32 and layer.weight.flags.c_contiguous
    assert not layer.bias.any()
    fan_in, fan_out = 2 * 15, 4 * 15                  # Glorot fans counted over the window
    assert np.abs(layer.weight).max() <= np.sqrt(6 / (fan_in + fan_out))
    y = layer(images(3, 9, 8, 2, dtype=np.float32))
    assert y.shape == (3, 5, 6, 4) and y.dtype == np.float32
    assert not Conv((3, 3), 1, 2, init=zeros32).weight.any()
    np.testing.assert_array_equal(Conv(3, 2, 2, rng=7).weight, Conv(3, 2, 2, rng=7).weight)


@pytest.mark.parametrize("stride, pad, dilation", [
    (1, 0, 1), (2, 1, 1), ((2, 1), (1, 2), (1, 2)), (3, (0, 1, 2, 0), 2), (1, "same", 1),
    (2, "same", (2, 1))])
def test_conv_forward_matches_the_formula(stride, pad, dilation):
    layer = f64(Conv((3, 2), 3, 2, tanh, stride=stride, pad=pad, dilation=dilation, rng=1))
    layer.bias = RNG.normal(size=2)
    x = images(2, 9, 7, 3)
    expected = np.tanh(naive_conv(x, layer.weight, layer.bias, layer.stride, layer.pad,
                                  layer.dilation))
    np.testing.assert_allclose(layer(x), expected, rtol=1e-10, atol=1e-12)


def test_same_padding_keeps_the_size_at_stride_one():
    for window in [(3, 3), (4, 2), (5, 1)]:
        assert Conv(window, 1, 1, pad="same")(images(1, 7, 6, 1)).shape == (1, 7, 6, 1)
    assert Conv((3, 3), 1, 1, pad="same", stride=2)(images(1, 7, 6, 1)).shape == (1, 4, 3, 1)


@pytest.mark.parametrize("cin, cout, options", [
    (1, 2, {}), (3, 2, {"pad": 1}), (2, 3, {"stride": 2, "pad": (1, 0)}),
    (2, 1, {"dilation": 2, "pad": "same"}), (1, 1, {"stride": (1, 2), "bias": False})])
def test_conv_gradient_parameters(cin, cout, options, check_model_grad):
    layer = f64(Conv((3, 2), cin, cout, tanh, rng=1, **options))
    if layer.bias is not None:
        layer.bias = RNG.normal(size=cout)
    x = images(2, 5, 5, cin, seed=2)
    check_model_grad(lambda m: m(x), layer)


def test_conv_gradient_input():
    layer = f64(Conv((2, 3), 2, 3, tanh, stride=(2, 1), pad=(1, 0, 1, 1), rng=1))
    check_grad(lambda x: weighted(layer(x)), images(2, 5, 4, 2, seed=3))


def test_first_layer_skips_the_gradient_of_the_data(monkeypatch):
    calls = []
    window_sum = nnlib.window_sum

    def counting(*args):
        calls.append(np.shape(args[0]))
        return window_sum(*args)
    monkeypatch.setattr(nnlib, "window_sum", counting)
    model = Chain(Conv((3, 3), 1, 2, relu, pad=1, rng=0), Conv((3, 3), 2, 2, rng=1))
    x = images(2, 6, 6, 1, dtype=np.float32)
    zygote.gradient(lambda m: np.sum(m(x)), model)
    assert calls == [(2, 4, 4, 3, 3, 2)]            # the second layer's input only


def test_conv_rejects_what_it_cannot_read():
    layer = Conv((5, 5), 1, 6, relu)
    with pytest.raises(ValueError, match=r"expects a batch of images of shape \(N, H, W, 1\).*"
                                         r"\(32, 28, 28\); add the channel axis"):
        layer(np.zeros((32, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"\(N, H, W, 3\).*\(2, 8, 8, 1\)"):
        Conv((3, 3), 3, 4)(np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match=r"\(2, 3, 8, 8\); channels-first"):
        Conv((3, 3), 3, 4)(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(ValueError, match=r"at least 5×5 pixels.*\(2, 4, 9, 1\)"):
        layer(np.zeros((2, 4, 9, 1), np.float32))
    with pytest.raises(ValueError, match=r"at least 5×9 pixels"):
        Conv((3, 5), 1, 1, dilation=2)(np.zeros((1, 9, 8, 1)))
    Conv((5, 5), 1, 1, pad=1)(np.zeros((1, 3, 3, 1)))  # padding makes room


def test_conv_rejects_bad_settings():
    with pytest.raises(TypeError, match="stride must be an int or a pair of ints, got 1.5"):
        Conv((3, 3), 1, 1, stride=1.5)
    with pytest.raises(ValueError, match="window must be at least 1"):
        Conv((0, 3), 1, 1)
    with pytest.raises(ValueError, match='"same"'):
        Conv((3, 3), 1, 1, pad="valid")
    with pytest.raises(ValueError, match="negative"):
        Conv((3, 3), 1, 1, pad=-1)


def test_conv_repr_and_str():
    assert repr(Conv((5, 5), 1, 6, relu)) == "Conv((5, 5), 1 => 6, relu)"
    assert repr(Conv((3, 3), 6, 16, stride=2, pad=1, dilation=(1, 2), bias=False)) == (
        "Conv((3, 3), 6 => 16, stride=2, pad=1, dilation=(1, 2), bias=False)")
    assert repr(Conv((3, 3), 1, 1, pad=(1, 2))) == "Conv((3, 3), 1 => 1, pad=(1, 2))"
    assert repr(Conv((3, 3), 1, 1, pad=(0, 1, 2, 3))) == "Conv((3, 3), 1 => 1, pad=(0, 1, 2, 3))"
    assert repr(Conv((3, 3), 1, 1, pad="same")) == "Conv((3, 3), 1 => 1, pad=1)"
    assert str(Conv((5, 5), 6, 16, relu)) == "Conv((5, 5), 6 => 16, relu)  # 2_416 parameters"


# ---------------------------------------------------------------- pooling --------

def test_pool_layers_forward():
    x = np.arange(2 * 5 * 5 * 3, dtype=np.float32).reshape(2, 5, 5, 3)
    y = MaxPool((2, 2))(x)
    assert y.shape == (2, 2, 2, 3) and y.dtype == np.float32       # the last row and column drop
    np.testing.assert_array_equal(y[0, :, :, 0], [[18, 24], [48, 54]])
    np.testing.assert_allclose(MeanPool(2)(x)[0, :, :, 0], [[9, 15], [39, 45]])
    assert MaxPool(3, stride=1, pad=1)(x).shape == (2, 5, 5, 3)
    assert MeanPool((2, 3), stride=(1, 2))(x).shape == (2, 4, 2, 3)
    np.testing.assert_array_equal(GlobalMaxPool()(x)[:, 0, 0], x.max(axis=(1, 2)))
    np.testing.assert_allclose(GlobalMeanPool()(x)[:, 0, 0], x.mean(axis=(1, 2)))
    assert GlobalMeanPool()(x).shape == (2, 1, 1, 3)


@pytest.mark.parametrize("layer", [MaxPool((2, 2)), MaxPool(3, stride=2, pad=1), MeanPool((2, 3)),
                                   MeanPool(2, stride=1, pad=(1, 0)), GlobalMaxPool(),
                                   GlobalMeanPool()], ids=repr)
def test_pool_gradients(layer):
    check_grad(lambda x: weighted(layer(x)), images(2, 5, 6, 3, seed=4))


def test_pool_gradients_stay_float32():
    x = images(2, 6, 6, 3, dtype=np.float32)
    for layer in (MaxPool(2), MeanPool(3, stride=1, pad=1), GlobalMeanPool(), GlobalMaxPool()):
        (dx,) = zygote.gradient(lambda x: np.sum(layer(x) * np.float32(2.0)), x)
        assert dx.dtype == np.float32 and dx.shape == x.shape


def test_pool_checks_and_reprs():
    with pytest.raises(ValueError, match=r"MaxPool\(\(2, 2\)\) expects .*\(N, H, W, C\).*\(4, 4\)"):
        MaxPool(2)(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"at least 3×3 pixels.*\(1, 2, 5, 1\)"):
        MeanPool(3)(np.zeros((1, 2, 5, 1)))
    assert repr(MaxPool((2, 2))) == "MaxPool((2, 2))"
    assert repr(MaxPool(3, stride=1, pad=1)) == "MaxPool((3, 3), stride=1, pad=1)"
    assert repr(MeanPool((2, 2), stride=(2, 1))) == "MeanPool((2, 2), stride=(2, 1))"
    assert repr(GlobalMeanPool()) == "GlobalMeanPool()"


@settings(max_examples=20, deadline=None)
@given(st.integers(4, 9), st.integers(4, 9), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(0, 1), st.integers(0, 10_000))
def test_conv_pool_stack_property(h, w, k, stride, cin, pad, seed):
    model = f64(Chain(Conv((k, k), cin, 2, tanh, stride=stride, pad=pad, rng=seed),
                      MaxPool(2, pad=pad), GlobalMeanPool(), flatten))
    x = images(2, h, w, cin, seed=seed)
    try:
        y = model(x)
    except ValueError as error:
        assert "at least" in str(error)
        return
    assert y.shape == (2, 2)
    rest = model[1:]

    def through(x, weight):
        z = nnlib.conv(x, weight, None, stride=(stride, stride), pad=(pad,) * 4)
        return weighted(rest(np.tanh(z)))
    check_grad(through, x, model[0].weight, directions=2)


# ---------------------------------------------------------------- in models ------

def lenet(rng=0):
    return Chain(Conv((5, 5), 1, 6, relu, pad=2, rng=rng), MaxPool((2, 2)),
                 Conv((5, 5), 6, 16, relu, rng=rng), MaxPool((2, 2)), flatten,
                 Dense(400, 32, relu, rng=rng), Dense(32, 10, rng=rng))


def test_lenet_params_print_and_float32_gradients():
    model = lenet()
    assert len(params(model)) == 8
    text = str(model)
    assert "  Conv((5, 5), 1 => 6, relu, pad=2),  # 156 parameters" in text
    assert "  MaxPool((2, 2))," in text
    x = images(4, 28, 28, 1, dtype=np.float32)
    y = onehotbatch([0, 1, 2, 3], range(10))
    (g,) = zygote.gradient(lambda m: logitcrossentropy(m(x), y), model)
    assert g["layers"][0]["weight"].shape == (5, 5, 1, 6) and g["layers"][1] is None
    conv_grads = [g["layers"][i][name] for i in (0, 2) for name in ("weight", "bias")]
    assert [d.dtype for d in conv_grads] == [np.float32] * 4
    gs = zygote.gradient(lambda: logitcrossentropy(model(x), y), params(model))
    np.testing.assert_allclose(gs[model[2].weight], g["layers"][2]["weight"], rtol=1e-5)


def test_lenet_training_lowers_the_loss():
    model = lenet()
    x = images(16, 28, 28, 1, dtype=np.float32)
    y = onehotbatch(np.arange(16) % 10, range(10))
    loss = lambda x, y: logitcrossentropy(model(x), y)  # noqa: E731
    before = loss(x, y)
    opt = flux.Adam(0.003)
    for _ in range(5):
        flux.train(loss, params(model), [(x, y)], opt, progress=False)
    assert loss(x, y) < before
    assert all(p.dtype == np.float32 for p in params(model))


def test_conv_layers_map_copy_save_and_load(tmp_path):
    model = lenet()
    wide = f64(model)
    assert wide[0].weight.dtype == np.float64 and wide[0].stride == (1, 1)
    assert f32(wide)[2].weight.dtype == np.float32
    doubled = fmap(lambda a: 2 * a, model)
    np.testing.assert_array_equal(doubled[0].weight, 2 * model[0].weight)
    assert repr(doubled) == repr(model)
    flux.save(tmp_path / "lenet.npz", model)
    assert "layers.0.weight" in np.load(tmp_path / "lenet.npz").files
    copy = flux.load(tmp_path / "lenet.npz", lenet(rng=1))
    x = images(2, 28, 28, 1, dtype=np.float32)
    np.testing.assert_array_equal(copy(x), model(x))
    with pytest.raises(flux.LoadError, match=r"layers.0.weight has shape \(5, 5, 1, 6\)"):
        flux.load(tmp_path / "lenet.npz", Chain(Conv((5, 5), 1, 8, pad=2), *lenet()[1:]))
