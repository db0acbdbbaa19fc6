"""Tests of `flux.distributed`: sharding without MPI, and training under ``mpiexec -n 2``.

The MPI tests launch `distributed_ranks.py` (or the MNIST example) on two ranks in a
subprocess with a timeout, so a hang fails the test instead of stalling the suite. They
skip, saying why, where mpi4py or ``mpiexec`` is missing: ``pip install -e '.[distributed]'``
provides both.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import flux
import zygote
from flux import DataLoader, distributed
from flux.distributed import ShardedLoader, share

REPO = Path(__file__).resolve().parents[2]
RANKS = Path(__file__).with_name("distributed_ranks.py")
TIMEOUT = 60


# -- sharding, without MPI ---------------------------------------------------------------------


def epoch(loader):
    return [batch.tolist() for batch in loader]


@pytest.mark.parametrize("nobs, batchsize, size", [(41, 8, 2), (10, 4, 3), (7, 2, 4), (5, 8, 2)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shards_are_disjoint_and_make_up_the_dataloader_batches(nobs, batchsize, size, shuffle):
    X = np.arange(nobs)
    whole = epoch(DataLoader(X, batchsize, shuffle=shuffle, rng=7))
    shards = [epoch(ShardedLoader(X, batchsize, shuffle=shuffle, rng=7, rank=r, size=size))
              for r in range(size)]
    assert all(len(shard) == len(whole) for shard in shards)   # every rank steps together
    for index, batch in enumerate(whole):
        pieces = [shard[index] for shard in shards]
        assert sum(pieces, []) == batch                          # in order, nothing missing
        assert max(map(len, pieces)) - min(map(len, pieces)) <= 1
    seen = sorted(sum((sum(shard, []) for shard in shards), []))
    assert seen == list(range(nobs))                             # disjoint and covering


def test_every_rank_draws_the_same_order_each_epoch_and_a_new_one_next_epoch():
    X = np.arange(64)
    loaders = [ShardedLoader(X, 16, shuffle=True, rng=3, rank=r, size=2) for r in range(2)]
    first = [epoch(loader) for loader in loaders]
    second = [epoch(loader) for loader in loaders]
    assert sorted(sum(sum(first, []), [])) == list(range(64))
    assert first != second
    reference = DataLoader(X, 16, shuffle=True, rng=3)
    _, reference_second = epoch(reference), epoch(reference)
    assert [sum(pieces, []) for pieces in zip(*second)] == reference_second


def test_partial_last_batches():
    X = np.arange(9)
    kept = [epoch(ShardedLoader(X, 4, rank=r, size=2)) for r in range(2)]
    assert kept == [[[0, 1], [4, 5], []], [[2, 3], [6, 7], [8]]]   # rank 0's last share is empty
    dropped = [epoch(ShardedLoader(X, 4, partial=False, rank=r, size=2)) for r in range(2)]
    assert dropped == [[[0, 1], [4, 5]], [[2, 3], [6, 7]]]
    assert len(ShardedLoader(X, 4, rank=0, size=2)) == 3


def test_shards_keep_the_data_structure_and_slice_without_copying():
    X, Y = np.arange(12.0).reshape(6, 2), np.arange(6)
    x, y = next(iter(ShardedLoader((X, Y), 4, rank=1, size=2)))
    assert x.tolist() == [[4.0, 5.0], [6.0, 7.0]] and y.tolist() == [2, 3]
    assert np.shares_memory(x, X)
    batch = next(iter(ShardedLoader({"x": X}, 4, rank=0, size=2)))
    assert list(batch) == ["x"] and batch["x"].shape == (2, 2)


@pytest.mark.parametrize("n, size", [(0, 2), (1, 3), (10, 3), (1024, 2), (1023, 4)])
def test_share_cuts_contiguous_pieces_of_near_equal_length(n, size):
    bounds = [share(n, r, size) for r in range(size)]
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(hi == lo for (_, hi), (lo, _) in zip(bounds, bounds[1:]))
    lengths = [hi - lo for lo, hi in bounds]
    assert max(lengths) - min(lengths) <= 1


def test_bad_rank_and_size_are_refused():
    with pytest.raises(ValueError, match="rank 2 is not in 0..1"):
        ShardedLoader(np.arange(4), 2, rank=2, size=2)
    with pytest.raises(ValueError, match="both rank and size"):
        ShardedLoader(np.arange(4), 2, rank=0)


# -- launching ---------------------------------------------------------------------------------


@pytest.fixture
def unlaunched(monkeypatch):
    for name in distributed.LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_a_lone_process_is_rank_0_of_1_without_importing_mpi(unlaunched):
    already = "mpi4py" in sys.modules
    assert (distributed.rank(), distributed.size(), distributed.is_root()) == (0, 1, True)
    model = flux.Dense(2, 1)
    assert distributed.broadcast(model) is model and distributed.synchronised(model)
    assert epoch(ShardedLoader(np.arange(5), 2)) == epoch(DataLoader(np.arange(5), 2))
    assert ("mpi4py" in sys.modules) == already


def test_a_run_without_mpiexec_says_how_to_launch(unlaunched):
    from flux.examples import mnist
    with pytest.raises(SystemExit) as stopped:
        mnist.main(["--distributed", "--epochs", "1"])
    message = str(stopped.value)
    assert "started by mpiexec" in message
    assert "mpiexec -n 2 python -m flux.examples.mnist --distributed" in message
    assert "pip install -e '.[distributed]'" in message


def test_missing_mpi4py_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "1")   # as if mpiexec had started us
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(distributed.LaunchError,
                       match=r"(?s)mpi4py and an MPI library.*\.\[distributed\]"):
        distributed.init()


# -- one process, no MPI ----------------------------------------------------------------------


def small_problem():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(41, 6)).astype(np.float32)
    return X, flux.onehotbatch(rng.integers(0, 3, 41), range(3))


def small_model():
    return flux.Chain(flux.Dense(6, 8, flux.relu, rng=1), flux.Dense(8, 3, rng=2))


def test_alone_it_takes_the_steps_of_flux_train(unlaunched):
    X, Y = small_problem()
    ours, theirs = small_model(), small_model()
    stats = {}
    mean_loss = distributed.train(lambda x, y: flux.logitcrossentropy(ours(x), y),
                                  flux.params(ours), ShardedLoader((X, Y), 8, True, rng=5),
                                  flux.Adam(0.01), progress=False, stats=stats)
    expected = flux.train(lambda x, y: flux.logitcrossentropy(theirs(x), y),
                          flux.params(theirs), DataLoader((X, Y), 8, True, rng=5),
                          flux.Adam(0.01), progress=False)
    assert mean_loss == pytest.approx(expected, rel=1e-6)
    for a, b in zip(flux.params(ours), flux.params(theirs)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert stats == {"steps": 6, "samples": 41, "allreduce_seconds": 0.0}


def test_the_averager_gives_the_mean_as_the_batch_size_changes(unlaunched):
    """Its buffer is weighted by the last step's total, so a change of total must rescale."""
    a, b = np.zeros((2, 3), np.float32), np.zeros(3, np.float32)
    averager = distributed.GradientAverager(zygote.Params([a, b]))
    rng = np.random.default_rng(3)
    for count in (8, 8, 3, 8, 5, 5):
        local = {id(a): rng.normal(size=a.shape).astype(np.float32),
                 id(b): rng.normal(size=b.shape).astype(np.float32)}
        loss, grads, total, stop = averager.average(2.5, zygote.Grads(zygote.Params([a, b]),
                                                                      local), count)
        assert (loss, total, stop) == (2.5, count, False) and averager.complete
        np.testing.assert_allclose(grads[a], local[id(a)], rtol=1e-6)
        np.testing.assert_allclose(grads[b], local[id(b)], rtol=1e-6)


