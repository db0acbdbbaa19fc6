"""Callbacks for training loops: `early_stopping` and `plateau`, which watch a score, beside `throttle`.

Each wraps a function ``f`` that returns a score (a validation loss, say) and is itself
called once per epoch or step; it returns ``True`` when the loop should stop or change
course::

    stop = flux.early_stopping(lambda: loss(X_val, Y_val), 3)
    for epoch in flux.epochs(100):
        flux.train(loss, ps, data, opt)
        if stop():
            break

Scores are compared with ``distance(best, score)``, by default ``best - score``, so a
falling score is an improvement; pass ``distance=lambda best, score: score - best`` for one
that should rise (an accuracy). `throttle` is defined with the training loop and
re-exported here.
"""

import math
import operator

from .train import throttle

__all__ = ["early_stopping", "plateau", "throttle"]


class patience:
    """Count consecutive ``True`` results of ``predicate``; return ``True`` once there are ``wait``.

    >>> trigger = patience(lambda flag: flag, 2)
    >>> [trigger(x) for x in (True, False, True, True, True)]
    [False, False, False, True, True]
    """

    def __init__(self, predicate, wait):
        if int(wait) != wait or wait < 1:
            raise ValueError(f"the number of calls to wait must be a positive integer, "
                             f"got {wait!r}")
        self.predicate, self.wait, self.count = predicate, int(wait), 0

    def __call__(self, *args, **kwargs):
        self.count = self.count + 1 if self.predicate(*args, **kwargs) else 0
        return self.count >= self.wait


class early_stopping(patience):
    """``True`` once ``f()`` has not improved on its best score for ``wait`` calls in a row.

    A call improves when ``distance(best, score) > min_dist``; the best score starts at
    ``init_score`` (``+inf``, so the first finite score always improves). Arguments of a
    call are passed on to ``f``.

    >>> losses = iter([3.0, 2.0, 2.5, 2.1, 1.9, 2.0, 2.0])
    >>> stop = early_stopping(lambda: next(losses), 2)
    >>> [stop() for _ in range(7)]
    [False, False, False, True, False, False, True]
    """

    def __init__(self, f, wait, *, distance=operator.sub, init_score=math.inf, min_dist=0.0):
        self.f, self.distance, self.min_dist = f, distance, min_dist
        self.best = init_score
        super().__init__(self.stalled, wait)

    def stalled(self, *args, **kwargs):
        score = self.f(*args, **kwargs)
        gain = self.distance(self.best, score)
        if gain > 0:
            self.best = score
        return not gain > self.min_dist


class plateau(patience):
    """``True`` once ``f()`` has changed by less than ``min_dist`` on ``wait`` calls in a row.

    Each score is compared with the previous one (the first with ``init_score``, by default
    none, so the first call never counts): ``|distance(previous, score)| < min_dist``. Use it
    to lower a learning rate when the loss levels off.

    >>> losses = iter([1.0, 0.5, 0.4999, 0.49985, 0.3])
    >>> flat = plateau(lambda: next(losses), 2, min_dist=1e-3)
    >>> [flat() for _ in range(5)]
    [False, False, False, True, False]
    """

    def __init__(self, f, wait, *, distance=operator.sub, init_score=None, min_dist=1e-6):
        self.f, self.distance, self.min_dist = f, distance, min_dist
        self.previous = init_score
        super().__init__(self.level, wait)

    def level(self, *args, **kwargs):
        score = self.f(*args, **kwargs)
        previous, self.previous = self.previous, score
        return previous is not None and abs(self.distance(previous, score)) < self.min_dist
