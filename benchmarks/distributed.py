"""Case 7: data-parallel MNIST MLP training over MPI: samples per second on one and two ranks.

The MLP of case 4 (784-256-128-10, relu, Adam 0.003, float32) trains at global batch 1024
over the same shuffled batches in three set-ups, each a fresh process group with one BLAS
thread per process:

- ``flux.train`` in one plain process, the baseline;
- ``flux.distributed.train`` on one MPI rank (``mpiexec -n 1``): the baseline plus the
  averaging's copy of the gradients into its buffer;
- ``flux.distributed.train`` on two ranks (``mpiexec -n 2``), each computing the gradient
  of 512 samples a step, one ``Allreduce`` of all gradients per step;
- the machine's ceiling for that: two plain processes at once, each running ``flux.train``
  at batch 512 on its own half of the images (the same steps, Adam included, as a rank),
  with no communication at all. Their speed-up over one process bounds what any
  data-parallel scheme can reach on this machine; what the two ranks lose against it is
  the price of communicating and of waiting for the slower rank each step.

Each set-up runs once per round, rounds repeat, and epochs are paired with the baseline's
epochs of the same round. The allreduce share is the time ranks spend inside ``Allreduce``
(the transfer and any wait for the slower rank) over the epoch's time. The first epoch of
every run (zygote's transform, warm-up) is left out.

``python -m benchmarks.distributed --setup {alone,ranks}`` is the child process.
"""

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import harness, report
from .harness import Measurement, Skipped
from .report import Bar, Section, Table, Target

BATCH = 1024
RANKS = 2
SETUPS = (("flux.train, 1 process", "alone", 0), ("flux.distributed.train, 1 rank", "ranks", 1),
          (f"flux.distributed.train, {RANKS} ranks", "ranks", RANKS),
          (f"ceiling: {RANKS} independent processes, no communication", "halves", RANKS))
TITLE = "Data-parallel MNIST training on MPI"


# -- the child process -------------------------------------------------------------------------


