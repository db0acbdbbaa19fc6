"""zygote.native: compiled gradients agree with the interpreted ones, read globals when they
run, recompile when a callee is rebound, and name what they cannot compile."""
import math
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

numba = pytest.importorskip("numba")

import zygote  # noqa: E402
import zygote.native as native  # noqa: E402

SCALE = 0.5


def loop(x, a):
    s = 0.0
    for i in range(20):
        s = s + math.sin(x * s + a) * SCALE
    return s


def grow(x):
    i = 0
    while x < 10.0:
        x = x * 1.1 + 0.1
        i += 1
        if i > 50:
            break
    return x


def decay(y, k, rate=0.01):
    return y - k * y * rate


def steps(y0, k):
    y = y0
    for i in range(10):
        y = decay(y, k, rate=0.02)
    return y


def layer(x, W, b):
    return np.sum(np.tanh(W @ x + b))


def rhs(u, v, w):
    return v, -w * w * u - 0.1 * v


def rk4(u, v, w):
    h = 0.01
    for i in range(200):
        k1u, k1v = rhs(u, v, w)
        k2u, k2v = rhs(u + 0.5 * h * k1u, v + 0.5 * h * k1v, w)
        k3u, k3v = rhs(u + 0.5 * h * k2u, v + 0.5 * h * k2v, w)
        k4u, k4v = rhs(u + h * k3u, v + h * k3v, w)
        u = u + h / 6 * (k1u + 2 * k2u + 2 * k3u + k4u)
        v = v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v)
    return u * u + v


CASES = [
    (loop, (0.3, 0.2)),
    (grow, (1.0,)),
    (steps, (1.0, 0.5)),
    (layer, (np.linspace(-1, 1, 3), np.arange(6.0).reshape(2, 3) / 10, np.array([0.1, -0.2]))),
    (rk4, (1.0, 0.0, 2.0)),
]


@pytest.mark.parametrize("f, args", CASES, ids=[f.__name__ for f, _ in CASES])
def test_the_compiled_gradient_is_the_interpreted_one(f, args):
    argnums = tuple(range(len(args)))
    value, grads = native.value_and_grad(f, argnums=argnums)(*args)
    expected_value, expected = zygote.withgradient(f, *args)
    assert value == pytest.approx(expected_value, rel=1e-12)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        assert np.shape(got) == np.shape(want)


@pytest.mark.parametrize("argnums", [0, 1, (1,), (1, 0), ()])
def test_argnums_pick_the_same_gradients_on_every_call(argnums):
    df = native.grad(loop, argnums=argnums)
    full = zygote.gradient(loop, 0.3, 0.2)
    want = full[argnums] if isinstance(argnums, int) else tuple(full[i] for i in argnums)
    for args in [(0.3, 0.2), (0.3, 0.2), (np.float64(0.3), 0.2), (0.3, 0.2)]:
        got = df(*args)
        assert type(got) is type(want)
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_an_integer_argument_after_floats_gets_its_own_compiled_code():
    df = native.grad(loop)
    assert df(1.0, 0.2) == pytest.approx(zygote.gradient(loop, 1.0, 0.2)[0], rel=1e-12)
    assert df(1, 0.2) == pytest.approx(zygote.gradient(loop, 1, 0.2)[0], rel=1e-12)


def test_globals_are_read_when_the_gradient_runs():
    global SCALE
    df = native.grad(loop)
    before = df(0.3, 0.2)
    SCALE = 0.25
    try:
        after = df(0.3, 0.2)
        assert after == pytest.approx(zygote.gradient(loop, 0.3, 0.2)[0], rel=1e-12)
    finally:
        SCALE = 0.5
    assert after != before


def test_a_rebound_callee_is_compiled_again():
    global decay
    df = native.grad(steps, argnums=1)
    first = df(1.0, 0.5)
    original = decay

    def decay(y, k, rate=0.01):
        return y - 2 * k * y * rate
    try:
        assert df(1.0, 0.5) == pytest.approx(zygote.gradient(steps, 1.0, 0.5)[1], rel=1e-12)
        assert df(1.0, 0.5) != first
    finally:
        decay = original
    assert df(1.0, 0.5) == first