def test_an_empty_share_is_a_step_without_gradient(unlaunched):
    X, Y = small_problem()
    model, before = small_model(), small_model()
    state = flux.setup(flux.Descent(0.1), model)
    data = [(X[:0], Y[:0]), (X[:8], Y[:8])]
    mean_loss = distributed.train(lambda m, x, y: flux.logitcrossentropy(m(x), y), model, data,
                                  state, progress=False)
    assert mean_loss == pytest.approx(float(flux.logitcrossentropy(before(X[:8]), Y[:8])))
    assert not np.array_equal(model[0].weight, before[0].weight)


# -- under mpiexec -----------------------------------------------------------------------------


def find_mpiexec():
    """The ``mpiexec`` beside this Python (the one that matches its mpi4py), else the PATH's."""
    beside = Path(sys.executable).with_name("mpiexec")
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def need_mpi():
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed: pip install -e '.[distributed]'")
    if find_mpiexec() is None:
        pytest.skip("no mpiexec on the PATH or beside this Python: pip install -e "
                    "'.[distributed]' installs MPICH's")


def mpiexec(*args, ranks=2, cwd=REPO):
    """Run ``mpiexec -n ranks python *args``; a hang ends in a failed test after TIMEOUT seconds."""
    need_mpi()
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path,
           "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           # Open MPI refuses to start as root (CI) without these; MPICH ignores them
           "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
    command = [find_mpiexec(), "-n", str(ranks), sys.executable, *map(str, args)]
    try:
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=TIMEOUT)
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{' '.join(command)} hung: no exit within {TIMEOUT} s\n{error.stderr}")


def test_two_ranks_take_the_steps_of_one_process_on_the_whole_batch():
    done = mpiexec(RANKS, "same-steps")
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("{")]
    result = json.loads(line)
    assert result["size"] == 2
    assert result["changed"]
    # global batch 8, 41 samples: 6 steps an epoch, the last with 1 sample (rank 0 has none)
    assert result["stats"]["steps"] == 12 and result["stats"]["samples"] == 82
    assert result["relative_difference"] < 1e-5                 # float32 rounding
    np.testing.assert_allclose(result["losses"], result["one_losses"], rtol=1e-5)
    assert result["in_step"]                 # parameters and optimiser state identical on ranks
    assert result["all_stopped"] == [True, True] and "batch 0" in result["nonfinite"]


@pytest.mark.parametrize("where", ["fail-in-train", "fail-outside"])
def test_a_failing_rank_ends_every_rank_with_a_message(where):
    done = mpiexec(RANKS, where)
    assert done.returncode != 0
    assert "rank 1 failed" in done.stderr, done.stderr[-3000:]
    assert "caught" not in done.stdout    # the failing rank did not carry on either


def test_the_mnist_example_trains_on_two_ranks(tmp_path):
    done = mpiexec("-m", "flux.examples.mnist", "--distributed", "--epochs", "1",
                   "--train-size", "2048", "--batchsize", "256", "--out", tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("final test accuracy") == 1         # rank 0 alone prints
    assert "data-parallel on 2 MPI ranks" in done.stdout
    assert (tmp_path / "model.npz").stat().st_size > 0
