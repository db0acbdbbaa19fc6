"""Case 3b: time to the first gradient of a function without source, against the same function with source.

The 30-line functions of ``first_gradient`` are made two ways, in alternation: imported
from a new file (zygote reads and parses its text), and run with ``exec`` under a file name
that has no text, as in ``python -``, the plain interactive interpreter or a code generator
(zygote lifts the tree from the bytecode and verifies it by compiling it again). Every
function has its own constant, so no cache serves it. Run on its own with
``python -m benchmarks.no_source``.
"""

import statistics
import sys

import numpy as np

from . import peers, report
from .contestants import Row
from .first_gradient import SIZE, FreshFunctions, source
from .harness import Measurement, Settings, once
from .report import Section, Target

LINES = (10, 30, 100)
WITH, WITHOUT = "zygote, from source", "zygote"


def without_source(lines, constant):
    """A new function ``f`` of ``lines`` lines made by ``exec``: it has bytecode and no text."""
    namespace = {"m": peers.maths("numpy")}
    exec(compile(source(lines, "f", constant), "<no source>", "exec"), namespace)
    return namespace["f"]


def paired_first_gradients(lines, rounds, x):
    """First-gradient seconds with and without source, one of each per round, interleaved."""
    import zygote
    fresh = FreshFunctions()
    try:
        zygote.gradient(fresh.new(10, "zygote"), x)  # rules loaded, as in first_gradient
        zygote.gradient(without_source(10, 0.5), x)
        timed = {WITH: [], WITHOUT: []}
        for _ in range(rounds):
            f = fresh.new(lines, "zygote")
            g = without_source(lines, 1.0 + fresh.count * 1e-9)  # f's constant, a code object of its own
            timed[WITH].append(once(lambda: zygote.gradient(f, x)))
            timed[WITHOUT].append(once(lambda: zygote.gradient(g, x)))
            np.testing.assert_allclose(zygote.gradient(g, x)[0], zygote.gradient(f, x)[0], rtol=1e-6)
    finally:
        fresh.close()
    return timed


def run(settings):
    x = np.linspace(-1.0, 1.0, SIZE)
    rounds = 3 if settings.quick else 15
    rows, ratios = [], {}
    for lines in (LINES[:2] if settings.quick else LINES):
        timed = paired_first_gradients(lines, rounds, x)
        rows.append(Row(f"first gradient, {lines} lines", {k: Measurement(v) for k, v in timed.items()}))
        ratios[lines] = statistics.median(b / a for a, b in zip(timed[WITH], timed[WITHOUT]))
    targets = [Target("first gradient without source ÷ with source, 30 lines", ratios[30], 2.0, "<=", "x")]
    return Section(
        key="no_source",
        title="Time to first gradient without source",
        intro=("The first gradient of a new function with its source in a file, and of the same "
               "function made by `exec` (no text anywhere): zygote then lifts the syntax tree "
               "from the bytecode and checks it by compiling it again. The ratio is the median "
               "of per-round ratios, the two measured alternately."),
        tables=[report.timing_table("Time to first gradient", rows, (WITHOUT, WITH)),
                report.ratio_table("without source ÷ with source", rows)],
        bars=report.ratio_bars(rows),
        targets=targets,
        data={"rows": rows, "ratios": ratios},
    )


def main():
    settings = Settings.for_mode("--quick" in sys.argv, 1)
    section = run(settings)
    for row in section.data["rows"]:
        cells = ", ".join(f"{name} {cell.median * 1e3:.1f} ms" for name, cell in row.cells.items())
        print(f"{row.label}: {cells}")
    for lines, value in section.data["ratios"].items():
        print(f"without source / with source, {lines} lines: {value:.2f}x (median of paired rounds)")


if __name__ == "__main__":
    main()
