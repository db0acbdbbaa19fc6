"""The public API: return conventions, dtypes, errors and readable adjoints."""
import math
import traceback

import numpy as np
import pytest

import zygote
from zygote import (MissingRuleError, NonScalarOutputError, SourceUnavailableError,
                    UnsupportedSyntaxError)


def test_return_conventions():
    g = zygote.gradient(lambda a, b, s, flag, n: a * 2 + np.sum(b) * (3 if flag else 1), 1, np.ones(2),
                        "text", True, np.arange(3))
    assert g[0] == 2.0 and isinstance(g[0], float)
    np.testing.assert_allclose(g[1], [3.0, 3.0])
    assert g[2] is None and g[3] is None and g[4] is None
    assert zygote.gradient(lambda x, y: x * 2, 1.0, 5.0) == (2.0, None)


def test_scalar_outputs_of_every_kind():
    x = np.array([1.0, 2.0])
    for f in (lambda x: np.sum(x), lambda x: np.sum(x, keepdims=True), lambda x: x[:1] * 2):
        g = zygote.gradient(f, x)[0]
        assert g.shape == x.shape


def test_float32_stays_float32():
    x = np.ones(3, dtype=np.float32)
    W = np.ones((2, 3), dtype=np.float32)
    gW, gx = zygote.gradient(lambda W, x: np.sum(np.tanh(W @ x) * 0.5 + np.exp(-x).mean()), W, x)
    assert gW.dtype == np.float32 and gx.dtype == np.float32


def test_pullback_and_withgradient():
    x = np.array([1.0, 2.0, 3.0])
    y, back = zygote.pullback(lambda x: x ** 2, x)
    np.testing.assert_allclose(back(np.array([1.0, 0.0, 2.0]))[0], [2.0, 0.0, 12.0])
    value, grads = zygote.withgradient(lambda x: np.sum(x ** 2), x)
    assert value == 14.0
    np.testing.assert_allclose(grads[0], 2 * x)


def test_custom_rules_nograd_dropgrad():
    def clamp_grad(x):
        return x

    @zygote.adjoint(clamp_grad)
    def _(x):
        return x, lambda dy: (np.clip(dy, -1.0, 1.0),)

    assert zygote.gradient(lambda x: clamp_grad(x) * 10.0, 1.0) == (1.0,)
    assert zygote.gradient(lambda x: x * zygote.dropgrad(x), 3.0) == (3.0,)

    def noisy(x):
        return x * 2

    zygote.nograd(noisy)
    assert zygote.gradient(lambda x: noisy(x) + x, 3.0) == (1.0,)


def test_non_scalar_output_error():
    with pytest.raises(NonScalarOutputError, match=r"shape \(3,\).*pullback"):
        zygote.gradient(lambda x: x * 2, np.ones(3))
    with pytest.raises(NonScalarOutputError, match="tuple"):
        zygote.gradient(lambda x: (x, x), 1.0)


def test_not_callable():
    with pytest.raises(zygote.GradientUsageError, match="function"):
        zygote.gradient(3.0, 1.0)


async def with_async(x):
    return x


def with_class(x):
    class Local:
        pass
    return x


def test_unsupported_syntax_names_construct_and_line():
    for fn, construct in ((with_async, "async"), (with_class, "class definition")):
        with pytest.raises(UnsupportedSyntaxError, match=construct) as info:
            zygote.gradient(fn, 1.0)
        assert "test_api.py:" in str(info.value)
    with pytest.raises(UnsupportedSyntaxError, match="eval"):
        zygote.gradient(lambda x: eval("x") * x, 1.0)


def test_missing_source_and_missing_rule():
    namespace = {}
    exec("def made(x):\n    return x * 2\n", namespace)
    assert zygote.gradient(namespace["made"], 1.0) == (2.0,)  # lifted from its bytecode
    exec("def unliftable(x):\n    y = x\n    del y\n    return x * 2\n", namespace)
    with pytest.raises(SourceUnavailableError, match="zygote.adjoint"):
        zygote.gradient(namespace["unliftable"], 1.0)
    with pytest.raises(MissingRuleError, match="lgamma"):
        zygote.gradient(lambda x: math.lgamma(x), 2.0)


def failing(x):
    y = x * 2.0
    z = np.log(y) + undefined_name  # noqa: F821
    return z


def test_tracebacks_point_at_user_code():
    with pytest.raises(NameError) as info:
        zygote.gradient(failing, 1.0)
    frames = traceback.extract_tb(info.tb)
    assert any(f.filename == __file__ and f.lineno == failing.__code__.co_firstlineno + 2 for f in frames)


def snapshot_target(x, y):
    z = math.sin(x) * y
    return z + y


def test_adjoint_source_snapshot():
    text = zygote.adjoint_source(snapshot_target)
    assert text == '''def snapshot_target_primal(x, y):
    sin_x = math.sin(x)
    z = sin_x * y
    z_add_y = z + y
    return z_add_y, (sin_x, y, x)


def snapshot_target_adjoint(saved, dout):
    sin_x, y, x = saved
    # line {ret}: return z + y
    dz = dout
    dy = dout
    # line {z}: z = math.sin(x) * y
    dsin_x = dz * y.conjugate()
    dy = add_cotangent(dy, dz * sin_x.conjugate(), y)
    dx = dsin_x * math.cos(x)
    return 0, unbroadcast(dx, x), unbroadcast(dy, y)
'''.format(ret=snapshot_target.__code__.co_firstlineno + 2, z=snapshot_target.__code__.co_firstlineno + 1)


def test_adjoint_source_is_deterministic():
    def loop(x, n):
        s = 0.0
        for i in range(n):
            if i % 2:
                s = s + math.exp(x * i)
        return s
    assert zygote.adjoint_source(loop) == zygote.adjoint_source(loop)
    assert "stack.pop()" in zygote.adjoint_source(loop)


def test_nan_and_inf_propagate():
    g = zygote.gradient(lambda x: np.sum(np.log(x)), np.array([0.0, 1.0]))[0]
    assert g[0] == np.inf and g[1] == 1.0
    g = zygote.gradient(lambda x: np.sum(x * 2), np.array([np.nan, 1.0]))[0]
    np.testing.assert_array_equal(g, [2.0, 2.0])
    g = zygote.gradient(lambda x: np.sum(x * x), np.array([np.nan, 1.0]))[0]
    assert np.isnan(g[0]) and g[1] == 2.0


def test_a_name_reused_for_data_then_for_a_result_is_not_differentiated_as_data():
    from zygote.compiler.codegen import render
    from zygote.protocol import TRANSFORMS

    def reuses_name(W, x):
        x = x @ W
        return x.sum()
    transformed = TRANSFORMS.transformed_for(reuses_name, "n-")
    assert "matmul_da" not in render(transformed.adjoint)
    data = np.ones((4, 3))
    W = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(zygote.gradient(lambda W: reuses_name(W, data), W)[0], np.full((3, 2), 4.0))
