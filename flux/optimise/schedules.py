"""Learning-rate schedules: a value for each step or epoch ``t``, fed to the optimiser by `adjust`.

A schedule is a callable ``schedule(t) -> value`` with ``t = 0, 1, 2, ...``; nothing runs it
for you, so it steps per batch or per epoch as the loop says:

>>> import numpy as np
>>> from flux import Adam, Dense, adjust, setup
>>> model = Dense(2, 1, rng=0)
>>> state, schedule = setup(Adam(), model), Exp(0.01, 0.5)
>>> for epoch in range(3):
...     _ = adjust(state, eta=schedule(epoch))   # then train one epoch
>>> state["weight"].rule.eta
0.0025
"""

import math

__all__ = ["Step", "Exp", "CosAnneal"]


class Schedule:
    """Base class: a repr in constructor form from the attributes named in ``fields``."""

    fields = ()

    def __call__(self, t):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.fields) + ")"


def checked_step(t):
    """``t`` as an int, or a ``ValueError``: schedules count whole steps from 0."""
    if isinstance(t, bool) or int(t) != t or t < 0:
        raise ValueError(f"a schedule is called with a step count 0, 1, 2, ...; got {t!r}")
    return int(t)


class Step(Schedule):
    """Multiply by ``decay`` every ``step`` steps: ``start · decay^⌊t / step⌋``.

    >>> [Step(1.0, 0.5, 2)(t) for t in range(5)]
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    fields = ("start", "decay", "step")

    def __init__(self, start, decay, step):
        if int(step) != step or step < 1:
            raise ValueError(f"Step: step must be a whole number of steps, at least 1; got {step!r}")
        self.start, self.decay, self.step = start, decay, int(step)

    def __call__(self, t):
        return self.start * self.decay ** (checked_step(t) // self.step)


class Exp(Schedule):
    """Multiply by ``decay`` every step: ``start · decayᵗ``.

    >>> [Exp(1.0, 0.5)(t) for t in range(4)]
    [1.0, 0.5, 0.25, 0.125]
    """

    fields = ("start", "decay")

    def __init__(self, start, decay):
        self.start, self.decay = start, decay

    def __call__(self, t):
        return self.start * self.decay ** checked_step(t)


class CosAnneal(Schedule):
    """A linear warm-up to ``start``, then half a cosine from ``start`` down to ``stop``.

    For ``t < warmup`` the value is ``start · (t + 1) / warmup``; after it, with
    ``u = min(t - warmup, period) / period``, it is ``stop + (start - stop)(1 + cos πu) / 2``,
    which stays at ``stop`` once the ``period`` steps are over.

    >>> schedule = CosAnneal(1.0, 0.0, 4, warmup=2)
    >>> [round(schedule(t), 4) for t in range(8)]
    [0.5, 1.0, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    fields = ("start", "stop", "period", "warmup")

    def __init__(self, start, stop, period, *, warmup=0):
        if int(period) != period or period < 1:
            raise ValueError(f"CosAnneal: period must be a whole number of steps, at least 1; "
                             f"got {period!r}")
        if int(warmup) != warmup or warmup < 0:
            raise ValueError(f"CosAnneal: warmup must be a whole number of steps; got {warmup!r}")
        self.start, self.stop, self.period, self.warmup = start, stop, int(period), int(warmup)

    def __call__(self, t):
        t = checked_step(t)
        if t < self.warmup:
            return self.start * (t + 1) / self.warmup
        u = min(t - self.warmup, self.period) / self.period
        return self.stop + (self.start - self.stop) * (1 + math.cos(math.pi * u)) / 2
