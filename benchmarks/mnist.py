"""Case 4: training the MNIST MLP: seconds per epoch, peak memory and test accuracy per framework.

Every framework trains the same float32 MLP, 784-256-128-10 with relu, softmax
cross-entropy and Adam (lr 0.003), from the same Glorot-uniform weights, at batch size 1024
over the same shuffled batches, for a fixed number of epochs. The first epoch includes
compilation (zygote's transform, jax's jit) and is reported apart; the others are timed.

Epoch times come from one child process that trains all frameworks, taking turns epoch by
epoch (``python -m benchmarks.mnist --framework all``), so that load on the machine falls on
all alike. Memory and accuracy come from a child process per framework (``--framework
flux``), so its peak memory is its own: the peak RSS of the whole process, and the growth
during training above what the data and the model take before it starts.

- numpy: forward, hand-derived backward and an in-place Adam, the limit flux is held to;
- flux: ``flux.train`` over ``Chain(Dense, Dense, Dense)`` with ``flux.Adam``;
- torch: ``nn.Sequential`` of ``nn.Linear``, ``F.cross_entropy``, ``torch.optim.Adam``;
- jax: one ``jax.jit``-compiled step (gradient and Adam), parameters donated.
"""

import argparse
import gzip
import math
import os
import time

import numpy as np

from . import harness, report
from .harness import ChildError, Measurement, Skipped
from .report import Bar, Section, Table, Target

FRAMEWORKS = ("numpy", "flux", "torch", "jax")
SIZES = (784, 256, 128, 10)
BATCH = 1024
LR = 0.003
SEED = 0
FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
         "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


# -- data and weights ------------------------------------------------------------------------


def read_idx(path):
    """A gzipped IDX file as an array (big-endian sizes after a 4-byte magic number)."""
    with gzip.open(path, "rb") as stream:
        raw = stream.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(split):
    """Images ``(N, 784)`` float32 in [0, 1] and integer labels, from ``data/mnist``."""
    folder = harness.REPO / "data" / "mnist"
    images, labels = FILES[split]
    if (folder / images).exists() and (folder / labels).exists():
        X, y = read_idx(folder / images), read_idx(folder / labels)
        X = X.reshape(len(X), -1).astype(np.float32)
        X /= 255
        return X, y.astype(np.int64)
    import flux  # finds, or downloads, the files elsewhere
    X, y = getattr(flux.datasets.MNIST, f"{split}data")(np.float32)
    return X.reshape(len(X), -1), np.asarray(y, np.int64)


def onehot(labels):
    Y = np.zeros((len(labels), 10), np.float32)
    Y[np.arange(len(labels)), labels] = 1
    return Y


def init_weights(seed):
    """Glorot-uniform float32 weights ``(out, in)`` and zero biases: W1, b1, W2, b2, W3, b3."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        limit = math.sqrt(6 / (fan_in + fan_out))  # a Python float keeps float32 float32
        weights.append((rng.random((fan_out, fan_in), dtype=np.float32) - 0.5) * (2 * limit))
        weights.append(np.zeros(fan_out, np.float32))
    assert all(w.dtype == np.float32 for w in weights)
    return weights


def batches(n, epoch, limit=None):
    """The index arrays of one epoch's shuffled batches (the last may be short)."""
    order = np.random.default_rng([SEED, epoch]).permutation(n)
    starts = range(0, n, BATCH)
    if limit:
        starts = starts[:limit]
    return [order[start:start + BATCH] for start in starts]


# -- the contestants -------------------------------------------------------------------------


