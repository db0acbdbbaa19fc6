"""Changing an optimiser state after `setup`: new hyperparameters (`adjust`), `freeze` and `thaw`.

``state`` below is the tree of `Leaf` from ``flux.setup(opt, model)``, or any part of it
(``state["layers"][0]`` is the state of a chain's first layer). In the implicit style,
``update(opt, params(model), grads)``, the optimiser holds the state, so it is the
optimiser that is adjusted, ``adjust(opt, 0.01)``, and that freezes a part of the model,
``freeze(opt, model[0])``.

>>> import numpy as np
>>> from flux import Chain, Dense, Descent, setup, update
>>> model = Chain(Dense(2, 2, rng=0), Dense(2, 1, rng=1))
>>> state = setup(Descent(0.1), model)
>>> _ = freeze(state["layers"][0])
>>> before = model[0].weight.copy()
>>> grads = {"layers": ({"weight": np.ones((2, 2)), "bias": None},
...                     {"weight": np.ones((1, 2)), "bias": None})}
>>> _ = update(state, model, grads)
>>> bool((model[0].weight == before).all())
True
"""

import copy

from ..functor import params
from .interface import Leaf
from .rules import Optimiser

__all__ = ["adjust", "freeze", "thaw"]


def leaves(tree):
    """Every `Leaf` below ``tree`` (dicts, tuples and lists of them), each once."""
    found, seen = [], set()

    def visit(node):
        if isinstance(node, Leaf):
            if id(node) not in seen:
                seen.add(id(node))
                found.append(node)
        elif isinstance(node, dict):
            for child in node.values():
                visit(child)
        elif isinstance(node, (tuple, list)):
            for child in node:
                visit(child)
    visit(tree)
    return found


def rules_in(rule):
    """``rule`` and, for an `OptimiserChain`, the rules inside it."""
    inner = getattr(rule, "opts", ())
    return [rule] + [r for opt in inner for r in rules_in(opt)]


def adjusted(rule, changes):
    """A copy of ``rule`` (and of the rules of a chain) with the hyperparameters it has changed."""
    new = copy.copy(rule)
    new.__dict__.pop("_states", None)   # implicit-style states belong to the original
    new.__dict__.pop("_frozen", None)
    if hasattr(rule, "opts"):
        new.opts = tuple(adjusted(opt, changes) for opt in rule.opts)
    for name, value in changes.items():
        if name in rule.hyperparameters:
            setattr(new, name, value)
    return new


def adjust(tree, eta=None, **hyperparameters):
    """Set hyperparameters of the rules in a state tree, such as the learning rate ``eta``.

    ``adjust(state, 0.01)`` sets ``eta``; ``adjust(state, beta=(0.8, 0.99))`` any named
    hyperparameter. Each rule that has the name takes the value, rules in an
    `OptimiserChain` included; rules without it are left alone, but a name that no rule in
    the tree has is an error. The moments and step counts in the state are kept. Given an
    `Optimiser` itself (the implicit style, ``update(opt, params(model), grads)``), the
    optimiser is changed in place. Returns ``tree``.

    >>> import numpy as np
    >>> from flux import Adam, ClipGrad, OptimiserChain, setup
    >>> state = setup(OptimiserChain(ClipGrad(1.0), Adam(0.1)), {"w": np.zeros(2)})
    >>> adjust(state, 0.01)["w"].rule
    OptimiserChain(ClipGrad(delta=1.0), Adam(eta=0.01, beta=(0.9, 0.999), eps=1e-08))
    """
    changes = dict(hyperparameters)
    if eta is not None:
        changes["eta"] = eta
    if isinstance(tree, Optimiser):
        check_names([tree], changes)
        for rule in rules_in(tree):
            for name, value in changes.items():
                if name in rule.hyperparameters:
                    setattr(rule, name, value)
        return tree
    found = leaves(tree)
    if not found:
        raise ValueError("adjust: no optimiser state in this tree; build it with flux.setup(opt, model)")
    check_names([leaf.rule for leaf in found], changes)
    # Leaves that shared a rule share the adjusted one, so they can still be fused.
    memo = {}
    for leaf in found:
        if id(leaf.rule) not in memo:
            memo[id(leaf.rule)] = adjusted(leaf.rule, changes)
        leaf.rule = memo[id(leaf.rule)]
    return tree


def check_names(rules, changes):
    """Raise a ``ValueError`` for a hyperparameter that none of ``rules`` has."""
    if not changes:
        raise ValueError("adjust: say what to change, as adjust(state, eta) or adjust(state, name=value)")
    known = {name for rule in rules for r in rules_in(rule) for name in r.hyperparameters}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"adjust: no rule here has the hyperparameter(s) {', '.join(unknown)}; "
                         f"they have {', '.join(sorted(known)) or 'none'}")


def freeze(tree, part=None):
    """Stop `flux.update` from changing the parameters below ``tree``; returns ``tree``.

    Their states are kept, unchanged, until :func:`thaw`. Freeze a layer by passing its
    part of the state: ``freeze(state["layers"][0])``. In the implicit style ``tree`` is
    the optimiser and ``part`` what to freeze: a layer or model, a ``zygote.Params`` or an
    array, ``freeze(opt, model[0])``; ``update(opt, params(model), grads)`` then leaves
    those arrays (and their moments) as they are.

    >>> import numpy as np, zygote
    >>> from flux import Chain, Dense, Descent, params, update
    >>> model, opt = Chain(Dense(2, 2, rng=0), Dense(2, 1, rng=1)), Descent(0.1)
    >>> _ = freeze(opt, model[0])
    >>> first, last = model[0].weight.copy(), model[1].weight.copy()
    >>> x, ps = np.ones((1, 2), np.float32), params(model)
    >>> update(opt, ps, zygote.gradient(lambda: model(x).sum(), ps))
    >>> bool((model[0].weight == first).all()), bool((model[1].weight == last).all())
    (True, False)
    """
    return set_frozen(tree, True, part)


def thaw(tree, part=None):
    """Let `flux.update` change the parameters below ``tree`` again; returns ``tree``.

    In the implicit style, ``thaw(opt, part)`` thaws ``part`` and ``thaw(opt)`` everything
    the optimiser froze.

    >>> import numpy as np
    >>> from flux import Descent, setup
    >>> state = freeze(setup(Descent(), {"w": np.zeros(2)}))
    >>> state["w"]
    Leaf(Descent(eta=0.1), frozen=True)
    >>> thaw(state)["w"]
    Leaf(Descent(eta=0.1))
    """
    return set_frozen(tree, False, part)


def set_frozen(tree, frozen, part=None):
    if isinstance(tree, Optimiser):
        if part is None and frozen:
            raise TypeError("freeze(opt, part): say which part of the model the optimiser "
                            "should leave alone (a layer, params(...) or an array)")
        arrays = list(tree.__dict__.get("_frozen", {}).values()) if part is None else params(part)
        tree.set_frozen(arrays, frozen)
        return tree
    if part is not None:
        raise TypeError(f"freeze/thaw(state, part) is the implicit style, with an optimiser "
                        f"first; with a state tree from flux.setup pass the part of the "
                        f"state itself, got {type(tree).__name__} and {type(part).__name__}")
    found = leaves(tree)
    if not found:
        raise ValueError("freeze/thaw take a part of the state from flux.setup(opt, model), "
                         f"which holds optimiser leaves; got {type(tree).__name__}")
    for leaf in found:
        leaf.frozen = frozen
    return tree
