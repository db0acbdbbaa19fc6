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
from .layers.attention import (MultiHeadAttention, PositionalEmbedding, SinusoidalEmbedding,
                        TransformerBlock, causal_mask, dot_product_attention, masked_softmax,
                        sinusoidal_positions)
from .activations import (celu, elu, gelu, hardsigmoid, hardswish, hardtanh, hardσ, identity,
                          leakyrelu, lisht, logcosh, logsigmoid, logsoftmax, logsumexp, logσ, mish,
                          relu, relu6, rrelu, selu, sigmoid, softmax, softplus, softshrink,
                          softsign, swish, tanh, tanhshrink, trelu, σ)
from .layers.conv import Conv, GlobalMaxPool, GlobalMeanPool, MaxPool, MeanPool
from .callbacks import early_stopping, plateau
from .data import DataLoader
from .flat import destructure
from .explicit import gradient, withgradient
from .functor import f32, f64, fmap, modules, params, trainable
from .functor import params as parameters   # PyTorch's name
from .initialisers import (glorot_normal, glorot_uniform, kaiming_normal, kaiming_uniform, ones32,
                           orthogonal, randn32, truncated_normal, zeros32)
from .seeding import seed
from .layers.basic import Chain, Dense, Dropout, flatten
from .layers.mode import testmode, trainmode
from .layers.normalise import BatchNorm, LayerNorm
from .layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .layers.embedding import Embedding
from .layers import (AdaptiveMaxPool, AdaptiveMeanPool, AlphaDropout, Bilinear, ConvTranspose,
                     CrossCor, DepthwiseConv, GroupNorm, InstanceNorm, Maxout, PairwiseFusion,
                     Parallel, PixelShuffle, Scale, SkipConnection, Upsample)
from .losses import (LossShapeError, binary_focal_loss, binarycrossentropy, crossentropy,
                     dice_coeff_loss, focal_loss, hinge_loss, huber_loss, kldivergence,
                     label_smoothing, logitbinarycrossentropy, logitcrossentropy, mae, mse, msle,
                     poisson_loss, siamese_contrastive_loss, squared_hinge_loss, tversky_loss)
from .optimise import (ADAM, Adam, AdamW, Descent, Fused, Leaf, Momentum, Nesterov, Optimiser,
                       RMSProp, setup, update)
from .model_state import loadmodel, state
from .saving import LoadError, ModelNameError, load, save
from .shapes import outputsize
from .optimise import (AMSGrad, AdaBelief, AdaDelta, AdaGrad, AdaMax, ClipGrad, ClipNorm,
                       CosAnneal, Exp, Lion, NAdam, OAdam, OptimiserChain, RAdam, SignDecay, Step,
                       WeightDecay, adjust, freeze, thaw)
from .train import NonFiniteLossError, epochs, throttle, train
from .utils import accuracy, onecold, onehot, onehotbatch

__all__ = [
    "datasets", "distributed", "nnlib",
    "celu", "elu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "hardσ", "identity",
    "leakyrelu", "lisht", "logcosh", "logsigmoid", "logsoftmax", "logsumexp", "logσ", "mish",
    "relu", "relu6", "rrelu", "selu", "sigmoid", "softmax", "softplus", "softshrink",
    "softsign", "swish", "tanh", "tanhshrink", "trelu", "σ",
    "MultiHeadAttention", "PositionalEmbedding", "SinusoidalEmbedding", "TransformerBlock",
    "causal_mask", "dot_product_attention", "masked_softmax", "sinusoidal_positions",
    "Conv", "GlobalMaxPool", "GlobalMeanPool", "MaxPool", "MeanPool",
    "early_stopping", "plateau", "DataLoader", "destructure", "gradient", "withgradient",
    "outputsize", "parameters",
    "f32", "f64", "fmap", "modules", "params", "trainable",
    "glorot_normal", "glorot_uniform", "kaiming_normal", "kaiming_uniform", "ones32",
    "orthogonal", "randn32", "truncated_normal", "zeros32", "seed",
    "Chain", "Dense", "Dropout", "flatten", "testmode", "trainmode",
    "BatchNorm", "LayerNorm",
    "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "RNNCell",
    "Embedding",
    "AdaptiveMaxPool", "AdaptiveMeanPool", "AlphaDropout", "Bilinear", "ConvTranspose", "CrossCor",
    "DepthwiseConv", "GroupNorm", "InstanceNorm", "Maxout", "PairwiseFusion", "Parallel",
    "PixelShuffle", "Scale", "SkipConnection", "Upsample",
    "LossShapeError", "binary_focal_loss", "binarycrossentropy", "crossentropy",
    "dice_coeff_loss", "focal_loss", "hinge_loss", "huber_loss", "kldivergence",
    "label_smoothing", "logitbinarycrossentropy", "logitcrossentropy", "mae", "mse", "msle",
    "poisson_loss", "siamese_contrastive_loss", "squared_hinge_loss", "tversky_loss",
    "ADAM", "Adam", "AdamW", "Descent", "Fused", "Leaf", "Momentum", "Nesterov", "Optimiser",
    "RMSProp", "setup", "update",
    "LoadError", "ModelNameError", "load", "loadmodel", "save", "state",
    "AMSGrad", "AdaBelief", "AdaDelta", "AdaGrad", "AdaMax", "ClipGrad", "ClipNorm", "CosAnneal",
    "Exp", "Lion", "NAdam", "OAdam", "OptimiserChain", "RAdam", "SignDecay", "Step", "WeightDecay",
    "adjust", "freeze", "thaw",
    "NonFiniteLossError", "epochs", "throttle", "train",
    "accuracy", "onecold", "onehot", "onehotbatch",
]
