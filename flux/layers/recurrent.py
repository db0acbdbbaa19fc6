"""Recurrent layers: one-step cells (RNNCell, LSTMCell, GRUCell) and their loops over time.

A cell maps one step's input ``x_t`` ``(N, in)`` and a state to ``(new_state, output)``.
A sequence layer runs its cell along the time axis of ``x`` ``(N, T, in)`` (batch first,
then time) and returns every step's output, ``(N, T, hidden)``. The loop over time is plain
Python, which zygote differentiates like any other loop.

Each cell keeps its gate weights fused: ``weight_ih`` ``(gates·hidden, in)``, ``weight_hh``
``(gates·hidden, hidden)`` and ``bias`` ``(gates·hidden,)``, so a step costs one matrix
product with the state, and the sequence layers project the inputs of all steps at once.
"""

import numpy as np

import zygote

from ..activations import sigmoid, tanh
from ..initialisers import as_rng, glorot_uniform
from .mode import Modes
from .show import name_of, with_counts

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "RNN", "LSTM", "GRU"]


def check_input(cell, x, ndim, layout):
    """Raise a ``ValueError`` unless ``x`` has ``ndim`` axes, the input width last, and a step."""
    shape = np.shape(x)
    if len(shape) != ndim or shape[-1] != cell.in_features or 0 in shape[:-1]:
        raise ValueError(f"{cell!r} expects input of shape {layout.format(cell.in_features)}, "
                         f"but received an array of shape {shape}")


def zero_state(cell, x):
    """The default initial state: zeros ``(N, hidden)`` in the dtype of ``x`` and the weights."""
    h = np.zeros((np.shape(x)[0], cell.hidden), np.result_type(x, cell.weight_hh))
    if isinstance(cell, LSTMCell):
        return h, np.zeros_like(h)
    return h


zygote.nograd(check_input, zero_state)


def draw(init, dims, rng):
    """``init(*dims)``, passing ``rng`` only when one was given (as Dense does)."""
    return init(*dims) if rng is None else init(*dims, rng=rng)


class Cell(Modes):
    """What the three cells share: fused weights, the one-step call, and the repr."""

    gates = 1

    def __init__(self, in_features, hidden, *, init=glorot_uniform, rng=None):
        rng = None if rng is None else as_rng(rng)
        self.weight_ih = draw(init, (self.gates * hidden, in_features), rng)
        self.weight_hh = draw(init, (self.gates * hidden, hidden), rng)
        self.bias = np.zeros(self.gates * hidden, self.weight_ih.dtype)

    @property
    def in_features(self):
        return self.weight_ih.shape[1]

    @property
    def hidden(self):
        return self.weight_hh.shape[1]

    def __call__(self, x, state=None):
        check_input(self, x, 2, "(N, {})")
        if state is None:
            state = zero_state(self, x)
        return self.recur(x @ self.weight_ih.T + self.bias, state)

    def __repr__(self):
        return f"{type(self).__name__}({self.in_features} => {self.hidden})"

    def __str__(self):
        return with_counts(self)


class RNNCell(Cell):
    """One step of an Elman network: ``h' = act(W_ih x + W_hh h + b)``, returned as ``(h', h')``.

    ``weight_ih`` is ``(hidden, in)``, ``weight_hh`` ``(hidden, hidden)``, both drawn by
    ``init`` (float32 Glorot uniform); ``bias`` starts at zero. ``state`` defaults to zeros.

    >>> import numpy as np
    >>> cell = RNNCell(3, 5, rng=0)
    >>> cell
    RNNCell(3 => 5, tanh)
    >>> h, y = cell(np.ones((2, 3), np.float32))
    >>> h.shape, y is h, h.dtype
    ((2, 5), True, dtype('float32'))
    """

    def __init__(self, in_features, hidden, act=tanh, *, init=glorot_uniform, rng=None):
        super().__init__(in_features, hidden, init=init, rng=rng)
        self.act = act

    def recur(self, projected, h):
        """One step from the input's projection ``W_ih x + b`` and the state ``h``."""
        h_new = self.act(projected + h @ self.weight_hh.T)
        return h_new, h_new

    def __repr__(self):
        return f"RNNCell({self.in_features} => {self.hidden}, {name_of(self.act)})"


class LSTMCell(Cell):
    """One step of a long short-term memory: state ``(h, c)``, output ``h'``.

    With ``[i, f, g, o] = W_ih x + W_hh h + b`` (input, forget, cell and output gates, in
    that order along the fused axis)::

        c' = σ(f) c + σ(i) tanh(g)
        h' = σ(o) tanh(c')

    and the call returns ``((h', c'), h')``. ``weight_ih`` is ``(4 hidden, in)`` and
    ``weight_hh`` ``(4 hidden, hidden)``, drawn by ``init``; ``bias`` is zero except for the
    forget gate's, which starts at 1 so that the memory is kept until training learns to
    drop it. ``state`` defaults to zeros.

    >>> import numpy as np
    >>> cell = LSTMCell(3, 5, rng=0)
    >>> (h, c), y = cell(np.ones((2, 3), np.float32))
    >>> h.shape, c.shape, y is h
    ((2, 5), (2, 5), True)
    >>> print(cell)
    LSTMCell(3 => 5)  # 180 parameters
    """

    gates = 4

    def __init__(self, in_features, hidden, *, init=glorot_uniform, rng=None):
        super().__init__(in_features, hidden, init=init, rng=rng)
        self.bias[hidden:2 * hidden] = 1

    def recur(self, projected, state):
        """One step from the input's projection ``W_ih x + b`` and the state ``(h, c)``."""
        h, c = state
        i, f, g, o = np.split(projected + h @ self.weight_hh.T, 4, axis=-1)
        c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h_new = sigmoid(o) * np.tanh(c_new)
        return (h_new, c_new), h_new


