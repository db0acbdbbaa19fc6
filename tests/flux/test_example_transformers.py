"""Smoke tests for the transformer examples on tiny configurations: the vision transformer of
`python -m flux.examples.mnist --model vit` and `python -m flux.examples.charlm`."""

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flux
from flux.examples import charlm, mnist, vit


def test_vit_patches_are_the_image_cut_in_seven_by_seven_tiles():
    images = np.random.default_rng(0).random((2, 28, 28))
    patches = vit.image_patches(images.reshape(2, 784))
    assert patches.shape == (2, 16, 49)
    for i in range(4):
        for j in range(4):
            np.testing.assert_array_equal(patches[:, 4 * i + j].reshape(2, 7, 7),
                                          images[:, 7 * i:7 * i + 7, 7 * j:7 * j + 7])


def test_vit_model_and_defaults():
    model = mnist.build_model("vit", np.random.default_rng(0))
    assert repr(model).startswith("Chain(image_patches, LayerNorm(49), Dense(49 => 64), "
                                  "LayerNorm(64), PositionalEmbedding(16 => 64), "
                                  "TransformerBlock(64, nheads=4, hidden=128), ")
    assert sum(isinstance(layer, flux.TransformerBlock) for layer in model) == 4
    assert flux.layers.count_parameters(model) == 138_092
    args = mnist.parse_args(["--model", "vit"])
    assert (args.epochs, args.batchsize, args.schedule, args.warmup) == (10, 128, "cosine", 1.0)
    assert (args.label_smoothing, args.shift, args.weight_decay) == (0.1, 2, 0.0)
    assert mnist.DEFAULT_LR["vit"] == 0.002
    cnn = mnist.parse_args(["--model", "cnn"])
    assert (cnn.schedule, cnn.decay, cnn.label_smoothing, cnn.shift) == ("epoch", 0.75, 0.0, 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 6), st.integers(0, 3), st.integers(0, 2**31))
def test_random_shifts_translate_each_image_and_fill_with_zeros(n, pixels, seed):
    images = np.random.default_rng(seed).random((n, 28, 28)).astype(np.float32)
    moved = mnist.random_shifts(images.reshape(n, 784), pixels,
                                np.random.default_rng(seed + 1)).reshape(n, 28, 28)
    assert moved.dtype == np.float32
    for image, out in zip(images, moved):
        padded = np.pad(image, pixels)
        offsets = [(dy, dx) for dy in range(2 * pixels + 1) for dx in range(2 * pixels + 1)
                   if np.array_equal(out, padded[dy:dy + 28, dx:dx + 28])]
        assert offsets, "the output is no translation of the input within the range"


def test_random_shifts_use_every_offset_of_the_range():
    lit = np.zeros((400, 784), np.float32)
    lit[:, 14 * 28 + 14] = 1
    moved = mnist.random_shifts(lit, 2, np.random.default_rng(0)).reshape(400, 28, 28)
    rows, cols = np.nonzero(moved)[1:]
    assert len(rows) == 400 and {(r, c) for r, c in zip(rows, cols)} == {
        (14 + dy, 14 + dx) for dy in range(-2, 3) for dx in range(-2, 3)}


def test_learning_rate_schedules_per_batch():
    cosine = mnist.parse_args(["--model", "vit", "--epochs", "3"])
    rate = mnist.learning_rate(cosine, 0.002, 10)         # 10 batches an epoch, 30 in all
    rates = [rate(t) for t in range(30)]
    np.testing.assert_allclose(rates[:10], 0.002 * np.arange(1, 11) / 10)   # the warm-up epoch
    assert all(a > b for a, b in zip(rates[10:], rates[11:]))              # then only down
    assert rates[-1] == pytest.approx(0.002 * (1 + np.cos(np.pi * 19 / 20)) / 2)
    assert rate(30) == 0.0
    stepped = mnist.learning_rate(mnist.parse_args(["--model", "cnn"]), 0.002, 10)
    np.testing.assert_allclose([stepped(t) for t in (0, 9, 10, 25)],
                               [0.002, 0.002, 0.0015, 0.002 * 0.75 ** 2])
    no_warmup = mnist.learning_rate(mnist.parse_args(["--model", "vit", "--warmup", "0"]), 1.0, 4)
    assert no_warmup(0) == 1.0


