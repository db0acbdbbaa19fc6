"""Case: gradients compiled with numba (``zygote.native``) against zygote's interpreted
gradient, the plain function, ``jax.jit(jax.grad)`` and torch eager, and numba's compile time.

Rows (`functions.loop100`, `while50`, `rk4`, each framework's copy): a 100-step ``for`` loop
and a 50-step ``while`` loop on Python floats, and an RK4 integration of a damped oscillator
(1,000 steps) differentiated in its initial state and frequency. jax gets the same code except
for RK4, where unrolling 1,000 steps under ``jax.jit`` would take minutes to compile: there it
gets the same step in ``lax.fori_loop``. Time to the first compiled gradient is measured in
child processes (``python -m benchmarks.compiled --cache DIR``): one with an empty disk cache,
one after it.
"""
import argparse
import os
import tempfile
import time

from . import functions, harness, peers, report
from .contestants import measure_row
from .harness import ChildError, Skipped
from .report import Section, Target

COLUMNS = ("function", "zygote", "zygote.native", "jax.jit", "torch")

# (label, name in `functions`, arguments)
ROWS = (("100-step for loop", "loop100", (0.3,)),
        ("50-step while loop", "while50", (0.3,)),
        ("RK4, 1,000 steps", "rk4", (1.0, 0.0, 2.0)))


def run(settings):
    rows = []
    for label, name, args in ROWS[:1] if settings.quick else ROWS:
        rows.append(measure_row(label, builders(name, args), settings, reference=_interpreted(name, args)))
    first = first_gradient_table(settings) if not settings.quick else Table(
        "Time to the first compiled gradient in a new process", ["function"], [],
        ["not measured in a quick run"])
    targets = []
    for row in rows[:2]:
        ratios = row.ratios("zygote.native")
        jit = ratios.get("jax.jit")
        function = ratios.get("function")
        targets.append(Target(f"{row.label}: compiled gradient ÷ jax.jit(grad)",
                              getattr(jit, "median", None), 1.5, "<=",
                              why_missing=str(row.cells.get("jax.jit"))))
        targets.append(Target(f"{row.label}: compiled gradient ÷ the interpreted function",
                              getattr(function, "median", None), 1.0, "<=",
                              why_missing=str(row.cells.get("function"))))
    return Section(
        key="compiled", title="Gradients compiled with numba",
        intro=("`zygote.native.grad(f)` (the generated primal and adjoint, fused and compiled "
               "with numba) against the interpreted `zygote.gradient`, the plain Python call, "
               "`jax.jit(jax.grad(f))` and torch eager with float64 scalars; then the time to "
               "the first compiled gradient in a new process, with numba's disk cache empty and "
               "warm."),
        tables=[report.timing_table("Time per gradient call", rows, COLUMNS),
                report.ratio_table("zygote.native ÷ peer", rows, ours="zygote.native"), first],
        bars=report.ratio_bars(rows, ours="zygote.native"),
        targets=targets, summary={}, data={"rows": rows})


def _interpreted(name, args):
    import zygote
    return zygote.gradient(getattr(functions.copy("math"), name), *args)


def builders(name, args):
    wrt = tuple(range(len(args)))
    f = getattr(functions.copy("math"), name)

    def function():
        return lambda: f(*args)

    def interpreted():
        import zygote
        return lambda: zygote.gradient(f, *args)

    def native():
        import zygote.native
        df = zygote.native.grad(f, argnums=wrt)
        df(*args)  # compile
        return lambda: df(*args)

    def jax_jit():
        jax = peers.load("jax")
        g = jax.jit(jax.grad(_jax_rk4 if name == "rk4" else getattr(functions.copy("jax"), name),
                             argnums=wrt))
        jax.block_until_ready(g(*args))
        return lambda: jax.block_until_ready(g(*args))

    def torch_eager():
        torch = peers.load("torch")
        tf = getattr(functions.copy("torch"), name)

        def gradient():
            leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
            return torch.autograd.grad(tf(*leaves), leaves)
        return gradient

    return {"function": function, "zygote": interpreted, "zygote.native": native,
            "jax.jit": jax_jit, "torch": torch_eager}


def _jax_rk4(u, v, w):
    """`functions.rk4` with its loop in ``lax.fori_loop``: unrolled under ``jax.jit``, 1,000
    steps would take minutes to compile."""
    jax = peers.load("jax")
    oscillator = functions.copy("jax").oscillator
    h = 0.01

    def step(_, state):
        u, v = state
        k1u, k1v = oscillator(u, v, w)
        k2u, k2v = oscillator(u + 0.5 * h * k1u, v + 0.5 * h * k1v, w)
        k3u, k3v = oscillator(u + 0.5 * h * k2u, v + 0.5 * h * k2v, w)
        k4u, k4v = oscillator(u + h * k3u, v + h * k3v, w)
        return (u + h / 6 * (k1u + 2 * k2u + 2 * k3u + k4u),
                v + h / 6 * (k1v + 2 * k2v + 2 * k3v + k4v))
    u, v = jax.lax.fori_loop(0, 1000, step, (u, v))
    return u * u + v * v


def first_gradient_table(settings):
    """Seconds from the first call of a compiled gradient to its result, in a new process."""
    body, notes = [], report.Footnotes()
    with tempfile.TemporaryDirectory() as cache:
        cells = ["RK4 step function (first call)"]
        for label in ("empty cache", "warm cache"):
            try:
                result = harness.run_child("compiled", ["--cache", cache], timeout=600)
                cells.append(report.seconds(result["seconds"]))
            except ChildError as error:
                cells.append(f"failed {notes.mark(Skipped('failed', str(error)))}")
        body.append(cells)
    return Table("Time to the first compiled gradient in a new process",
                 ["function", "numba's disk cache empty", "warm"], body, notes.lines())


Table = report.Table


def child(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.compiled")
    parser.add_argument("--cache", required=True)
    args = parser.parse_args(argv)
    os.environ["ZYGOTE_CACHE_DIR"] = args.cache
    harness.limit_threads(int(os.environ.get("BENCH_THREADS", "1")))
    import zygote.native
    start = time.perf_counter()
    zygote.native.grad(functions.copy("math").rk4, argnums=(0, 1, 2))(1.0, 0.0, 2.0)
    harness.child_result({"seconds": time.perf_counter() - start})


if __name__ == "__main__":
    child()
