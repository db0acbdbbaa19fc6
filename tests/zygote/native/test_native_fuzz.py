"""The program fuzzer's scalar programs: the compiled gradient is the interpreted one to float
rounding, or compiling is refused with ``NativeUnsupportedError`` (never another error).

``ZYGOTE_FUZZ_EXAMPLES=500`` makes a long random run, which prints how many programs compiled
and how many were refused.
"""
import collections
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

pytest.importorskip("numba")

import fuzz_programs  # noqa: E402
import zygote  # noqa: E402
import zygote.native as native  # noqa: E402

LONG_RUN = int(os.environ.get("ZYGOTE_FUZZ_EXAMPLES", "0"))


def test_compiled_gradients_of_fuzzed_programs_are_the_interpreted_ones(tmp_path):
    outcomes = collections.Counter()

    @settings(max_examples=LONG_RUN or 6, deadline=None, derandomize=not LONG_RUN, database=None,
              suppress_health_check=list(HealthCheck))
    @given(fuzz_programs.programs())
    def check(program):
        assume(all(isinstance(a, float) for a in program.args))
        module = fuzz_programs.load(program.source, tmp_path)
        try:
            with np.errstate(all="ignore"):
                expected_value, expected = zygote.withgradient(module.fuzzed, *program.args)
        except (OverflowError, ZeroDivisionError, ValueError):
            assume(False)
        try:
            with np.errstate(all="ignore"):
                value, grads = native.value_and_grad(module.fuzzed, argnums=(0, 1))(*program.args)
        except native.NativeUnsupportedError:
            outcomes["refused"] += 1
            return
        outcomes["compiled"] += 1
        np.testing.assert_allclose(value, expected_value, rtol=1e-9, atol=1e-12)
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(0.0 if got is None else got, 0.0 if want is None else want,
                                       rtol=1e-9, atol=1e-12)

    check()
    if LONG_RUN:
        print(f"\nnative fuzz: {outcomes['compiled']} programs compiled and agreed, "
              f"{outcomes['refused']} refused")
    assert outcomes["compiled"] > 0
