"""Forward mode measured: jvp against the function, Hessians, hvp against the gradient, checkpointing's memory.

``python -m benchmarks.forward [--quick]`` prints a Markdown report. Times are medians of
per-round ratios: each round runs every contestant of a row once, interleaved, so that the
load of a shared machine falls on all of them alike. Memory is the peak that ``tracemalloc``
sees during one gradient call.
"""
import argparse
import os
import statistics
import sys
import time
import tracemalloc

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

import zygote  # noqa: E402
from zygote import api  # noqa: E402

from . import functions  # noqa: E402


def per_call(fn, min_time):
    """Seconds per call of ``fn()``, from one loop that lasts about ``min_time``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or number > 1 << 20:
            return elapsed / number
        number *= 2 if elapsed * 4 < min_time else 1
        number = max(number, int(number * min_time / max(elapsed, 1e-9)))


def ratios(contestants, rounds, min_time):
    """Median seconds of each contestant and the medians of their ratios to the first."""
    for fn in contestants.values():
        fn()  # warm-up: transforms are built here
        fn()
    samples = {name: [] for name in contestants}
    for _ in range(rounds):
        for name, fn in contestants.items():
            samples[name].append(per_call(fn, min_time))
    base = next(iter(samples))
    return {name: (statistics.median(s), statistics.median(a / b for a, b in zip(s, samples[base])))
            for name, s in samples.items()}


def scalar_rows():
    ours = functions.copy("math")
    for name, x in (("polynomial", 0.7), ("asinh_like", 0.7), ("gaussian", 0.7), ("loop100", 0.7),
                    ("branchy", 0.7), ("ten_ops", 0.7)):
        f = getattr(ours, name)
        yield name, f, (x,), (1.0,)


def array_rows(rng):
    ours = functions.copy("numpy")
    for n in (10, 100, 1000):
        W, x, b = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), 0.1 * rng.standard_normal(n)
        yield (f"sum(tanh(W x + b)), n={n}, along x", lambda x, W=W, b=b: ours.tanh_layer(W, x, b), (x,),
               (rng.standard_normal(n),))
    z = rng.standard_normal((128, 10))
    y = np.eye(10)[rng.integers(0, 10, 128)]
    yield ("softmax cross-entropy, 128×10", lambda z: ours.softmax_crossentropy(z, y), (z,),
           (rng.standard_normal(z.shape),))
    x = rng.random((128, 784))
    W1, b1 = rng.standard_normal((100, 784)) / 28.0, np.zeros(100)
    W2, b2 = rng.standard_normal((10, 100)) / 10.0, np.zeros(10)
    weights = (W1, b1, W2, b2)
    yield ("MLP 784-100-10 loss, batch 128, along all weights",
           lambda W1, b1, W2, b2: ours.mlp_loss(W1, b1, W2, b2, x, y), weights,
           tuple(rng.standard_normal(w.shape) for w in weights))


def jvp_table(rounds, min_time):
    rng = np.random.default_rng(0)
    lines = ["| function | f | jvp | jvp / f | gradient / f |", "|---|---|---|---|---|"]
    for label, f, args, tangents in list(scalar_rows()) + list(array_rows(rng)):
        found = ratios({"f": lambda: f(*args), "jvp": lambda: zygote.jvp(f, args, tangents),
                        "gradient": lambda: zygote.gradient(f, *args)}, rounds, min_time)
        lines.append(f"| {label} | {found['f'][0] * 1e6:.1f} µs | {found['jvp'][0] * 1e6:.1f} µs | "
                     f"{found['jvp'][1]:.2f}x | {found['gradient'][1]:.2f}x |")
    return lines


def hessian_table(rounds, min_time, n=100):
    rng = np.random.default_rng(1)
    A, x, v = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), rng.standard_normal(n)
    spellings = {"A @ x": lambda x: np.sum(np.tanh(A @ x)), "np.dot(A, x)": lambda x: np.sum(np.tanh(np.dot(A, x)))}
    lines = [f"| n = {n} | hessian (forward over reverse) | reverse over reverse | jax.hessian eager |"
             " hvp | gradient | hvp / gradient |", "|---|---|---|---|---|---|---|"]
    jax_hessian = _jax_hessian(A)
    times = {}
    for label, f in spellings.items():
        contestants = {"hessian": lambda f=f: zygote.hessian(f, x), "reverse": lambda f=f: api.hessian(f, x),
                       "hvp": lambda f=f: zygote.hvp(f, x, v), "gradient": lambda f=f: zygote.gradient(f, x)}
        if jax_hessian is not None:
            contestants["jax"] = lambda: jax_hessian[label](x)
        found = ratios(contestants, rounds, min_time)
        times[label] = found["hessian"][0]
        jax_text = f"{found['jax'][0] * 1e3:.2f} ms ({found['jax'][1]:.2f}x of ours)" if "jax" in found \
            else "not installed"
        lines.append(f"| {label} | {found['hessian'][0] * 1e3:.2f} ms | {found['reverse'][0] * 1e3:.2f} ms "
                     f"({found['reverse'][1]:.2f}x) | {jax_text} | {found['hvp'][0] * 1e6:.0f} µs | "
                     f"{found['gradient'][0] * 1e6:.0f} µs | {found['hvp'][0] / found['gradient'][0]:.2f}x |")
    lines.append("")
    lines.append(f"`np.dot(A, x)` / `A @ x` for the Hessian: {times['np.dot(A, x)'] / times['A @ x']:.2f}x")
    return lines


def _jax_hessian(A):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    A_j = jnp.asarray(A)
    return {"A @ x": jax.hessian(lambda x: jnp.sum(jnp.tanh(A_j @ x))),
            "np.dot(A, x)": jax.hessian(lambda x: jnp.sum(jnp.tanh(jnp.dot(A_j, x))))}


def chain(x, w, steps):
    """``steps`` steps of a small recurrence: what a long loop over a sequence looks like."""
    for _ in range(steps):
        x = np.tanh(w * x + 0.1)
    return x


def segmented(x, w, steps, segment):
    for _ in range(steps // segment):
        x = zygote.checkpointed(chain, x, w, segment)
    return x


def peak_bytes(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def checkpoint_table(steps=10_000, width=256):
    rng = np.random.default_rng(2)
    x, w = rng.standard_normal(width), 0.9
    weights = rng.standard_normal(width)

    def plain(x, w):
        return np.sum(chain(x, w, steps) * weights)

    lines = [f"| {steps:,}-step loop, state of {width} floats | peak memory of the gradient call | seconds |",
             "|---|---|---|"]
    reference = zygote.gradient(plain, x, w)
    start = time.perf_counter()
    peak = peak_bytes(lambda: zygote.gradient(plain, x, w))
    lines.append(f"| plain gradient | {peak / 2 ** 20:.1f} MiB | {time.perf_counter() - start:.2f} |")
    for segment in (10, 100, 1000):
        def split(x, w, segment=segment):
            return np.sum(segmented(x, w, steps, segment) * weights)
        got = zygote.gradient(split, x, w)
        assert np.allclose(got[0], reference[0]) and np.isclose(got[1], reference[1])
        start = time.perf_counter()
        peak = peak_bytes(lambda: zygote.gradient(split, x, w))
        lines.append(f"| checkpointed segments of {segment} | {peak / 2 ** 20:.2f} MiB | "
                     f"{time.perf_counter() - start:.2f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.forward", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few rounds, short loops (a smoke test)")
    options = parser.parse_args(argv)
    rounds, min_time = (3, 0.002) if options.quick else (9, 0.02)
    out = ["## Forward mode, Hessians and checkpointing", "",
           f"One BLAS thread, medians of {rounds} interleaved rounds; numpy {np.__version__}, "
           f"Python {sys.version.split()[0]}.", "", "### jvp against the function", ""]
    out += jvp_table(rounds, min_time)
    out += ["", "### Hessians of sum(tanh(A x))", ""]
    out += hessian_table(rounds, min_time)
    out += ["", "### Checkpointing a long loop", ""]
    out += checkpoint_table(steps=1000 if options.quick else 10_000)
    print("\n".join(out))


if __name__ == "__main__":
    main()
