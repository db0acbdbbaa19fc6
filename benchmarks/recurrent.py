"""Case: a training step of the MNIST LSTM, flux against PyTorch eager.

The model is ``flux.examples.mnist --model lstm``: each image as 28 rows of 28 pixels read
by ``LSTM(28, 128)``, the last hidden state to ``Dense(128, 10)``, ``logitcrossentropy``,
Adam, batch 128, float32. A step is the gradient of the loss of one batch and Adam's update
of the parameters: flux's ``flux.train`` on one batch, against ``torch.nn.LSTM`` and
``torch.nn.Linear`` with ``cross_entropy``, ``backward`` and ``torch.optim.Adam``. The epoch
figure is the step time times the 469 batches of MNIST's training images at batch 128.

Both models start from the same weights, and their first losses are compared before
anything is timed.
"""

import numpy as np

from . import harness, peers
from .harness import Measurement, Skipped
from .report import Bar, Footnotes, Section, Table, Target, measurement

BATCH = 128
HIDDEN = 128
STEPS_PER_EPOCH = -(-60000 // BATCH)
CONTESTANTS = ("flux", "torch")


def problem():
    """A batch of training images ``(N, 784)``, their one-hot targets and their labels."""
    from .mnist import load
    images, labels = load("train")
    x = np.ascontiguousarray(images[:BATCH].reshape(BATCH, 784))
    y = labels[:BATCH].astype(np.int64)
    return x, y


def flux_model():
    from flux.examples.mnist import build_model
    return build_model("lstm", 0)


def flux_step(x, y):
    import flux
    from flux import Adam, logitcrossentropy, onehotbatch
    model = flux_model()
    targets = onehotbatch(y, range(10))
    loss = lambda xb, yb: logitcrossentropy(model(xb), yb)  # noqa: E731
    ps = flux.params(model)
    opt = Adam(0.001)
    batches = [(x, targets)]

    def step():
        flux.train(loss, ps, batches, opt, progress=False)
    return step, model, loss, targets


def torch_step(x, y, model):
    torch = peers.load("torch")
    lstm_layer, dense = model[1], model[3]
    net_lstm = torch.nn.LSTM(28, HIDDEN, batch_first=True)
    net_dense = torch.nn.Linear(HIDDEN, 10)
    _copy_weights(torch, lstm_layer, dense, net_lstm, net_dense)
    params = list(net_lstm.parameters()) + list(net_dense.parameters())
    opt = torch.optim.Adam(params, lr=0.001)
    xt = torch.from_numpy(x.reshape(BATCH, 28, 28))
    yt = torch.from_numpy(y)

    def loss():
        out, _ = net_lstm(xt)
        return torch.nn.functional.cross_entropy(net_dense(out[:, -1]), yt)

    def step():
        opt.zero_grad()
        loss().backward()
        opt.step()
    return step, loss


def _copy_weights(torch, lstm_layer, dense, net_lstm, net_dense):
    """torch's LSTM and Linear given flux's weights (both stack the gates i, f, g, o)."""
    cell = lstm_layer.cell
    with torch.no_grad():
        net_lstm.weight_ih_l0.copy_(torch.from_numpy(cell.weight_ih))
        net_lstm.weight_hh_l0.copy_(torch.from_numpy(cell.weight_hh))
        net_lstm.bias_ih_l0.copy_(torch.from_numpy(cell.bias))
        net_lstm.bias_hh_l0.zero_()
        net_dense.weight.copy_(torch.from_numpy(dense.weight))
        net_dense.bias.copy_(torch.from_numpy(dense.bias))


def run(settings):
    x, y = problem()
    cells, contestants = {}, {}
    try:
        step, model, loss, targets = flux_step(x, y)
        flux_loss = float(loss(x, targets))
        contestants["flux"] = step
    except Exception as error:  # noqa: BLE001 -- a failing contestant is a cell
        cells["flux"] = harness.skipped_from(error)
        model = None
    if model is not None:
        try:
            step, torch_loss = torch_step(x, y, model)
            first = float(torch_loss().item())
            if abs(first - flux_loss) > 1e-4 * max(1.0, abs(flux_loss)):
                cells["torch"] = Skipped("wrong", f"first loss {first:.6g}, flux's {flux_loss:.6g}")
            else:
                contestants["torch"] = step
        except Exception as error:  # noqa: BLE001
            cells["torch"] = harness.skipped_from(error)
    else:
        cells["torch"] = Skipped("failed", "flux's model was not built")
    cells.update(harness.compare(contestants, settings))
    return section(cells, settings)


def section(cells, settings):
    notes = Footnotes()
    flux_cell = cells["flux"]
    rows, bars = [], []
    for name in CONTESTANTS:
        cell = cells[name]
        over = harness.ratio(flux_cell, cell) if name != "flux" else None
        epoch = f"{cell.median * STEPS_PER_EPOCH:.1f} s" if isinstance(cell, Measurement) else "—"
        rows.append([name, measurement(cell, notes), epoch,
                     "—" if over is None else f"{over.median:.3g}x ({over.low:.3g}x–{over.high:.3g}x)"])
        if isinstance(cell, Measurement):
            bars.append(Bar(name, "milliseconds per training step", 1e3 * cell.median,
                            1e3 * cell.low, 1e3 * cell.high))
    over_torch = harness.ratio(flux_cell, cells["torch"])
    return Section(
        key="recurrent",
        title="Recurrent: the MNIST LSTM's training step",
        intro=(f"One training step of `flux.examples.mnist --model lstm` (`LSTM(28, {HIDDEN})` "
               f"over the 28 rows of each image, `Dense({HIDDEN}, 10)` on the last hidden "
               f"state, `logitcrossentropy`, Adam) on a batch of {BATCH} training images, "
               "float32: the gradient and the update. torch: `nn.LSTM`, `nn.Linear`, "
               "`cross_entropy`, `backward` and `optim.Adam`, eager, from the same weights "
               "(the first losses agree). The epoch is the step times "
               f"{STEPS_PER_EPOCH} batches. {settings.threads} BLAS thread(s) for both; "
               "\"flux ÷ this\" pairs the steps of the same round."),
        tables=[Table("Training step", ["contestant", "step", "epoch (469 steps)", "flux ÷ this"],
                      rows, notes.lines())],
        bars=bars,
        chart="seconds",
        chart_label="milliseconds per training step (median, min–max)",
        targets=[Target("MNIST LSTM training step: flux ÷ PyTorch eager",
                        getattr(over_torch, "median", None), 1.5, "<=",
                        why_missing=str(flux_cell if isinstance(flux_cell, Skipped) else cells["torch"]))],
        summary={"torch": over_torch.median} if over_torch is not None else {},
        data={"cells": cells},
    )