def child(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed")
    parser.add_argument("--setup", choices=("alone", "ranks"), required=True,
                        help="alone: flux.train, no MPI; ranks: flux.distributed.train under "
                             "mpiexec")
    parser.add_argument("--part", type=int, default=None,
                        help="alone only: train at batch 512 on this half (0 or 1) of the images")
    parser.add_argument("--epochs", type=int, default=3, help="epochs, the first untimed")
    parser.add_argument("--batches", type=int, default=0, help="global batches per epoch (0: all)")
    args = parser.parse_args(argv)
    harness.limit_threads(1)
    import flux
    from flux import distributed

    from .mnist import LR, SEED, init_weights, load, onehot
    X, labels = load("train")
    if args.batches:
        X, labels = X[:args.batches * BATCH], labels[:args.batches * BATCH]
    Y = onehot(labels)
    model = flux.Chain(flux.Dense(784, 256, flux.relu), flux.Dense(256, 128, flux.relu),
                       flux.Dense(128, 10))
    weights = init_weights(SEED)
    for layer, w, b in zip(model, weights[::2], weights[1::2]):
        layer.weight, layer.bias = w, b
    loss = lambda x, y: flux.logitcrossentropy(model(x), y)  # noqa: E731
    ps, opt = flux.params(model), flux.Adam(LR)
    harness.apply_thread_limits()

    if args.setup == "alone":
        batch = BATCH
        if args.part is not None:
            lo, hi = distributed.share(len(X), args.part, RANKS)
            X, Y, batch = X[lo:hi], Y[lo:hi], BATCH // RANKS
        data = flux.DataLoader((X, Y), batch, shuffle=True, rng=SEED)
        epochs = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            flux.train(loss, ps, data, opt, progress=False)
            epochs.append({"seconds": time.perf_counter() - start, "allreduce": [0.0]})
        harness.child_result({"ranks": 0, "samples": len(X), "epochs": epochs,
                              "accuracy": accuracy(model)})
        return

    comm = distributed.init("mpiexec -n 2 python -m benchmarks.distributed --setup ranks")
    data = distributed.ShardedLoader((X, Y), BATCH, shuffle=True, rng=SEED)
    distributed.broadcast(model)
    epochs = []
    for _ in range(args.epochs):
        stats = {}
        comm.Barrier()
        start = time.perf_counter()
        distributed.train(loss, ps, data, opt, progress=False, stats=stats)
        seconds = time.perf_counter() - start
        gathered = comm.allgather((seconds, stats["allreduce_seconds"]))
        epochs.append({"seconds": max(s for s, _ in gathered), "steps": stats["steps"],
                       "allreduce": [a for _, a in gathered]})
    in_step = distributed.synchronised((model, opt))
    if comm.Get_rank() == 0:
        harness.child_result({"ranks": comm.Get_size(), "samples": len(X), "epochs": epochs,
                              "synchronised": in_step, "accuracy": accuracy(model)})


def accuracy(model):
    """Test accuracy of the trained model on the 10,000 test images."""
    import numpy as np

    from .mnist import load
    X_test, labels_test = load("test")
    return float(np.mean(np.argmax(model(X_test), axis=1) == labels_test))


# -- the parent --------------------------------------------------------------------------------


def find_mpiexec():
    """The ``mpiexec`` beside this Python (the one that matches its mpi4py), else the PATH's."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def launch(setup, ranks, epochs, batches, timeout):
    """Run one set-up in fresh processes; its JSON result, or a `Skipped` saying why not."""
    args = ["-m", "benchmarks.distributed", "--epochs", str(epochs), "--batches", str(batches)]
    if setup == "halves":
        commands = [[sys.executable, *args, "--setup", "alone", "--part", str(part)]
                    for part in range(ranks)]
    elif ranks:
        commands = [[find_mpiexec(), "-n", str(ranks), sys.executable, *args, "--setup", setup]]
    else:
        commands = [[sys.executable, *args, "--setup", setup]]
    env = dict(os.environ)
    for name in harness.THREAD_VARIABLES:
        env[name] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(harness.REPO), env.get("PYTHONPATH")]))
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    running = [subprocess.Popen(command, cwd=harness.REPO, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for command in commands]
    results = []
    for process in running:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for other in running:
                other.kill()
            return Skipped("failed", f"timed out after {timeout} s")
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if process.returncode != 0 or not lines:
            tail = (err.strip().splitlines() or ["no output"])[-1]
            return Skipped("failed", f"exit {process.returncode}: {tail}")
        results.append(json.loads(lines[-1]))
    return results[0] if len(results) == 1 else together(results)


def together(results):
    """The result of processes that ran side by side: each epoch lasts as long as the slowest's."""
    epochs = [{"seconds": max(e["seconds"] for e in group), "allreduce": [0.0]}
              for group in zip(*(r["epochs"] for r in results))]
    return {"ranks": len(results), "samples": sum(r["samples"] for r in results),
            "epochs": epochs, "accuracy": min(r["accuracy"] for r in results)}


def why_not_run():
    """Why the case cannot run here, or None."""
    if find_mpiexec() is None:
        return "mpiexec missing (pip install -e '.[distributed]')"
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py missing (pip install -e '.[distributed]')"
    return None


def run(settings):
    rounds, epochs, batches = (1, 2, 10) if settings.quick else (5, 4, 0)
    timeout = 120 if settings.quick else 600
    missing = why_not_run()
    if missing:
        return not_run(missing)
    runs = {label: [] for label, _, _ in SETUPS}
    for _ in range(rounds):
        for label, setup, ranks in SETUPS:
            runs[label].append(launch(setup, ranks, epochs, batches, timeout))
    results = {label: summarise(outcomes) for label, outcomes in runs.items()}
    return section(results, rounds, epochs, batches)


def summarise(outcomes):
    """One set-up over the rounds: timed epoch seconds, samples/s, allreduce figures; or Skipped."""
    failed = [o for o in outcomes if isinstance(o, Skipped)]
    if failed:
        return failed[0]
    timed = [epoch for o in outcomes for epoch in o["epochs"][1:]]
    samples = outcomes[0]["samples"]
    shares = [sum(e["allreduce"]) / (len(e["allreduce"]) * e["seconds"]) for e in timed]
    steps = [e.get("steps") for e in timed]
    per_step = [max(e["allreduce"]) / e["steps"] for e in timed if e.get("steps")]
    return {"epoch": Measurement([e["seconds"] for e in timed]), "samples": samples,
            "share": statistics.median(shares), "per_step": statistics.median(per_step)
            if per_step else None, "steps": steps[0],
            "synchronised": all(o.get("synchronised", True) for o in outcomes),
            "accuracy": statistics.median(o["accuracy"] for o in outcomes)}


def not_run(reason):
    return Section(key="distributed", title=TITLE, text=f"not run: {reason}",
                   targets=[target(None, reason)], data={"not run": reason})


def target(value, why=""):
    return Target(f"MNIST MLP at global batch {BATCH}: samples/s on {RANKS} ranks ÷ 1 "
                  f"process (1 BLAS thread each)", value, 1.7, ">=", why_missing=why)


def section(results, rounds, epochs, batches):
    baseline = results[SETUPS[0][0]]
    body, bars, notes = [], [], report.Footnotes()
    for label, setup, _ in SETUPS:
        result = results[label]
        if isinstance(result, Skipped):
            body.append([label, f"{result.kind} {notes.mark(result)}"] + ["—"] * 5)
            continue
        epoch = result["epoch"]
        speed = result["samples"] / epoch.median
        over = harness.ratio(baseline["epoch"], epoch) if not isinstance(baseline, Skipped) \
            else None
        body.append([label, report.measurement(epoch, notes), f"{speed:,.0f}",
                     report.ratio_cell(over) if label != SETUPS[0][0] else "—",
                     report.seconds(result["per_step"]) if result["per_step"] else "—",
                     f"{100 * result['share']:.1f} %" if result["per_step"] else "—",
                     f"{100 * result['accuracy']:.2f} %" if setup != "halves" else "—"])
        bars.append(Bar(label, "samples per second", speed, result["samples"] / epoch.high,
                        result["samples"] / epoch.low))
    two, ceiling = results[SETUPS[2][0]], results[SETUPS[3][0]]
    ratio = None
    why = ""
    of_ceiling = ""
    if not any(isinstance(r, Skipped) for r in (baseline, two, ceiling)):
        reached = harness.ratio(ceiling["epoch"], two["epoch"]).median
        of_ceiling = (f" The {RANKS} ranks run at {100 * reached:.0f} % of the ceiling's speed "
                      f"(median of paired epochs).")
    if isinstance(baseline, Skipped) or isinstance(two, Skipped):
        why = str(baseline if isinstance(baseline, Skipped) else two)
    else:
        ratio = harness.ratio(baseline["epoch"], two["epoch"]).median
        if not two["synchronised"]:
            notes.mark(Skipped("wrong", "the ranks' parameters or optimiser state differed "
                                        "after training"))
    table = Table("One epoch per set-up", ["set-up", "epoch", "samples/s",
                                           "speed-up over 1 process", "allreduce per step",
                                           "allreduce share of the epoch",
                                           f"test accuracy after {epochs} epochs"],
                  body, notes.lines())
    scope = f"{batches} global batches per epoch" if batches else "all 60,000 images per epoch"
    return Section(
        key="distributed", title=TITLE,
        intro=(f"784-256-128-10 relu MLP, float32, global batch {BATCH}, Adam, {scope}, one "
               f"BLAS thread per process. {rounds} round(s), each running every set-up in "
               f"fresh processes for {epochs} epochs; the first epoch of each run is left out, "
               f"the epoch time is the median of the rest (the slowest rank's), and the "
               f"speed-up pairs epochs with the single process's of the same round. The "
               f"allreduce columns: time inside the one ``Allreduce`` of a step, including "
               f"any wait for the other rank, per step and as a share of the epoch. The "
               f"ceiling runs {RANKS} plain processes side by side, each training on its own "
               f"share of the images at batch {BATCH // RANKS} with no communication: what "
               f"data parallelism could reach on this machine.{of_ceiling}"),
        tables=[table], bars=bars, chart="seconds", chart_label="samples per second",
        targets=[target(ratio, why)], data={"results": results})


if __name__ == "__main__":
    child()
