"""Applying rules to parameters: `setup` builds a model's state tree, `update` steps in place.

Two styles keep the state. Implicit: ``update(opt, params(model), grads)`` with ``grads`` a
``zygote.Grads``, the optimiser keeping one state per parameter array (by identity).
Explicit: ``state = setup(opt, model)`` builds a tree of :class:`Leaf` shaped like the model,
and ``update(state, model, grads)`` takes the model's nested gradient.
"""

import numpy as np

from ..functor import lookup, mirror, parameter_paths
from .rules import Optimiser

__all__ = ["Leaf", "setup", "update"]


class Leaf:
    """One parameter's optimiser and its state, a leaf of the tree built by :func:`setup`.

    A frozen leaf (see `flux.optimise.adjust.freeze`) is skipped by :func:`update`.
    """

    def __init__(self, rule, state, frozen=False):
        self.rule, self.state, self.frozen = rule, state, frozen

    def __repr__(self):
        return f"Leaf({self.rule!r}" + (", frozen=True)" if self.frozen else ")")


def setup(opt, model):
    """Build the explicit optimiser state for ``model``: a tree of :class:`Leaf` shaped like it.

    Tied arrays share one Leaf.

    >>> from flux import Dense, Descent
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
    >>> from flux import Dense, Descent
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
    if opt.is_frozen(x):
        return
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
        if opt.is_frozen(x):
            continue
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
        if leaf.frozen:
            continue
        if id(x) in pending:
            pending[id(x)][2] = pending[id(x)][2] + dx
        else:
            pending[id(x)] = [x, leaf, dx]
    for x, leaf, dx in pending.values():
        leaf.state, step = leaf.rule.apply(leaf.state, x, dx)
        x -= step
    return state, model
