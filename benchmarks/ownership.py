"""What ``pullback`` pays to own what it saved: ``pullback`` + ``back`` against the same without copies.

``python -m benchmarks.ownership`` prints, per function, the median time of
``y, back = pullback(f, *args); back(dy)`` with ``pullback``'s copies of the saved arrays the
caller can reach and without them (the internal pullback ``gradient`` uses), and their ratio.
The two take turns round by round, so that load on the machine falls on both alike.
"""
import argparse
import statistics
import time

import numpy as np

import flux
import zygote
from zygote import api


def _mlp():
    rng = np.random.default_rng(0)
    model = flux.Chain(flux.Dense(784, 256, flux.relu), flux.Dense(256, 128, flux.relu),
                       flux.Dense(128, 10))
    x = rng.normal(size=(1024, 784)).astype(np.float32)
    labels = rng.integers(0, 10, 1024)
    y = np.eye(10, dtype=np.float32)[labels]
    ps = flux.params(model)

    def loss():
        return flux.logitcrossentropy(model(x), y)
    return "MNIST MLP loss, batch 1024 (Params)", loss, (ps,), 1.0


def _arrays():
    x = np.linspace(-1.0, 1.0, 100_000)

    def f(x):
        return np.sum(np.tanh(x) * np.exp(-x * x))
    return "array function of 100,000 floats", f, (x,), 1.0


def _loop():
    x = np.linspace(0.1, 1.0, 100)

    def f(x):
        total = 0.0
        for i in range(200):
            total = total + np.sum(np.sin(x * i))
        return total
    return "200-step loop over an array of 100", f, (x,), 1.0


CASES = (_mlp, _arrays, _loop)


def _owned(f, args, dy):
    y, back = zygote.pullback(f, *args)
    return back(dy)


def _plain(f, args, dy):
    if len(args) == 1 and isinstance(args[0], zygote.Params):
        y, back = api._pullback_params(f, args[0])
    else:
        y, back = api._pullback(f, args, {})
    return back(dy)


def measure(rounds):
    rows = []
    for make in CASES:
        label, f, args, dy = make()
        _owned(f, args, dy), _plain(f, args, dy)  # transform and warm up
        times = {"owned": [], "plain": []}
        for _ in range(rounds):
            for name, run in (("owned", _owned), ("plain", _plain)):
                start = time.perf_counter()
                run(f, args, dy)
                times[name].append(time.perf_counter() - start)
        owned, plain = (statistics.median(times[k]) for k in ("owned", "plain"))
        rows.append((label, owned, plain))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ownership", description=__doc__)
    parser.add_argument("--rounds", type=int, default=21)
    rounds = parser.parse_args(argv).rounds
    print("| function | pullback + back (owned) | without copies | ratio |")
    print("|---|---|---|---|")
    for label, owned, plain in measure(rounds):
        print(f"| {label} | {owned * 1e3:.2f} ms | {plain * 1e3:.2f} ms | {owned / plain:.2f}x |")


if __name__ == "__main__":
    main()
