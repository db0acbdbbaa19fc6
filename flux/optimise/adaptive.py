"""The adaptive optimisers beyond Adam: per-coordinate step sizes from running gradient moments.

Each follows the update formula of Optimisers.jl (v0.4), written out in its docstring (Lion
follows its paper, see `Lion`); ``t``
counts steps from 1 and ``βᵗ`` is a decay raised to that power. All of them work elementwise
and never read the parameter, so `flux.Fused` can step many parameters at once.

>>> import numpy as np
>>> from flux import update
>>> x = np.array([1.0, -1.0])
>>> update(Lion(0.1), x, np.array([3.0, -0.2])); x
array([ 0.9, -0.9])
"""

import math

import numpy as np

from .rules import Optimiser

__all__ = ["AdaGrad", "AdaDelta", "AMSGrad", "AdaMax", "NAdam", "RAdam", "AdaBelief", "OAdam",
           "Lion"]


class MomentRule(Optimiser):
    """What the Adam variants share: ``(eta, beta, eps)`` and a state ``(m, v, t)``."""

    hyperparameters = ("eta", "beta", "eps")
    fusable = True

    def __init__(self, eta=0.001, beta=(0.9, 0.999), eps=1e-8):
        self.eta, self.beta, self.eps = eta, tuple(beta), eps

    def init(self, x):
        return np.zeros_like(x), np.zeros_like(x), 0

    def moments(self, m, v, dx):
        """``m ← β₁ m + (1 - β₁) dx`` and ``v ← β₂ v + (1 - β₂) dx²``, in place."""
        beta1, beta2 = self.beta
        m *= beta1
        m += (1 - beta1) * dx
        v *= beta2
        v += (1 - beta2) * (dx * dx)

    def adam_step(self, m, v, t):
        """Adam's bias-corrected step ``η m̂ / (√v̂ + ε)``, ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)``."""
        beta1, beta2 = self.beta
        return self.eta * m / (1 - beta1 ** t) / (np.sqrt(v / (1 - beta2 ** t)) + self.eps)


class AdaGrad(Optimiser):
    """AdaGrad (Duchi et al.): ``a ← a + dx²``, ``step = η dx / (√a + ε)``, with ``a`` starting at ``ε``.

    >>> import numpy as np
    >>> state, step = AdaGrad(0.1, 0.0).apply(np.zeros(2), None, np.array([2.0, -0.5]))
    >>> step
    array([ 0.1, -0.1])
    """

    hyperparameters = ("eta", "eps")
    fusable = True

    def __init__(self, eta=0.1, eps=1e-8):
        self.eta, self.eps = eta, eps

    def init(self, x):
        return np.full_like(x, self.eps)

    def apply(self, acc, x, dx):
        acc += dx * dx
        return acc, self.eta * dx / (np.sqrt(acc) + self.eps)


class AdaDelta(Optimiser):
    """AdaDelta (Zeiler): a step size from the running sizes of past steps, no learning rate.

    ``a ← ρ a + (1 - ρ) dx²``, ``step = dx √(Δ + ε) / √(a + ε)``, then
    ``Δ ← ρ Δ + (1 - ρ) step²``; ``a`` and ``Δ`` start at zero.

    >>> import numpy as np
    >>> state, step = AdaDelta(0.5, 1e-4).apply((np.zeros(1), np.zeros(1)), None, np.ones(1))
    >>> step.round(6)
    array([0.014141])
    """

    hyperparameters = ("rho", "eps")
    fusable = True

    def __init__(self, rho=0.9, eps=1e-8):
        self.rho, self.eps = rho, eps

    def init(self, x):
        return np.zeros_like(x), np.zeros_like(x)

    def apply(self, state, x, dx):
        acc, delta = state
        rho = self.rho
        acc *= rho
        acc += (1 - rho) * (dx * dx)
        # ε stays inside both roots: the first steps are ~√ε, not zero, and never divide by 0.
        step = dx * np.sqrt(delta + self.eps) / np.sqrt(acc + self.eps)
        delta *= rho
        delta += (1 - rho) * (step * step)
        return (acc, delta), step


class AMSGrad(MomentRule):
    """AMSGrad (Reddi et al.): Adam's moments with the largest second moment so far, no bias correction.

    ``m ← β₁ m + (1 - β₁) dx``, ``v ← β₂ v + (1 - β₂) dx²``, ``v̂ ← max(v̂, v)``,
    ``step = η m / (√v̂ + ε)``; ``m``, ``v`` and ``v̂`` all start at ``ε``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(AMSGrad(0.1, eps=0.0), x, np.ones(1)); x.round(6)
    array([-0.316228])
    """

    def init(self, x):
        return np.full_like(x, self.eps), np.full_like(x, self.eps), np.full_like(x, self.eps)

    def apply(self, state, x, dx):
        m, v, v_max = state
        self.moments(m, v, dx)
        np.maximum(v_max, v, out=v_max)
        return (m, v, v_max), self.eta * m / (np.sqrt(v_max) + self.eps)


class AdaMax(MomentRule):
    """AdaMax (Kingma & Ba): Adam with the infinity norm in place of the second moment.

    ``m ← β₁ m + (1 - β₁) dx``, ``u ← max(β₂ u, |dx|)``, ``step = η / (1 - β₁ᵗ) · m / (u + ε)``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(2)
    >>> update(AdaMax(0.1), x, np.array([4.0, -0.5])); x.round(6)
    array([-0.1,  0.1])
    """

    def apply(self, state, x, dx):
        m, u, t = state
        beta1, beta2 = self.beta
        t += 1
        m *= beta1
        m += (1 - beta1) * dx
        u *= beta2
        np.maximum(u, np.abs(dx), out=u)
        return (m, u, t), (self.eta / (1 - beta1 ** t)) * m / (u + self.eps)


