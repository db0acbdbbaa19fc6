"""Smoke tests for the transformer examples on tiny configurations: the vision transformer of
`python -m flux.examples.mnist --model vit` and `python -m flux.examples.charlm`."""

import importlib.util

import numpy as np
import pytest

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
    assert repr(model).startswith("Chain(image_patches, Dense(49 => 64), PositionalEmbedding(16 => "
                                  "64), TransformerBlock(64, nheads=4, hidden=128), ")
    assert sum(isinstance(layer, flux.TransformerBlock) for layer in model) == 4
    assert flux.layers.count_parameters(model) == 137_866
    args = mnist.parse_args(["--model", "vit"])
    assert (args.epochs, args.batchsize, args.decay) == (10, 128, 0.85)


def test_vit_trains_on_a_slice(tmp_path, monkeypatch):
    full_load = mnist.load_data

    def small_test_set(data_dir, train_size=None):
        X, Y, X_test, y_test = full_load(data_dir, train_size)
        return X, Y, X_test[:500], y_test[:500]
    monkeypatch.setattr(mnist, "load_data", small_test_set)
    history = mnist.main(["--model", "vit", "--epochs", "2", "--train-size", "512",
                          "--batchsize", "64", "--lr", "0.002", "--out", str(tmp_path), "--quiet"])
    assert history[1]["loss"] < history[0]["loss"]
    assert history[-1]["accuracy"] > 0.4


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
    (["--epochs", "-1"], "at least 0"),
])
def test_charlm_refuses_bad_flags(argv, message, capsys):
    with pytest.raises(SystemExit):
        charlm.parse_args(argv)
    assert message in capsys.readouterr().err