class GRUCell(Cell):
    """One step of a gated recurrent unit: ``h' = (1 - z) n + z h``, returned as ``(h', h')``.

    With ``[x_r, x_z, x_n] = W_ih x + b`` and ``[h_r, h_z, h_n] = W_hh h`` (reset, update
    and candidate parts, in that order)::

        r = σ(x_r + h_r),  z = σ(x_z + h_z),  n = tanh(x_n + r h_n)

    as in Flux (one bias, on the input side). ``weight_ih`` is ``(3 hidden, in)``,
    ``weight_hh`` ``(3 hidden, hidden)``, drawn by ``init``; ``bias`` starts at zero.

    >>> import numpy as np
    >>> h, y = GRUCell(3, 5, rng=0)(np.ones((2, 3), np.float32))
    >>> h.shape
    (2, 5)
    """

    gates = 3

    def recur(self, projected, h):
        """One step from the input's projection ``W_ih x + b`` and the state ``h``."""
        split = 2 * self.hidden
        x_rz, x_n = np.split(projected, [split], axis=-1)
        h_rz, h_n = np.split(h @ self.weight_hh.T, [split], axis=-1)
        r, z = np.split(sigmoid(x_rz + h_rz), 2, axis=-1)
        n = np.tanh(x_n + r * h_n)
        h_new = n + z * (h - n)
        return h_new, h_new


class Recurrent(Modes):
    """Run ``cell`` along the time axis of ``x`` ``(N, T, in)`` and return ``(N, T, hidden)``.

    ``x`` is batch first, then time; the result holds every step's output (``[:, -1]`` is
    the last). The initial ``state`` defaults to zeros; pass one (``h``, or ``(h, c)`` for
    an LSTM, each ``(N, hidden)``) to start elsewhere. A state of shape ``(hidden,)``
    broadcasts over the batch, so a learnable initial state is a parameter of the enclosing
    model passed in here; it gets a gradient like any other argument. The parameters live
    in ``cell``.
    """

    def __call__(self, x, state=None):
        cell = self.cell
        check_input(cell, x, 3, "(N, T, {}) (batch, time, features)")
        if state is None:
            state = zero_state(cell, x)
        # The input projection of every step in one matrix product, time first so that the
        # loop below walks whole (N, gates·hidden) blocks.
        projected = np.swapaxes(x, 0, 1) @ cell.weight_ih.T + cell.bias
        outputs = []
        for step in projected:
            state, y = cell.recur(step, state)
            outputs.append(y)
        return np.stack(outputs, axis=1)

    def __repr__(self):
        inner = repr(self.cell)
        return type(self).__name__ + inner[inner.index("("):]

    def __str__(self):
        return with_counts(self)


class RNN(Recurrent):
    """An `RNNCell` over a sequence: ``h_t = act(W_ih x_t + W_hh h_{t-1} + b)``, ``(N, T, hidden)``.

    Shapes and the initial state are as described in `Recurrent`.

    >>> import numpy as np
    >>> layer = RNN(3, 5, rng=0)
    >>> layer
    RNN(3 => 5, tanh)
    >>> layer(np.ones((2, 7, 3), np.float32)).shape
    (2, 7, 5)
    """

    def __init__(self, in_features, hidden, act=tanh, *, init=glorot_uniform, rng=None):
        self.cell = RNNCell(in_features, hidden, act, init=init, rng=rng)


class LSTM(Recurrent):
    """An `LSTMCell` over a sequence, returning the hidden states ``h_t``, ``(N, T, hidden)``.

    Shapes and the initial state ``(h, c)`` are as described in `Recurrent`.

    >>> import numpy as np
    >>> layer = LSTM(3, 5, rng=0)
    >>> print(layer)
    LSTM(3 => 5)  # 180 parameters
    >>> x = np.ones((2, 7, 3), np.float32)
    >>> layer(x).shape
    (2, 7, 5)
    >>> h0 = np.full(5, 0.5, np.float32)
    >>> layer(x, (h0, h0))[:, -1].shape
    (2, 5)
    """

    def __init__(self, in_features, hidden, *, init=glorot_uniform, rng=None):
        self.cell = LSTMCell(in_features, hidden, init=init, rng=rng)


class GRU(Recurrent):
    """A `GRUCell` over a sequence, returning the hidden states ``h_t``, ``(N, T, hidden)``.

    Shapes and the initial state are as described in `Recurrent`.

    >>> import numpy as np
    >>> GRU(3, 5, rng=0)(np.ones((2, 7, 3), np.float32)).shape
    (2, 7, 5)
    """

    def __init__(self, in_features, hidden, *, init=glorot_uniform, rng=None):
        self.cell = GRUCell(in_features, hidden, init=init, rng=rng)
