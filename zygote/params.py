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

    def viewed_by(self, array):
        """The parameters whose memory ``array``, an array that is not one of them, shares:
        a view made by slicing, transposing or reshaping a parameter (its ``.base`` chain
        ends where the parameter's does).

        >>> import numpy as np
        >>> W = np.arange(6.0).reshape(2, 3)
        >>> ps = Params([W])
        >>> [p is W for p in ps.viewed_by(W.T[:, 0])], ps.viewed_by(W.copy())
        ([True], [])
        """
        if getattr(array, "base", None) is None or not self._order:
            return []
        by_root = self.__dict__.get("_by_root")
        if by_root is None or by_root[0] != len(self._order):  # a Params only grows
            table = {}
            for p in self._order:
                table.setdefault(id(_root(p)), []).append(p)
            by_root = self._by_root = (len(self._order), table)
        return [p for p in by_root[1].get(id(_root(array)), ())
                if p is not array and p.dtype == array.dtype and np.may_share_memory(p, array)]

    def __repr__(self):
        shapes = ", ".join(str(tuple(p.shape)) for p in self._order)
        return f"Params([{shapes}])"


def _root(array):
    """The array that owns ``array``'s memory."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _byte_offsets(array):
    """The address of each element of ``array``, in its shape."""
    address = np.array(array.__array_interface__["data"][0], dtype=np.int64)
    for axis, (size, stride) in enumerate(zip(array.shape, array.strides)):
        shape = [1] * array.ndim
        shape[axis] = size
        address = address + (np.arange(size, dtype=np.int64) * stride).reshape(shape)
    return np.broadcast_to(address, array.shape)


def through_view(param, view, cot):
    """The cotangent of ``param`` from ``cot``, the cotangent of ``view``, an array sharing its
    memory: each entry lands on the element of ``param`` at the same address (entries of
    ``view`` outside ``param`` are dropped, and repeated addresses add up).

    >>> import numpy as np
    >>> W = np.zeros((2, 3))
    >>> through_view(W, W.T[1:], np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[0., 1., 3.],
           [0., 2., 4.]])
    """
    at_param = _byte_offsets(param).ravel()
    at_view = _byte_offsets(view).ravel()
    order = np.argsort(at_param, kind="stable")
    sorted_param = at_param[order]
    where = np.minimum(np.searchsorted(sorted_param, at_view), sorted_param.size - 1)
    hit = sorted_param[where] == at_view
    flat = np.zeros(param.size, dtype=np.result_type(param.dtype, np.asarray(cot).dtype))
    np.add.at(flat, order[where[hit]], np.broadcast_to(cot, view.shape).ravel()[hit])
    return flat.reshape(param.shape)


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

    def own(self, *others):
        """Make each gradient array writable and its own (not a parameter, not ``others``, not
        another parameter's gradient), so that an optimiser may update it in place."""
        seen = {id(_root(p)) for p in self.params} | {id(_root(o)) for o in others if isinstance(o, np.ndarray)}
        for key, grad in self._grads.items():
            if isinstance(grad, np.ndarray):
                # a view of a fresh array (W's cotangent laid out as W.T's) is its own already:
                # only memory that a parameter, dy or another gradient also uses is copied
                if not grad.flags.writeable or id(_root(grad)) in seen:
                    grad = self._grads[key] = grad.copy()
                seen.add(id(_root(grad)))

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
    owner = None   # the Params whose ids ``params`` holds, for views of them


_state = _State()


def params_mode():
    """The identity set of parameters when running under ``gradient(f, ps)``, else None."""
    return _state.params


def views_a_param(array):
    """Whether ``array`` is a view of a parameter being differentiated (``params_mode``)."""
    owner = _state.owner
    return owner is not None and bool(owner.viewed_by(array))


class params_scope:
    """Context manager marking that environment arrays in ``ids`` are differentiated, and
    the views of those in ``owner`` (a ``Params``)."""

    def __init__(self, ids, owner=None):
        self.ids = ids
        self.owner = owner

    def __enter__(self):
        self.previous = _state.params, _state.owner
        _state.params, _state.owner = self.ids, self.owner

    def __exit__(self, *exc):
        _state.params, _state.owner = self.previous
