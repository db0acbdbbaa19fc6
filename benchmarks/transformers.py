"""Case: transformers: a ViT training epoch against PyTorch eager, and the memory attention's backward pass keeps.

Epoch time: the vision transformer of ``python -m flux.examples.mnist --model vit`` (16
patches of 7×7 pixels embedded between two ``LayerNorm`` layers, 4 pre-norm blocks of width
64 with 4 heads, MLP width 128; 138_092 parameters) trains on MNIST at batch 128 with Adam(0.001), in flux (``flux.train``) and in
PyTorch eager (the same layers from ``torch.nn``: ``MultiheadAttention`` without biases,
``LayerNorm``, ``Linear``, tanh-approximated ``GELU``). Each child process times
``BATCHES`` batches after a warm-up and scales the time to the 469 batches of an epoch; flux
and torch take turns, at 1 and at 2 threads, so the machine's load falls on both alike.
``flux, unfused`` is flux with the attention weights' rule removed, so that zygote
differentiates ``masked_softmax(q @ kᵀ)`` from source: the rule is kept only as it pays.

Memory: two causal transformer blocks of width 64 with 4 heads on a batch of 16 sequences
of length 64, 128 and 256, float32. A child process per cell, having compiled the model on
a tiny batch, reports how far its peak RSS rises above the model and data for the forward
pass alone, or for a gradient (forward and backward). One ``(16, 4, L, L)`` float32 array of attention weights is 0.25, 1 and 4 MiB.

    python -m benchmarks --cases transformers --out /tmp/bench   # this section alone
    BENCH_THREADS=2 OMP_NUM_THREADS=2 python -m benchmarks.transformers --child vit --framework torch
"""

import argparse
import os
import time

import numpy as np

from . import harness
from .harness import ChildError, Measurement, Skipped
from .report import Bar, Section, Table

BATCH = 128
BATCHES = 40          # timed per child; an epoch is 469
WARMUP = 3
EPOCH_BATCHES = 469   # ceil(60_000 / 128)
LENGTHS = (64, 128, 256)
MEMORY_BATCH = 16
ROUNDS = 2
VIT_FRAMEWORKS = ("flux", "torch")


# -- the vision transformer in each framework --------------------------------------------------


def unfuse_attention():
    """Replace the attention weights' rule by the plain code that zygote differentiates from source."""
    from flux.layers import attention

    def attention_weights(q, k, mask):
        return attention.masked_softmax(q @ np.swapaxes(k, -1, -2), mask)
    attention.attention_weights = attention_weights


def flux_vit_step(images, labels):
    """One ``flux.train`` step on a batch, per call."""
    import flux
    from flux.examples.vit import build_vit
    model = build_vit(np.random.default_rng(0))
    opt, ps = flux.Adam(0.001), flux.params(model)
    targets = flux.onehotbatch(labels, range(10))

    def loss(x, y):
        return flux.logitcrossentropy(model(x), y)

    def step(i):
        batch = slice(i * BATCH, (i + 1) * BATCH)
        flux.train(loss, ps, [(images[batch], targets[batch])], opt, progress=False)
    return step


