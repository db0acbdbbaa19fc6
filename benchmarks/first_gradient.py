"""Case 3: time to the first gradient of a new function (transform and compile), and to the next one.

The functions are straight-line numpy code of 10, 30 and 100 lines, generated into files in
a temporary directory and imported afresh for every measurement, with a constant that
differs per file, so no cache (zygote's, tangent's in memory or on disk, jax's) can serve
them: each measurement is a true first transform.
"""

import argparse
import importlib.util
import inspect
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from . import harness, peers, report
from .contestants import flatten
from .harness import ChildError, Measurement, NotAvailable, Skipped, compare, once, skipped_from
from .report import Section, Target

LINES = (10, 30, 100)
SIZE = 16
FRAMEWORKS = ("zygote", "tangent", "autograd", "jax", "jax.jit", "torch")
MATHS = {"zygote": "numpy", "tangent": "tangent", "autograd": "autograd", "jax": "jax",
         "jax.jit": "jax", "torch": "torch"}

# Statement templates: a new value from the previous two.
STEPS = (
    "{a} = {p} * {q}",
    "{a} = m.sin({p}) + {q}",
    "{a} = m.exp(-{p} * {p}) * {q}",
    "{a} = m.tanh({p} - {q})",
    "{a} = m.cos({p}) * {q} + {p}",
    "{a} = m.log(1.0 + {p} * {p}) - {q}",
    "{a} = m.sqrt(1.0 + {q} * {q}) * {p}",
)


def source(lines, name, constant):
    """A function ``name(x)`` of exactly ``lines`` lines: straight-line numpy code."""
    body = [f"def {name}(x):", f"    v1 = x * {constant!r}"]
    for i in range(2, lines - 1):
        step = STEPS[(i - 2) % len(STEPS)]
        q = f"v{i - 2}" if i > 2 else "x"
        body.append("    " + step.format(a=f"v{i}", p=f"v{i - 1}", q=q))
    body.append(f"    return m.sum(v{lines - 2})")
    return "\n".join(body) + "\n"