class NumpyTrainer:
    """The limit: forward, hand-derived backward and in-place Adam in numpy."""

    def __init__(self, weights):
        self.params = [w.copy() for w in weights]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.t = 0

    def loss_and_grads(self, x, y):
        W1, b1, W2, b2, W3, b3 = self.params
        z1 = x @ W1.T + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3.T + b3
        shifted = z3 - z3.max(axis=1, keepdims=True)
        exp_shifted = np.exp(shifted)
        total = exp_shifted.sum(axis=1, keepdims=True)
        n = len(x)
        loss = -np.sum(y * (shifted - np.log(total))) / n
        dz3 = (exp_shifted / total - y) / n
        dz2 = (dz3 @ W3) * (z2 > 0)
        dz1 = (dz2 @ W2) * (z1 > 0)
        return loss, [dz1.T @ x, dz1.sum(axis=0), dz2.T @ h1, dz2.sum(axis=0),
                      dz3.T @ h2, dz3.sum(axis=0)]

    def adam(self, grads, beta1=0.9, beta2=0.999, eps=1e-8):
        self.t += 1
        scale_m = LR / (1 - beta1 ** self.t)
        scale_v = 1 / np.sqrt(1 - beta2 ** self.t)
        for p, g, m, v, s in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= beta1
            np.multiply(g, 1 - beta1, out=s)
            m += s
            v *= beta2
            np.multiply(g, g, out=s)
            s *= 1 - beta2
            v += s
            np.sqrt(v, out=s)
            s *= scale_v
            s += eps
            np.divide(m, s, out=s)
            s *= scale_m
            p -= s

    def epoch(self, X, Y, labels, indices):
        for idx in indices:
            _, grads = self.loss_and_grads(X[idx], Y[idx])
            self.adam(grads)

    def dtypes(self):
        return {str(p.dtype) for p in self.params}

    def predict(self, X):
        W1, b1, W2, b2, W3, b3 = self.params
        return np.maximum(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2, 0) @ W3.T + b3


class FluxTrainer:
    """``flux.train`` on the Chain, implicit parameters, ``flux.Adam``."""

    def __init__(self, weights):
        import flux
        self.flux = flux
        self.model = flux.Chain(flux.Dense(784, 256, flux.relu), flux.Dense(256, 128, flux.relu),
                                flux.Dense(128, 10))
        for layer, w, b in zip(self.model, weights[::2], weights[1::2]):
            layer.weight, layer.bias = w.copy(), b.copy()
        self.opt = flux.Adam(LR)
        self.ps = flux.params(self.model)

    def loss(self, x, y):
        return self.flux.logitcrossentropy(self.model(x), y)

    def epoch(self, X, Y, labels, indices):
        data = ((X[idx], Y[idx]) for idx in indices)
        self.flux.train(self.loss, self.ps, data, self.opt, progress=False)

    def dtypes(self):
        return {str(p.dtype) for p in self.flux.params(self.model)}

    def predict(self, X):
        self.flux.testmode(self.model)
        return self.model(X)


class TorchTrainer:
    """``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU``, ``F.cross_entropy``, ``optim.Adam``."""

    def __init__(self, weights):
        import torch
        self.torch = torch
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "1")))
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128),
                                   nn.ReLU(), nn.Linear(128, 10))
        linears = [layer for layer in self.model if isinstance(layer, nn.Linear)]
        with torch.no_grad():
            for layer, w, b in zip(linears, weights[::2], weights[1::2]):
                layer.weight.copy_(torch.from_numpy(w))
                layer.bias.copy_(torch.from_numpy(b))
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, eps=1e-8)

    def epoch(self, X, Y, labels, indices):
        torch = self.torch
        Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
        for idx in indices:
            idx = torch.from_numpy(idx)
            self.opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(self.model(Xt[idx]), yt[idx])
            loss.backward()
            self.opt.step()

    def dtypes(self):
        return {str(p.dtype).replace("torch.", "") for p in self.model.parameters()}

    def predict(self, X):
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(X)).numpy()


class JaxTrainer:
    """One ``jax.jit``-compiled step: gradient of the loss and Adam, parameters donated."""

    def __init__(self, weights):
        import jax
        import jax.numpy as jnp
        self.jax = jax
        self.params = [jnp.asarray(w) for w in weights]
        self.m = [jnp.zeros_like(p) for p in self.params]
        self.v = [jnp.zeros_like(p) for p in self.params]
        self.t = jnp.asarray(0.0, jnp.float32)

        def forward(params, x):
            W1, b1, W2, b2, W3, b3 = params
            h1 = jax.nn.relu(x @ W1.T + b1)
            h2 = jax.nn.relu(h1 @ W2.T + b2)
            return h2 @ W3.T + b3

        def loss(params, x, y):
            return -jnp.sum(y * jax.nn.log_softmax(forward(params, x))) / x.shape[0]

        def step(params, m, v, t, x, y, beta1=0.9, beta2=0.999, eps=1e-8):
            grads = jax.grad(loss)(params, x, y)
            t = t + 1
            m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(m, grads)]
            v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(v, grads)]
            scale_m = LR / (1 - beta1 ** t)
            scale_v = 1 / jnp.sqrt(1 - beta2 ** t)
            params = [p - scale_m * mi / (jnp.sqrt(vi) * scale_v + eps)
                      for p, mi, vi in zip(params, m, v)]
            return params, m, v, t

        self.step = jax.jit(step, donate_argnums=(0, 1, 2))
        self.forward = jax.jit(forward)

    def epoch(self, X, Y, labels, indices):
        for idx in indices:
            self.params, self.m, self.v, self.t = self.step(self.params, self.m, self.v,
                                                            self.t, X[idx], Y[idx])
        self.jax.block_until_ready(self.params)

    def dtypes(self):
        return {str(p.dtype) for p in self.params}

    def predict(self, X):
        return np.asarray(self.forward(self.params, X))


