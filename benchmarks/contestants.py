"""One benchmark row's contestants: the same gradient prepared in each framework, checked, then timed.

A *builder* prepares a contestant (imports the peer, converts the inputs, builds the
gradient function) and returns a zero-argument callable that computes the gradient. A
builder may raise `Missing` or `NotAvailable`; any other failure is reported as a failed
cell. Before timing, every gradient is compared with the hand-written one, so a framework
that computes something else is reported as wrong instead of fast.
"""

from dataclasses import dataclass, field

import numpy as np

from . import functions, hand, peers
from .harness import Measurement, Skipped, compare, ratio, skipped_from

OURS = "zygote"
# Column order of every timing table.
COLUMNS = ("function", "hand-written", "zygote", "tangent", "autograd", "jax", "jax.jit", "torch")
UNCHECKED = ("function",)


@dataclass
class Row:
    """One benchmark: a cell per contestant, and our ratio to each of the others."""

    label: str
    cells: dict
    notes: list = field(default_factory=list)

    def ratios(self, ours=OURS):
        mine = self.cells.get(ours)
        return {name: ratio(mine, cell) for name, cell in self.cells.items() if name != ours}


def measure_row(label, builders, settings, reference=None, rtol=1e-6):
    """Build, check against ``reference`` and time every contestant of one row."""
    cells, contestants = {}, {}
    for name, build in builders.items():
        try:
            fn = build()
            if reference is not None and name not in UNCHECKED:
                problem = disagreement(fn(), reference, rtol)
                if problem:
                    cells[name] = Skipped("wrong", problem)
                    continue
            contestants[name] = fn
        except Exception as error:  # noqa: BLE001 -- a failing contestant is a cell
            cells[name] = skipped_from(error)
    cells.update(compare(contestants, settings))
    return Row(label, {name: cells[name] for name in builders})


def flatten(value):
    """A gradient (number, array, tensor, or nested tuple of them) as a list of float arrays."""
    if isinstance(value, (tuple, list)):
        return [part for item in value for part in flatten(item)]
    if hasattr(value, "detach"):  # torch
        value = value.detach().cpu().numpy()
    return [np.asarray(value, dtype=np.float64)]


def disagreement(got, want, rtol):
    """Why ``got`` differs from the reference gradient ``want``, or None when they agree."""
    got, want = flatten(got), flatten(want)
    if len(got) != len(want):
        return f"{len(got)} gradients, expected {len(want)}"
    for index, (a, b) in enumerate(zip(got, want)):
        if a.shape != b.shape and a.size != b.size:
            return f"gradient {index} has shape {a.shape}, expected {b.shape}"
        scale = max(1.0, float(np.max(np.abs(b)))) if b.size else 1.0
        error = float(np.max(np.abs(a.reshape(b.shape) - b))) if b.size else 0.0
        if not error <= rtol * scale:
            return f"gradient {index} differs from the hand-written one by {error:.2g}"
    return None


# -- builders --------------------------------------------------------------------------------


def gradient_builders(name, args, wrt=None, maths="math", zygote=None, hand_name=None):
    """Builders for the gradient of ``functions.<name>`` in ``args[i] for i in wrt``.

    ``maths`` is what zygote and the function's own call use (``math`` or ``numpy``);
    ``zygote`` optionally replaces ``(function, args)`` for zygote, e.g. a closure over
    the arguments it does not differentiate. The hand-written gradient is
    ``hand.<hand_name>``, by default ``hand.<name>_grad``.
    """
    wrt = tuple(range(len(args))) if wrt is None else tuple(wrt)
    ours = functions.copy(maths)

    def function():
        f = getattr(ours, name)
        return lambda: f(*args)

    def hand_written():
        g = getattr(hand, hand_name or f"{name}_grad")
        return lambda: g(*args)[1]

    def zygote_gradient():
        import zygote as zg
        if zygote is not None:
            f, zargs = zygote
            return lambda: zg.gradient(f, *zargs)
        f = getattr(ours, name)
        if len(wrt) == len(args):
            return lambda: zg.gradient(f, *args)
        return lambda: [g for i, g in enumerate(zg.gradient(f, *args)) if i in wrt]

    return {
        "function": function,
        "hand-written": hand_written,
        "zygote": zygote_gradient,
        "tangent": lambda: tangent_gradient(name, args, wrt),
        "autograd": lambda: autograd_gradient(name, args, wrt),
        "jax": lambda: jax_gradient(name, args, wrt, jit=False),
        "jax.jit": lambda: jax_gradient(name, args, wrt, jit=True),
        "torch": lambda: torch_gradient(name, args, wrt),
    }


def tangent_gradient(name, args, wrt):
    tangent = peers.load("tangent")
    df = tangent.grad(getattr(functions.copy("tangent"), name), wrt=wrt)
    return lambda: df(*args)


def autograd_gradient(name, args, wrt):
    autograd = peers.load("autograd")
    f = getattr(functions.copy("autograd"), name)
    if len(wrt) == 1:
        g = autograd.grad(f, wrt[0])
        return lambda: g(*args)
    # autograd differentiates one argument: pack the differentiated ones in a tuple
    active = tuple(args[i] for i in wrt)

    def packed(values):
        full = list(args)
        for i, value in zip(wrt, values):
            full[i] = value
        return f(*full)
    g = autograd.grad(packed)
    return lambda: g(active)


def jax_arguments(args):
    jnp = peers.maths("jax")
    return [jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args]


def jax_gradient(name, args, wrt, jit):
    jax = peers.load("jax")
    f = getattr(functions.copy("jax"), name)
    g = jax.grad(f, argnums=wrt if len(wrt) > 1 else wrt[0])
    if jit:
        static = tuple(i for i, a in enumerate(args) if isinstance(a, int))
        g = jax.jit(g, static_argnums=static)
    jargs = jax_arguments(args)
    return lambda: jax.block_until_ready(g(*jargs))


def torch_arguments(args, wrt):
    torch = peers.load("torch")
    converted = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            a = torch.from_numpy(a)
        elif isinstance(a, float):
            a = torch.tensor(a, dtype=torch.float64)
        if i in wrt:
            a = a.detach().clone().requires_grad_(True)
        converted.append(a)
    return converted


def torch_gradient(name, args, wrt):
    torch = peers.load("torch")
    f = getattr(functions.copy("torch"), name)
    targs = torch_arguments(args, wrt)
    leaves = [targs[i] for i in wrt]
    return lambda: torch.autograd.grad(f(*targs), leaves)


def cell_seconds(cell):
    """The median seconds of a cell, or None."""
    return cell.median if isinstance(cell, Measurement) else None
