"""Optimisers, the rules turning a gradient into an in-place parameter step, and `update`/`setup`.

An optimiser is a pair ``init(x) -> state`` and ``apply(state, x, dx) -> (state, step)``;
:func:`update` subtracts the step in place, ``x -= step``. Two styles keep the state:

* implicit: ``update(opt, params(model), grads)`` with ``grads`` a ``zygote.Grads``; the
  optimiser keeps one state per parameter array (by identity);
* explicit: ``state = setup(opt, model)`` builds a tree of :class:`Leaf` shaped like the model,
  and ``update(state, model, grads)`` takes the nested gradient of
  ``zygote.gradient(lambda m: loss(m(x), y), model)[0]``.

Steps are computed in place on the state arrays, in the parameter's dtype.
"""

import math

import numpy as np

from ..functor import lookup, mirror, parameter_paths

__all__ = ["Optimiser", "Descent", "Momentum", "Nesterov", "RMSProp", "Adam", "ADAM", "AdamW",
           "Leaf", "setup", "update", "Fused"]


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

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({args})"


class Descent(Optimiser):
    """Plain gradient descent: ``step = η dx``.

    >>> import numpy as np
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


class Leaf:
    """One parameter's optimiser and its state, a leaf of the tree built by :func:`setup`."""

    def __init__(self, rule, state):
        self.rule, self.state = rule, state

    def __repr__(self):
        return f"Leaf({self.rule!r})"


def setup(opt, model):
    """Build the explicit optimiser state for ``model``: a tree of :class:`Leaf` shaped like it.

    Tied arrays share one Leaf.

    >>> from flux import Dense
    >>> setup(Descent(), Dense(2, 1))
    {'weight': Leaf(Descent(eta=0.1)), 'bias': Leaf(Descent(eta=0.1)), 'act': None}
    """
    return mirror(lambda x: Leaf(opt, opt.init(x)), model)


def update(opt, model, grads):
    """Apply one optimiser step in place; three call forms.

    * ``update(opt, x, dx)``: one array ``x`` and its gradient;
    * ``update(opt, ps, gs)``: ``ps`` a ``zygote.Params``, ``gs`` the ``zygote.Grads`` from
      ``zygote.gradient(f, ps)``; returns ``None``;
    * ``update(state, model, grads)``: ``state`` from :func:`setup`, ``grads`` the nested
      gradient of the model; gradients of a tied array are summed first. Returns
      ``(state, model)``.

    >>> import numpy as np
    >>> from flux import Dense
    >>> layer = Dense(2, 1, rng=0)
    >>> state = setup(Descent(1.0), layer)
    >>> _ = update(state, layer, {"weight": np.ones((1, 2)), "bias": None})
    """
    if isinstance(opt, Optimiser):
        if isinstance(model, np.ndarray):
            step_array(opt, model, grads)
        else:
            update_params(opt, model, grads)
        return None
    return update_tree(opt, model, grads)


def checked_gradient(x, dx, where):
    """``dx`` as an array of ``x``'s shape, or an error naming ``where``."""
    dx = np.asarray(dx)
    if dx.shape != x.shape:
        raise ValueError(f"gradient for {where} has shape {dx.shape}, "
                         f"but the parameter has shape {x.shape}")
    return dx


def step_array(opt, x, dx):
    dx = checked_gradient(x, dx, "the array")
    state, step = opt.apply(opt.state_for(x), x, dx)
    opt.store_state(x, state)
    x -= step


def update_params(opt, ps, gs):
    covered = getattr(gs, "params", None)
    known = None if covered is None else {id(p) for p in covered}
    for index, x in enumerate(ps):
        where = f"parameter {index} (shape {x.shape})"
        if known is not None and id(x) not in known:
            raise ValueError(f"the gradients do not cover {where}: they were taken with respect "
                             f"to other parameters; call zygote.gradient(f, ps) with these params")
        try:
            dx = gs[x]
        except KeyError as error:
            raise ValueError(f"the gradients do not cover {where}: they were taken with "
                             f"respect to other parameters") from error
        if dx is None:
            continue
        dx = checked_gradient(x, dx, where)
        state, step = opt.apply(opt.state_for(x), x, dx)
        opt.store_state(x, state)
        x -= step


def update_tree(state, model, grads):
    pending = {}
    for path, x in parameter_paths(model):
        dx = lookup(grads, path)
        if dx is None:
            continue
        name = ".".join(map(str, path))
        leaf = lookup(state, path)
        if not isinstance(leaf, Leaf):
            raise ValueError(f"the optimiser state has no entry for {name}; "
                             f"build it with flux.setup(opt, model) for this model")
        dx = checked_gradient(x, dx, name)
        if id(x) in pending:
            pending[id(x)][2] = pending[id(x)][2] + dx
        else:
            pending[id(x)] = [x, leaf, dx]
    for x, leaf, dx in pending.values():
        leaf.state, step = leaf.rule.apply(leaf.state, x, dx)
        x -= step
    return state, model


# -- many parameters in one step -------------------------------------------------------------


class Unfusable(ValueError):
    """The parameters' optimiser states cannot be laid end to end (different steps or kinds)."""


class ImplicitSlot:
    """The implicit-style state of one parameter, read and written like a `Leaf`'s."""

    def __init__(self, opt, x):
        self.opt, self.x = opt, x

    @property
    def state(self):
        return self.opt.state_for(self.x)

    @state.setter
    def state(self, state):
        self.opt.store_state(self.x, state)


