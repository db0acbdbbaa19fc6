"""A character-level language model: a small decoder-only transformer trained on Python's own sources.

    python -m flux.examples.charlm                     # 8 epochs on 300_000 characters
    python -m flux.examples.charlm --epochs 2 --chars 50000 --sample 200

The text is the running interpreter's standard library (``Lib/*.py``, in name order, up to
``--chars`` characters), so every machine has it without a download; the last tenth is held
out. Characters outside printable ASCII read as ``?``. The model embeds each character,
adds a learned position, and runs ``--depth`` causal :class:`flux.TransformerBlock` layers
(each token sees only itself and earlier ones), then a ``LayerNorm`` and a ``Dense`` layer
to scores over the vocabulary. Training takes windows of ``--context`` characters and
learns to predict each next character with ``logitcrossentropy``.

After each epoch the run prints the mean training loss and the bits per character on the
held-out text (``log2`` of the probability the model gives each next character, averaged,
negated); it saves ``OUT/model.npz``, with matplotlib plots ``OUT/curves.png``, and ends by
sampling ``--sample`` characters from the model, prompted with ``--prompt``.

What the default reaches: 2.62 held-out bits per character after the first epoch and 1.48
after the eighth (guessing uniformly among the 96 characters costs 6.58), with samples that
have Python's indentation, ``self.``, ``if ...:`` and ``return`` but words half right. On a
lightly loaded 2-core machine at one BLAS thread an epoch over 60_000 characters took 4 to
6 s, which scales to about half a minute an epoch for the default and a few minutes for the
run; on the same machine shared with other work (load average 12 to 14) the default took
19 minutes, about 3 minutes an epoch.
"""

import argparse
import math
import sysconfig
import time
from pathlib import Path

import numpy as np
import zygote

import flux
from flux.examples.flags import non_negative, positive
from flux.examples.outputs import pyplot, save_run
from flux import (Adam, Chain, DataLoader, Dense, Embedding, LayerNorm, PositionalEmbedding,
                  TransformerBlock, logitcrossentropy)

UNKNOWN = "?"
VOCABULARY = "\n" + "".join(chr(c) for c in range(32, 127))   # printable ASCII and newline
CODES = {c: i for i, c in enumerate(VOCABULARY)}


def stdlib_text(chars, directory=None):
    """The first ``chars`` characters of the standard library's ``*.py`` files, in name order.

    >>> text = stdlib_text(1000)
    >>> len(text), set(text) <= set(VOCABULARY)
    (1000, True)
    """
    directory = Path(directory or sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(directory.glob("*.py")):
        source = path.read_text(encoding="utf-8", errors="replace")
        parts.append(source)
        total += len(source)
        if total >= chars:
            break
    text = "".join(parts)[:chars]
    if len(text) < chars:
        raise ValueError(f"the standard library at {directory} has only {len(text)} characters "
                         f"of *.py sources, fewer than the {chars} asked for")
    return "".join(c if c in CODES else UNKNOWN for c in text)


def encode(text):
    """Character codes of ``text`` as an int64 array.

    >>> encode("ab\\n").tolist()
    [66, 67, 0]
    """
    return np.array([CODES.get(c, CODES[UNKNOWN]) for c in text], dtype=np.int64)


def decode(codes):
    """The text of an array of character codes.

    >>> decode(encode("def f():"))
    'def f():'
    """
    return "".join(VOCABULARY[int(i)] for i in codes)


def windows(codes, context):
    """Non-overlapping inputs ``(W, context)`` and their next characters ``(W, context)``."""
    count = (len(codes) - 1) // context
    inputs = codes[:count * context].reshape(count, context)
    targets = codes[1:count * context + 1].reshape(count, context)
    return inputs, targets


def onehot_targets(y, vocab):
    """One-hot float32 targets ``(..., vocab)`` for integer codes ``y``."""
    return np.eye(vocab, dtype=np.float32)[y]


zygote.nograd(onehot_targets)


def small_normal(*dims, rng=None):
    """Normal draws with standard deviation 0.1, a table whose rows start small."""
    return 0.1 * flux.randn32(*dims, rng=rng)


def build_model(rng, *, vocab=len(VOCABULARY), context=64, width=64, depth=2, nheads=4):
    """A decoder-only transformer: ``(N, L)`` character codes to ``(N, L, vocab)`` scores.

    >>> import numpy as np
    >>> model = build_model(np.random.default_rng(0), context=8, width=8, depth=1, nheads=2)
    >>> model
    Chain(Embedding(96 => 8), PositionalEmbedding(8 => 8), TransformerBlock(8, nheads=2, hidden=32, causal=True), LayerNorm(8), Dense(8 => 96))
    >>> model(np.zeros((3, 5), np.int64)).shape
    (3, 5, 96)
    """
    blocks = [TransformerBlock(width, nheads, causal=True, rng=rng) for _ in range(depth)]
    return Chain(Embedding(vocab, width, init=small_normal, rng=rng),
                 PositionalEmbedding(context, width, rng=rng), *blocks, LayerNorm(width),
                 Dense(width, vocab, rng=rng))


def bits_per_character(model, inputs, targets, batchsize=256):
    """Mean ``-log2 p(next character)`` of ``model`` over the windows ``inputs``, ``targets``."""
    total = 0.0
    for i in range(0, len(inputs), batchsize):
        scores = model(inputs[i:i + batchsize])
        nll = logitcrossentropy(scores, onehot_targets(targets[i:i + batchsize], scores.shape[-1]),
                                agg=np.sum)
        total += float(nll)
    return total / (targets.size * math.log(2))


def sample(model, prompt, length, context, rng, temperature=0.8):
    """Extend ``prompt`` by ``length`` characters drawn from the model, one at a time."""
    codes = list(encode(prompt))
    for _ in range(length):
        window = np.array([codes[-context:]])
        scores = model(window)[0, -1].astype(np.float64) / temperature
        p = np.exp(scores - scores.max())
        codes.append(rng.choice(len(p), p=p / p.sum()))
    return decode(codes)


def plot_curves(history, path):
    """Save training loss and held-out bits per character per epoch; False without matplotlib."""
    plt = pyplot()
    if plt is None:
        return False
    epochs = [row["epoch"] for row in history]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot(epochs, [row["loss"] / math.log(2) for row in history], marker="o",
              label="training (mean over the epoch)")
    axes.plot(epochs, [row["bpc"] for row in history], marker="o", label="held-out")
    axes.set(xlabel="epoch", ylabel="bits per character", title="character-level transformer")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m flux.examples.charlm",
                                     description="Train a character-level transformer on the "
                                                 "Python standard library's sources.")
    parser.add_argument("--epochs", type=non_negative(int), default=8)
    parser.add_argument("--chars", type=positive(int), default=300_000,
                        help="characters of text, the last tenth held out (default 300000)")
    parser.add_argument("--context", type=positive(int), default=64,
                        help="window length (default 64)")
    parser.add_argument("--width", type=positive(int), default=64)
    parser.add_argument("--depth", type=positive(int), default=2,
                        help="transformer blocks (default 2)")
    parser.add_argument("--heads", type=positive(int), default=4)
    parser.add_argument("--batchsize", type=positive(int), default=32)
    parser.add_argument("--lr", type=positive(float), default=0.003, help="Adam learning rate")
    parser.add_argument("--decay", type=positive(float), default=0.8,
                        help="multiply the learning rate by this after every epoch")
    parser.add_argument("--seed", type=non_negative(int), default=0,
                        help="seeds weights, shuffling, sampling")
    parser.add_argument("--sample", type=non_negative(int), default=400,
                        help="characters to sample at the end")
    parser.add_argument("--prompt", default="def ")
    parser.add_argument("--out", default="runs/charlm", help="directory for model.npz, curves.png")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.width % args.heads:
        parser.error(f"--width {args.width} must divide by --heads {args.heads}")
    if args.chars < 20 * (args.context + 1):
        parser.error(f"--chars {args.chars} is too few for windows of --context {args.context}: "
                     f"need at least {20 * (args.context + 1)}")
    return args


