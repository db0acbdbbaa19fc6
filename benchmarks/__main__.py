"""Run the benchmark cases and write the report: ``python -m benchmarks [--quick] [--cases ...] [--out DIR]``.

Without ``--out`` a full run regenerates ``benchmarks/RESULTS.md`` and its charts; a quick
run writes to a temporary directory, so smoke-test numbers never replace real ones. The
exit status is 1 when a case itself crashed (a missing or failing peer is not a crash).
"""

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import harness

CASES = ("overhead", "arrays", "first_gradient", "no_source", "higher_order", "loops", "mnist",
         "conv", "recurrent", "distributed", "transformers", "writes", "compiled")
TITLES = {"overhead": "Gradient call overhead on small functions",
          "arrays": "Gradients of array code", "first_gradient": "Time to first gradient",
          "no_source": "Time to first gradient without source",
          "higher_order": "Higher order", "loops": "Loops: time and memory",
          "mnist": "MNIST MLP training", "conv": "Convolutions",
          "recurrent": "Recurrent: the MNIST LSTM's training step",
          "distributed": "Data-parallel training on MPI",
          "transformers": "Transformers: a ViT on MNIST, and attention's memory",
          "writes": "In-place writes in a loop",
          "compiled": "Gradients compiled with numba"}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure zygote and flux against hand-written numpy, tangent, autograd, "
                    "JAX and PyTorch on this machine, and write RESULTS.md with charts.")
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: tiny repeat counts, 10-batch epochs (under 2 minutes)")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES),
                        metavar="CASE", help=f"cases to run (default: all of {', '.join(CASES)})")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for RESULTS.md, results.json and charts/ (default: "
                             "benchmarks/, or a temporary directory with --quick)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads for BLAS, XLA and torch, the same for all (default 1)")
    return parser.parse_args(argv)


def run_case(name, settings):
    """Run one case; a crash becomes a section that says so instead of ending the run."""
    import importlib
    from .report import Section
    started = time.perf_counter()
    print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
    try:
        section = importlib.import_module(f"benchmarks.{name}").run(settings)
    except Exception as error:  # noqa: BLE001 -- reported, and the exit status says so
        traceback.print_exc()
        section = Section(key=name, title=TITLES[name],
                          error=f"{type(error).__name__}: {error}")
    print(f"[benchmarks] {name} done in {time.perf_counter() - started:.1f} s",
          file=sys.stderr, flush=True)
    return section


def main(argv=None):
    args = parse_args(argv)
    harness.limit_threads(args.threads)  # before numpy and every peer load
    settings = harness.Settings.for_mode(args.quick, args.threads)
    out = args.out
    if out is None:
        out = (Path(tempfile.gettempdir()) / "zygote-benchmarks-quick" if args.quick
               else Path(__file__).resolve().parent)
    import numpy  # noqa: F401 -- load BLAS now, then limit it
    harness.apply_thread_limits()

    started, clock = time.time(), time.perf_counter()
    load_start = harness.load_average()
    sections = [run_case(name, settings) for name in CASES if name in args.cases]
    machine = harness.machine_info(settings)
    machine["load average"] = {"start": load_start, "end": harness.load_average()}
    from . import report
    path = report.write(sections, machine, settings, out, time.perf_counter() - clock, started)
    print(f"[benchmarks] wrote {path}", file=sys.stderr)
    return 1 if any(section.error for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
