"""Planned calls: calls the transform makes directly to another function's generated code.

A call of a global Python function whose argument kinds the transform knows (numbers,
arrays, constants) needs no dispatch at run time: the callee is transformed while its
caller is, and the caller's code calls the callee's primal and adjoint directly, guarded
like every other global it resolved. A nested ``gradient(g, x)`` of a global ``g`` is
planned the same way, as a call of the transform of g's fused gradient. Each planner takes
the cache to build transforms with (``transforms``) first.
"""
import types

from ..errors import ZygoteError
from ..params import params_mode
from ..rules import RULES
from .fused import fusable, fused_gradient


class StaticCall:
    """A call the transform makes directly: ``y, saved = primal(*args)``, later
    ``(denv, *dargs) = adjoint(saved, dy)``; ``guards`` are ``(namespace, root, path, obj)``
    that must still hold for the direct call to be right."""

    def __init__(self, primal, adjoint, guards, hint):
        self.primal = primal
        self.adjoint = adjoint
        self.guards = guards
        self.hint = hint


_expanding = set()  # code objects whose gradient is being planned (a recursive gradient)


def _plannable(fn, categories):
    """Whether a call of ``fn`` with these argument kinds may be planned at transform time."""
    if type(fn) is not types.FunctionType or fn in RULES or params_mode() is not None:
        return False
    code = fn.__code__
    return not (code.co_flags & 0x0C or code.co_kwonlyargcount
                or code.co_argcount != len(categories) or code in _expanding)


def _planned(transforms, fn, make):
    """``make()`` -> (entries whose guards hold the plan, primal, adjoint, hint) as a
    `StaticCall`; None when zygote cannot transform fn (the error comes when the call runs)."""
    _expanding.add(fn.__code__)
    try:
        entries, primal, adjoint, hint = make()
    except ZygoteError:
        return None
    finally:
        _expanding.discard(fn.__code__)
    guards = [(fn.__globals__, root, path, obj) for entry in entries for root, path, obj in entry.guards]
    transforms.planned.add(fn)
    return StaticCall(primal, adjoint, guards, hint)


def static_gradient(transforms, fn, categories, active):
    """Plan ``gradient(fn, *args)``: the transform of fn's fused gradient, called directly.

    ``categories`` are the arguments' kinds and ``active`` says which are differentiated
    by the enclosing transform. None when the call must go through the run time instead.
    """
    if not _plannable(fn, categories) or not fusable(transforms.entry_for(fn, "".join(categories), "")):
        return None

    def make():
        entry = transforms.entry_for(fn, "".join(categories), "")
        gradient_fn = fused_gradient(fn, entry)
        outer = transforms.entry_for(gradient_fn, _active_mask(categories, active), "")
        return (entry, outer), outer.primal_for(gradient_fn), outer.adjoint, fn.__name__ + "_grad"
    return _planned(transforms, fn, make)


def static_call(transforms, fn, categories, active):
    """Plan a call ``fn(*args)`` of a plain Python function: its transform, called directly
    (the one ``protocol.call`` would pick for these argument kinds)."""
    if not _plannable(fn, categories):
        return None

    def make():
        entry = transforms.entry_for(fn, _active_mask(categories, active), "")
        return (entry,), entry.primal_for(fn), entry.adjoint, fn.__name__
    return _planned(transforms, fn, make)


def _active_mask(categories, active):
    return "".join(c if a else "-" for c, a in zip(categories, active))
