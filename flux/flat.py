"""Flattening a model's trainable arrays into one vector and rebuilding the model from such a vector.

``flat, rebuild = destructure(model)`` gives every trainable array once (a tied array
once), concatenated in walking order, and a function that makes a copy of the model with
its arrays read back from a vector of the same length. Both directions carry zygote
rules, so a loss of ``rebuild(flat)`` has a gradient with respect to ``flat``: the form
that optimisers over plain vectors, hypernetworks and Hessian-vector products want.
"""

import numpy as np

import zygote
from zygote import runtime
from zygote.structure import cotangent_from_parts

from .functor import first_paths, fmap, lookup, parameter_paths

__all__ = ["destructure", "Restructure"]


def layout(found):
    """``{id(array): (start, stop)}``: where each array of ``found`` lies in the flat vector."""
    spans, start = {}, 0
    for _, array in found:
        spans[id(array)] = (start, start + array.size)
        start += array.size
    return spans, start


def flatten_parts(found, parts):
    """One vector from ``parts``, the cotangents (or values) of the arrays in ``found``."""
    if not found:
        return np.zeros(0)
    dtype = np.result_type(*[array.dtype for _, array in found])
    return np.concatenate([np.broadcast_to(part, array.shape).ravel().astype(dtype, copy=False)
                           for (_, array), part in zip(found, parts)])


def destructure(model):
    """``(flat, rebuild)``: the trainable arrays of ``model`` as one vector, and its inverse.

    ``rebuild(v)`` returns a copy of ``model`` whose trainable arrays are read from ``v``
    (copied, in each array's own dtype); everything else, untrained arrays included, is
    shared with ``model``.

    >>> import numpy as np, flux
    >>> model = flux.Chain(flux.Dense(2, 3, rng=0), flux.Dense(3, 1, rng=1))
    >>> flat, rebuild = destructure(model)
    >>> flat.shape
    (13,)
    >>> rebuild(np.zeros(13))(np.ones((1, 2), np.float32))
    array([[0.]], dtype=float32)
    """
    found = first_paths(model)
    return flatten_parts(found, [array for _, array in found]), Restructure(model, found)


@zygote.adjoint(destructure, output_kind="a")
def destructure_rule(model):
    """The cotangent of the flat vector goes back to each array at its first path."""
    flat, rebuild = destructure(model)
    found = rebuild.found

    def destructure_back(dout):
        dflat = dout[0] if isinstance(dout, (tuple, list)) else 0
        if runtime.is_zero(dflat):
            return (0,)
        dflat = np.asarray(dflat)
        parts = [dflat[start:stop].reshape(array.shape)
                 for (start, stop), (_, array) in zip(rebuild.spans_in_order(), found)]
        return (cotangent_from_parts(model, [path for path, _ in found], parts),)
    return (flat, rebuild), destructure_back




class Restructure:
    """Rebuilds a model from a flat vector; made by `destructure`, called as ``rebuild(flat)``."""

    def __init__(self, model, found):
        self.model, self.found = model, found
        self.spans, self.length = layout(found)

    def spans_in_order(self):
        return [self.spans[id(array)] for _, array in self.found]

    def __call__(self, flat):
        return rebuild(self, flat)

    def __repr__(self):
        return f"Restructure({type(self.model).__name__}, {self.length} parameters)"


def rebuild(restructure, flat):
    """A copy of ``restructure.model`` with its trainable arrays read from ``flat``."""
    flat = np.asarray(flat)
    if flat.ndim != 1 or flat.size != restructure.length:
        raise ValueError(f"rebuild expects a vector of {restructure.length} numbers, "
                         f"got an array of shape {flat.shape}")
    spans = restructure.spans

    def fill(array):
        if id(array) not in spans:
            return array
        start, stop = spans[id(array)]
        return flat[start:stop].reshape(array.shape).astype(array.dtype)
    return fmap(fill, restructure.model)


@zygote.adjoint(rebuild, output_kind="a")
def rebuild_rule(restructure, flat):
    """Every path that reaches a rebuilt array adds its cotangent to that array's span."""
    model = rebuild(restructure, flat)

    def rebuild_back(dmodel):
        if runtime.is_zero(dmodel):
            return None, 0
        dflat = np.zeros(restructure.length, dtype=np.result_type(flat, np.float32))
        for path, array in parameter_paths(restructure.model):
            part = lookup(dmodel, path)
            if part is None or runtime.is_zero(part):
                continue
            start, stop = restructure.spans[id(array)]
            dflat[start:stop] += np.broadcast_to(part, array.shape).ravel()
        return None, dflat
    return model, rebuild_back



zygote.nograd(layout)
