"""The differential semantic fuzzer: random programs that write in place (``fuzz_writes``),
each run plainly and through ``zygote.withgradient``.

The value, the arguments and globals left behind must be the plain call's, and the gradient
must match central differences in float64; a ``ZygoteError`` counts as a refusal, anything
else as a mismatch. CI runs a fixed set of programs; ``ZYGOTE_FUZZ_EXAMPLES=N`` runs N
random ones and prints the counts (``pytest -s``); ``make fuzz-writes`` does so.
"""
import os
import random

import numpy as np
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import zygote

from .fuzz_writes import load, program, reset
from .semantics import check_same

LONG_RUN = int(os.environ.get("ZYGOTE_FUZZ_EXAMPLES", "0"))
ARGS = (np.array([0.3, -0.8, 0.55]), np.array([1.1, 0.4, -0.25]))


def run_one(source, path):
    """"ok", "refused" (a ZygoteError) or raise AssertionError for a mismatch."""
    module = load(source, path)
    try:
        check_same(module.fuzzed, *ARGS, state=lambda: {"G": module.G, "BOX": dict(module.BOX)},
                   reset=lambda: reset(module))
    except zygote.ZygoteError:
        return "refused"
    return "ok"


def test_fuzzed_writing_programs_are_the_plain_call(tmp_path):
    counts = {"ok": 0, "refused": 0}
    seen = set()

    @settings(max_examples=LONG_RUN or 150, deadline=None, derandomize=not LONG_RUN,
              database=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, 2 ** 32 - 1))
    def check(seed):
        source = program(random.Random(seed))
        note(source)
        seen.add(source)
        counts[run_one(source, tmp_path / f"prog_{seed}.py")] += 1
        if LONG_RUN and sum(counts.values()) % 500 == 0:
            print(f"fuzz_writes: {counts}", flush=True)

    check()
    total = counts["ok"] + counts["refused"]
    if LONG_RUN:
        print(f"\nfuzz_writes: {total} programs ({len(seen)} distinct), {counts['refused']} refused, "
              "0 mismatches")
    assert counts["refused"] <= 0.02 * total, counts
