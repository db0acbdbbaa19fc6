"""Timing and its conditions: warm-up, interleaved repeats, thread limits, child processes and machine facts.

Every timing is a list of samples, seconds per call, one per *round*. A round runs each
contestant of a row once (a loop of ``number`` calls, calibrated so that one loop lasts
about ``settings.min_time``), so contestants of one row share whatever load the machine
had at that moment, and the ratio of two contestants is taken round by round: background
noise mostly cancels in it. Nothing here imports numpy at module level: the thread limits
must be in the environment before numpy, torch or jax load their thread pools.
"""

import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Variables read by the BLAS and OpenMP libraries when they load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass(frozen=True)
class Settings:
    """How hard to measure: the budget per contestant and the limits on rounds."""

    quick: bool
    threads: int
    budget: float        # seconds per contestant and row, after warm-up
    min_time: float      # target seconds for one loop of calls
    min_rounds: int
    max_rounds: int
    warmup: int          # calls before timing starts
    fresh: int           # fresh transforms per first-gradient measurement

    @classmethod
    def for_mode(cls, quick, threads):
        if quick:
            return cls(True, threads, budget=0.01, min_time=0.001, min_rounds=3, max_rounds=3,
                       warmup=1, fresh=1)
        return cls(False, threads, budget=0.6, min_time=0.005, min_rounds=7, max_rounds=101,
                   warmup=3, fresh=7)


# -- results -------------------------------------------------------------------------------


@dataclass
class Measurement:
    """Samples in seconds (per call, one per round), with median and range."""

    samples: list

    @property
    def median(self):
        return statistics.median(self.samples)

    @property
    def low(self):
        return min(self.samples)

    @property
    def high(self):
        return max(self.samples)


@dataclass
class Skipped:
    """A cell with no number, and why: missing, not available, failed, wrong, timeout."""

    kind: str
    reason: str = ""

    def __str__(self):
        return f"{self.kind}: {self.reason}" if self.reason else self.kind


@dataclass
class Ratio:
    """Our time over a peer's: the median of the per-round ratios, and their range."""

    median: float
    low: float
    high: float


class Missing(Exception):
    """A peer is not installed or does not import; the message says why."""


class NotAvailable(Exception):
    """A feature (say ``zygote.hessian``) does not exist yet."""


class NotTimed(Exception):
    """A contestant left out on purpose (say, minutes of compilation); the message says why."""


def skipped_from(error):
    """The `Skipped` cell for an exception raised while preparing or running a contestant."""
    if isinstance(error, Missing):
        return Skipped("missing", str(error))
    if isinstance(error, ImportError):
        return Skipped("missing", f"{type(error).__name__}: {error}")
    if isinstance(error, NotAvailable):
        return Skipped("not available", str(error))
    if isinstance(error, NotTimed):
        return Skipped("not timed", str(error))
    text = " ".join(str(error).split())
    text = text if len(text) <= 160 else text[:157] + "..."
    return Skipped("failed", f"{type(error).__name__}: {text}" if text else type(error).__name__)


def ratio(ours, theirs):
    """`Ratio` of two measurements of one row, paired round by round when they can be."""
    if not isinstance(ours, Measurement) or not isinstance(theirs, Measurement):
        return None
    if len(ours.samples) == len(theirs.samples):
        per_round = [a / b for a, b in zip(ours.samples, theirs.samples) if b > 0]
        if per_round:
            return Ratio(statistics.median(per_round), min(per_round), max(per_round))
    return Ratio(ours.median / theirs.median, ours.low / theirs.high, ours.high / theirs.low)


# -- timing --------------------------------------------------------------------------------


def _loop(fn, number):
    """Seconds per call of ``number`` calls of ``fn``, with the garbage collector paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


def compare(contestants, settings):
    """Time each zero-argument callable, interleaved; a dict of `Measurement` or `Skipped`.

    Each contestant is warmed up and calibrated on its own, then rounds run every
    contestant once until each has had ``settings.budget`` seconds and ``min_rounds``
    rounds (or ``max_rounds``). A contestant whose one call takes over twice the budget
    is timed once, by its calibration call, and stays out of the rounds; the rounds also
    stop, after at least one, once the row has used ten times its budget. A contestant
    that raises is reported as failed and leaves the rounds.
    """
    results, numbers = {}, {}
    for name, fn in contestants.items():
        try:
            for _ in range(settings.warmup):
                if _loop(fn, 1) > 2 * settings.budget:
                    break
            once = _loop(fn, 1)
            numbers[name] = max(1, min(10_000, math.ceil(settings.min_time / max(once, 1e-9))))
            results[name] = Measurement([once] if once > 2 * settings.budget else [])
        except Exception as error:  # noqa: BLE001 -- any failure is a cell, not a crash
            results[name] = skipped_from(error)
    active = [name for name in contestants
              if isinstance(results[name], Measurement) and not results[name].samples]
    budget = settings.budget * max(1, len(active))
    gc.collect()
    start = time.perf_counter()
    rounds = 0
    while active and rounds < settings.max_rounds:
        for name in list(active):
            try:
                results[name].samples.append(_loop(contestants[name], numbers[name]))
            except Exception as error:  # noqa: BLE001
                results[name] = skipped_from(error)
                active.remove(name)
        rounds += 1
        elapsed = time.perf_counter() - start
        if rounds >= settings.min_rounds and elapsed >= budget:
            break
        if elapsed >= 10 * budget:
            break
    return results


def once(fn):
    """Seconds taken by one call of ``fn`` (for measurements that cannot be repeated)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- threads -------------------------------------------------------------------------------


