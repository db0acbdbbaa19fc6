"""Case: the gradient of two convolution layers on a batch of MNIST digits, flux against PyTorch and numpy.

The network is the convolutional half of the LeNet-5 style model of ``flux.examples.mnist
--model cnn``: ``Conv((5, 5), 1 => 6, relu)``, ``MaxPool((2, 2))``, ``Conv((5, 5), 6 => 16,
relu)``, ``MaxPool((2, 2))``, on 128 test images, float32. The scalar is a fixed weighted
sum of the ``(128, 4, 4, 16)`` output; each contestant computes it and its gradient in the
four parameter arrays (not in the images):

- flux: ``zygote.gradient`` of the loss of a ``Chain``, explicit style;
- torch: the same layers in ``torch.nn.functional`` on NCHW tensors, eager, autograd;
- hand-written: the forward pass in numpy (im2col and one GEMM per layer, as flux does)
  and its backward pass derived by hand, the limit that flux's generated code is held to.

Every gradient is compared with the hand-written one before anything is timed.
"""

import numpy as np

from . import harness, peers
from .harness import Measurement, Skipped
from .report import Bar, Footnotes, Section, Table, Target, measurement

BATCH = 128
SEED = 0
CONTESTANTS = ("flux", "torch", "hand-written")


# -- the shared problem ------------------------------------------------------------------------


def problem():
    """Images ``(N, 28, 28, 1)``, the parameters ``(w1, b1, w2, b2)`` (kernels ``(kh, kw, in,
    out)``) and the output weights, all float32."""
    from .mnist import load
    images, _ = load("test")
    x = np.ascontiguousarray(images[:BATCH].reshape(BATCH, 28, 28, 1))
    rng = np.random.default_rng(SEED)
    w1 = rng.uniform(-0.4, 0.4, (5, 5, 1, 6)).astype(np.float32)
    b1 = rng.uniform(-0.1, 0.1, 6).astype(np.float32)
    w2 = rng.uniform(-0.15, 0.15, (5, 5, 6, 16)).astype(np.float32)
    b2 = rng.uniform(-0.1, 0.1, 16).astype(np.float32)
    weights = rng.uniform(0.5, 2.0, (BATCH, 4, 4, 16)).astype(np.float32)
    return x, (w1, b1, w2, b2), weights


# -- contestants -------------------------------------------------------------------------------


def flux_gradient(x, params, weights):
    import flux
    import zygote
    model = flux.Chain(flux.Conv((5, 5), 1, 6, flux.relu), flux.MaxPool((2, 2)),
                       flux.Conv((5, 5), 6, 16, flux.relu), flux.MaxPool((2, 2)))
    model[0].weight, model[0].bias, model[2].weight, model[2].bias = (p.copy() for p in params)

    def loss(m):
        return np.sum(m(x) * weights)

    def gradient():
        (g,) = zygote.gradient(loss, model)
        first, second = g["layers"][0], g["layers"][2]
        return first["weight"], first["bias"], second["weight"], second["bias"]
    return gradient


def torch_gradient(x, params, weights):
    torch = peers.load("torch")
    F = torch.nn.functional
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    wt = torch.from_numpy(weights).permute(0, 3, 1, 2).contiguous()
    w1, b1, w2, b2 = params
    leaves = [torch.from_numpy(np.ascontiguousarray(w1.transpose(3, 2, 0, 1))),
              torch.from_numpy(b1.copy()),
              torch.from_numpy(np.ascontiguousarray(w2.transpose(3, 2, 0, 1))),
              torch.from_numpy(b2.copy())]
    leaves = [leaf.requires_grad_(True) for leaf in leaves]

    def gradient():
        k1, c1, k2, c2 = leaves
        h = F.max_pool2d(F.relu(F.conv2d(xt, k1, c1)), 2)
        out = F.max_pool2d(F.relu(F.conv2d(h, k2, c2)), 2)
        return torch.autograd.grad((out * wt).sum(), leaves)
    return gradient


def as_numpy(grads):
    """Gradients as numpy arrays in flux's layout (torch's kernels ``(out, in, kh, kw)`` transposed)."""
    if not hasattr(grads[0], "detach"):
        return list(grads)
    return [g.detach().numpy().transpose(2, 3, 1, 0) if g.ndim == 4 else g.detach().numpy()
            for g in grads]


