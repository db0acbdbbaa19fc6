"""Tests for flux.saving: round trips, atomic writes, and refusals that leave the model untouched."""

import os

import numpy as np
import pytest

from flux import Chain, Dense, LoadError, load, params, relu, save


def model_pair():
    return (Chain(Dense(4, 3, relu, rng=0), Dense(3, 2, rng=1)),
            Chain(Dense(4, 3, relu, rng=2), Dense(3, 2, rng=3)))


def snapshot(model):
    return [p.copy() for p in params(model)]


def assert_unchanged(model, before):
    for p, old in zip(params(model), before):
        np.testing.assert_array_equal(p, old)


def test_round_trip(tmp_path):
    source, target = model_pair()
    source[1].bias[:] = [0.5, -0.5]
    save(tmp_path / "m.npz", source)
    weight = target[0].weight
    assert load(tmp_path / "m.npz", target) is target
    assert target[0].weight is weight                    # loaded in place
    for a, b in zip(params(source), params(target)):
        np.testing.assert_array_equal(a, b)


def test_file_names_arrays_by_path(tmp_path):
    source, _ = model_pair()
    save(tmp_path / "m.npz", source)
    with np.load(tmp_path / "m.npz") as archive:
        assert sorted(archive.files) == ["layers.0.bias", "layers.0.weight",
                                         "layers.1.bias", "layers.1.weight"]


def test_save_replaces_atomically_and_leaves_no_temporary(tmp_path, monkeypatch):
    source, other = model_pair()
    path = tmp_path / "m.npz"
    save(path, source)
    original = path.read_bytes()

    def failing_write(stream, array, **options):
        stream.write(b"partial garbage")
        raise OSError("disk full")
    monkeypatch.setattr(np.lib.format, "write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        save(path, other)
    assert path.read_bytes() == original
    assert os.listdir(tmp_path) == ["m.npz"]


def test_truncated_file_is_refused_and_model_untouched(tmp_path):
    source, target = model_pair()
    path = tmp_path / "m.npz"
    save(path, source)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    before = snapshot(target)
    with pytest.raises(LoadError, match="truncated, corrupt or another format"):
        load(path, target)
    assert_unchanged(target, before)


def test_foreign_file_is_refused(tmp_path):
    _, target = model_pair()
    before = snapshot(target)
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    with pytest.raises(LoadError):
        load(text, target)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, alpha=np.zeros(3))
    with pytest.raises(LoadError, match="no array for layers.0.weight"):
        load(foreign, target)
    assert_unchanged(target, before)


def test_shape_mismatch_names_the_array_and_changes_nothing(tmp_path):
    source = Chain(Dense(4, 3, rng=0), Dense(3, 5, rng=1))
    _, target = model_pair()
    save(tmp_path / "m.npz", source)
    before = snapshot(target)
    with pytest.raises(LoadError, match=r"layers.1.weight has shape \(5, 3\) in the file but "
                                        r"\(2, 3\) in the model"):
        load(tmp_path / "m.npz", target)
    assert_unchanged(target, before)


def test_extra_arrays_are_refused(tmp_path):
    source = Chain(Dense(4, 3, rng=0), Dense(3, 2, rng=1), Dense(2, 2, rng=2))
    _, target = model_pair()
    save(tmp_path / "m.npz", source)
    with pytest.raises(LoadError, match="lacks: layers.2.bias, layers.2.weight"):
        load(tmp_path / "m.npz", target)


def test_dtype_is_kept_on_load(tmp_path):
    source, target = model_pair()
    wide = {name: np.asarray(a, np.float64) for name, a in
            zip(["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"],
                params(source))}
    np.savez(tmp_path / "wide.npz", **wide)
    load(tmp_path / "wide.npz", target)
    assert target[0].weight.dtype == np.float32
    np.testing.assert_allclose(target[0].weight, source[0].weight)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "absent.npz", Dense(1, 1))
