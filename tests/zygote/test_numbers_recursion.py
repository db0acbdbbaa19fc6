"""Deep recursion: zygote raises RecursionError where its C stack would run out, never crashes.

Each differentiated call nests the interpreter's own C frames, so with a raised
``sys.setrecursionlimit`` a deep enough recursion would overflow the C stack and kill the
process. The crash case runs in a subprocess, so that a regression fails the test instead
of ending the test run.
"""
import subprocess
import sys
import textwrap

import pytest

import zygote


def countdown(x, n):
    if n == 0:
        return x
    return countdown(x * 1.0001, n - 1) + 0.0


def test_a_recursion_within_the_limit_is_differentiated():
    (g,) = zygote.gradient(lambda x: countdown(x, 200), 1.0)
    assert g == pytest.approx(1.0001 ** 200)


def test_a_raised_recursion_limit_never_crashes_the_interpreter():
    script = textwrap.dedent("""
        import sys, zygote
        sys.setrecursionlimit(100_000)
        def countdown(x, n):
            if n == 0:
                return x
            return countdown(x * 1.0001, n - 1) + 0.0
        (g,) = zygote.gradient(lambda x: countdown(x, 2000), 1.0)
        assert abs(g - 1.0001 ** 2000) < 1e-9 * g
        try:
            zygote.gradient(lambda x: countdown(x, 20_000), 1.0)
        except RecursionError as error:
            assert "countdown" in str(error) and "stack" in str(error)
            print("refused")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "refused"
