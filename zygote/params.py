"""Implicit parameters: ``Params`` (an ordered identity set of arrays), ``Grads`` (their gradients) and the mode that differentiates them."""
import threading

import numpy as np


class Params:
    """An ordered set of arrays compared by identity, for ``gradient(f, ps)``.

    >>> import numpy as np, zygote
    >>> W = np.ones((2, 2)); b = np.zeros(2)
    >>> ps = zygote.Params([W, b, W])
    >>> len(ps), W in ps, np.ones(2) in ps
    (2, True, False)
    """

    def __init__(self, arrays=()):
        self._order = []
        self._ids = {}
        for array in arrays:
            self.add(array)

    def add(self, array):
        if not hasattr(array, "shape") or not hasattr(array, "dtype"):
            raise TypeError(f"Params holds arrays, got {type(array).__name__}")
        if id(array) not in self._ids:
            self._ids[id(array)] = array
            self._order.append(array)
        return self

    def __iter__(self):
        return iter(self._order)

    def __len__(self):
        return len(self._order)

    def __contains__(self, array):
        return id(array) in self._ids

    def __getitem__(self, i):
        return self._order[i]

    @property
    def ids(self):
        return self._ids

    def __repr__(self):
        shapes = ", ".join(str(tuple(p.shape)) for p in self._order)
        return f"Params([{shapes}])"


class Grads:
    """Gradients of ``Params``, indexed by the parameter arrays themselves.

    ``gs[p]`` is an array of ``p``'s shape, or None where the loss does not depend on
    ``p``. Iterating yields the parameters; ``gs1 + gs2`` adds gradient by gradient.
    """

    def __init__(self, params, grads=None):
        self.params = params
        self._grads = dict(grads or {})

    def __getitem__(self, array):
        if id(array) not in self.params.ids:
            raise KeyError("this array is not one of the Params the gradient was taken for")
        return self._grads.get(id(array))

    def __contains__(self, array):
        return id(array) in self.params.ids

    def __iter__(self):
        return iter(self.params)

    def __len__(self):
        return len(self.params)

    def items(self):
        return [(p, self._grads.get(id(p))) for p in self.params]

    def accumulate(self, array, grad):
        key = id(array)
        previous = self._grads.get(key)
        grad = np.asarray(grad, dtype=array.dtype)
        if grad.shape != array.shape:
            grad = np.broadcast_to(grad, array.shape).copy()
        self._grads[key] = grad if previous is None else previous + grad

    def __add__(self, other):
        if not isinstance(other, Grads):
            return NotImplemented
        merged = Params(list(self.params) + list(other.params))
        out = Grads(merged, self._grads)
        for array, grad in other.items():
            if grad is not None:
                out.accumulate(array, grad)
        return out

    def __repr__(self):
        return f"Grads({len(self)} parameters)"


class _State(threading.local):
    params = None  # a class default makes the lookup cheap when nothing was set


_state = _State()


def params_mode():
    """The identity set of parameters when running under ``gradient(f, ps)``, else None."""
    return _state.params


class params_scope:
    """Context manager marking that environment arrays in ``ids`` are differentiated."""

    def __init__(self, ids):
        self.ids = ids

    def __enter__(self):
        self.previous = _state.params
        _state.params = self.ids

    def __exit__(self, *exc):
        _state.params = self.previous
