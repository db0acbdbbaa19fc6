"""Rules that transform a gradient before another rule steps: OptimiserChain, decay and clipping.

On its own each is a rule with learning rate 1 (its output is the step); in an
`OptimiserChain` its output is the next rule's gradient, so
``OptimiserChain(ClipGrad(1.0), WeightDecay(1e-4), Adam())`` clips, adds the decay, then
takes Adam's step. Each follows the update formula of Optimisers.jl (v0.4).

>>> import numpy as np
>>> from flux import Descent, update
>>> x = np.zeros(3)
>>> update(OptimiserChain(ClipGrad(1.0), Descent(0.1)), x, np.array([0.3, 1.0, 7.0])); x
array([-0.03, -0.1 , -0.1 ])
"""

import numpy as np

from .rules import Optimiser

__all__ = ["OptimiserChain", "WeightDecay", "SignDecay", "ClipGrad", "ClipNorm"]


class OptimiserChain(Optimiser):
    """Apply rules in turn, each to the output of the one before: ``step = oₙ(… o₁(dx))``.

    The state is the tuple of the rules' states. With no rules the step is the gradient
    itself (``Descent(1)``). The chain can be fused when all its rules can.

    >>> import numpy as np
    >>> from flux import Adam
    >>> chain = OptimiserChain(WeightDecay(0.01), Adam(0.001))
    >>> chain
    OptimiserChain(WeightDecay(decay=0.01), Adam(eta=0.001, beta=(0.9, 0.999), eps=1e-08))
    >>> len(chain.init(np.zeros(2)))
    2
    """

    def __init__(self, *opts):
        for opt in opts:
            if not isinstance(opt, Optimiser):
                raise TypeError(f"OptimiserChain takes optimisers, got {opt!r}")
        self.opts = tuple(opts)

    @property
    def fusable(self):
        return all(opt.fusable for opt in self.opts)

    def init(self, x):
        return tuple(opt.init(x) for opt in self.opts)

    def apply(self, states, x, dx):
        new_states = []
        for opt, state in zip(self.opts, states):
            state, dx = opt.apply(state, x, dx)
            new_states.append(state)
        return tuple(new_states), dx

    def __repr__(self):
        return "OptimiserChain(" + ", ".join(map(repr, self.opts)) + ")"


class WeightDecay(Optimiser):
    """L2 regularisation as a gradient transform: ``dx + λ x``.

    The same as adding ``λ/2 · Σ x²`` to the loss; put it before the rule that steps.

    >>> import numpy as np
    >>> WeightDecay(0.5).apply(None, np.array([2.0, -4.0]), np.array([1.0, 1.0]))[1]
    array([ 2., -1.])
    """

    hyperparameters = ("decay",)
    fusable = False   # reads x

    def __init__(self, decay=5e-4):
        self.decay = decay

    def apply(self, state, x, dx):
        return state, dx + self.decay * x


class SignDecay(Optimiser):
    """L1 regularisation as a gradient transform: ``dx + λ sign(x)``.

    The same as adding ``λ · Σ |x|`` to the loss; put it before the rule that steps.

    >>> import numpy as np
    >>> SignDecay(0.5).apply(None, np.array([2.0, -4.0, 0.0]), np.zeros(3))[1]
    array([ 0.5, -0.5,  0. ])
    """

    hyperparameters = ("decay",)
    fusable = False   # reads x

    def __init__(self, decay=1e-3):
        self.decay = decay

    def apply(self, state, x, dx):
        return state, dx + self.decay * np.sign(x)


class ClipGrad(Optimiser):
    """Clip every gradient entry to ``[-δ, δ]``.

    >>> import numpy as np
    >>> ClipGrad(1.0).apply(None, None, np.array([-3.0, 0.5, 2.0]))[1]
    array([-1. ,  0.5,  1. ])
    """

    hyperparameters = ("delta",)
    fusable = True

    def __init__(self, delta=10.0):
        self.delta = delta

    def apply(self, state, x, dx):
        return state, np.clip(dx, -self.delta, self.delta)


class ClipNorm(Optimiser):
    """Scale each parameter's gradient down to norm ``ω`` where its ``p``-norm is larger.

    ``dx · min(1, ω / ‖dx‖ₚ)``, one norm per parameter array. A gradient whose norm is
    infinite or NaN raises a ``ValueError``; with ``throw=False`` it passes unchanged.

    >>> import numpy as np
    >>> ClipNorm(1.0).apply(None, None, np.array([3.0, 4.0]))[1]
    array([0.6, 0.8])
    >>> ClipNorm(10.0, p=1).apply(None, None, np.array([3.0, 4.0]))[1]
    array([3., 4.])
    """

    hyperparameters = ("omega", "p", "throw")
    fusable = False   # the norm is per parameter, not elementwise

    def __init__(self, omega=10.0, p=2, *, throw=True):
        self.omega, self.p, self.throw = omega, p, throw

    def apply(self, state, x, dx):
        norm = float(np.linalg.norm(np.ravel(dx), self.p))
        if not np.isfinite(norm):
            if self.throw:
                raise ValueError(f"ClipNorm: the gradient of an array of shape {np.shape(dx)} has "
                                 f"{self.p}-norm {norm}; pass throw=False to step anyway")
            return state, dx
        if norm <= self.omega:
            return state, dx
        return state, dx * np.asarray(self.omega / norm, dtype=np.result_type(dx))
