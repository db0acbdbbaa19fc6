"""Tests for flux.train: the loop in both styles, callbacks, throttle, epochs, NaN guard, Ctrl-C, reducers."""

import logging
import signal

import numpy as np
import pytest

import flux
import zygote
from flux import (Chain, DataLoader, Dense, Descent, Dropout, NonFiniteLossError, epochs, mse,
                  params, setup, throttle, train)
from flux.train import Reducer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 3)).astype(np.float32)
TRUE_W = np.array([[1.5, -2.0, 0.5]], np.float32)
Y = X @ TRUE_W.T + 0.25


def regression():
    return Dense(3, 1, rng=1)


def batches(n):
    return [(X[i * 8:(i + 1) * 8], Y[i * 8:(i + 1) * 8]) for i in range(n)]


def reference_run(n_batches, eta=0.1):
    """Parameters after ``n_batches`` plain updates, for comparing interrupted runs."""
    model = regression()
    train(lambda x, y: mse(model(x), y), params(model), batches(n_batches), Descent(eta))
    return model


def test_train_fits_a_linear_model():
    model = regression()
    loader = DataLoader((X, Y), batchsize=16, shuffle=True, rng=0)
    opt = flux.Adam(0.05)
    first = float(mse(model(X), Y))
    for _ in epochs(60):
        train(lambda x, y: mse(model(x), y), params(model), loader, opt)
    assert float(mse(model(X), Y)) < 1e-3 * first
    np.testing.assert_allclose(model.weight, TRUE_W, atol=0.02)


def test_train_returns_the_mean_loss():
    model = regression()
    value = train(lambda x, y: mse(model(x), y), params(model), batches(2), Descent(0.0))
    expected = np.mean([mse(model(x), y) for x, y in batches(2)])
    assert value == pytest.approx(expected, rel=1e-5)
    assert train(lambda x, y: mse(model(x), y), params(model), [], Descent(0.0)) is None


def test_callback_runs_after_every_update():
    model = regression()
    seen = []
    train(lambda x, y: mse(model(x), y), params(model), batches(3), Descent(0.1),
          cb=lambda: seen.append(model.weight.copy()))
    assert len(seen) == 3
    assert not np.array_equal(seen[0], seen[1])


def test_single_array_batches_are_one_argument():
    model = regression()
    train(lambda x: np.mean(model(x) ** 2), params(model), DataLoader(X, batchsize=32),
          Descent(0.1))


def test_explicit_style():
    model = regression()
    state = setup(Descent(0.1), model)
    before = float(mse(model(X), Y))
    for _ in range(5):
        train(lambda m, x, y: mse(m(x), y), model, batches(8), state)
    assert float(mse(model(X), Y)) < 0.1 * before
    explicit = regression()
    train(lambda m, x, y: mse(m(x), y), explicit, batches(2), setup(Descent(0.1), explicit))
    np.testing.assert_allclose(explicit.weight, reference_run(2).weight, rtol=1e-5)


def test_explicit_style_needs_setup_state():
    with pytest.raises(TypeError, match="flux.setup"):
        train(lambda m, x, y: mse(m(x), y), regression(), batches(1), Descent())


def test_nan_loss_stops_before_the_bad_update():
    model = regression()
    data = batches(4)
    data[2] = (np.full_like(data[2][0], np.nan), data[2][1])
    with pytest.raises(NonFiniteLossError, match="batch 2"):
        train(lambda x, y: mse(model(x), y), params(model), data, Descent(0.1))
    assert np.all(np.isfinite(model.weight))
    np.testing.assert_allclose(model.weight, reference_run(2).weight, rtol=1e-6)


def test_ctrl_c_finishes_the_current_update_then_raises():
    model = regression()
    calls = []

    def interrupted_data():
        for index, batch in enumerate(batches(5)):
            if index == 1:
                signal.raise_signal(signal.SIGINT)   # arrives while batch 1 is fetched
            yield batch

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="after the update of batch 1"):
        train(lambda x, y: mse(model(x), y), params(model), interrupted_data(), Descent(0.1),
              cb=lambda: calls.append(1))
    assert len(calls) == 2
    np.testing.assert_allclose(model.weight, reference_run(2).weight, rtol=1e-6)
    assert signal.getsignal(signal.SIGINT) is handler


def test_dropout_is_active_only_inside_train():
    layer = Dropout(0.5, rng=0)
    model = Chain(Dense(3, 3, rng=1), layer)
    outputs = []
    train(lambda x: np.sum(model(x)), params(model), [X[:4]], Descent(0.0),
          cb=lambda: outputs.append(layer(np.ones(50))))
    assert np.any(outputs[0] == 0)
    np.testing.assert_array_equal(layer(np.ones(50)), 1.0)


