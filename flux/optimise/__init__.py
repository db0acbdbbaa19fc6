"""Optimisers: the rules that turn a gradient into a step, and `setup`/`update` that apply them.

An optimiser is a pair ``init(x) -> state`` and ``apply(state, x, dx) -> (state, step)``;
`update` subtracts the step in place, ``x -= step``. Two styles keep the state:

* implicit: ``update(opt, params(model), grads)`` with ``grads`` a ``zygote.Grads``; the
  optimiser keeps one state per parameter array (by identity);
* explicit: ``state = setup(opt, model)`` builds a tree of `Leaf` shaped like the model,
  and ``update(state, model, grads)`` takes the nested gradient of
  ``zygote.gradient(lambda m: loss(m(x), y), model)[0]``.

>>> import numpy as np
>>> from flux.optimise import Descent, update
>>> x = np.array([1.0, 2.0])
>>> update(Descent(0.5), x, np.array([1.0, 1.0])); x
array([0.5, 1.5])
"""

from .rules import (ADAM, Adam, AdamW, Descent, Fused, Leaf, Momentum, Nesterov, Optimiser, RMSProp,
                    setup, update)

__all__ = ["Optimiser", "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "ADAM", "AdamW",
           "Leaf", "setup", "update", "Fused"]
