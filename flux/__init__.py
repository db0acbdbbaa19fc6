"""flux: a Flux.jl-style neural-network library whose models zygote differentiates from source.

The package namespace re-exports the public names of its modules:

>>> import numpy as np
>>> from flux import Chain, Dense, relu, logitcrossentropy, onehotbatch
>>> model = Chain(Dense(4, 8, relu, rng=0), Dense(8, 3, rng=1))
>>> x, y = np.ones((2, 4), np.float32), onehotbatch([0, 2], range(3))
>>> bool(logitcrossentropy(model(x), y) > 0)
True
"""

from . import datasets, distributed, nnlib
from .activations import (elu, gelu, identity, leakyrelu, logsoftmax, logsumexp, relu, sigmoid, softmax,
                          softplus, swish, tanh, σ)
from .layers.conv import Conv, GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool
from .data import DataLoader
from .functor import f32, f64, fmap, modules, params, trainable
from .initialisers import glorot_normal, glorot_uniform, ones32, randn32, zeros32
from .layers.basic import Chain, Dense, Dropout, flatten
from .layers.mode import testmode, trainmode
from .layers.normalise import BatchNorm, LayerNorm
from .layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .layers.embedding import Embedding
from .layers import (AdaptiveMaxPool, AdaptiveMeanPool, AlphaDropout, Bilinear, ConvTranspose,
                     CrossCor, DepthwiseConv, GroupNorm, InstanceNorm, Maxout, PairwiseFusion,
                     Parallel, PixelShuffle, Scale, SkipConnection, Upsample)
from .losses import (binarycrossentropy, crossentropy, logitbinarycrossentropy,
                     logitcrossentropy, mae, mse)
from .optimise import (ADAM, Adam, AdamW, Descent, Fused, Leaf, Momentum, Nesterov, Optimiser,
                       RMSProp, setup, update)
from .optimise import (AMSGrad, AdaBelief, AdaDelta, AdaGrad, AdaMax, ClipGrad, ClipNorm,
                       CosAnneal, Exp, Lion, NAdam, OAdam, OptimiserChain, RAdam, SignDecay, Step,
                       WeightDecay, adjust, freeze, thaw)
from .saving import LoadError, load, save
from .train import NonFiniteLossError, epochs, throttle, train
from .utils import accuracy, onecold, onehot, onehotbatch

__all__ = [
    "datasets", "distributed", "nnlib",
    "elu", "gelu", "identity", "leakyrelu", "logsoftmax", "logsumexp", "relu", "sigmoid", "softmax",
    "softplus", "swish", "tanh", "σ",
    "Conv", "GlobalMaxPool", "GlobalMeanPool", "MaxPool", "MeanPool",
    "DataLoader",
    "f32", "f64", "fmap", "modules", "params", "trainable",
    "glorot_normal", "glorot_uniform", "ones32", "randn32", "zeros32",
    "Chain", "Dense", "Dropout", "flatten", "testmode", "trainmode",
    "BatchNorm", "LayerNorm",
    "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell",
    "Embedding",
    "AdaptiveMaxPool", "AdaptiveMeanPool", "AlphaDropout", "Bilinear", "ConvTranspose", "CrossCor",
    "DepthwiseConv", "GroupNorm", "InstanceNorm", "Maxout", "PairwiseFusion", "Parallel",
    "PixelShuffle", "Scale", "SkipConnection", "Upsample",
    "binarycrossentropy", "crossentropy", "logitbinarycrossentropy", "logitcrossentropy",
    "mae", "mse",
    "ADAM", "Adam", "AdamW", "Descent", "Fused", "Leaf", "Momentum", "Nesterov", "Optimiser",
    "RMSProp", "setup", "update",
    "AMSGrad", "AdaBelief", "AdaDelta", "AdaGrad", "AdaMax", "ClipGrad", "ClipNorm", "CosAnneal",
    "Exp", "Lion", "NAdam", "OAdam", "OptimiserChain", "RAdam", "SignDecay", "Step", "WeightDecay",
    "adjust", "freeze", "thaw",
    "LoadError", "load", "save",
    "NonFiniteLossError", "epochs", "throttle", "train",
    "accuracy", "onecold", "onehot", "onehotbatch",
]
