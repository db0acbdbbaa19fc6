"""Data-parallel training over MPI: every process (rank) trains the model on its share of a batch.

Launched as ``mpiexec -n 2 python train.py``, each rank runs the same script. The ranks
start from rank 0's parameters (:func:`broadcast`), each computes the gradient of the loss
on its share of every global batch (:class:`ShardedLoader`), and :func:`train` replaces
each rank's gradient by the mean over all the batch's samples before the optimiser step, so
parameters and optimiser state stay identical everywhere. ``mpi4py`` (the
``distributed`` extra) is imported only when a communicator is first needed; a process
not started by an MPI launcher is rank 0 of 1.

>>> rank(), size()
(0, 1)
"""

import hashlib
import os
import sys
import time
import traceback

import numpy as np

import zygote

from . import layers
from .data import DataLoader
from .functor import is_parameter, lookup, parameter_paths, walk
from .optimise import Fused, Optimiser, update
from .progress import progress_bar
from .train import DeferredInterrupt, as_arguments, check_finite, objective_for

__all__ = ["LaunchError", "launched", "init", "world", "rank", "size", "is_root",
           "root_only", "ShardedLoader", "broadcast", "synchronised", "GradientAverager",
           "train"]

# Set in a process's environment by mpiexec/mpirun of MPICH and Intel MPI, Open MPI, PMIx.
LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")
ABORT_GRACE = 0.5   # seconds between a failing rank's message and the abort
INSTALL = "pip install -e '.[distributed]'  (or: pip install mpi4py mpich)"


class LaunchError(RuntimeError):
    """Distributed training was asked for, but mpi4py is missing or mpiexec did not start us."""


def launched():
    """Whether an MPI launcher (``mpiexec``, ``mpirun``) started this process."""
    return any(name in os.environ for name in LAUNCHER_VARIABLES)


def load_mpi():
    """``mpi4py.MPI`` (the import initialises MPI), or a `LaunchError` saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise LaunchError(f"distributed training needs mpi4py and an MPI library: "
                          f"{INSTALL}") from error
    return MPI


def world():
    """``MPI.COMM_WORLD``, the communicator of all ranks, with the abort-on-failure hook set."""
    comm = load_mpi().COMM_WORLD
    abort_on_uncaught(comm)
    return comm


def init(command="mpiexec -n 2 python your_script.py"):
    """The world communicator, after checking that mpiexec started this process.

    Raises `LaunchError` with the commands to install and launch (``command``) when mpi4py
    is missing or the process was started without a launcher: one rank alone would train
    without complaint, but not in parallel.
    """
    how = f"\n    {INSTALL}\nthen launch the ranks with\n    {command}"
    if not launched():
        raise LaunchError(f"distributed training needs its processes started by mpiexec, but "
                          f"this one was started on its own. Install MPI for Python if need "
                          f"be:{how}")
    try:
        return world()
    except LaunchError as error:
        raise LaunchError(f"distributed training needs mpi4py and an MPI library, which are "
                          f"not installed. Install them:{how}") from error.__cause__


def rank():
    """This process's rank, 0 to ``size() - 1``; 0 when no launcher started it."""
    return world().Get_rank() if launched() else 0


def size():
    """The number of ranks; 1 when no launcher started this process."""
    return world().Get_size() if launched() else 1


def is_root():
    """Whether this is rank 0, the one that prints, plots and saves."""
    return rank() == 0


def root_only(f):
    """Wrap ``f`` so that it runs on rank 0 and returns ``None`` on the others (for callbacks).

    >>> root_only(lambda: "printed")()
    'printed'
    """
    def on_root(*args, **kwargs):
        return f(*args, **kwargs) if is_root() else None
    return on_root


# -- failures ----------------------------------------------------------------------------------


def abort(comm, error):
    """Report ``error`` as this rank's failure and abort every rank of ``comm``.

    The others may be waiting in a collective for this rank, which would then never come;
    aborting ends them all, so ``mpiexec`` exits non-zero instead of hanging.
    """
    traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
    print(f"rank {comm.Get_rank()} failed: {type(error).__name__}: {error}; aborting all "
          f"{comm.Get_size()} ranks", file=sys.stderr, flush=True)
    sys.stdout.flush()
    # The launcher forwards output asynchronously, and an abort can end the job before this
    # rank's last lines are through: give them a moment.
    time.sleep(ABORT_GRACE)
    comm.Abort(1)
    os._exit(1)   # some MPI libraries return from MPI_Abort and kill this process only later