def main(argv=None):
    """Train, report bits per character after every epoch, sample at the end.

    Returns ``{"history": [per-epoch dicts], "sample": text}`` (``""`` with ``--sample 0``).
    """
    args = parse_args(argv)
    say = (lambda *a: None) if args.quiet else print
    codes = encode(stdlib_text(args.chars))
    split = len(codes) * 9 // 10
    train_inputs, train_targets = windows(codes[:split], args.context)
    held_inputs, held_targets = windows(codes[split:], args.context)
    rng = np.random.default_rng(args.seed)
    model = build_model(rng, context=args.context, width=args.width, depth=args.depth,
                        nheads=args.heads)
    say(model)
    say(f"{split} training and {len(codes) - split} held-out characters of the standard "
        f"library; windows of {args.context}, batch {args.batchsize}, Adam({args.lr})")
    vocab = len(VOCABULARY)
    loss = lambda x, y: logitcrossentropy(model(x), onehot_targets(y, vocab))  # noqa: E731
    loader = DataLoader((train_inputs, train_targets), batchsize=args.batchsize, shuffle=True,
                        rng=rng)
    opt, ps = Adam(args.lr), flux.params(model)
    history = []
    try:
        for epoch in flux.epochs(args.epochs):
            opt.eta = args.lr * args.decay ** (epoch - 1)
            start = time.perf_counter()
            mean_loss = flux.train(loss, ps, loader, opt, progress=False if args.quiet else None)
            seconds = time.perf_counter() - start
            bpc = bits_per_character(model, held_inputs, held_targets)
            history.append({"epoch": epoch, "loss": mean_loss, "bpc": bpc, "seconds": seconds})
            print(f"epoch {epoch:2d}  loss {mean_loss:.4f}  held-out {bpc:.3f} bits per character"
                  f"  ({seconds:.1f} s)")
    except KeyboardInterrupt:
        print(f"interrupted after {len(history)} complete epochs; saving the model as it is")
    save_run(args.out, model, history, plot_curves, say)
    text = ""
    if args.sample:
        text = sample(model, args.prompt, args.sample, args.context, rng)
        print(f"--- {args.sample} sampled characters ---\n{text}")
    return {"history": history, "sample": text}


if __name__ == "__main__":
    main()