def pool_forward(z):
    """2×2 max pooling of an NHWC array with even sides, and the mask of each window's winner
    (the first maximum in row-major order, as torch and flux choose)."""
    n, h, w, c = z.shape
    tiles = z.reshape(n, h // 2, 2, w // 2, 2, c)
    top = np.maximum(np.maximum(tiles[:, :, 0, :, 0], tiles[:, :, 0, :, 1]),
                     np.maximum(tiles[:, :, 1, :, 0], tiles[:, :, 1, :, 1]))
    mask = np.empty(tiles.shape, bool)
    free = np.ones(top.shape, bool)
    for p in (0, 1):
        for q in (0, 1):
            hit = np.equal(tiles[:, :, p, :, q], top, out=mask[:, :, p, :, q])
            hit &= free
            free &= ~hit
    return top, mask


def conv_forward(x, w, b):
    """im2col and one GEMM: the output ``(N, OH, OW, out)`` and the window matrix."""
    from flux.nnlib import windows
    kh, kw, cin, cout = w.shape
    view = windows(x, (kh, kw))
    n, oh, ow = view.shape[:3]
    cols = view.reshape(n * oh * ow, kh * kw * cin)
    return (cols @ w.reshape(-1, cout) + b).reshape(n, oh, ow, cout), cols


def hand_gradient(x, params, weights):
    from flux.nnlib import window_sum
    w1, b1, w2, b2 = (p.copy() for p in params)

    def gradient():
        z1, cols1 = conv_forward(x, w1, b1)
        h1, mask1 = pool_forward(np.maximum(z1, 0))
        z2, cols2 = conv_forward(h1, w2, b2)
        _, mask2 = pool_forward(np.maximum(z2, 0))
        dz2 = (mask2 * weights[:, :, None, :, None, :]).reshape(z2.shape) * (z2 > 0)
        dz2 = dz2.reshape(-1, 16)
        dw2, db2 = (cols2.T @ dz2).reshape(w2.shape), dz2.sum(axis=0)
        dh1 = window_sum((dz2 @ w2.reshape(-1, 16).T).reshape(len(x), 8, 8, 5, 5, 6), h1.shape)
        dz1 = (mask1 * dh1[:, :, None, :, None, :]).reshape(z1.shape) * (z1 > 0)
        dz1 = dz1.reshape(-1, 6)
        return (cols1.T @ dz1).reshape(w1.shape), dz1.sum(axis=0), dw2, db2
    return gradient


BUILDERS = {"flux": flux_gradient, "torch": torch_gradient, "hand-written": hand_gradient}


def disagreement(got, want):
    """Why the gradient ``got`` differs from ``want`` (float32 tolerance), or None."""
    for index, (a, b) in enumerate(zip(as_numpy(got), want)):
        if a.shape != b.shape:
            return f"gradient {index} has shape {a.shape}, expected {b.shape}"
        if a.dtype != np.float32:
            return f"gradient {index} is {a.dtype}, not float32"
        scale = float(np.max(np.abs(b)))
        error = float(np.max(np.abs(a - b)))
        if error > 1e-4 * scale:
            return f"gradient {index} differs from the hand-written one by {error:.2g}"
    return None


# -- the case ----------------------------------------------------------------------------------


def run(settings):
    x, params, weights = problem()
    reference = hand_gradient(x, params, weights)()
    cells, contestants = {}, {}
    for name in CONTESTANTS:
        try:
            fn = BUILDERS[name](x, params, weights)
            problem_text = disagreement(fn(), reference)
            if problem_text:
                cells[name] = Skipped("wrong", problem_text)
                continue
            contestants[name] = fn
        except Exception as error:  # noqa: BLE001 -- a failing contestant is a cell
            cells[name] = harness.skipped_from(error)
    cells.update(harness.compare(contestants, settings))
    return section(cells, settings)


def torch_threads():
    """The thread count torch runs with here, or None when torch is missing."""
    try:
        return peers.load("torch").get_num_threads()
    except harness.Missing:
        return None


def section(cells, settings):
    notes = Footnotes()
    flux = cells["flux"]
    rows, bars = [], []
    for name in CONTESTANTS:
        cell = cells[name]
        over = harness.ratio(flux, cell) if name != "flux" else None
        rows.append([name, measurement(cell, notes),
                     "—" if over is None else f"{over.median:.3g}x ({over.low:.3g}x–{over.high:.3g}x)"])
        if isinstance(cell, Measurement):
            bars.append(Bar(name, "milliseconds per gradient", 1e3 * cell.median,
                            1e3 * cell.low, 1e3 * cell.high))
    over_torch = harness.ratio(flux, cells["torch"])
    over_hand = harness.ratio(flux, cells["hand-written"])
    missing = str(flux if isinstance(flux, Skipped) else cells["torch"])
    threads = torch_threads()
    return Section(
        key="conv",
        title="Convolutions: LeNet-5 feature extractor",
        intro=(f"Gradient of `Conv((5, 5), 1 => 6, relu)`, `MaxPool((2, 2))`, `Conv((5, 5), "
               f"6 => 16, relu)`, `MaxPool((2, 2))` on {BATCH} MNIST test images (float32, "
               f"NHWC for flux and numpy, NCHW for torch) in the four parameter arrays, the "
               f"output reduced by a fixed weighted sum. flux: `zygote.gradient` of a Chain; "
               f"torch: eager `torch.nn.functional` with autograd, "
               f"{threads if threads is not None else settings.threads} thread(s); "
               f"hand-written: im2col and one GEMM per layer with a hand-derived backward "
               f"pass. {settings.threads} BLAS thread(s) for all; \"flux ÷ this\" pairs "
               f"the calls of the same round."),
        tables=[Table("Forward and backward pass", ["contestant", "time", "flux ÷ this"],
                      rows, notes.lines())],
        bars=bars,
        chart="seconds",
        chart_label="milliseconds per gradient (median, min–max)",
        targets=[
            Target("LeNet-5 convolutions, forward + backward: flux ÷ PyTorch eager",
                   over_torch.median if over_torch else None, 2.0, "<=", why_missing=missing),
            Target("LeNet-5 convolutions, forward + backward: flux ÷ hand-written numpy",
                   over_hand.median if over_hand else None, 1.3, "<=",
                   why_missing=str(flux if isinstance(flux, Skipped) else cells["hand-written"])),
        ],
        summary={label: ratio.median for label, ratio in
                 (("torch", over_torch), ("hand-written", over_hand)) if ratio is not None},
        data={"cells": cells, "threads": {"blas": settings.threads, "torch": threads}},
    )