def abort_on_uncaught(comm):
    """Make an uncaught exception on any rank abort all of them (installed once)."""
    if comm.Get_size() == 1 or getattr(sys.excepthook, "aborts_ranks", False):
        return
    previous = sys.excepthook

    def excepthook(kind, error, trace):
        if error is None:
            return previous(kind, error, trace)
        abort(comm, error.with_traceback(trace))
    excepthook.aborts_ranks = True
    sys.excepthook = excepthook


# -- data --------------------------------------------------------------------------------------


def share(n, rank, size):
    """Bounds ``(lo, hi)`` of piece ``rank`` of ``n`` items cut into ``size`` contiguous pieces.

    Pieces differ in length by at most one; some are empty when ``n < size``.

    >>> [share(5, r, 2) for r in range(2)], share(1, 0, 2)
    ([(0, 2), (2, 5)], (0, 0))
    """
    return rank * n // size, (rank + 1) * n // size


def agreed_rng(rng, comm):
    """The same generator on every rank: a seed drawn by rank 0 when ``rng`` is None, else ``rng``
    itself after checking that every rank's is in the same state."""
    if rng is None:
        seed = np.random.SeedSequence().entropy if comm.Get_rank() == 0 else None
        return np.random.default_rng(comm.bcast(seed, root=0))
    generator = np.random.default_rng(rng) if not isinstance(rng, np.random.Generator) else rng
    state = hashlib.sha256(repr(generator.bit_generator.state).encode()).hexdigest()
    if len(set(comm.allgather(state))) > 1:
        raise ValueError("ShardedLoader: the ranks' random generators differ, so their shuffled "
                         "orders would overlap; give every rank the same seed")
    return generator


class ShardedLoader(DataLoader):
    """This rank's share of each batch of ``DataLoader(data, batchsize, shuffle, partial, rng)``.

    ``batchsize`` is the global batch. Every epoch all ranks draw the same shuffled order;
    each batch is the one `DataLoader` would give, cut into ``size`` contiguous pieces whose
    lengths differ by at most one, and rank ``r`` gets piece ``r``. The pieces of a batch are
    disjoint and together are the whole batch, so training on them with :func:`train` takes the
    same steps as one process training on the batches of `DataLoader`. Every rank yields
    ``len(loader)`` batches; a piece of a last batch smaller than the number of ranks can be
    empty, which :func:`train` allows for.

    ``rank`` and ``size`` default to the world communicator's; then construct the loader on
    every rank, since it checks that their ``rng`` agree (or, for ``rng=None``, agrees on a
    seed drawn by rank 0).

    >>> import numpy as np
    >>> X = np.arange(10)
    >>> [b.tolist() for b in ShardedLoader(X, batchsize=4, rank=1, size=2)]
    [[2, 3], [6, 7], [9]]
    >>> [b.tolist() for b in ShardedLoader(X, batchsize=4, rank=0, size=2)]
    [[0, 1], [4, 5], [8]]
    """

    def __init__(self, data, batchsize=1, shuffle=False, partial=True, rng=None, *,
                 rank=None, size=None):
        if (rank is None) != (size is None):
            raise ValueError("ShardedLoader: give both rank and size, or neither")
        if rank is None:
            rank, size = 0, 1
            if launched():
                comm = world()
                rank, size = comm.Get_rank(), comm.Get_size()
                if size > 1:
                    rng = agreed_rng(rng, comm)
        if not 0 <= rank < size:
            raise ValueError(f"ShardedLoader: rank {rank} is not in 0..{size - 1}")
        super().__init__(data, batchsize, shuffle, partial, rng)
        self.rank, self.size = rank, size

    def rows(self, order, index):
        rows = super().rows(order, index)
        if isinstance(rows, slice):
            lo, hi = share(rows.stop - rows.start, self.rank, self.size)
            return slice(rows.start + lo, rows.start + hi)
        lo, hi = share(len(rows), self.rank, self.size)
        return rows[lo:hi]

    def __repr__(self):
        return (f"ShardedLoader({self.nobs} observations, batchsize={self.batchsize}, "
                f"shuffle={self.shuffle}, partial={self.partial}, rank={self.rank}, "
                f"size={self.size})")


