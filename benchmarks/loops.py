"""Case 6: loops: the gradient of a 1,000-step scalar loop, and the peak memory of long ones.

The loop is Euler's method for ``y' = sin(x y)``, ``y ← y + h sin(x y)``, differentiated in
``x``: every step's ``y`` is needed on the way back, so the memory a framework keeps per
step shows. Peak memory is measured in a child process per framework and length
(``python -m benchmarks.loops --framework zygote --steps 100000``), which prints its peak
RSS before and after one gradient (see `harness.peak_rss`).
"""

import argparse
import os
import time

from . import harness, hand, report
from .contestants import COLUMNS, gradient_builders, measure_row
from .harness import ChildError, NotTimed, Skipped
from .report import Section, Table, Target

STEPS = 1000
X = 0.3
MEMORY_STEPS = (10_000, 100_000)
MEMORY_FRAMEWORKS = ("function", "hand-written", "zygote", "tangent", "autograd", "torch")
NOT_TIMED = {"jax.jit": "compiling the 1,000 unrolled steps takes about half a minute "
                        "(jax would use lax.fori_loop)"}


def run(settings):
    steps = 100 if settings.quick else STEPS
    builders = gradient_builders("euler", (X, steps), wrt=(0,), maths="math")
    for name, reason in NOT_TIMED.items():
        builders[name] = not_timed(reason)
    row = measure_row(f"{steps}-step loop", builders, settings, hand.euler_grad(X, steps)[1])
    over_function = row.ratios().get("function")
    targets = [Target(f"{steps}-step scalar loop: zygote gradient ÷ the loop's own call",
                      over_function.median if over_function else None, 5.0, "<=",
                      why_missing=str(row.cells.get("zygote")))]
    memory = memory_table(settings)
    return Section(
        key="loops",
        title="Loops: time and memory",
        intro=(f"`for i in range(n): y = y + h * sin(x * y)` from `y = x`, differentiated in "
               f"x, with Python floats (peers: their scalars). Time for n = {steps}, then the "
               f"peak memory of one gradient for n = "
               f"{', '.join(f'{n:,}' for n in memory_steps(settings))}."),
        tables=[report.timing_table("Time per gradient call", [row], COLUMNS),
                report.ratio_table("zygote ÷ peer", [row]), memory],
        bars=report.ratio_bars([row]),
        targets=targets,
        summary=report.summary([row]),
        data={"rows": [row], "memory": memory},
    )


def not_timed(reason):
    """A builder for a contestant left out on purpose."""
    def build():
        raise NotTimed(reason)
    return build


def memory_steps(settings):
    return (1_000, 10_000) if settings.quick else MEMORY_STEPS


def memory_frameworks(settings):
    """Quick mode measures only what starts fast (no torch or tangent import per child)."""
    return ("function", "zygote") if settings.quick else MEMORY_FRAMEWORKS


def memory_table(settings):
    """Peak RSS and growth during one gradient, one child process per framework and length."""
    frameworks = memory_frameworks(settings)
    body, notes = [], report.Footnotes()
    for steps in memory_steps(settings):
        cells = [f"{steps:,} steps"]
        for framework in frameworks:
            try:
                result = harness.run_child("loops", ["--framework", framework, "--steps", steps],
                                           timeout=60 if settings.quick else 300)
                growth = result["peak"] - result["before"]
                cells.append(f"{report.size(result['peak'])} (+{report.size(growth)}, "
                             f"{growth / steps:.0f} B/step)")
            except ChildError as error:
                cells.append(f"failed {notes.mark(Skipped('failed', f'{framework}: {error}'))}")
        body.append(cells)
    return Table("Peak RSS of one gradient (growth during it, per step)",
                 ["loop"] + list(frameworks), body, notes.lines())


# -- the child process -----------------------------------------------------------------------


def gradient_once(framework):
    """A callable ``run(n)`` that computes the gradient (or for "function", the value) once."""
    from . import contestants, functions
    if framework == "function":
        f = functions.copy("math").euler
        return lambda n: f(X, n)
    if framework == "hand-written":
        return lambda n: hand.euler_grad(X, n)[1]
    if framework == "zygote":
        import zygote
        f = functions.copy("math").euler
        return lambda n: zygote.gradient(f, X, n)
    builder = {"tangent": contestants.tangent_gradient,
               "autograd": contestants.autograd_gradient,
               "torch": contestants.torch_gradient}[framework]
    return lambda n: builder("euler", (X, n), (0,))()


def child(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loops")
    parser.add_argument("--framework", required=True,
                        choices=MEMORY_FRAMEWORKS)
    parser.add_argument("--steps", type=int, required=True)
    args = parser.parse_args(argv)
    harness.limit_threads(int(os.environ.get("BENCH_THREADS", "1")))
    run_gradient = gradient_once(args.framework)
    run_gradient(10)  # transform, compile, warm up
    harness.reset_peak_rss()
    before = harness.peak_rss()
    start = time.perf_counter()
    run_gradient(args.steps)
    seconds = time.perf_counter() - start
    harness.child_result({"framework": args.framework, "steps": args.steps,
                          "before": before, "peak": harness.peak_rss(), "seconds": seconds})


if __name__ == "__main__":
    child()
