"""The code that is differentiated is the code that runs: a source file edited after import,
and a replaced ``__code__``."""
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote.testing import check_grad

from fuzz_programs import load


def import_then_edit(directory, source, edited):
    """Import a module from ``source``, then overwrite its file with ``edited``."""
    module = load(source, directory, "edited")
    Path(module.__file__).write_text(edited)
    return module


BODIES = ["x * x", "np.sin(x) * 3.0", "x * x * x - x", "np.exp(-x) + x", "np.cos(x * 2.0)"]


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(BODIES), st.sampled_from(BODIES), st.integers(0, 3), st.floats(-1.5, 1.5))
def test_gradient_is_of_the_code_that_runs_after_the_file_changed(tmp_path_factory, body, edit, shift, x):
    source = f"import numpy as np\n\n\ndef f(x):\n    return {body}\n"
    edited = "import numpy as np\n" + "\n" * shift + f"\n\ndef f(x):\n    return {edit}\n"
    module = import_then_edit(tmp_path_factory.mktemp("edited"), source, edited)
    check_grad(module.f, x)
    check_grad(lambda v: np.sum(module.f(v) * np.array([0.7, 1.3])), np.array([x, 0.5]))


def test_edited_lambda_and_closure(tmp_path):
    source = ("import numpy as np\n\nsquare = lambda x: x * x\n\n\n"
              "def outer(x):\n    a = x * 2.0\n    def inner(t):\n        return a * t\n    return inner(x)\n")
    edited = ("import numpy as np\n\nsquare = lambda x: x * x * x\n\n\n"
              "def outer(x):\n    a = x * 5.0\n    def inner(t):\n        return a + t\n    return inner(x)\n")
    module = import_then_edit(tmp_path, source, edited)
    assert zygote.gradient(module.square, 3.0) == (6.0,)
    assert zygote.gradient(module.outer, 3.0) == (12.0,)


def cube(x):
    return x * x * x


def twice(x):
    return x * 2.0


def test_replaced_code_is_a_new_function():
    def f(x):
        return x * x
    for _ in range(3):  # the third call runs f's compiled entry point
        assert zygote.gradient(f, 3.0) == (6.0,)
    f.__code__ = cube.__code__
    assert zygote.gradient(f, 3.0) == (27.0,)
    assert np.array_equal(zygote.gradient(lambda v: np.sum(f(v)), np.array([1.0, 2.0]))[0], [3.0, 12.0])


def replaceable(x):
    return x * x


def calls_replaceable(x):
    return replaceable(x) + 1.0


def test_replaced_code_of_a_callee_is_followed():
    original = replaceable.__code__
    try:
        for _ in range(3):
            assert zygote.gradient(calls_replaceable, 3.0) == (6.0,)
        replaceable.__code__ = twice.__code__
        assert zygote.gradient(calls_replaceable, 3.0) == (2.0,)
        assert zygote.gradient(lambda v: np.sum(calls_replaceable(v)), np.array([3.0]))[0] == pytest.approx([2.0])
    finally:
        replaceable.__code__ = original