TRAINERS = {"numpy": NumpyTrainer, "flux": FluxTrainer, "torch": TorchTrainer,
            "jax": JaxTrainer}


# -- the child process -----------------------------------------------------------------------


def child(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.mnist")
    parser.add_argument("--framework", choices=FRAMEWORKS + ("all",), required=True,
                        help="one framework: time, memory, accuracy; all: interleaved epochs")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batches", type=int, default=0, help="batches per epoch (0: all)")
    args = parser.parse_args(argv)
    harness.limit_threads(int(os.environ.get("BENCH_THREADS", "1")))
    import warnings
    warnings.filterwarnings("ignore", message=".*donated.*")  # jax on CPU may not donate
    X, labels = load("train")
    Y = onehot(labels)
    if args.framework == "all":
        result = interleaved(X, Y, labels, args.epochs, args.batches)
    else:
        result = alone(args.framework, X, Y, labels, args.epochs, args.batches)
    harness.child_result(result)


def alone(name, X, Y, labels, epochs, limit):
    """Train one framework: epoch times, peak RSS in training, test accuracy, dtypes."""
    trainer = TRAINERS[name](init_weights(SEED))
    harness.apply_thread_limits()
    harness.reset_peak_rss()
    before = harness.peak_rss()
    epoch_seconds = []
    for epoch in range(epochs):
        indices = batches(len(X), epoch, limit)
        start = time.perf_counter()
        trainer.epoch(X, Y, labels, indices)
        epoch_seconds.append(time.perf_counter() - start)
    training_peak = harness.peak_rss()
    X_test, labels_test = load("test")
    accuracy = float(np.mean(np.argmax(trainer.predict(X_test), axis=1) == labels_test))
    return {"framework": name, "epoch_seconds": epoch_seconds, "before": before,
            "training_peak": training_peak, "accuracy": accuracy,
            "dtypes": sorted(trainer.dtypes())}


def interleaved(X, Y, labels, epochs, limit):
    """Train every framework in one process, epoch by epoch in turn (the order rotating), so
    that load on the machine falls on all alike; epoch times per framework."""
    trainers, failures = {}, {}
    for name in FRAMEWORKS:
        try:
            trainers[name] = TRAINERS[name](init_weights(SEED))
        except Exception as error:  # noqa: BLE001 -- reported per framework
            failures[name] = str(harness.skipped_from(error))
    harness.apply_thread_limits()
    seconds = {name: [] for name in trainers}
    for epoch in range(epochs):
        indices = batches(len(X), epoch, limit)
        order = list(trainers)
        for name in order[epoch % len(order):] + order[:epoch % len(order)]:
            try:
                start = time.perf_counter()
                trainers[name].epoch(X, Y, labels, indices)
                seconds[name].append(time.perf_counter() - start)
            except Exception as error:  # noqa: BLE001
                failures[name] = str(harness.skipped_from(error))
                del trainers[name], seconds[name]
    return {"epoch_seconds": seconds, "failures": failures}


# -- the parent ------------------------------------------------------------------------------


def run(settings):
    timed_epochs, accuracy_epochs, limit = (2, 1, 10) if settings.quick else (5, 4, 0)
    timeout = 120 if settings.quick else 900
    try:
        timing = harness.run_child("mnist", ["--framework", "all", "--epochs", timed_epochs,
                                             "--batches", limit], timeout)
    except ChildError as error:
        timing = {"epoch_seconds": {}, "failures": {name: f"failed: {error}"
                                                    for name in FRAMEWORKS}}
    runs = {}
    for name in alone_frameworks(settings):
        try:
            runs[name] = harness.run_child("mnist", ["--framework", name, "--epochs",
                                                     accuracy_epochs, "--batches", limit],
                                           timeout)
        except ChildError as error:
            runs[name] = Skipped("failed", str(error))
    results = {name: summarise(name, timing, runs.get(name)) for name in FRAMEWORKS}
    return section(results, timed_epochs, accuracy_epochs, limit)


def alone_frameworks(settings):
    """Frameworks trained alone for memory and accuracy (quick mode: the two that start fast)."""
    return ("numpy", "flux") if settings.quick else FRAMEWORKS


def summarise(name, timing, run):
    """One framework: interleaved epoch times (first apart) and its own run, or a `Skipped`."""
    if name in timing["failures"]:
        kind, _, reason = timing["failures"][name].partition(": ")
        return Skipped(kind, reason)
    if isinstance(run, Skipped):
        return run
    if run is not None and set(run["dtypes"]) != {"float32"}:
        return Skipped("wrong", f"parameters are {', '.join(run['dtypes'])} after training, "
                                f"not float32")
    seconds = timing["epoch_seconds"][name]
    result = {"epoch": Measurement(seconds[1:] or seconds), "first": seconds[0]}
    if run is not None:
        result.update(peak=run["training_peak"], growth=run["training_peak"] - run["before"],
                      accuracy=run["accuracy"])
    return result


def section(results, timed_epochs, accuracy_epochs, limit):
    flux, numpy = results["flux"], results["numpy"]
    body, bars, notes = [], [], report.Footnotes()
    for name in FRAMEWORKS:
        result = results[name]
        if isinstance(result, Skipped):
            body.append([name, f"{result.kind} {notes.mark(result)}"] + ["—"] * 5)
            continue
        over = epoch_ratio(flux, result) if name != "flux" else None
        alone = "peak" in result
        body.append([name, report.measurement(result["epoch"], notes),
                     report.seconds(result["first"]), report.ratio_cell(over),
                     report.size(result["peak"]) if alone else "—",
                     report.size(result["growth"]) if alone else "—",
                     f"{100 * result['accuracy']:.2f} %" if alone else "—"])
        epoch = result["epoch"]
        bars.append(Bar(name, "seconds per epoch", epoch.median, epoch.low, epoch.high))
    accuracy = f"test accuracy after {plural(accuracy_epochs, 'epoch')}"
    table = Table("One training epoch per framework",
                  ["framework", "epoch", "first epoch", "flux ÷ this", "peak RSS in training",
                   "growth in training", accuracy], body, notes.lines())
    over_numpy = epoch_ratio(flux, numpy)
    both = not isinstance(flux, Skipped) and not isinstance(numpy, Skipped)
    memory = flux["peak"] / numpy["peak"] if both and "peak" in flux and "peak" in numpy else None
    missing = str(flux if isinstance(flux, Skipped) else numpy)
    targets = [
        Target("MNIST MLP epoch: flux ÷ hand-written numpy (forward, backward, Adam)",
               over_numpy.median if over_numpy else None, 1.15, "<=", why_missing=missing),
        Target("MNIST MLP: flux peak RSS in training ÷ numpy's",
               memory, 1.5, "<=", why_missing=missing),
    ]
    scope = f"{limit} batches per epoch" if limit else "all 60,000 images per epoch"
    return Section(
        key="mnist",
        title="MNIST MLP training",
        intro=(f"784-256-128-10 relu MLP, float32, batch {BATCH}, Adam, {scope}. Times: one "
               f"process trains every framework {plural(timed_epochs, 'epoch')}, taking turns "
               f"epoch by epoch so that load on the machine falls on all alike; the first "
               f"epoch (compilation, warm-up) is shown apart, the epoch time is the median of "
               f"the others and \"flux ÷ this\" pairs epochs of the same turn. Memory and "
               f"accuracy: each framework alone in a fresh process for "
               f"{plural(accuracy_epochs, 'epoch')}; peak RSS is the whole process (data, "
               f"libraries, model) during training, growth what training adds to the RSS it "
               f"started with; accuracy is on the 10,000 test images."),
        tables=[table],
        bars=bars,
        chart="seconds",
        chart_label="seconds per epoch (median, min–max)",
        targets=targets,
        summary=summary(results),
        data={"results": results},
    )


def plural(n, noun):
    return f"{n} {noun}{'' if n == 1 else 's'}"


def summary(results):
    """flux's epoch over each peer's, under the headline table's column names."""
    out = {}
    for column, name in (("hand-written", "numpy"), ("torch", "torch"), ("jax.jit", "jax")):
        over = epoch_ratio(results["flux"], results[name])
        if over is not None:
            out[column] = over.median
    return out


def epoch_ratio(ours, theirs):
    """Our epoch time over theirs, paired epoch by epoch (same turn of the interleaved run)."""
    if isinstance(ours, Skipped) or isinstance(theirs, Skipped):
        return None
    return harness.ratio(ours["epoch"], theirs["epoch"])


if __name__ == "__main__":
    child()
