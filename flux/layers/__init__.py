"""flux's layers, one module per family; this package states what a layer is.

A layer is a small class with three parts:

* a constructor taking the sizes first (``Dense(3, 2, relu)``, ``Conv((5, 5), 1, 6, relu)``),
  then keyword options, with ``init`` and ``rng`` where it draws weights;
* ``__call__(x)`` on a batch-first array, written in the plain numpy that zygote
  differentiates from source; it checks the input's shape (a `zygote.nograd` helper) and
  says what it expected and what it got;
* ``__repr__`` in constructor form, ``Dense(3 => 2, relu)``, and ``__str__`` adding the
  parameter count (:func:`with_counts`); :func:`signature` builds the repr.

Its parameters are its float array attributes (see `flux.functor`), so `flux.params`,
`flux.setup`, `flux.save` and `flux.f64` need nothing more. The families:

* `flux.layers.basic`: Dense, Chain, Dropout, flatten, and the repr helpers;
* `flux.layers.conv`: Conv and pooling on NHWC images;
* `flux.layers.recurrent`: RNN, LSTM and GRU cells and sequence layers;
* `flux.layers.normalise`: BatchNorm and LayerNorm;
* `flux.layers.embedding`: Embedding.

>>> import numpy as np
>>> from flux.layers import Dense
>>> layer = Dense(3, 2, rng=0)
>>> print(layer)
Dense(3 => 2)  # 8 parameters
>>> layer(np.ones((4, 3), np.float32)).shape
(4, 2)
"""

# The helpers after the layers are for writing new layers, inside this package or outside.
from .basic import (TRAINING, Chain, Dense, Dropout, bias_for, count_parameters, dropout_active,
                    flatten, name_of, signature, testmode, trainmode, with_counts)
from .conv import Conv, GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool
from .embedding import Embedding
from .normalise import BatchNorm, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "Chain", "Dense", "Dropout", "flatten", "testmode", "trainmode",
    "Conv", "GlobalMaxPool", "GlobalMeanPool", "MaxPool", "MeanPool",
    "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell",
    "BatchNorm", "LayerNorm",
    "Embedding",
]
