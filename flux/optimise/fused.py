"""Fused stepping: one rule call steps many parameters, their gradients and states laid end to end."""

import numpy as np

from ..functor import lookup, parameter_paths
from .interface import Leaf, update
from .rules import Optimiser

__all__ = ["Fused"]


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
    >>> from flux import Descent
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
        or when parameters are tied or differ in dtype. Parameters frozen now or later are
        stepped one by one, by `update`, which leaves them alone.
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
            if any(leaf.rule is not rule or leaf.frozen for leaf in slots):
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
        different numbers of steps, or `adjust` or `freeze` set them apart)."""
        if not self.rule_is_shared():
            return False
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

    def rule_is_shared(self):
        """Whether the leaves still share one fusable rule and none is frozen; the rule that
        `flux.adjust` put in their leaves replaces the one the fused step was built with."""
        if self.paths is None:
            return not any(self.opt.is_frozen(x) for x in self.params)
        rule = self.slots[0].rule
        if any(leaf.rule is not rule or leaf.frozen for leaf in self.slots):
            return False
        if not getattr(rule, "fusable", False):
            return False
        self.rule = rule
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
