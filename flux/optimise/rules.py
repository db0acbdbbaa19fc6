"""Optimisation rules: each turns one parameter's gradient into a step, keeping its own state.

A rule is a pair ``init(x) -> state`` and ``apply(state, x, dx) -> (state, step)``; the
caller subtracts the step, ``x -= step`` (`flux.update` does, see `flux.optimise.interface`).
Hyperparameters are attributes, listed by ``hyperparameters`` for the repr. Steps are
computed in place on the state arrays, in the parameter's dtype.

>>> import numpy as np
>>> state, step = Momentum(0.1, 0.5).apply(np.zeros(2), None, np.array([1.0, -2.0]))
>>> step
array([ 0.1, -0.2])
"""

import math

import numpy as np

__all__ = ["Optimiser", "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "ADAM", "AdamW"]


class Optimiser:
    """Base class: hyperparameters as attributes, listed by ``hyperparameters`` for the repr."""

    hyperparameters = ()
    # True where ``apply`` works elementwise and never reads ``x``, so that the states of
    # many parameters laid end to end can be stepped by one call (see `Fused`).
    fusable = False

    def init(self, x):
        """Fresh state for parameter ``x``."""
        return None

    def apply(self, state, x, dx):
        """Return ``(new_state, step)``; the caller does ``x -= step``."""
        raise NotImplementedError

    def state_for(self, x):
        """The implicit-style state of array ``x``, created on first use."""
        states = self.__dict__.setdefault("_states", {})
        entry = states.get(id(x))
        if entry is None or entry[0] is not x:
            entry = (x, self.init(x))
            states[id(x)] = entry
        return entry[1]

    def store_state(self, x, state):
        self._states[id(x)] = (x, state)

    def is_frozen(self, x):
        """Whether `flux.freeze` keeps the implicit-style `update` from changing array ``x``."""
        frozen = self.__dict__.get("_frozen")
        return bool(frozen) and frozen.get(id(x)) is x

    def set_frozen(self, arrays, frozen):
        """Freeze (``frozen=True``) or thaw the implicit-style parameters ``arrays``."""
        held = self.__dict__.setdefault("_frozen", {})
        for x in arrays:
            if frozen:
                held[id(x)] = x
            elif held.get(id(x)) is x:
                del held[id(x)]

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class Descent(Optimiser):
    """Plain gradient descent: ``step = η dx``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.array([1.0, 2.0])
    >>> update(Descent(0.1), x, np.array([1.0, -1.0]))
    >>> x
    array([0.9, 2.1])
    """

    hyperparameters = ("eta",)
    fusable = True

    def __init__(self, eta=0.1):
        self.eta = eta

    def apply(self, state, x, dx):
        return state, self.eta * dx


class Momentum(Optimiser):
    """Gradient descent with momentum: ``v ← ρ v + η dx``, ``step = v``.

    >>> import numpy as np
    >>> from flux import update
    >>> x, opt = np.zeros(1), Momentum(0.1, 0.5)
    >>> update(opt, x, np.ones(1)); update(opt, x, np.ones(1)); x
    array([-0.25])
    """

    hyperparameters = ("eta", "rho")
    fusable = True

    def __init__(self, eta=0.01, rho=0.9):
        self.eta, self.rho = eta, rho

    def init(self, x):
        return np.zeros_like(x)

    def apply(self, velocity, x, dx):
        velocity *= self.rho
        velocity += self.eta * dx
        return velocity, velocity


class Nesterov(Optimiser):
    """Nesterov momentum: ``v ← ρ v + η dx``, ``step = ρ v + η dx`` (a look-ahead step).

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(Nesterov(0.1, 0.5), x, np.ones(1)); x
    array([-0.15])
    """

    hyperparameters = ("eta", "rho")
    fusable = True

    def __init__(self, eta=0.001, rho=0.9):
        self.eta, self.rho = eta, rho

    def init(self, x):
        return np.zeros_like(x)

    def apply(self, velocity, x, dx):
        eta_dx = self.eta * dx
        velocity *= self.rho
        velocity += eta_dx
        step = self.rho * velocity
        step += eta_dx
        return velocity, step


class RMSProp(Optimiser):
    """RMSProp: ``a ← ρ a + (1 - ρ) dx²``, ``step = η dx / (√a + ε)``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(RMSProp(0.01, 0.9, 0.0), x, np.array([2.0])); x.round(6)
    array([-0.031623])
    """

    hyperparameters = ("eta", "rho", "eps")
    fusable = True

    def __init__(self, eta=0.001, rho=0.9, eps=1e-8):
        self.eta, self.rho, self.eps = eta, rho, eps

    def init(self, x):
        return np.zeros_like(x)

    def apply(self, acc, x, dx):
        acc *= self.rho
        acc += (1 - self.rho) * (dx * dx)
        step = np.sqrt(acc)
        step += self.eps
        np.divide(dx, step, out=step)
        step *= self.eta
        return acc, step


class Adam(Optimiser):
    """Adam (Kingma & Ba): moment estimates with bias correction.

    ``m ← β₁ m + (1 - β₁) dx``, ``v ← β₂ v + (1 - β₂) dx²``, and at step ``t``
    ``step = η m̂ / (√v̂ + ε)`` with ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)``.
    The state is ``(m, v, t, scratch)``; all work happens in those arrays, eleven numpy
    calls a step. A gradient laid out differently from the parameter (a transposed view)
    is first copied, so that every pass runs over contiguous memory.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(2, np.float32)
    >>> update(Adam(0.1), x, np.array([3.0, -0.5], np.float32)); x.round(6)
    array([-0.1,  0.1], dtype=float32)
    """

    hyperparameters = ("eta", "beta", "eps")
    fusable = True

    def __init__(self, eta=0.001, beta=(0.9, 0.999), eps=1e-8):
        self.eta, self.beta, self.eps = eta, tuple(beta), eps

    def init(self, x):
        return np.zeros_like(x), np.zeros_like(x), 0, np.empty_like(x)

    def apply(self, state, x, dx):
        m, v, t, scratch = state
        if m.flags.c_contiguous and not dx.flags.c_contiguous:
            dx = np.ascontiguousarray(dx)
        beta1, beta2 = self.beta
        t += 1
        np.multiply(dx, 1 - beta1, out=scratch)
        m *= beta1
        m += scratch
        np.multiply(dx, dx, out=scratch)
        scratch *= 1 - beta2
        v *= beta2
        v += scratch
        # η m̂ / (√v̂ + ε) = η √(1 - β₂ᵗ) / (1 - β₁ᵗ) · m / (√v + ε √(1 - β₂ᵗ))
        root = math.sqrt(1 - beta2 ** t)
        np.sqrt(v, out=scratch)
        scratch += self.eps * root
        np.divide(m, scratch, out=scratch)
        scratch *= self.eta * root / (1 - beta1 ** t)
        return (m, v, t, scratch), scratch


ADAM = Adam


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``step = adam_step + η λ x``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.ones(1)
    >>> update(AdamW(0.1, decay=0.5), x, np.zeros(1)); x
    array([0.95])
    """

    hyperparameters = ("eta", "beta", "decay", "eps")
    fusable = False   # the decay reads x

    def __init__(self, eta=0.001, beta=(0.9, 0.999), decay=0.0, eps=1e-8):
        super().__init__(eta, beta, eps)
        self.decay = decay

    def apply(self, state, x, dx):
        state, step = super().apply(state, x, dx)
        if self.decay:
            step += (self.eta * self.decay) * x
        return state, step