def test_closure_cells_are_read_when_the_gradient_runs():
    def make(c):
        def f(x):
            return c * x * x
        return f, lambda value: None
    f, _ = make(3.0)
    df = native.grad(f)
    assert df(2.0) == pytest.approx(12.0)
    f.__closure__[0].cell_contents = 5.0
    assert df(2.0) == pytest.approx(20.0)


def holds_a_list(x):
    values = [x, 2 * x]
    return values[0] * values[1] + {"k": x}["k"]


def test_what_cannot_be_compiled_is_named_with_its_line():
    with pytest.raises(native.NativeUnsupportedError, match=r"test_native\.py:\d+: .* cannot be compiled"):
        native.grad(holds_a_list)(1.5)


def test_auto_falls_back_once_with_a_warning():
    df = native.grad(holds_a_list, compile="auto")
    with pytest.warns(native.NativeFallbackWarning, match="holds_a_list"):
        assert df(1.5) == zygote.gradient(holds_a_list, 1.5)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert df(2.5) == zygote.gradient(holds_a_list, 2.5)[0]


def test_a_non_scalar_output_is_an_error():
    with pytest.raises(zygote.errors.NonScalarOutputError, match="shape"):
        native.grad(lambda x: x * 2.0)(np.ones(3))


def test_a_bad_mode_is_an_error():
    with pytest.raises(zygote.errors.GradientUsageError, match="compile"):
        native.grad(loop, compile="fast")


def test_a_second_process_loads_the_machine_code_from_disk(tmp_path):
    module = tmp_path / "model.py"
    module.write_text(textwrap.dedent("""
        import math
        def f(x):
            s = 0.0
            for i in range(30):
                s = s + math.cos(x * s) * 0.5
            return s
    """))
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import model, zygote.native
        df = zygote.native.grad(model.f)
        print(df(0.7))
        entry = next(iter(df.gradient.entries.values()))
        print(sum(entry.run.stats.cache_hits.values()))
    """)
    env = dict(os.environ, ZYGOTE_CACHE_DIR=str(tmp_path / "cache"))
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                           check=True).stdout.split() for _ in range(2)]
    assert runs[0][0] == runs[1][0]
    assert runs[0][1] == "0"  # compiled
    assert runs[1][1] == "1"  # loaded
    assert (oct((tmp_path / "cache").stat().st_mode & 0o777)) == "0o700"


def _compiled_inside():
    """``(g, dg, f, expected)``: g, its compiled gradient, a function f calling that, and the
    derivative of f at 0.7 by zygote's interpreted nested gradient."""
    def g(x):
        return math.sin(x) * x * x

    dg = native.grad(g)

    def f(x):
        return dg(x) * x
    expected = zygote.gradient(lambda x: zygote.gradient(g, x)[0] * x, 0.7)[0]
    return g, dg, f, expected


def test_a_compiled_gradient_inside_a_differentiated_function_has_a_derivative():
    _, _, f, expected = _compiled_inside()
    assert zygote.gradient(f, 0.7)[0] == pytest.approx(expected, rel=1e-12)


def test_a_compiled_gradient_inside_a_compiled_function_is_named_and_auto_falls_back():
    g, dg, f, expected = _compiled_inside()
    with pytest.raises(native.NativeUnsupportedError, match=r"test_native\.py:\d+: the derivative of the compiled gradient dg"):
        native.grad(f)(0.7)
    with pytest.raises(native.NativeUnsupportedError, match=r"the derivative of the compiled gradient grad\(.*g\)"):
        native.grad(dg)(0.7)
    with pytest.warns(native.NativeFallbackWarning):
        assert native.grad(f, compile="auto")(0.7) == pytest.approx(expected, rel=1e-12)
    with pytest.warns(native.NativeFallbackWarning):
        assert native.grad(dg, compile="auto")(0.7) == pytest.approx(zygote.hessian(g, 0.7), rel=1e-10)
