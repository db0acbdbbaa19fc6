"""Deep recursion: as deep as plain Python goes at the same limit, and never a crash.

zygote adds frames of its own to each level of a differentiated recursion, so it raises
the recursion limit while it differentiates (``zygote.recursion``): a recursion as deep as
the plain call reaches at the limit in force is differentiated, in every spelling of a
gradient. Each differentiated call also nests the interpreter's own C frames, so with a
raised ``sys.setrecursionlimit`` a deep enough recursion would overflow the C stack and kill
the process; zygote raises RecursionError first. The crash cases run in a subprocess, so
that a regression fails the test instead of ending the test run.
"""
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import zygote


def countdown(x, n):
    if n == 0:
        return x
    return countdown(x * 1.0001, n - 1) + 0.0


def test_a_recursion_within_the_limit_is_differentiated():
    (g,) = zygote.gradient(lambda x: countdown(x, 200), 1.0)
    assert g == pytest.approx(1.0001 ** 200)


@pytest.mark.parametrize("differentiate, deep", [
    ("zygote.gradient(lambda x: countdown(x, N), 1.0)[0]", 20_000),
    ("zygote.jvp(lambda x: countdown(x, N), (1.0,), (1.0,))[1]", 50_000),
], ids=["reverse", "forward"])
def test_a_raised_recursion_limit_never_crashes_the_interpreter(differentiate, deep):
    script = textwrap.dedent("""
        import sys, zygote
        sys.setrecursionlimit(100_000)
        def countdown(x, n):
            if n == 0:
                return x
            return countdown(x * 1.0001, n - 1) + 0.0
        N = 2000
        g = DIFFERENTIATE
        assert abs(g - 1.0001 ** 2000) < 1e-9 * g
        N = DEEP
        try:
            DIFFERENTIATE
        except RecursionError as error:
            assert "countdown" in str(error) and "stack" in str(error)
            print("refused")
    """).replace("DIFFERENTIATE", differentiate).replace("DEEP", str(deep))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"

RATE = 1.0001


def self_recursive(x, n):
    if n == 0:
        return x
    return self_recursive(x * RATE, n - 1) + 0.0


def even(x, n):
    return x if n == 0 else odd(x * RATE, n - 1)


def odd(x, n):
    return x if n == 0 else even(x * RATE, n - 1)


class Chain:
    def __init__(self, rate):
        self.rate = rate

    def value(self, x, n):
        return x if n == 0 else self.value(x, n - 1) * self.rate


def method_recursive(x, n):
    return Chain(RATE).value(x, n)


def array_recursive(x, n):
    if n == 0:
        return np.sum(x)
    return array_recursive(x * RATE, n - 1)


def closure_recursive(x, n):
    def go(y, m):
        return y if m == 0 else go(y * RATE, m - 1)
    return go(x, n)


RECURSIONS = [self_recursive, even, method_recursive, array_recursive, closure_recursive]


def _deepest_plain_call(fn, x):
    """The largest n for which the plain ``fn(x, n)`` returns, called from here."""
    low, high = 1, 4 * sys.getrecursionlimit()
    while low < high:
        middle = (low + high + 1) // 2
        try:
            fn(x, middle)
            low = middle
        except RecursionError:
            high = middle - 1
    return low


def _one(x):
    return np.ones_like(x) if isinstance(x, np.ndarray) else 1.0


SPELLINGS = {
    "gradient": lambda fn, x, n: zygote.gradient(fn, x, n)[0],
    "gradient, hot": lambda fn, x, n: [zygote.gradient(fn, x, n) for _ in range(20)][-1][0],
    "grad": lambda fn, x, n: zygote.grad(fn)(x, n),
    "grad, hot": lambda fn, x, n: [zygote.grad(fn)(x, n) for _ in range(20)][-1],
    "withgradient": lambda fn, x, n: zygote.withgradient(fn, x, n)[1][0],
    "pullback": lambda fn, x, n: zygote.pullback(fn, x, n)[1](1.0)[0],
    "jvp": lambda fn, x, n: zygote.jvp(lambda x: fn(x, n), (x,), (_one(x),))[1],
}


@pytest.mark.parametrize("spelling", SPELLINGS)
@pytest.mark.parametrize("fn", RECURSIONS, ids=lambda fn: fn.__name__)
def test_a_recursion_as_deep_as_the_plain_call_is_differentiated(fn, spelling):
    x = np.array([1.0, 2.0]) if fn is array_recursive else 1.5
    limit = sys.getrecursionlimit()
    n = _deepest_plain_call(fn, x)
    assert n > 0.9 * limit - 100  # the plain call itself went deep
    found = SPELLINGS[spelling](fn, x, n)
    expected = RATE ** n if spelling != "jvp" else RATE ** n * (2 if fn is array_recursive else 1)
    np.testing.assert_allclose(found, expected, rtol=1e-12)
    assert sys.getrecursionlimit() == limit


def test_the_limit_is_put_back_when_the_gradient_raises():
    limit = sys.getrecursionlimit()

    def fails(x, n):
        if n == 0:
            raise ValueError("at the bottom")
        return fails(x, n - 1) * 2.0

    with pytest.raises(ValueError, match="at the bottom"):
        zygote.gradient(fails, 1.0, 50)
    assert sys.getrecursionlimit() == limit


def test_a_limit_the_function_sets_stays_set_as_after_the_plain_call():
    limit = sys.getrecursionlimit()

    def sets_limit(x):
        sys.setrecursionlimit(limit + 500)
        return self_recursive(x, 10)

    try:
        zygote.gradient(sets_limit, 1.0)
        assert sys.getrecursionlimit() == limit + 500
    finally:
        sys.setrecursionlimit(limit)


def test_threads_differentiating_deep_recursions_at_once_put_the_limit_back():
    limit = sys.getrecursionlimit()
    n = int(0.8 * limit)
    found, errors = [], []

    def work():
        try:
            for _ in range(3):
                found.append(zygote.gradient(self_recursive, 1.0, n)[0])
        except Exception as error:  # reported below, with the thread's error
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    np.testing.assert_allclose(found, [RATE ** n] * 12, rtol=1e-12)
    assert sys.getrecursionlimit() == limit