def test_vit_rate_follows_the_schedule_batch_by_batch(monkeypatch, tmp_path):
    seen = []
    original = mnist.Adam

    class Recording(original):
        def apply(self, state, x, dx):
            if not seen or seen[-1][0] is not state:
                seen.append((state, self.eta))
            return super().apply(state, x, dx)
    monkeypatch.setattr(mnist, "Adam", Recording)
    monkeypatch.setattr(mnist, "evaluate", lambda model, X, y: 0.0)
    rng = np.random.default_rng(0)
    tiny = (rng.random((256, 784), np.float32), flux.onehotbatch(rng.integers(0, 10, 256), range(10)),
            rng.random((10, 784), np.float32), rng.integers(0, 10, 10))
    monkeypatch.setattr(mnist, "load_data", lambda data_dir, train_size: tiny)
    mnist.main(["--model", "vit", "--epochs", "2", "--train-size", "256", "--batchsize", "64",
                "--out", str(tmp_path), "--quiet"])
    rates = [eta for _, eta in seen]
    schedule = mnist.learning_rate(mnist.parse_args(["--model", "vit", "--epochs", "2"]),
                                   0.002, 4)
    np.testing.assert_allclose(rates, [schedule(t) for t in range(8)])


def test_vit_trains_on_a_slice(tmp_path, monkeypatch):
    full_load = mnist.load_data

    def small_test_set(data_dir, train_size=None):
        X, Y, X_test, y_test = full_load(data_dir, train_size)
        return X, Y, X_test[:500], y_test[:500]
    monkeypatch.setattr(mnist, "load_data", small_test_set)
    # 16 steps in all: too few for the default schedule and shifts, which suit 10 epochs
    history = mnist.main(["--model", "vit", "--epochs", "2", "--train-size", "512",
                          "--batchsize", "64", "--schedule", "epoch", "--shift", "0",
                          "--out", str(tmp_path), "--quiet"])
    assert history[1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.25   # guessing scores 0.1


def test_charlm_text_windows_and_codes():
    text = charlm.stdlib_text(5000)
    assert len(text) == 5000 and charlm.decode(charlm.encode(text)) == text
    inputs, targets = charlm.windows(charlm.encode(text), 64)
    assert inputs.shape == targets.shape == (78, 64)
    np.testing.assert_array_equal(inputs[:, 1:], targets[:, :-1])   # targets are the next ones
    np.testing.assert_array_equal(inputs[1:, 0], targets[:-1, -1])
    assert charlm.decode(charlm.encode("naïve\tx")) == "na?ve?x"


def test_charlm_model_is_causal():
    model = charlm.build_model(np.random.default_rng(0), context=8, width=8, depth=2, nheads=2)
    codes = np.random.default_rng(1).integers(0, len(charlm.VOCABULARY), (1, 8))
    changed = codes.copy()
    changed[0, 5:] = (changed[0, 5:] + 1) % len(charlm.VOCABULARY)
    np.testing.assert_allclose(model(codes)[0, :5], model(changed)[0, :5], rtol=1e-6)
    assert not np.allclose(model(codes)[0, 5:], model(changed)[0, 5:])


def test_charlm_trains_reports_bits_per_character_plots_and_samples(tmp_path, capsys):
    result = charlm.main(["--epochs", "2", "--chars", "30000", "--context", "32", "--width", "32",
                          "--depth", "1", "--heads", "2", "--sample", "50", "--out", str(tmp_path),
                          "--quiet"])
    history = result["history"]
    assert [row["epoch"] for row in history] == [1, 2]
    # 96 characters guessed uniformly cost log2(96) = 6.6 bits; the model must beat that soon
    assert history[1]["bpc"] < history[0]["bpc"] < np.log2(96)
    assert history[1]["loss"] < history[0]["loss"]
    assert result["sample"].startswith("def ") and len(result["sample"]) == 54
    assert set(result["sample"]) <= set(charlm.VOCABULARY)
    out = capsys.readouterr().out
    assert "held-out" in out and "bits per character" in out and "sampled characters" in out
    assert (tmp_path / "model.npz").stat().st_size > 0
    assert (tmp_path / "curves.png").exists() == (importlib.util.find_spec("matplotlib") is not None)
    model = charlm.build_model(np.random.default_rng(5), context=32, width=32, depth=1, nheads=2)
    flux.load(tmp_path / "model.npz", model)


@pytest.mark.parametrize("argv, message", [
    (["--width", "30", "--heads", "4"], "must divide by --heads"),
    (["--chars", "100"], "too few"),
    (["--epochs", "-1"], "argument --epochs: must be 0 or more, got -1"),
    (["--lr", "nan"], "argument --lr: must be positive, got nan"),
    (["--decay", "0"], "argument --decay: must be positive, got 0"),
    (["--batchsize", "0"], "argument --batchsize: must be positive, got 0"),
    (["--context", "x"], "argument --context: expected an integer, got 'x'"),
])
def test_charlm_refuses_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit):
        charlm.parse_args(argv)
    assert message in capsys.readouterr().err
