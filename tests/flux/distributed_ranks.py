"""Programs that `test_distributed.py` runs on every rank under ``mpiexec -n 2``.

``python distributed_ranks.py same-steps`` trains small models with `flux.distributed.train`
and, on rank 0, checks them against one process training on the whole batches; it prints
one JSON line of results from rank 0. ``fail-in-train`` and ``fail-outside`` make rank 1
raise, inside the training loop or between collectives, and must not hang.
"""

import json
import sys

import numpy as np

import flux
from flux import Chain, Dense, distributed, logitcrossentropy, relu

N, FEATURES, CLASSES, BATCH, EPOCHS = 41, 6, 3, 8, 2   # the last batch has one sample


def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, FEATURES)).astype(np.float32)
    return X, flux.onehotbatch(rng.integers(0, CLASSES, N), range(CLASSES))


def model(seed):
    return Chain(Dense(FEATURES, 8, relu, rng=seed), Dense(8, CLASSES, rng=seed + 1))


def leaves(m):
    return [x.copy() for x in flux.params(m)]


def train_implicit(m, loader, opt, step):
    loss = lambda x, y: logitcrossentropy(m(x), y)  # noqa: E731
    return [step(loss, flux.params(m), loader, opt, progress=False) for _ in range(EPOCHS)]


def train_explicit(m, loader, state, step):
    loss = lambda m, x, y: logitcrossentropy(m(x), y)  # noqa: E731
    return [step(loss, m, loader, state, progress=False) for _ in range(EPOCHS)]


def same_steps():
    """Two ranks at global batch 8 against one process at batch 8, same order, both styles."""
    comm = distributed.init()
    rank = comm.Get_rank()
    X, Y = data()
    # different initial weights on each rank: broadcast must make them rank 0's
    implicit, explicit = model(10 + rank), model(20 + rank)
    distributed.broadcast(implicit)
    distributed.broadcast(explicit)
    opt, state = flux.Adam(0.01), flux.setup(flux.Momentum(0.05), explicit)
    stats = {}
    shards, other_shards = (distributed.ShardedLoader((X, Y), BATCH, shuffle=True, rng=seed)
                            for seed in (3, 4))
    losses = train_implicit(implicit, shards, opt,
                            lambda *a, **k: distributed.train(*a, **k, stats=stats))
    losses_explicit = train_explicit(explicit, other_shards, state, distributed.train)
    in_step = all(distributed.synchronised(tree) for tree in (implicit, opt, explicit, state))

    nonfinite = None
    poisoned = X.copy()
    poisoned[:, 0] = np.nan if rank == 1 else 0.0
    try:
        distributed.train(lambda x, y: logitcrossentropy(implicit(x), y), flux.params(implicit),
                          distributed.ShardedLoader((poisoned, Y), BATCH), flux.Descent(),
                          progress=False)
    except flux.NonFiniteLossError as error:
        nonfinite = str(error)
    all_stopped = comm.allgather(nonfinite is not None)
    if rank != 0:
        return

    one_implicit, one_explicit = model(10), model(20)
    one_opt, one_state = flux.Adam(0.01), flux.setup(flux.Momentum(0.05), one_explicit)
    one_losses = train_implicit(one_implicit, flux.DataLoader((X, Y), BATCH, shuffle=True, rng=3),
                                one_opt, flux.train)
    one_losses_explicit = train_explicit(one_explicit, flux.DataLoader((X, Y), BATCH, True, rng=4),
                                         one_state, flux.train)
    difference = max(float(np.max(np.abs(a - b) / (1e-6 + np.abs(b))))
                     for a, b in zip(leaves(implicit) + leaves(explicit),
                                     leaves(one_implicit) + leaves(one_explicit)))
    print(json.dumps({
        "size": comm.Get_size(), "in_step": in_step, "all_stopped": all_stopped,
        "nonfinite": nonfinite, "stats": stats, "relative_difference": difference,
        "losses": losses + losses_explicit, "one_losses": one_losses + one_losses_explicit,
        "changed": bool(np.any(leaves(implicit)[0] != leaves(model(10))[0])),
    }), flush=True)


def fail_in_train():
    """Rank 1's data raises at its third batch while rank 0 waits in the Allreduce."""
    comm = distributed.init()
    X, Y = data()
    m = model(0)

    def batches():
        for index, batch in enumerate(distributed.ShardedLoader((X, Y), 4)):
            if comm.Get_rank() == 1 and index == 2:
                raise ValueError("a bad batch on purpose")
            yield batch
    try:
        distributed.train(lambda x, y: logitcrossentropy(m(x), y), flux.params(m), batches(),
                          flux.Descent(), progress=False)
    except ValueError:
        print("caught: the other ranks would now hang", flush=True)


def fail_outside():
    """Rank 1 raises outside training while rank 0 waits in a broadcast."""
    comm = distributed.init()
    if comm.Get_rank() == 1:
        raise RuntimeError("no data on this host")
    distributed.broadcast(model(0))


if __name__ == "__main__":
    {"same-steps": same_steps, "fail-in-train": fail_in_train,
     "fail-outside": fail_outside}[sys.argv[1]]()