def test_throttle_with_a_fake_clock():
    now = [0.0]
    calls = []
    limited = throttle(calls.append, 10, clock=lambda: now[0])
    for t in [0.0, 1.0, 9.9, 10.0, 15.0, 20.5]:
        now[0] = t
        limited(t)
    assert calls == [0.0, 10.0, 20.5]


def test_epochs_count_and_log(caplog):
    with caplog.at_level(logging.INFO, logger="flux"):
        assert list(epochs(2)) == [1, 2]
    assert [r.getMessage() for r in caplog.records] == ["Epoch 1", "Epoch 2"]


@pytest.mark.parametrize("style", ["implicit", "explicit"])
def test_train_does_not_differentiate_with_respect_to_the_data(style):
    import tracemalloc
    x = np.ones((512, 4096), np.float32)           # 8 MiB; its gradient would be as big
    y = np.zeros((512, 2), np.float32)
    model = Chain(Dense(4096, 2, rng=0), Dense(2, 2, rng=1))
    if style == "implicit":
        loss, ps, opt = (lambda x, y: mse(model(x), y)), params(model), Descent(0.1)
    else:
        loss, ps, opt = (lambda m, x, y: mse(m(x), y)), model, flux.setup(Descent(0.1), model)
    train(loss, ps, [(x, y)], opt)          # compile first
    tracemalloc.start()
    train(loss, ps, [(x, y)], opt)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < x.nbytes / 2


# -- gradient reducers -------------------------------------------------------------------------


class Doubling(Reducer):
    """Doubles every gradient and reports ten times the loss; records what it is told."""

    def __init__(self, ps):
        self.ps, self.seen, self.abandoned = ps, [], []

    def reduce(self, value, grads, count, stop):
        self.seen.append((float(value), count, stop))
        doubled = zygote.Grads(self.ps, {id(x): 2 * grads[x] for x in self.ps})
        return 10 * value, doubled, count, stop

    def abandon(self, error):
        self.abandoned.append(error)


def test_a_reducer_acts_between_the_gradient_and_the_step():
    model = regression()
    ps = params(model)
    reducer = Doubling(ps)
    value = train(lambda x, y: mse(model(x), y), ps, batches(3), Descent(0.05), reducer=reducer)
    np.testing.assert_allclose(model.weight, reference_run(3, eta=0.1).weight, rtol=1e-5)
    assert value == pytest.approx(10 * np.mean([v for v, _, _ in reducer.seen]))
    assert [(count, stop) for _, count, stop in reducer.seen] == [(1, False)] * 3
    assert reducer.abandoned == []


def test_a_reducer_is_told_of_errors_that_not_every_process_raises():
    model = regression()
    ps = params(model)

    def failing():
        yield batches(1)[0]
        raise ValueError("a bad batch on purpose")

    reducer = Doubling(ps)
    with pytest.raises(ValueError):
        train(lambda x, y: mse(model(x), y), ps, failing(), Descent(0.1), reducer=reducer)
    assert [type(e) for e in reducer.abandoned] == [ValueError]
    poisoned = [(np.full_like(X[:8], np.nan), Y[:8])]
    reducer = Doubling(ps)
    with pytest.raises(NonFiniteLossError):                # every process sees the same loss
        train(lambda x, y: mse(model(x), y), ps, poisoned, Descent(0.1), reducer=reducer)
    assert reducer.abandoned == []


class Agreeing(Reducer):
    """A reducer of several processes: this one has no share of batch 0, and all stop at batch 1."""

    collective = True

    def __init__(self):
        self.index = -1

    def samples(self, args):
        self.index += 1
        return 0 if self.index == 0 else len(args[0])

    def reduce(self, value, grads, count, stop):
        return value, grads, count, self.index == 1


def test_a_collective_reducer_decides_when_to_skip_and_to_stop():
    model, steps = regression(), []
    data = [(None, None)] + batches(4)[1:]       # the loss would fail on batch 0: no share there
    with pytest.raises(KeyboardInterrupt, match="after the update of batch 1"):
        train(lambda x, y: mse(model(x), y), params(model), data, Descent(0.1),
              reducer=Agreeing(), cb=lambda: steps.append(model.weight.copy()))
    assert len(steps) == 2 and np.array_equal(steps[0], regression().weight)
    once = regression()
    train(lambda x, y: mse(once(x), y), params(once), batches(2)[1:], Descent(0.1))
    np.testing.assert_allclose(model.weight, once.weight, rtol=1e-6)