class Fused:
    """One optimiser call steps many parameters, from their gradients laid end to end.

    An optimiser makes about a dozen numpy calls per parameter per step, each costing a few
    microseconds before any arithmetic. `Fused` lays the parameters' states end to end in
    flat arrays and makes those calls once for all parameters; each parameter's own state
    (``opt``'s, or its `Leaf`'s) is then a set of views into the flat arrays, so a later
    per-parameter `update` and the next fused step see the same numbers. Build it with
    :meth:`of`; :meth:`update` takes gradients as `update` does, :meth:`step` takes them
    as one flat array in the order of ``params``.

    >>> import numpy as np
    >>> import zygote
    >>> xs = zygote.Params([np.zeros(2), np.zeros(3)])
    >>> fused = Fused.of(Descent(0.5), xs)
    >>> fused.step(np.arange(5.0))
    True
    >>> list(xs)
    [array([ 0. , -0.5]), array([-1. , -1.5, -2. ])]
    """

    def __init__(self, opt, model, rule, slots, params, paths):
        self.opt, self.model, self.rule, self.slots = opt, model, rule, slots
        self.params, self.paths = params, paths
        ends = np.cumsum([x.size for x in params])
        self.bounds = [(int(end) - x.size, int(end)) for x, end in zip(params, ends)]
        self.gradient = np.empty(int(ends[-1]), params[0].dtype)
        self.state = self.handed = None

    @classmethod
    def of(cls, opt, model):
        """A `Fused` for ``update(opt, model, grads)``, or None where it cannot fuse.

        ``opt`` and ``model`` are those of `update`: an `Optimiser` and a ``zygote.Params``
        (implicit style), or the state tree of :func:`setup` and the model (explicit style).
        None when the rule reads the parameters (`AdamW`), when leaves have different rules,
        or when parameters are tied or differ in dtype.
        """
        if isinstance(opt, Optimiser):
            params, paths = list(model), None
            rule, slots = opt, [ImplicitSlot(opt, x) for x in params]
        else:
            found = parameter_paths(model)
            params, paths = [x for _, x in found], [path for path, _ in found]
            slots = [lookup(opt, path) for path in paths]
            if not slots or not all(isinstance(leaf, Leaf) for leaf in slots):
                return None
            rule = slots[0].rule
            if any(leaf.rule is not rule for leaf in slots):
                return None
        if (not params or not getattr(rule, "fusable", False)
                or len({id(x) for x in params}) < len(params)
                or any(x.dtype != params[0].dtype for x in params)):
            return None
        return cls(opt, model, rule, slots, params, paths)

    def update(self, grads):
        """``update(opt, model, grads)``: one fused step where every parameter has a gradient
        of its shape, else the parameter-by-parameter `update` (with its errors)."""
        if self.paths is None:
            try:
                gradients = [grads[x] for x in self.params]
            except KeyError:
                gradients = None
        else:
            gradients = [lookup(grads, path) for path in self.paths]
        if gradients is not None and all(dx is not None and np.shape(dx) == x.shape
                                         for x, dx in zip(self.params, gradients)):
            for x, dx, (lo, hi) in zip(self.params, gradients, self.bounds):
                np.copyto(self.gradient[lo:hi].reshape(x.shape), dx)
            if self.step(self.gradient):
                return
        update(self.opt, self.model, grads)

    def step(self, dx):
        """Step every parameter from ``dx``, their gradients laid end to end; False, with
        nothing done, when their states can no longer be laid end to end (they have taken
        different numbers of steps)."""
        if self.handed is None or any(slot.state is not handed
                                      for slot, handed in zip(self.slots, self.handed)):
            try:
                self.state = self.join([slot.state for slot in self.slots])
            except Unfusable:
                return False
        self.state, step = self.rule.apply(self.state, None, dx)
        for x, (lo, hi) in zip(self.params, self.bounds):
            x -= step[lo:hi].reshape(x.shape)
        self.handed = [self.split(self.state, lo, hi, x.shape)
                       for x, (lo, hi) in zip(self.params, self.bounds)]
        for slot, handed in zip(self.slots, self.handed):
            slot.state = handed
        return True

    def join(self, states):
        """One flat state from the parameters' states, or `Unfusable`."""
        first = states[0]
        if isinstance(first, np.ndarray):
            if not all(isinstance(s, np.ndarray) and s.shape == x.shape and s.dtype == first.dtype
                       for s, x in zip(states, self.params)):
                raise Unfusable("state arrays of different shapes or dtypes")
            return np.concatenate([s.ravel() for s in states])
        if isinstance(first, tuple):
            if not all(isinstance(s, tuple) and len(s) == len(first) for s in states):
                raise Unfusable("states of different kinds")
            return tuple(self.join(part) for part in zip(*states))
        if not all(s is first or (type(s) is type(first) and s == first) for s in states):
            raise Unfusable(f"states {first!r} and others differ")
        return first

    def split(self, state, lo, hi, shape):
        """One parameter's part of a flat state: views into its arrays."""
        if isinstance(state, np.ndarray):
            return state[lo:hi].reshape(shape)
        if isinstance(state, tuple):
            return tuple(self.split(part, lo, hi, shape) for part in state)
        return state
