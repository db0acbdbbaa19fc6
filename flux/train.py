"""The training loop `train`, with its companions `epochs` and `throttle`.

``train(loss, params(model), data, opt)`` is shorthand for::

    for i, batch in enumerate(data):
        value, gs = zygote.withgradient(lambda: loss(*batch), ps)
        value, gs = reducer.reduce(value, gs, ...)   # as they are, or averaged over processes
        flux.update(opt, ps, gs)
        if cb: cb()

plus four conveniences: a progress bar when a pass takes more than a second, a guard that
stops on a non-finite loss before it reaches the parameters, dropout switched on, and a
Ctrl-C that waits for the current batch's update to finish and then raises
``KeyboardInterrupt`` (press twice to stop at once). The gradient reducer is the loop's one
pluggable part: a process training alone uses `Reducer`, which changes nothing, and
data-parallel training (`flux.distributed.train`) is this loop with a reducer that averages
over all processes.
"""

import logging
import math
import signal
import threading
import time

import zygote

from .layers import training
from .optimise import Fused, Optimiser, update
from .progress import progress_bar

__all__ = ["train", "epochs", "throttle", "NonFiniteLossError", "Reducer"]

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


def gradient_of(loss, ps, args, explicit):
    """``(loss value, gradient)`` of one batch: of ``loss(*args)`` with respect to ``ps``, or of
    ``loss(model, *args)`` with respect to the model ``ps``."""
    value, grads = zygote.withgradient(objective_for(loss, args, explicit), ps)
    if explicit:
        (grads,) = grads
    return value, grads


def objective_for(loss, args, explicit):
    """The closure zygote differentiates: ``loss(*args)``, or ``loss(m, *args)`` for a model ``m``."""
    if explicit:
        return lambda m: loss(m, *args)
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


def check_style(ps, opt):
    """Whether `train` runs in the explicit style (``ps`` a model), once ``opt`` is seen to fit."""
    explicit = not isinstance(ps, zygote.Params)
    if explicit and isinstance(opt, Optimiser):
        raise TypeError("explicit-style train(loss, model, data, opt) needs the optimiser state "
                        "from flux.setup(opt, model), not the optimiser itself")
    return explicit


class Reducer:
    """What `train` does to each batch's loss and gradient before the step: here, nothing.

    The reducer is the loop's pluggable part; this one, the default, serves a process that
    trains alone. One for several processes (`flux.distributed.Allreduce`) overrides:

    * ``start(opt, ps)``, called once before the first batch: the function of the reduced
      gradients that steps the parameters;
    * ``samples(args)``: a batch's weight in a mean over processes, its number of samples;
      0 means this process has no share of the batch and computes no gradient;
    * ``reduce(value, grads, count, stop)``: this process's loss, gradient (None without a
      share), weight and Ctrl-C request, turned into those the step uses; a total ``count``
      of 0 skips the step, and a true ``stop`` ends the loop after it;
    * ``collective``: True where the processes must agree to stop, so that a Ctrl-C reaches
      the loop only through ``reduce``; ``leader``: whether this process shows the progress
      bar;
    * ``abandon(error)``: called when ``error``, which not every process raises, ends the loop.

    >>> import numpy as np
    >>> Reducer().reduce(0.5, {"weight": np.ones(2)}, 1, False)
    (0.5, {'weight': array([1., 1.])}, 1, False)
    """

    collective = False
    leader = True

    def start(self, opt, ps):
        """The step: `update`, fused where it can be."""
        return stepper(opt, ps)

    def samples(self, args):
        """1: alone, a batch's size does not matter."""
        return 1

    def reduce(self, value, grads, count, stop):
        """The arguments, unchanged."""
        return value, grads, count, stop

    def abandon(self, error):
        """Nothing: no other process waits for this one."""


def train(loss, ps, data, opt, cb=None, *, progress=None, reducer=None):
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
    is ``None`` when ``data`` is empty. ``reducer`` acts on each batch's loss and gradient
    before the step (see `Reducer`; the default changes nothing).

    >>> import numpy as np, flux
    >>> model = flux.Dense(1, 1, init=flux.zeros32)
    >>> x = np.ones((4, 1), np.float32); y = 2 * x
    >>> for _ in range(50):
    ...     _ = flux.train(lambda x, y: flux.mse(model(x), y), flux.params(model),
    ...                    [(x, y)], flux.Descent(0.1))
    >>> np.round(model(x[:1]), 3)
    array([[2.]], dtype=float32)
    """
    explicit = check_style(ps, opt)
    reducer = Reducer() if reducer is None else reducer
    step = reducer.start(opt, ps)
    total, steps = 0.0, 0
    batches = progress_bar(data, progress if reducer.leader else False, leave=False, desc="train",
                           unit="batch")
    agreed = None   # an exception that every process raises at the same step
    try:
        with training(), DeferredInterrupt() as interrupt:
            for index, batch in enumerate(batches):
                args = as_arguments(batch)
                count = reducer.samples(args)
                # The last step's gradients are released only once this step's exist:
                # released earlier, their memory goes back to the system and every step pays
                # page faults to get it back (the MNIST MLP ran a third slower).
                if count:
                    value, local = gradient_of(loss, ps, args, explicit)
                else:
                    value, local = 0.0, None
                value, grads, count, stop = reducer.reduce(value, local, count,
                                                           interrupt.pending)
                if count:
                    try:
                        check_finite(value, index)
                    except NonFiniteLossError as error:
                        agreed = error
                        raise
                    step(grads)
                    total, steps = total + float(value), steps + 1
                    batches.set_postfix(loss=f"{float(value):.4g}", refresh=False)
                if cb is not None:
                    cb()
                if stop or (interrupt.pending and not reducer.collective):
                    agreed = KeyboardInterrupt(f"training interrupted after the update of "
                                               f"batch {index}")
                    raise agreed
    except BaseException as error:
        if error is not agreed:
            reducer.abandon(error)
        raise
    finally:
        batches.close()
    return total / steps if steps else None