class NAdam(MomentRule):
    """NAdam (Dozat): Adam with a Nesterov look-ahead in the first moment.

    With Adam's ``m`` and ``v`` at step ``t``:
    ``step = η (β₁ m / (1 - β₁ᵗ⁺¹) + (1 - β₁) dx / (1 - β₁ᵗ)) / (√(β₂ v / (1 - β₂ᵗ)) + ε)``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(NAdam(0.1), x, np.ones(1)); x.round(4)
    array([-0.1474])
    """

    def apply(self, state, x, dx):
        m, v, t = state
        beta1, beta2 = self.beta
        t += 1
        self.moments(m, v, dx)
        ahead = beta1 * m / (1 - beta1 ** (t + 1)) + (1 - beta1) * dx / (1 - beta1 ** t)
        return (m, v, t), self.eta * ahead / (np.sqrt(v * (beta2 / (1 - beta2 ** t))) + self.eps)


class RAdam(MomentRule):
    """Rectified Adam (Liu et al.): plain momentum until the second moment's variance is tractable.

    With Adam's ``m`` and ``v`` at step ``t``, ``ρ∞ = 2 / (1 - β₂) - 1`` and
    ``ρ = ρ∞ - 2 t β₂ᵗ / (1 - β₂ᵗ)``: where ``ρ > 4``,
    ``step = η r m̂ / (√v̂ + ε)`` with ``r = √((ρ - 4)(ρ - 2) ρ∞ / ((ρ∞ - 4)(ρ∞ - 2) ρ))``,
    else ``step = η m̂``; ``m̂ = m / (1 - β₁ᵗ)``, ``v̂ = v / (1 - β₂ᵗ)``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(RAdam(0.1), x, np.array([2.0])); x      # first steps: momentum alone
    array([-0.2])
    """

    def apply(self, state, x, dx):
        m, v, t = state
        beta1, beta2 = self.beta
        t += 1
        self.moments(m, v, dx)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
        if rho <= 4:
            return (m, v, t), self.eta * m / (1 - beta1 ** t)
        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        return (m, v, t), r * self.adam_step(m, v, t)


class AdaBelief(MomentRule):
    """AdaBelief (Zhuang et al.): Adam whose second moment tracks the gradient's surprise ``dx - m``.

    ``m ← β₁ m + (1 - β₁) dx``, ``s ← β₂ s + (1 - β₂)(dx - m)² + ε``,
    ``step = η m / (1 - β₁ᵗ) / (√(s / (1 - β₂ᵗ)) + ε)``.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(AdaBelief(0.1), x, np.ones(1)); x.round(4)
    array([-0.1111])
    """

    def __init__(self, eta=0.001, beta=(0.9, 0.999), eps=1e-16):
        super().__init__(eta, beta, eps)

    def apply(self, state, x, dx):
        m, s, t = state
        beta1, beta2 = self.beta
        t += 1
        m *= beta1
        m += (1 - beta1) * dx
        surprise = dx - m
        s *= beta2
        s += (1 - beta2) * (surprise * surprise) + self.eps
        return (m, s, t), self.adam_step(m, s, t)


class OAdam(MomentRule):
    """Optimistic Adam (Daskalakis et al.): twice this step's Adam term less the last one.

    With Adam's ``m`` and ``v`` at step ``t``, ``a = η m / (1 - β₁ᵗ) / (√(v / (1 - β₂ᵗ)) + ε)``
    and ``step = 2 a - a_previous`` (``a_previous`` zero at first); suited to adversarial games.

    >>> import numpy as np
    >>> from flux import update
    >>> x = np.zeros(1)
    >>> update(OAdam(0.1), x, np.ones(1)); x.round(6)
    array([-0.2])
    """

    def __init__(self, eta=0.001, beta=(0.5, 0.9), eps=1e-8):
        super().__init__(eta, beta, eps)

    def init(self, x):
        return np.zeros_like(x), np.zeros_like(x), 0, np.zeros_like(x)

    def apply(self, state, x, dx):
        m, v, t, term = state
        t += 1
        self.moments(m, v, dx)
        previous = term.copy()
        term[...] = self.adam_step(m, v, t)
        return (m, v, t, term), 2 * term - previous


class Lion(Optimiser):
    """Lion (Chen et al., 2023): steps of size ``η`` in the sign of an interpolated momentum.

    ``step = η sign(β₁ m + (1 - β₁) dx)``, then ``m ← β₂ m + (1 - β₂) dx``, as the paper
    writes it (Optimisers.jl's source weights the momentum update the other way round).
    Use a learning rate several times smaller than Adam's.

    >>> import numpy as np
    >>> state, step = Lion(0.01).apply(np.zeros(2), None, np.array([0.3, -7.0]))
    >>> step
    array([ 0.01, -0.01])
    """

    hyperparameters = ("eta", "beta")
    fusable = True

    def __init__(self, eta=0.001, beta=(0.9, 0.999)):
        self.eta, self.beta = eta, tuple(beta)

    def init(self, x):
        return np.zeros_like(x)

    def apply(self, m, x, dx):
        beta1, beta2 = self.beta
        step = self.eta * np.sign(beta1 * m + (1 - beta1) * dx)
        m *= beta2
        m += (1 - beta2) * dx
        return m, step