def limit_threads(n):
    """Limit BLAS, OpenMP, XLA and torch to ``n`` threads, the same way for every peer.

    Sets the environment (read when the libraries load, and inherited by child processes)
    and, through threadpoolctl, any thread pool already loaded. Call it before importing
    numpy; `apply_thread_limits` repeats the threadpoolctl part after a peer loads.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(n)
    xla = [flag for flag in os.environ.get("XLA_FLAGS", "").split()
           if "multi_thread_eigen" not in flag and "intra_op_parallelism" not in flag]
    if n == 1:
        # The known recipe for one XLA thread (the second item is read only after a flag:
        # alone, XLA takes the variable for the name of a file of flags).
        xla += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
    os.environ["XLA_FLAGS"] = " ".join(xla)
    os.environ["JAX_PLATFORMS"] = "cpu"
    os.environ["BENCH_THREADS"] = str(n)
    # a first gradient must be a true first transform, never tangent's on-disk cache
    os.environ["TANGENT_DISK_CACHE"] = "0"
    apply_thread_limits()


_LIMITER = []


def apply_thread_limits():
    """Apply the thread limit to every thread pool loaded so far (needs threadpoolctl)."""
    n = int(os.environ.get("BENCH_THREADS", "1"))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    _LIMITER.append(threadpool_limits(n))


def thread_pools():
    """threadpoolctl's view of the loaded BLAS and OpenMP pools, or a note that it is missing."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl is not installed"
    return [{key: pool.get(key) for key in ("user_api", "internal_api", "num_threads",
                                            "version", "prefix")}
            for pool in threadpool_info()]


# -- memory and child processes -----------------------------------------------------------


def _status_bytes(field):
    """A memory line of ``/proc/self/status`` (Linux) in bytes, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def peak_rss():
    """This process's peak resident set size so far, in bytes.

    On Linux this is ``VmHWM``: ``ru_maxrss`` is the same high-water mark, except that
    a child started by (v)fork and exec inherits its parent's peak, which would give
    every child the parent's size. Elsewhere, ``ru_maxrss``.
    """
    peak = _status_bytes("VmHWM")
    if peak is not None:
        return peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def reset_peak_rss():
    """Lower the peak to the current RSS (Linux ``clear_refs``); False where that is impossible."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class ChildError(RuntimeError):
    """A child benchmark process failed, timed out or printed no result."""


def run_child(module, args, timeout):
    """Run ``python -m benchmarks.<module> *args`` and return the JSON object it prints last.

    The child inherits the environment, thread limits included, and starts from the
    repository root so ``benchmarks`` imports from this checkout.
    """
    command = [sys.executable, "-m", f"benchmarks.{module}", *map(str, args)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    try:
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise ChildError(f"timed out after {timeout:.0f} s") from error
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ChildError(f"exit {done.returncode}: {tail}")
    return json.loads(lines[-1])


def child_result(result):
    """Print ``result`` as the one JSON line a child process reports (see `run_child`)."""
    print(json.dumps(result), flush=True)


# -- the machine ---------------------------------------------------------------------------


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(module):
    try:
        from importlib.metadata import version
        return version(module)
    except Exception:  # noqa: BLE001
        return None


def _git_revision():
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}{' (with uncommitted changes)' if dirty else ''}" if head else None


def load_average():
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_info(settings):
    """Facts about the machine and the software, for the report."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    packages = {name: _version(dist) for name, dist in (
        ("numpy", "numpy"), ("zygote-flux", "zygote-flux"), ("gast", "gast"),
        ("autograd", "autograd"), ("jax", "jax"), ("jaxlib", "jaxlib"), ("torch", "torch"),
        ("tangent-ad", "tangent-ad"), ("threadpoolctl", "threadpoolctl"),
        ("matplotlib", "matplotlib"))}
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable cores": usable,
        "memory (GiB)": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "revision": _git_revision(),
        "threads": settings.threads,
        "thread environment": {name: os.environ.get(name) for name in
                               (*THREAD_VARIABLES, "XLA_FLAGS")},
        "thread pools": thread_pools(),
        "packages": packages,
    }
