"""The vision transformer that ``python -m flux.examples.mnist --model vit`` trains.

Each 28×28 image is cut into 16 patches of 7×7 pixels, read in rows; a shared ``Dense(49,
width)`` embeds each patch between two ``LayerNorm`` layers, a learned
``PositionalEmbedding`` says where it came from, and ``depth`` pre-norm
:class:`flux.TransformerBlock` layers let the patches attend to each other. A final
``LayerNorm``, the mean over the patches and ``Dense(width, 10)`` give the scores. The
default, 4 blocks of width 64 with 4 heads and an MLP of width 128, has 138_092 parameters.

The norms around the patch embedding are there because a patch's pixels are far from
standardised: a patch of background is all zeros and one across a stroke has values near 1,
so without the first norm the embedding's scale follows the ink, and without the second the
positional embedding (drawn at scale 0.02) would be swamped by it at the start.
"""

from flux import Chain, Dense, LayerNorm, PositionalEmbedding, TransformerBlock

PATCH = 7
SIDE = 28
PATCHES = (SIDE // PATCH) ** 2


def image_patches(x):
    """Flattened images ``(N, 784)`` as sequences of 16 flattened 7×7 patches, ``(N, 16, 49)``.

    Patch ``4 i + j`` holds rows ``7 i`` to ``7 i + 6`` and columns ``7 j`` to ``7 j + 6``.

    >>> import numpy as np
    >>> x = np.arange(784).reshape(1, 784)
    >>> image_patches(x)[0, 1, :3].tolist(), image_patches(x)[0, 4, 0].item()
    ([7, 8, 9], 196)
    """
    n = x.shape[0]
    per_side = SIDE // PATCH
    grid = x.reshape(n, per_side, PATCH, per_side, PATCH).transpose(0, 1, 3, 2, 4)
    return grid.reshape(n, PATCHES, PATCH * PATCH)


def mean_over_patches(h):
    """The mean ``(N, width)`` of a sequence of patch embeddings ``(N, L, width)``."""
    return h.mean(axis=1)


def build_vit(rng, *, width=64, depth=4, nheads=4, hidden=128, dropout=0.0):
    """A vision transformer for MNIST: ``(N, 784)`` images to ``(N, 10)`` scores.

    >>> import numpy as np
    >>> model = build_vit(np.random.default_rng(0), width=8, depth=1, nheads=2, hidden=16)
    >>> model
    Chain(image_patches, LayerNorm(49), Dense(49 => 8), LayerNorm(8), PositionalEmbedding(16 => 8), TransformerBlock(8, nheads=2, hidden=16), LayerNorm(8), mean_over_patches, Dense(8 => 10))
    >>> model(np.zeros((3, 784), np.float32)).shape
    (3, 10)
    """
    blocks = [TransformerBlock(width, nheads, hidden, dropout=dropout, rng=rng)
              for _ in range(depth)]
    return Chain(image_patches, LayerNorm(PATCH * PATCH), Dense(PATCH * PATCH, width, rng=rng),
                 LayerNorm(width), PositionalEmbedding(PATCHES, width, rng=rng), *blocks,
                 LayerNorm(width), mean_over_patches, Dense(width, 10, rng=rng))