class FreshFunctions:
    """Writes each generated function to a new file and imports it as a new module."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="zygote-first-gradient-"))
        self.count = 0
        self.modules = []

    def new(self, lines, framework):
        self.count += 1
        name = f"generated_{lines}_{self.count}"
        path = self.dir / f"{name}.py"
        path.write_text(source(lines, "f", 1.0 + self.count * 1e-9))
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        module.m = peers.maths(MATHS[framework])
        spec.loader.exec_module(module)
        sys.modules[name] = module
        self.modules.append(name)
        return module.f

    def close(self):
        for name in self.modules:
            sys.modules.pop(name, None)
        shutil.rmtree(self.dir, ignore_errors=True)


def gradient_maker(framework):
    """``make(f, x) -> next_call``: the first gradient of ``f``, then a thunk for the next."""
    if framework == "zygote":
        import zygote
        return lambda f, x: (zygote.gradient(f, x), lambda: zygote.gradient(f, x))[1]
    if framework == "tangent":
        tangent = peers.load("tangent")
        return lambda f, x: (tangent.grad(f)(x), lambda: tangent.grad(f)(x))[1]
    if framework == "autograd":
        autograd = peers.load("autograd")
        return lambda f, x: (autograd.grad(f)(x), lambda: autograd.grad(f)(x))[1]
    if framework in ("jax", "jax.jit"):
        jax = peers.load("jax")

        def make(f, x):
            g = jax.jit(jax.grad(f)) if framework == "jax.jit" else jax.grad(f)
            xj = jax.numpy.asarray(x)
            jax.block_until_ready(g(xj))
            return lambda: jax.block_until_ready(g(xj))
        return make
    if framework == "torch":
        torch = peers.load("torch")

        def make(f, x):
            xt = torch.from_numpy(x).requires_grad_(True)
            torch.autograd.grad(f(xt), xt)
            return lambda: torch.autograd.grad(f(xt), xt)
        return make
    raise NotAvailable(framework)


def check(next_call, f_numpy, x):
    """Why the gradient disagrees with central differences of the numpy function, or None."""
    g = flatten(next_call())[0]
    rng = np.random.default_rng(1)
    v = rng.standard_normal(x.shape)
    h = 1e-6
    numeric = (f_numpy(x + h * v) - f_numpy(x - h * v)) / (2 * h)
    exact = float(np.dot(g.ravel(), v))
    if not abs(exact - numeric) <= 1e-5 * max(1.0, abs(numeric)):
        return f"directional derivative {exact:.6g}, central differences {numeric:.6g}"
    return None


def first_gradients(fresh, settings, x):
    """Per framework and size: the first-gradient times and a next-call thunk for the last one.

    Each framework first differentiates one function untimed, so what is measured is a new
    function in a process that has used the framework before (jax's per-operation caches
    warm, zygote's and tangent's rule tables loaded). Fresh functions are timed until
    ``settings.fresh`` of them or until the next would exceed the time budget.
    """
    firsts, nexts = {}, {}
    budget = 0.5 if settings.quick else 8.0
    for framework in FRAMEWORKS:
        try:
            make = gradient_maker(framework)
            make(fresh.new(LINES[0], framework), x)
        except Exception as error:  # noqa: BLE001
            for lines in LINES:
                firsts[framework, lines] = nexts[framework, lines] = skipped_from(error)
            continue
        for lines in sizes(settings):
            samples, next_call = [], None
            try:
                while room_for_another(samples, settings.fresh, budget):
                    f = fresh.new(lines, framework)
                    result = []
                    samples.append(once(lambda: result.append(make(f, x))))
                    next_call = result[0]
                problem = check(next_call, fresh.new(lines, "zygote"), x)
                if problem:
                    firsts[framework, lines] = nexts[framework, lines] = Skipped("wrong", problem)
                    continue
                firsts[framework, lines] = Measurement(samples)
                nexts[framework, lines] = next_call
            except Exception as error:  # noqa: BLE001
                firsts[framework, lines] = nexts[framework, lines] = skipped_from(error)
    return firsts, nexts


def room_for_another(samples, most, budget):
    """Whether to time one more: fewer than ``most``, and the next one fits in ``budget``."""
    if len(samples) >= most:
        return False
    return not samples or sum(samples) * (1 + 1 / len(samples)) <= budget


def sizes(settings):
    """The function lengths measured: all of `LINES`, or the two shorter in quick mode."""
    return LINES[:2] if settings.quick else LINES


def readable_output(fresh, x):
    """zygote's and tangent's generated code for the same 10-line function, as Markdown."""
    import zygote
    parts = ["**Readable output.** The generated code for one 10-line function "
             "(`zygote.adjoint_source(f)` and tangent's `dfdx`):", ""]
    f = fresh.new(10, "zygote")
    parts += ["<details><summary>the function</summary>", "", "```python",
              inspect.getsource(f).rstrip(), "```", "</details>", ""]
    try:
        text = zygote.adjoint_source(f, x).rstrip()
        parts += [f"<details><summary>zygote: {len(text.splitlines())} lines</summary>", "",
                  "```python", text, "```", "</details>", ""]
    except Exception as error:  # noqa: BLE001
        parts += [f"zygote: {skipped_from(error)}", ""]
    try:
        tangent = peers.load("tangent")
        text = inspect.getsource(tangent.grad(fresh.new(10, "tangent"))).rstrip()
        parts += [f"<details><summary>tangent: {len(text.splitlines())} lines</summary>", "",
                  "```python", text, "```", "</details>", ""]
    except Exception as error:  # noqa: BLE001
        parts += [f"tangent: {skipped_from(error)}", ""]
    return "\n".join(parts)


def run(settings):
    from .contestants import Row
    x = np.linspace(-1.0, 1.0, SIZE)
    fresh = FreshFunctions()
    try:
        firsts, nexts = first_gradients(fresh, settings, x)
        first_rows = [Row(f"first gradient, {lines} lines",
                          {fw: firsts[fw, lines] for fw in FRAMEWORKS})
                      for lines in sizes(settings)]
        next_rows = []
        for lines in sizes(settings):
            calls = {fw: nexts[fw, lines] for fw in FRAMEWORKS if callable(nexts[fw, lines])}
            cells = compare(calls, settings)
            next_rows.append(Row(f"next call, {lines} lines",
                                 {fw: cells.get(fw, nexts[fw, lines]) for fw in FRAMEWORKS}))
        same_code = same_code_row(fresh, x, settings)
        text = readable_output(fresh, x)
    finally:
        fresh.close()
    cold = new_process_firsts(settings)
    thirty = firsts["zygote", 30]
    targets = [Target("first gradient of a 30-line function (transform + compile + call)",
                      thirty.median * 1e3 if isinstance(thirty, Measurement) else None, 15.0,
                      "<=", "ms", why_missing=str(thirty)),
               Target("the same, the first gradient in a new process (zygote imported)",
                      cold.median * 1e3 if isinstance(cold, Measurement) else None, 40.0,
                      "<=", "ms", why_missing=str(cold))]
    cold_table = report.timing_table(
        "First gradient in a new process",
        [Row("first gradient, 30 lines, zygote just imported", {"zygote": cold})], ["zygote"])
    return Section(
        key="first_gradient",
        title="Time to first gradient",
        intro=("The first gradient of a new function: for zygote and tangent the source "
               "transform, compile and one call; `jax.jit` traces and compiles with XLA; "
               "autograd, JAX eager and torch trace as they run. Then the next call of the "
               "same gradient: zygote's and tangent's caches (`tangent.grad(f)` asked "
               "again), jit's compiled function, and the others' plain call. Each framework's "
               "functions are fresh files (16-element float64 input, straight-line numpy "
               "code cycling through sin, exp, tanh, cos, log, sqrt and products). Last, the "
               "first gradient in a new process: each sample a new Python process that imports "
               "zygote, writes a fresh 30-line function and times its first gradient (rule "
               "tables not yet read, nothing cached)."),
        tables=[report.timing_table("Time to first gradient", first_rows, FRAMEWORKS),
                report.ratio_table("zygote ÷ peer, first gradient", first_rows),
                report.timing_table("Next call (cache hit)", next_rows + [same_code],
                                    FRAMEWORKS),
                report.ratio_table("zygote ÷ peer, next call", next_rows), cold_table],
        bars=report.ratio_bars(first_rows + next_rows),
        targets=targets,
        summary=report.summary(first_rows),
        text=text,
        data={"first": first_rows, "next": next_rows, "same code": same_code, "new process": cold},
    )


def new_process_firsts(settings):
    """The first gradient of a fresh 30-line function in each of several new processes."""
    samples = []
    for _ in range(1 if settings.quick else 7):
        try:
            samples.append(harness.run_child("first_gradient", ["--lines", 30], timeout=120)["seconds"])
        except ChildError as error:
            return Skipped("failed", str(error))
    return Measurement(samples)


def child(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.first_gradient")
    parser.add_argument("--lines", type=int, required=True)
    args = parser.parse_args(argv)
    import zygote
    fresh = FreshFunctions()
    try:
        f = fresh.new(args.lines, "zygote")
        x = np.linspace(-1.0, 1.0, SIZE)
        start = time.perf_counter()
        zygote.gradient(f, x)
        harness.child_result({"seconds": time.perf_counter() - start})
    finally:
        fresh.close()


if __name__ == "__main__":
    child()


def same_code_row(fresh, x, settings):
    """zygote's cache hit for a new function object with already-transformed code."""
    import types
    from .contestants import Row
    import zygote
    f = fresh.new(30, "zygote")
    zygote.gradient(f, x)

    def new_function_same_code():
        g = types.FunctionType(f.__code__, f.__globals__, f.__name__, f.__defaults__,
                               f.__closure__)
        return zygote.gradient(g, x)
    cells = compare({"zygote": new_function_same_code}, settings)
    return Row("zygote: new function object, same code (30 lines)", cells)
