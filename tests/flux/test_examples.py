"""Smoke tests for the MNIST quick start, `python -m flux.examples.mnist`, on a small slice."""

import builtins
import importlib.util

import numpy as np

import flux
from flux.examples import mnist


def test_quick_start_trains_saves_and_plots(tmp_path, capsys):
    history = mnist.main(["--epochs", "2", "--train-size", "2048", "--batchsize", "64",
                          "--out", str(tmp_path), "--quiet"])
    assert [row["epoch"] for row in history] == [1, 2]
    assert history[1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.85
    assert (tmp_path / "model.npz").stat().st_size > 0
    if importlib.util.find_spec("matplotlib") is not None:  # the plot is an optional extra
        assert (tmp_path / "curves.png").stat().st_size > 0
    else:
        assert not (tmp_path / "curves.png").exists()
    model = mnist.build_model("mlp", np.random.default_rng(1))
    flux.load(tmp_path / "model.npz", model)
    assert "final test accuracy" in capsys.readouterr().out


def test_plot_is_skipped_with_a_note_without_matplotlib(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    mnist.main(["--epochs", "0", "--train-size", "16", "--out", str(tmp_path)])
    assert "skipped the plot" in capsys.readouterr().out
    assert not (tmp_path / "curves.png").exists()


def test_seed_model_is_the_tutorial_model():
    model = mnist.build_model("seed", np.random.default_rng(0))
    assert repr(model) == ("Chain(Dense(784 => 256, σ), Dense(256 => 128, σ), "
                           "Dense(128 => 10, σ), softmax)")
    assert repr(mnist.build_model("mlp", np.random.default_rng(0))) == (
        "Chain(Dense(784 => 256, relu), Dense(256 => 128, relu), Dense(128 => 10))")


def test_classic_tutorial_line_for_line():
    import zygote
    from flux import (Chain, Dense, σ, softmax, logitcrossentropy, DataLoader, Adam, params,
                      throttle, onecold)
    images, labels = flux.datasets.MNIST.traindata(np.float32)
    X, Y = images[:1000].reshape(1000, 784), flux.onehotbatch(labels[:1000], range(10))
    x, y = X[:500], labels[:500]
    model = Chain(Dense(784, 256, σ), Dense(256, 128, σ), Dense(128, 10, σ), softmax)
    train = DataLoader((X, Y), batchsize=50, shuffle=True)
    loss = lambda x, y: logitcrossentropy(model(x), y)  # noqa: E731
    reports = []
    evalcb = lambda: reports.append(float(loss(X, Y)))  # noqa: E731
    before = np.mean(onecold(model(x)) == y)
    for epoch in flux.epochs(3):
        flux.train(loss, params(model), train, Adam(0.005), cb=throttle(evalcb, 10))
    assert len(reports) == 3                   # the first call of each throttled pass
    assert np.mean(onecold(model(x)) == y) > max(0.6, before)
    gs = zygote.gradient(lambda: model(x).sum(), params(model))
    assert gs[model[0].W].shape == (256, 784)


def test_lstm_model_reads_rows_and_trains(tmp_path, monkeypatch):
    model = mnist.build_model("lstm", np.random.default_rng(0))
    assert repr(model) == "Chain(image_rows, LSTM(28 => 128), last_step, Dense(128 => 10))"
    args = mnist.parse_args(["--model", "lstm"])
    assert (args.epochs, args.batchsize) == (mnist.DEFAULT_EPOCHS["lstm"], 128)
    full_load = mnist.load_data

    def small_test_set(data_dir, train_size=None):
        X, Y, X_test, y_test = full_load(data_dir, train_size)
        return X, Y, X_test[:1000], y_test[:1000]
    monkeypatch.setattr(mnist, "load_data", small_test_set)  # the whole test set is 10x slower
    history = mnist.main(["--model", "lstm", "--epochs", "2", "--train-size", "1024",
                          "--out", str(tmp_path), "--quiet"])
    assert history[1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.3


def test_cnn_model_is_lenet_on_nhwc_images_and_trains(tmp_path, monkeypatch):
    model = mnist.build_model("cnn", np.random.default_rng(0))
    assert repr(model).startswith("Chain(as_images, Conv((5, 5), 1 => 6, relu, pad=2), "
                                  "MaxPool((2, 2)), Conv((5, 5), 6 => 16, relu)")
    assert model(np.zeros((3, 784), np.float32)).shape == (3, 10)
    args = mnist.parse_args(["--model", "cnn"])
    assert (args.epochs, args.batchsize) == (mnist.DEFAULT_EPOCHS["cnn"], 128)
    assert args.decay == mnist.DEFAULT_DECAY["cnn"] < 1 and mnist.parse_args([]).decay == 1
    full_load = mnist.load_data

    def small_test_set(data_dir, train_size=None):
        X, Y, X_test, y_test = full_load(data_dir, train_size)
        return X, Y, X_test[:500], y_test[:500]
    monkeypatch.setattr(mnist, "load_data", small_test_set)
    history = mnist.main(["--model", "cnn", "--epochs", "2", "--train-size", "512",
                          "--batchsize", "64", "--out", str(tmp_path), "--quiet"])
    assert history[1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.3
