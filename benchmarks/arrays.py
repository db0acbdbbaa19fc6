"""Case 2: gradients of medium array code, where the arithmetic should dominate the overhead."""

import numpy as np

from . import functions, hand, report
from .contestants import COLUMNS, gradient_builders, measure_row
from .report import Target

SIZES = (10, 100, 1000)
BATCH = 128


def tanh_layer_inputs(n, rng):
    return rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), \
        0.1 * rng.standard_normal(n)


def onehot(labels, classes):
    y = np.zeros((len(labels), classes))
    y[np.arange(len(labels)), labels] = 1.0
    return y


# zygote differentiates every array argument; these closures keep the data out.
def tanh_layer_in_x(f, W, b):
    return lambda x: f(W, x, b)


def loss_in_logits(f, y):
    return lambda z: f(z, y)


def loss_in_weights(f, x, y):
    return lambda W1, b1, W2, b2: f(W1, b1, W2, b2, x, y)


def rows_for(settings):
    """(label, builders, reference) for every row of this case."""
    rng = np.random.default_rng(0)
    ours = functions.copy("numpy")
    specs = []
    for n in SIZES:
        args = tanh_layer_inputs(n, rng)
        specs.append((f"sum(tanh(W x + b)), n={n}",
                      gradient_builders("tanh_layer", args, maths="numpy"),
                      hand.tanh_layer_grad(*args)[1]))
    W, x, b = args
    specs.append(("same, n=1000, in x only",
                  gradient_builders("tanh_layer", (W, x, b), wrt=(1,), maths="numpy",
                                    zygote=(tanh_layer_in_x(ours.tanh_layer, W, b), (x,)),
                                    hand_name="tanh_layer_grad_x"),
                  hand.tanh_layer_grad_x(W, x, b)[1]))
    z, y = rng.standard_normal((BATCH, 10)), onehot(rng.integers(0, 10, BATCH), 10)
    specs.append((f"softmax cross-entropy, {BATCH}×10",
                  gradient_builders("softmax_crossentropy", (z, y), wrt=(0,), maths="numpy",
                                    zygote=(loss_in_logits(ours.softmax_crossentropy, y), (z,))),
                  hand.softmax_crossentropy_grad(z, y)[1]))
    x = rng.random((BATCH, 784))
    W1, b1 = rng.standard_normal((100, 784)) / 28.0, np.zeros(100)
    W2, b2 = rng.standard_normal((10, 100)) / 10.0, np.zeros(10)
    mlp_args = (W1, b1, W2, b2, x, y)
    specs.append((f"MLP 784-100-10 loss, batch {BATCH}",
                  gradient_builders("mlp_loss", mlp_args, wrt=(0, 1, 2, 3), maths="numpy",
                                    zygote=(loss_in_weights(ours.mlp_loss, x, y),
                                            (W1, b1, W2, b2))),
                  hand.mlp_loss_grad(*mlp_args)[1]))
    return specs


def run(settings):
    rows = [measure_row(label, builders, settings, reference)
            for label, builders, reference in rows_for(settings)]
    by_label = {row.label: row for row in rows}
    full = by_label["sum(tanh(W x + b)), n=1000"]
    in_x = by_label["same, n=1000, in x only"]
    over_hand = full.ratios().get("hand-written")
    over_function = in_x.ratios().get("function")
    targets = [
        Target("sum(tanh(W x + b)), W 1000×1000 float64, in W, x, b: zygote ÷ hand-written",
               over_hand.median if over_hand else None, 1.2, "<=",
               why_missing=str(full.cells.get("zygote"))),
        Target("same, in x alone: zygote gradient ÷ the function's call",
               over_function.median if over_function else None, 2.5, "<=",
               why_missing=str(in_x.cells.get("zygote"))),
    ]
    return report.timed_section(
        "arrays", "Gradients of array code",
        ("float64 throughout. `sum(tanh(W x + b))` is differentiated in W, x and b, "
         "then in x alone; the softmax cross-entropy in the logits (one-hot targets); "
         "the MLP (tanh hidden layer, softmax cross-entropy) in its four parameter "
         "arrays. zygote gets a closure over the arguments it should not "
         "differentiate; peers their own way of choosing arguments (`argnums`, `wrt`, "
         "`requires_grad`)."),
        rows, COLUMNS, targets)
