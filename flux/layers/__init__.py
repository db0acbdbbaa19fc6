"""flux's layers, one module per family; this package states what a layer is.

A layer is a small class with three parts:

* a constructor taking the sizes first (``Dense(3, 2, relu)``, ``Conv((5, 5), 1, 6, relu)``),
  then keyword options, with ``init`` and ``rng`` where it draws weights;
* ``__call__(x)`` on a batch-first array, written in the plain numpy that zygote
  differentiates from source; a layer with weights checks its input's shape first, in a
  `zygote.nograd` helper whose error says what it expected and what it got;
* ``__repr__`` in constructor form, ``Dense(3 => 2, relu)``, and ``__str__`` adding the
  parameter count (:func:`with_counts`); :func:`signature` builds the repr.

Its parameters are its float array attributes (see `flux.functor`), so `flux.params`,
`flux.setup`, `flux.save` and `flux.f64` need nothing more. The families:

* `flux.layers.basic`: Dense, Chain, Dropout and flatten;
* `flux.layers.containers`: SkipConnection, Parallel, PairwiseFusion and Maxout;
* `flux.layers.affine`: Scale and Bilinear;
* `flux.layers.alpha_dropout`: AlphaDropout;
* `flux.layers.conv`: Conv and pooling on NHWC images;
* `flux.layers.conv_variants`: ConvTranspose, DepthwiseConv and CrossCor;
* `flux.layers.resample`: Upsample, PixelShuffle and the adaptive pools;
* `flux.layers.recurrent`: RNN, LSTM and GRU cells and sequence layers;
* `flux.layers.normalise`: BatchNorm and LayerNorm;
* `flux.layers.sample_norm`: GroupNorm and InstanceNorm;
* `flux.layers.embedding`: Embedding;
* `flux.layers.mode`: train and test mode, which Dropout and BatchNorm consult;
* `flux.layers.show`: the repr in constructor form and the parameter counts.

>>> import numpy as np
>>> from flux.layers import Dense
>>> layer = Dense(3, 2, rng=0)
>>> print(layer)
Dense(3 => 2)  # 8 parameters
>>> layer(np.ones((4, 3), np.float32)).shape
(4, 2)
"""

from .affine import Bilinear, Scale
from .alpha_dropout import AlphaDropout
from .attention import (MultiHeadAttention, PositionalEmbedding, SinusoidalEmbedding,
                        TransformerBlock)
from .basic import Chain, Dense, Dropout, bias_for, flatten
from .containers import Maxout, PairwiseFusion, Parallel, SkipConnection
from .conv_variants import ConvTranspose, CrossCor, DepthwiseConv
from .resample import AdaptiveMaxPool, AdaptiveMeanPool, PixelShuffle, Upsample
from .sample_norm import GroupNorm, InstanceNorm
from .conv import Conv, GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool
from .embedding import Embedding
from .mode import is_active, testmode, trainmode, training
from .normalise import BatchNorm, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .show import count_parameters, name_of, signature, with_counts

__all__ = [
    "MultiHeadAttention", "PositionalEmbedding", "SinusoidalEmbedding", "TransformerBlock",
    "Chain", "Dense", "Dropout", "flatten", "testmode", "trainmode",
    "Conv", "GlobalMaxPool", "GlobalMeanPool", "MaxPool", "MeanPool",
    "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell",
    "BatchNorm", "LayerNorm",
    "Embedding",
    "SkipConnection", "Parallel", "PairwiseFusion", "Maxout", "Scale", "Bilinear", "AlphaDropout",
    "ConvTranspose", "DepthwiseConv", "CrossCor", "Upsample", "PixelShuffle", "AdaptiveMeanPool",
    "AdaptiveMaxPool", "GroupNorm", "InstanceNorm",
    # for writing layers, inside this package or outside it
    "signature", "with_counts", "name_of", "count_parameters", "bias_for", "is_active", "training",
]