# -- parameters --------------------------------------------------------------------------------


def arrays_of(tree, kinds=is_parameter):
    """The distinct arrays in ``tree`` accepted by ``kinds``, in walking order (the same on
    every rank): a model, a ``zygote.Params``, an optimiser or its state, or one array."""
    if isinstance(tree, zygote.Params):
        return [x for x in tree if kinds(x)]
    unique = {}
    for _, x in walk(tree, (), False, frozenset()):
        if kinds(x):
            unique.setdefault(id(x), x)
    return list(unique.values())


def broadcast(tree, root=0, comm=None):
    """Copy rank ``root``'s float arrays of ``tree`` into every rank's, in place; returns ``tree``.

    All arrays travel in one buffer, one ``Bcast``. Call it once before training, on every
    rank, so that all start from the same parameters whatever their seeds. Non-trainable
    float arrays (running statistics) are copied too.

    >>> import numpy as np
    >>> broadcast(np.ones(2)).tolist()      # a single process: nothing to copy
    [1.0, 1.0]
    """
    if comm is None and not launched():
        return tree
    comm = comm if comm is not None else world()
    arrays = arrays_of(tree)
    if comm.Get_size() == 1 or not arrays:
        return tree
    dtype = np.result_type(*arrays)
    if comm.Get_rank() == root:
        buffer = np.concatenate([x.ravel() for x in arrays]).astype(dtype, copy=False)
    else:
        buffer = np.empty(sum(x.size for x in arrays), dtype)
    comm.Bcast(buffer, root=root)
    offset = 0
    for x in arrays:
        np.copyto(x, buffer[offset:offset + x.size].reshape(x.shape), casting="same_kind")
        offset += x.size
    return tree


def digest(tree):
    """A hash of every array in ``tree``: shapes, dtypes and bytes."""
    hashed = hashlib.blake2b(digest_size=16)
    for x in arrays_of(tree, kinds=lambda x: isinstance(x, np.ndarray)):
        hashed.update(f"{x.shape}{x.dtype}".encode())
        hashed.update(np.ascontiguousarray(x).tobytes())
    return hashed.hexdigest()


def synchronised(tree, comm=None):
    """Whether every rank holds bit-identical arrays in ``tree`` (a model, an optimiser, a state).

    A collective: call it on every rank.

    >>> import numpy as np
    >>> synchronised([np.zeros(3)])
    True
    """
    if comm is None and not launched():
        return True
    comm = comm if comm is not None else world()
    return len(set(comm.allgather(digest(tree)))) == 1


# -- gradients ---------------------------------------------------------------------------------


