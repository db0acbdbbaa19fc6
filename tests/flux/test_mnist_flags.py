"""Every flag of the MNIST example is validated with a clear message before any work starts."""

import pytest

from flux.examples import mnist


@pytest.mark.parametrize("argv, message", [
    (["--batchsize", "0"], "argument --batchsize: must be positive, got 0"),
    (["--batchsize", "-3"], "argument --batchsize: must be positive, got -3"),
    (["--train-size", "0"], "argument --train-size: must be positive, got 0"),
    (["--train-size", "100000"], "--train-size 100000: MNIST has only 60000 training images"),
    (["--epochs", "-1"], "argument --epochs: must be 0 or more, got -1"),
    (["--epochs", "two"], "argument --epochs: expected an integer, got 'two'"),
    (["--lr", "nan"], "argument --lr: must be positive, got nan"),
    (["--lr", "inf"], "argument --lr: must be positive, got inf"),
    (["--decay", "0"], "argument --decay: must be positive, got 0"),
    (["--seed", "-1"], "argument --seed: must be 0 or more, got -1"),
    (["--data-dir", "/missing/path"], "--data-dir /missing/path: no such directory"),
    (["--model", "vit", "--decay", "0.5"], "--decay applies to --schedule epoch"),
    (["--model", "cnn", "--warmup", "1"], "--warmup applies to --schedule cosine"),
    (["--decay", "0.5"], "--decay applies to --schedule epoch"),
    (["--schedule", "cosine", "--warmup", "-1"], "argument --warmup: must be 0 or more, got -1"),
    (["--schedule", "linear"], "argument --schedule: invalid choice: 'linear'"),
    (["--label-smoothing", "1"], "--label-smoothing 1.0: must lie in [0, 1)"),
    (["--label-smoothing", "nan"], "argument --label-smoothing: must be 0 or more, got nan"),
    (["--shift", "9"], "--shift 9: at most 8 pixels"),
    (["--shift", "-1"], "argument --shift: must be 0 or more, got -1"),
    (["--weight-decay", "inf"], "argument --weight-decay: must be 0 or more, got inf"),
])
def test_bad_flags_exit_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        mnist.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_a_missing_data_dir_is_not_created(tmp_path, capsys):
    missing = tmp_path / "missing"
    with pytest.raises(SystemExit):
        mnist.main(["--data-dir", str(missing), "--epochs", "1"])
    assert not missing.exists()


def test_out_must_not_be_a_file(tmp_path, capsys):
    (tmp_path / "taken").write_text("")
    with pytest.raises(SystemExit):
        mnist.parse_args(["--out", str(tmp_path / "taken")])
    assert "exists and is not a directory" in capsys.readouterr().err


def test_good_flags_parse(tmp_path):
    args = mnist.parse_args(["--batchsize", "7", "--train-size", "60000", "--lr", "1e-3",
                             "--data-dir", str(tmp_path), "--seed", "0"])
    assert (args.batchsize, args.train_size, args.lr, args.seed) == (7, 60000, 1e-3, 0)


def test_weight_decay_trains_with_adamw(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(mnist, "evaluate", lambda model, X, y: 0.0)
    mnist.main(["--weight-decay", "0.01", "--epochs", "1", "--train-size", "64",
                "--out", str(tmp_path)])
    assert "AdamW(decay=0.01); rate warmed up to 0.005 over 1 epochs, then a cosine to 0" \
        in capsys.readouterr().out
