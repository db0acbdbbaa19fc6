"""Optimisers: rules that turn a gradient into a step, `setup`/`update` to apply them, fused steps.

The package reads in these modules: `flux.optimise.rules` (Descent, Momentum, Adam, ...),
`flux.optimise.adaptive` (AdaGrad, RAdam, NAdam, Lion and the other Adam variants),
`flux.optimise.compose` (OptimiserChain, weight decay and gradient clipping),
`flux.optimise.interface` (`setup`, `update`, `Leaf`), `flux.optimise.adjust` (`adjust`,
`freeze`, `thaw` of a state tree), `flux.optimise.schedules` (learning-rate schedules) and
`flux.optimise.fused` (`Fused`, one call of each numpy operation for all parameters).

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

from .adaptive import AMSGrad, AdaBelief, AdaDelta, AdaGrad, AdaMax, Lion, NAdam, OAdam, RAdam
from .adjust import adjust, freeze, thaw
from .compose import ClipGrad, ClipNorm, OptimiserChain, SignDecay, WeightDecay
from .fused import Fused
from .interface import Leaf, setup, update
from .rules import ADAM, Adam, AdamW, Descent, Momentum, Nesterov, Optimiser, RMSProp
from .schedules import CosAnneal, Exp, Step

__all__ = ["Optimiser", "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "ADAM", "AdamW",
           "AdaGrad", "AdaDelta", "AMSGrad", "AdaMax", "NAdam", "RAdam", "AdaBelief", "OAdam",
           "Lion",
           "OptimiserChain", "WeightDecay", "SignDecay", "ClipGrad", "ClipNorm",
           "Leaf", "setup", "update", "adjust", "freeze", "thaw", "Fused",
           "Step", "Exp", "CosAnneal"]