class GradientAverager:
    """Replaces each rank's gradient by the mean over all ranks' samples: one ``Allreduce`` a step.

    A rank with ``n`` samples whose mean loss is ``L`` has gradient ``g``; over all ranks
    the batch's mean gradient is ``Σ n g / Σ n``, exact for shares of unequal size. One
    preallocated buffer in the parameters' dtype holds, in order, every ``n g / N`` with
    ``N`` the last step's ``Σ n``, a flag per parameter for "has a gradient", ``n L``, ``n``
    and a stop request; it is summed across ranks in place, and only when this step's
    ``Σ n`` differs from ``N`` (the first step, an epoch's last batch) are the gradients
    rescaled. The averaged gradients are views into the buffer, valid until the next step.
    A parameter that no rank has a gradient for stays ``None``, as it would for one process.

    ``ps`` is a ``zygote.Params`` (gradients are ``zygote.Grads``) or a model (gradients are
    its nested gradient, averaged per path, so tied arrays behave as in ``flux.update``).
    ``seconds`` and ``steps`` count the time spent in ``Allreduce`` and the calls. Without
    ``comm`` there is one process and no MPI: the buffer is only scaled.
    """

    def __init__(self, ps, comm=None):
        self.ps, self.comm = ps, comm
        self.explicit = not isinstance(ps, zygote.Params)
        if self.explicit:
            self.slots = parameter_paths(ps)
        else:
            self.slots = [(None, x) for x in ps]
        dtype = np.result_type(*[x for _, x in self.slots]) if self.slots else np.float32
        total = sum(x.size for _, x in self.slots)
        self.buffer = np.zeros(total + len(self.slots) + 3, dtype)
        self.views, offset = [], 0
        for _, x in self.slots:
            self.views.append(self.buffer[offset:offset + x.size].reshape(x.shape))
            offset += x.size
        self.gradients = self.buffer[:total]
        self.present = self.buffer[total:total + len(self.slots)]
        self.tail = self.buffer[total + len(self.slots):]   # n L, n, stop
        self.seconds, self.steps = 0.0, 0
        self.expected = None    # the last step's total number of samples
        if comm is not None:
            MPI = load_mpi()
            self.in_place, self.sum = MPI.IN_PLACE, MPI.SUM

    def local(self, grads, index):
        """This rank's gradient of slot ``index``, or None."""
        path, x = self.slots[index]
        if grads is None:
            return None
        return lookup(grads, path) if self.explicit else grads[x]

    def average(self, value, grads, count, stop=False):
        """Mean ``(loss, gradients, samples, stop)`` over all ranks, from this rank's mean ``value``
        and ``grads`` over ``count`` samples (``grads`` None when it had none); ``stop`` is true
        on every rank when any rank asked."""
        # Weighting by count / (the last step's total) makes the sum the mean already when
        # this step's total is the same, as it is for every batch but an epoch's last.
        weight = count / self.expected if self.expected else count
        for index, view in enumerate(self.views):
            dx = self.local(grads, index) if count else None
            if dx is None:
                view.fill(0)
                self.present[index] = 0
            else:
                x = self.slots[index][1]
                if np.shape(dx) != x.shape:
                    raise ValueError(f"gradient of shape {np.shape(dx)} for a parameter of "
                                     f"shape {x.shape}")
                np.multiply(dx, weight, out=view)
                self.present[index] = 1
        self.tail[:] = (count * float(value) if count else 0.0), count, bool(stop)
        if self.comm is not None:
            start = time.perf_counter()
            self.comm.Allreduce(self.in_place, self.buffer, op=self.sum)
            self.seconds += time.perf_counter() - start
        self.steps += 1
        loss_sum, total, stops = (float(v) for v in self.tail)
        if total == 0:
            return None, None, 0, stops > 0
        if total != self.expected:
            self.gradients *= (self.expected or 1) / total
            self.expected = total
        return loss_sum / total, self.rebuild(), int(total), stops > 0

    @property
    def complete(self):
        """Whether every parameter had a gradient (on some rank) at the last step."""
        return bool(self.present.all())

    def rebuild(self):
        """The averaged gradients in the form ``flux.update`` takes for these parameters."""
        if not self.explicit:
            return zygote.Grads(self.ps, {id(x): view for (_, x), view, present
                                          in zip(self.slots, self.views, self.present) if present})
        tree = {}
        for (path, _), view, present in zip(self.slots, self.views, self.present):
            if present:
                node = tree
                for key in path[:-1]:
                    node = node.setdefault(key, {})
                node[path[-1]] = view
        return tree


def lays_out(averager, fused):
    """Whether the averager's buffer holds the gradients in the fused step's order and dtype."""
    return ([id(x) for _, x in averager.slots] == [id(x) for x in fused.params]
            and averager.gradients.dtype == fused.params[0].dtype)


def batch_length(args):
    """The number of samples in a batch given as loss arguments (the first array's length)."""
    first = args[0] if args else None
    if isinstance(first, dict):
        first = next(iter(first.values()), None)
    return int(np.shape(first)[0]) if np.ndim(first) else 1


