"""The training loop `train`, with its companions `epochs` and `throttle`.

``train(loss, params(model), data, opt)`` is shorthand for::

    for i, batch in enumerate(data):
        gs = zygote.gradient(lambda: loss(*batch), ps)
        flux.update(opt, ps, gs)
        if cb: cb()

plus four conveniences: a progress bar when a pass takes more than a second, a guard that
stops on a non-finite loss before it reaches the parameters, dropout switched on, and a
Ctrl-C that waits for the current batch's update to finish and then raises
``KeyboardInterrupt`` (press twice to stop at once).
"""

import logging
import math
import signal
import threading
import time

import zygote

from . import layers
from .optimise import Fused, Optimiser, update
from .progress import progress_bar

__all__ = ["train", "epochs", "throttle", "NonFiniteLossError"]

logger = logging.getLogger("flux")


class NonFiniteLossError(FloatingPointError):
    """The loss (or a gradient) became NaN or infinite during `train`."""


def epochs(n):
    """Iterate over ``1, ..., n``, logging ``Epoch i`` to the ``flux`` logger at INFO level.

    >>> list(epochs(3))
    [1, 2, 3]
    """
    for epoch in range(1, n + 1):
        logger.info("Epoch %d", epoch)
        yield epoch


class throttle:
    """Wrap ``f`` so that it runs at most once every ``seconds``; other calls return ``None``.

    The first call runs at once. ``clock`` (default ``time.monotonic``) is for tests.

    >>> calls = []
    >>> note = throttle(calls.append, 10)
    >>> note(1); note(2)
    >>> calls
    [1]
    """

    def __init__(self, f, seconds, *, clock=time.monotonic):
        self.f, self.seconds, self.clock = f, seconds, clock
        self.last = -math.inf

    def __call__(self, *args, **kwargs):
        now = self.clock()
        if now - self.last < self.seconds:
            return None
        self.last = now
        return self.f(*args, **kwargs)


class DeferredInterrupt:
    """Context manager that turns the first SIGINT into a flag checked between batches."""

    def __init__(self):
        self.pending = False
        self.installed = False
        self.previous = signal.default_int_handler

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, self.handle)
            if previous is not None:  # None: a handler installed outside Python
                self.previous = previous
            self.installed = True
        return self

    def handle(self, signum, frame):
        self.pending = True
        signal.signal(signal.SIGINT, self.previous)  # a second Ctrl-C interrupts at once

    def __exit__(self, *exc):
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)


def as_arguments(batch):
    """A batch as a tuple of loss arguments: tuples and lists spread, anything else is one."""
    if isinstance(batch, (tuple, list)):
        return tuple(batch)
    return (batch,)


def objective_for(loss, args, explicit):
    """The closure zygote differentiates: ``loss(*args)``, or ``loss(m, *args)`` for a model ``m``.

    Batches of up to three arrays are passed one by one: through a starred call zygote's
    activity analysis loses track of the data being constant and differentiates with respect
    to it too (for an MLP, a wasted matmul and a gradient the size of the batch).
    """
    if explicit:
        if len(args) == 1:
            (a,) = args
            return lambda m: loss(m, a)
        if len(args) == 2:
            a, b = args
            return lambda m: loss(m, a, b)
        if len(args) == 3:
            a, b, c = args
            return lambda m: loss(m, a, b, c)
        return lambda m: loss(m, *args)
    if len(args) == 1:
        (a,) = args
        return lambda: loss(a)
    if len(args) == 2:
        a, b = args
        return lambda: loss(a, b)
    if len(args) == 3:
        a, b, c = args
        return lambda: loss(a, b, c)
    return lambda: loss(*args)


def stepper(opt, model):
    """``update(opt, model, grads)`` as a function of ``grads``, fused where the optimiser allows
    (one call of each numpy operation for all parameters, see `flux.Fused`)."""
    fused = Fused.of(opt, model)
    if fused is not None:
        return fused.update
    return lambda grads: update(opt, model, grads)


def check_finite(value, index):
    """Raise `NonFiniteLossError` naming batch ``index`` if the loss is NaN or infinite."""
    if not math.isfinite(float(value)):
        raise NonFiniteLossError(f"loss is {float(value)} on batch {index}; training stopped "
                                 f"before that batch's update")


def train(loss, ps, data, opt, cb=None, *, progress=None):
    """One pass over ``data``, updating the parameters after every batch; returns the mean loss.

    Implicit style: ``ps = params(model)``, ``loss(*batch)`` closes over the model, ``opt``
    an optimiser. Explicit style: ``ps`` is the model itself, ``loss(model, *batch)``, and
    ``opt`` the state from ``flux.setup(optimiser, model)``. A batch that is a tuple or list
    is spread into the loss's arguments.

    ``cb()`` runs after each update (wrap it in :class:`throttle` to slow it down).
    ``progress`` shows a tqdm bar: ``None`` on a terminal once a pass lasts over a second
    (never in a log file), or ``True``/``False`` always/never.
    A NaN or infinite loss raises `NonFiniteLossError` with the batch index, before that
    batch's update. On Ctrl-C the current batch is finished (update included) and then
    ``KeyboardInterrupt`` is raised, so the parameters are never half-updated. The mean loss
    is ``None`` when ``data`` is empty.

    >>> import numpy as np, flux
    >>> model = flux.Dense(1, 1, init=flux.zeros32)
    >>> x = np.ones((4, 1), np.float32); y = 2 * x
    >>> for _ in range(50):
    ...     _ = flux.train(lambda x, y: flux.mse(model(x), y), flux.params(model),
    ...                    [(x, y)], flux.Descent(0.1))
    >>> np.round(model(x[:1]), 3)
    array([[2.]], dtype=float32)
    """
    explicit = not isinstance(ps, zygote.Params)
    if explicit and isinstance(opt, Optimiser):
        raise TypeError("explicit-style train(loss, model, data, opt) needs the optimiser state "
                        "from flux.setup(opt, model), not the optimiser itself")
    total, count = 0.0, 0
    step = stepper(opt, ps)
    batches = progress_bar(data, progress, leave=False, desc="train", unit="batch")
    previous_mode = layers.TRAINING["active"]
    layers.TRAINING["active"] = True
    try:
        with DeferredInterrupt() as interrupt:
            for index, batch in enumerate(batches):
                objective = objective_for(loss, as_arguments(batch), explicit)
                if explicit:
                    value, (grads,) = zygote.withgradient(objective, ps)
                else:
                    value, grads = zygote.withgradient(objective, ps)
                check_finite(value, index)
                step(grads)
                total, count = total + float(value), count + 1
                batches.set_postfix(loss=f"{float(value):.4g}", refresh=False)
                if cb is not None:
                    cb()
                if interrupt.pending:
                    raise KeyboardInterrupt(f"training interrupted after the update of "
                                            f"batch {index}")
    finally:
        layers.TRAINING["active"] = previous_mode
        batches.close()
    return total / count if count else None