def torch_vit_step(images, labels):
    """The same model and step in PyTorch eager."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.norm1, self.norm2 = nn.LayerNorm(64), nn.LayerNorm(64)
            self.attention = nn.MultiheadAttention(64, 4, bias=False, batch_first=True)
            self.mlp = nn.Sequential(nn.Linear(64, 128), nn.GELU(approximate="tanh"),
                                     nn.Linear(128, 64))

        def forward(self, x):
            h = self.norm1(x)
            x = x + self.attention(h, h, h, need_weights=False)[0]
            return x + self.mlp(self.norm2(x))

    class ViT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Sequential(nn.LayerNorm(49), nn.Linear(49, 64), nn.LayerNorm(64))
            self.position = nn.Parameter(0.02 * torch.randn(16, 64))
            self.blocks = nn.Sequential(*[Block() for _ in range(4)])
            self.norm, self.head = nn.LayerNorm(64), nn.Linear(64, 10)

        def forward(self, x):
            patches = x.reshape(-1, 4, 7, 4, 7).permute(0, 1, 3, 2, 4).reshape(-1, 16, 49)
            h = self.blocks(self.embed(patches) + self.position)
            return self.head(self.norm(h).mean(dim=1))

    torch.manual_seed(0)
    model = ViT()
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)

    def step(i):
        batch = slice(i * BATCH, (i + 1) * BATCH)
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x_all[batch]), y_all[batch])
        loss.backward()
        opt.step()
    return step


def vit_child(framework, batches, warmup):
    from .mnist import load
    images, labels = load("train")
    images, labels = images[:BATCH * (batches + warmup)], labels[:BATCH * (batches + warmup)]
    if framework == "flux, unfused":
        unfuse_attention()
    builder = torch_vit_step if framework == "torch" else flux_vit_step
    if framework == "torch":
        import torch
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
    step = builder(images, labels)
    for i in range(warmup):
        step(i)
    start = time.perf_counter()
    for i in range(warmup, warmup + batches):
        step(i)
    return {"epoch_seconds": (time.perf_counter() - start) / batches * EPOCH_BATCHES}


# -- memory of attention's backward pass -------------------------------------------------------


def memory_child(length, variant, mode):
    """Peak RSS growth (bytes) of a forward pass (``mode="forward"``) or of a gradient of two
    causal blocks, in a process that has run them only on a tiny batch, to compile them."""
    import flux
    import zygote
    if variant == "unfused":
        unfuse_attention()
    rng = np.random.default_rng(0)
    model = flux.Chain(flux.TransformerBlock(64, 4, causal=True, rng=rng),
                       flux.TransformerBlock(64, 4, causal=True, rng=rng))

    def loss(m, x, weights):
        return np.sum(m(x) * weights)
    tiny = np.ones((1, 4, 64), np.float32)
    zygote.gradient(loss, model, tiny, tiny)
    x = rng.standard_normal((MEMORY_BATCH, length, 64), dtype=np.float32)
    weights = rng.uniform(0.5, 1.5, x.shape).astype(np.float32)
    harness.reset_peak_rss()
    base = harness.peak_rss()
    if mode == "forward":
        loss(model, x, weights)
    else:
        zygote.gradient(loss, model, x, weights)
    return {"growth": harness.peak_rss() - base}


# -- the case -----------------------------------------------------------------------------------


def epoch_cells(settings):
    """Median seconds per epoch over the rounds, per (framework, threads)."""
    batches, warmup = (2, 1) if settings.quick else (BATCHES, WARMUP)
    rows = [(f, t) for t in (1, 2) for f in VIT_FRAMEWORKS] + [("flux, unfused", 1)]
    if settings.quick:
        rows = [(f, 1) for f in VIT_FRAMEWORKS]
    samples = {row: [] for row in rows}
    failures = {}
    for _ in range(1 if settings.quick else ROUNDS):
        for framework, threads in rows:
            if (framework, threads) in failures:
                continue
            # The child reads its thread limit from the environment when numpy loads.
            harness.limit_threads(threads)
            try:
                result = harness.run_child("transformers", ["--child", "vit", "--framework",
                                                            framework, "--batches", batches,
                                                            "--warmup", warmup],
                                           timeout=900)
                samples[(framework, threads)].append(result["epoch_seconds"])
            except ChildError as error:
                failures[(framework, threads)] = Skipped("failed", str(error))
            finally:
                harness.limit_threads(settings.threads)
    return {row: failures.get(row) or Measurement(samples[row]) for row in rows}


def memory_rows(settings):
    rows = []
    for length in LENGTHS[:1] if settings.quick else LENGTHS:
        row = [str(length)]
        for variant in ("fused",) if settings.quick else ("fused", "unfused"):
            for mode in ("forward", "gradient"):
                try:
                    result = harness.run_child("transformers", [
                        "--child", "memory", "--length", length, "--variant", variant,
                        "--mode", mode], timeout=600)
                    row.append(f"{result['growth'] / 2 ** 20:.1f}")
                except ChildError as error:
                    row.append(f"failed: {error}")
        if settings.quick:
            row += ["—", "—"]
        row.append(f"{MEMORY_BATCH * 4 * length * length * 4 / 2 ** 20:.2f}")
        rows.append(row)
    return rows


def seconds(cell):
    if isinstance(cell, Measurement):
        return f"{cell.median:.1f} s ({cell.low:.1f}–{cell.high:.1f})"
    return str(cell)


def run(settings):
    cells = epoch_cells(settings)
    batches, rounds = (2, 1) if settings.quick else (BATCHES, ROUNDS)
    epoch_rows = []
    for framework, threads in cells:
        cell, torch = cells[(framework, threads)], cells.get(("torch", threads))
        over = (f"{cell.median / torch.median:.2f}x" if framework != "torch" and
                isinstance(cell, Measurement) and isinstance(torch, Measurement) else "—")
        epoch_rows.append([framework, str(threads), seconds(cell), over])
    memory = memory_rows(settings)
    bars = [Bar(f"{threads} thread{'s' if threads > 1 else ''}", framework, cell.median,
                cell.low, cell.high)
            for (framework, threads), cell in cells.items() if isinstance(cell, Measurement)]
    return Section(
        key="transformers",
        title="Transformers: a ViT on MNIST, and attention's memory",
        intro=("A vision transformer training epoch on MNIST (`flux.examples.vit`: 4 blocks of "
               "width 64, 4 heads, 16 patches of 7×7; batch 128, Adam) in flux and in PyTorch "
               f"eager, estimated from {batches} timed batches per child process and scaled to "
               f"{EPOCH_BATCHES}; the median and range over {rounds} round(s). Then the peak RSS "
               "that two causal transformer blocks (width 64, 4 heads, batch 16, float32) add "
               "for a forward pass and for a gradient, with the attention weights' rule "
               "(fused) and without it (zygote differentiating the softmax of the matmul)."),
        tables=[Table("ViT epoch time", ["framework", "threads", "seconds per epoch",
                                         "÷ torch"], epoch_rows),
                Table("Peak RSS growth (MiB)", ["L", "forward", "gradient", "forward, unfused",
                                                "gradient, unfused", "one (16, 4, L, L) array"],
                      memory)],
        bars=bars,
        chart="seconds",
        chart_label="ViT seconds per MNIST epoch (median, min–max)",
        data={"epochs": {f"{f} / {t}": c for (f, t), c in cells.items()}, "memory": memory},
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.transformers")
    parser.add_argument("--child", choices=["vit", "memory"], required=True)
    parser.add_argument("--framework", default="flux", choices=[*VIT_FRAMEWORKS, "flux, unfused"])
    parser.add_argument("--batches", type=int, default=BATCHES)
    parser.add_argument("--warmup", type=int, default=WARMUP)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--variant", choices=["fused", "unfused"], default="fused")
    parser.add_argument("--mode", choices=["forward", "gradient"], default="gradient")
    args = parser.parse_args(argv)
    if args.child == "vit":
        harness.child_result(vit_child(args.framework, args.batches, args.warmup))
    else:
        harness.child_result(memory_child(args.length, args.variant, args.mode))


if __name__ == "__main__":
    main()
