"""Random programs from ``fuzz_programs``: zygote's gradient against central differences.

CI runs a fixed, derandomised set of 60 programs. ``make fuzz`` sets
``ZYGOTE_FUZZ_EXAMPLES`` (for example to 2000) for a long random run, which prints how many
programs it checked; run it with ``pytest -s`` to see the count. A failure stops the run and
hypothesis shrinks it to a small program. With ``ZYGOTE_FUZZ_COLLECT=DIR`` the run instead
goes on past failures, writes each failing program to ``DIR`` with its arguments and error,
and fails at the end with a count: a way to see many bugs at once. Every failure found is
kept, reduced by hand, as a regression test in ``test_regressions.py``.

A program is checked only at inputs where it is differentiable: each branch condition and
each piecewise function (abs, maximum, max) must make the same choices at every point where
central differences evaluate it. When ``check_grad`` still disagrees, a five-point stencil
with a larger step decides whether zygote or the difference was wrong, so that rounding in
a steep program is not reported as a bug.
"""
import os
import time

import numpy as np
from hypothesis import HealthCheck, assume, given, note, reject, settings

import zygote
from zygote.testing import check_grad

from fuzz_programs import load, programs

LONG_RUN = int(os.environ.get("ZYGOTE_FUZZ_EXAMPLES", "0"))
COLLECT = os.environ.get("ZYGOTE_FUZZ_COLLECT")
EPS = 1e-6  # check_grad's step
STENCIL_STEP = 1e-3
LARGEST_VALUE = 1e6

fuzz_settings = settings(
    max_examples=LONG_RUN or 60,
    deadline=None,
    derandomize=not LONG_RUN,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)


# -- evaluating a traced program --------------------------------------------------------------


def traced_run(traced, args):
    """``(value, trace)`` of the traced ``fuzzed`` at ``args``; rejects overflowing programs."""
    traced.TRACE.clear()
    try:
        with np.errstate(all="ignore"):
            value = float(traced.fuzzed(*args))
    except OverflowError:
        reject()
    return value, tuple(traced.TRACE)


def moved(args, i, k, step):
    """``args`` with coordinate ``k`` of argument ``i`` moved by ``step``, as check_grad moves it."""
    out = list(args)
    if isinstance(args[i], np.ndarray):
        flat = args[i].reshape(-1).copy()
        flat[k] += step
        out[i] = flat.reshape(args[i].shape)
    else:
        out[i] = args[i] + step
    return out


def coordinates(args):
    return [(i, k) for i, a in enumerate(args) for k in range(np.size(a))]


def assume_same_pieces(traced, args, trace, steps):
    """Reject ``args`` unless the program takes the same branches at every moved point."""
    for i, k in coordinates(args):
        for step in steps:
            _, other = traced_run(traced, moved(args, i, k, step))
            assume(other == trace)


def stencil(f, args, i, k, h):
    """Five-point central difference of ``f`` in coordinate ``k`` of argument ``i``."""
    at = [float(f(*moved(args, i, k, s * h))) for s in (-2, -1, 1, 2)]
    return (at[0] - 8 * at[1] + 8 * at[2] - at[3]) / (12 * h)


def central(f, args, i, k, h):
    return (float(f(*moved(args, i, k, h))) - float(f(*moved(args, i, k, -h)))) / (2 * h)


def confirm(module, traced, args, trace, value, error):
    """Re-raise ``error`` when two difference schemes agree with each other but not with zygote.

    A central difference with step ``EPS`` and a five-point stencil with step
    ``STENCIL_STEP`` err in different ways (rounding, truncation). Where they disagree the
    program is too steep or too rough at this point for differences to judge it, and the
    example is rejected; where they agree and zygote does not, zygote is wrong.
    """
    assume_same_pieces(traced, args, trace, [s * STENCIL_STEP for s in (-2, -1, 1, 2)])

    def close(a, b):
        return abs(a - b) <= 1e-4 * max(abs(a), abs(b)) + 1e-6 * (1 + abs(value))

    grads = zygote.gradient(module.fuzzed, *args)
    with np.errstate(all="ignore"):
        for i, k in coordinates(args):
            g = 0.0 if grads[i] is None else float(np.reshape(grads[i], -1)[k])
            fine = stencil(module.fuzzed, args, i, k, STENCIL_STEP)
            assume(close(central(module.fuzzed, args, i, k, EPS), fine))
            if not close(g, fine):
                raise error
    reject()  # the differences were the inaccurate ones


# -- the properties ---------------------------------------------------------------------------


def check_program(program, directory):
    """Check one program's gradient; ``assume`` away inputs where it is not differentiable."""
    module = load(program.source, directory)
    traced = load(program.traced_source, directory, stem="traced")
    args = program.args
    value, trace = traced_run(traced, args)
    assume(np.isfinite(value) and abs(value) < LARGEST_VALUE)
    assume_same_pieces(traced, args, trace, [EPS, -EPS])
    note(f"value {value!r}, branches and pieces {trace!r}")
    try:
        with np.errstate(all="ignore"):
            check_grad(module.fuzzed, *args)
    except AssertionError as error:
        confirm(module, traced, args, trace, value, error)


def collected(program, error, directory):
    """Write a failing program, its arguments and its error to a new file in ``directory``."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, f"failure_{os.getpid()}_{len(os.listdir(directory))}.py")
    message = f"{type(error).__name__}: {error}".replace("\n", "\n# ")
    with open(path, "w") as out:
        out.write(f"# {message}\n# args = {program.args_source()}\n{program.source}")


def test_fuzzed_programs_have_correct_gradients(tmp_path):
    checked = []
    failures = []
    start = time.perf_counter()

    @fuzz_settings
    @given(programs())
    def check(program):
        if not COLLECT:
            check_program(program, tmp_path)
        else:
            try:
                check_program(program, tmp_path)
            except Exception as error:  # noqa: BLE001 - keep every failure, pass hypothesis's own on
                if type(error).__module__.startswith("hypothesis"):
                    raise
                collected(program, error, COLLECT)
                failures.append(program)
        checked.append(program)

    check()
    seconds = time.perf_counter() - start
    if LONG_RUN:
        print(f"\nfuzz: {len(checked)} programs checked against central differences "
              f"({LONG_RUN} examples asked for) in {seconds:.0f} s; {len(failures)} failed")
    assert not failures, f"{len(failures)} failing programs written to {COLLECT}"
    assert len(checked) >= 0.5 * (LONG_RUN or 60), f"only {len(checked)} programs could be checked"


@settings(max_examples=10, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_adjoint_source_is_deterministic(tmp_path_factory, program):
    """The same function yields the same text twice, and so does a second import of its source."""
    directory = tmp_path_factory.mktemp("determinism")
    first = load(program.source, directory)
    second = load(program.source, directory)
    for name in ("fuzzed", "helper", "pair"):
        text = zygote.adjoint_source(getattr(first, name), *program.args)
        assert zygote.adjoint_source(getattr(first, name), *program.args) == text
        assert zygote.adjoint_source(getattr(second, name), *program.args) == text


@settings(max_examples=20, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_traced_rendering_computes_the_same_function(tmp_path_factory, program):
    """A check on the generator: both renderings are valid Python and agree where they are finite."""
    directory = tmp_path_factory.mktemp("renderings")
    module = load(program.source, directory)
    traced = load(program.traced_source, directory, stem="traced")
    try:
        with np.errstate(all="ignore"):
            plain = float(module.fuzzed(*program.args))
    except OverflowError:
        return
    value, _ = traced_run(traced, program.args)
    assert value == plain or not (np.isfinite(value) or np.isfinite(plain))
