"""In-place writes in a loop: the time and memory one write of one element costs, as the array grows.

``for i in range(k): y[i] = sin(x[i]) * y[i + 1]`` over an array ``y`` of n elements,
differentiated in ``x``. The primal saves the element each write overwrites and the adjoint
undoes it, so that a step costs the same for n = 2,000 and n = 100,000; copying ``y`` before
each write (the functional way, measured alongside by hand) costs O(n) a step.
"""
import statistics
import time
import tracemalloc

import numpy as np

from .report import Bar, Section

STEPS = 1000
SIZES = (2_000, 10_000, 100_000)


def write_steps(x, y0):
    y = y0 * 1.0
    for i in range(STEPS):
        y[i] = np.sin(x[i]) * y[i + 1]
    return np.sum(y * y0)


def copying_steps(x, y0):
    """The same loop, copying the array before each write (what an O(n) write costs)."""
    y = y0 * 1.0
    for i in range(STEPS):
        y = y.copy()
        y[i] = np.sin(x[i]) * y[i + 1]
    return np.sum(y * y0)


def _median_seconds(fn, rounds):
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _peak_bytes(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def measure(sizes=SIZES, rounds=5):
    import zygote
    rows = []
    x = np.linspace(0.1, 0.9, STEPS)
    for n in sizes:
        y0 = np.linspace(1.0, 2.0, n)
        zygote.gradient(write_steps, x, y0)  # transform once, outside the timing
        grad = _median_seconds(lambda: zygote.gradient(write_steps, x, y0), rounds)
        plain = _median_seconds(lambda: write_steps(x, y0), rounds)
        copying = _median_seconds(lambda: copying_steps(x, y0), rounds)
        peak = _peak_bytes(lambda: zygote.gradient(write_steps, x, y0))
        rows.append({"n": n, "gradient": grad, "plain": plain, "copying_plain": copying,
                     "per_write": grad / STEPS, "peak_bytes": peak})
    return rows


def table(rows):
    lines = ["| n | zygote gradient | per write | plain call | plain call copying before each write | "
             "peak memory of the gradient |", "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['gradient'] * 1e3:.1f} ms | {r['per_write'] * 1e6:.1f} µs | "
                     f"{r['plain'] * 1e3:.2f} ms | {r['copying_plain'] * 1e3:.1f} ms | "
                     f"{r['peak_bytes'] / 2 ** 20:.2f} MiB |")
    return "\n".join(lines)


def run(settings):
    rows = measure(SIZES[:2] if settings.quick else SIZES, rounds=2 if settings.quick else 5)
    bars = [Bar(f"n = {r['n']:,}", series, r[key] / STEPS, r[key] / STEPS, r[key] / STEPS)
            for r in rows for series, key in (("zygote gradient", "gradient"),
                                             ("plain call copying before each write", "copying_plain"))]
    return Section(key="writes", title="In-place writes in a loop",
                   intro=f"`y[i] = sin(x[i]) * y[i + 1]` for {STEPS:,} steps into an array of n "
                         "elements, differentiated in x: the cost of a write does not grow with n.",
                   text=table(rows), bars=bars, chart="seconds", chart_label="seconds per step",
                   data={"rows": rows})


if __name__ == "__main__":
    print(table(measure()))