def train(loss, ps, data, opt, cb=None, *, progress=None, comm=None, stats=None):
    """`flux.train` across ranks: one pass over this rank's ``data``, averaging gradients each step.

    The loop on each rank is::

        for batch in data:                       # this rank's share of a global batch
            value, gs = zygote.withgradient(lambda: loss(*batch), ps)
            value, gs = averager.average(value, gs, len(batch[0]))   # one Allreduce
            flux.update(opt, ps, gs)
            if cb: cb()

    Arguments are those of `flux.train` (implicit or explicit style). ``data`` must yield
    the same number of batches on every rank, as :class:`ShardedLoader` does; the loss must
    be a mean over its batch (the losses' default ``agg``), so that weighting each rank by
    its samples gives the mean over the global batch. Every rank gets the same averaged
    gradient, so with the same starting parameters (:func:`broadcast`) parameters and
    optimiser state stay identical. Returns the mean loss over the global batches, the same
    on every rank.

    Only rank 0 shows a progress bar; ``cb`` runs on every rank (wrap it in
    :func:`root_only` to print). A non-finite loss on any rank raises `NonFiniteLossError`
    on all, and Ctrl-C on any rank stops all after the same update. Any other exception on
    a rank is printed as "rank N failed" and aborts every rank, since the others would wait
    for it forever. ``stats``, a dict, accumulates ``steps``, ``samples`` (global) and
    ``allreduce_seconds``. ``comm`` defaults to the world communicator; in a process that
    mpiexec did not start there is no MPI at all, one rank, and the same steps as
    `flux.train`, so a script can be tried out alone first.

    >>> import numpy as np, flux
    >>> model = flux.Dense(1, 1, init=flux.zeros32)
    >>> x = np.ones((4, 1), np.float32); y = 2 * x
    >>> loader = ShardedLoader((x, y), batchsize=2)
    >>> for _ in range(50):
    ...     _ = train(lambda x, y: flux.mse(model(x), y), flux.params(model), loader,
    ...               flux.Descent(0.1))
    >>> np.round(model(x[:1]), 3)
    array([[2.]], dtype=float32)
    """
    if comm is None and launched():
        comm = world()
    explicit = not isinstance(ps, zygote.Params)
    if explicit and isinstance(opt, Optimiser):
        raise TypeError("explicit-style train(loss, model, data, opt) needs the optimiser state "
                        "from flux.setup(opt, model), not the optimiser itself")
    averager = GradientAverager(ps, comm)
    fused = Fused.of(opt, ps)
    if fused is not None and not lays_out(averager, fused):
        fused = None
    several = comm is not None and comm.Get_size() > 1
    total, count, samples = 0.0, 0, 0
    root = comm is None or comm.Get_rank() == 0
    batches = progress_bar(data, progress if root else False, leave=False, desc="train", unit="batch")
    previous_mode = layers.TRAINING["active"]
    layers.TRAINING["active"] = True
    agreed = None   # an exception every rank raises at the same step: no need to abort
    try:
        with DeferredInterrupt() as interrupt:
            for index, batch in enumerate(batches):
                args = as_arguments(batch)
                n = batch_length(args)
                # The last step's gradients are released only once this step's exist, as in
                # flux.train: released earlier, their memory goes back to the system and
                # every step pays page faults to get it back (the MNIST MLP ran a third slower).
                if n:
                    objective = objective_for(loss, args, explicit)
                    value, local = zygote.withgradient(objective, ps)
                    if explicit:
                        (local,) = local
                else:
                    value, local = 0.0, None
                value, grads, n, stop = averager.average(value, local, n, interrupt.pending)
                if n:
                    try:
                        check_finite(value, index)
                    except FloatingPointError as error:
                        agreed = error
                        raise
                    # The averaged gradients already lie end to end in the averager's buffer.
                    if not (fused is not None and averager.complete
                            and fused.step(averager.gradients)):
                        update(opt, ps, grads)
                    total, count, samples = total + value, count + 1, samples + n
                    batches.set_postfix(loss=f"{value:.4g}", refresh=False)
                if cb is not None:
                    cb()
                if stop:
                    agreed = KeyboardInterrupt(f"training interrupted after the update of "
                                               f"batch {index}")
                    raise agreed
    except BaseException as error:
        if several and error is not agreed:
            abort(comm, error)
        raise
    finally:
        layers.TRAINING["active"] = previous_mode
        batches.close()
        if stats is not None:
            stats["steps"] = stats.get("steps", 0) + averager.steps
            stats["samples"] = stats.get("samples", 0) + samples
            stats["allreduce_seconds"] = stats.get("allreduce_seconds", 0.0) + averager.seconds
    return total / count if count else None
