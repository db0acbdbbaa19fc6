"""Regression tests for save and load cases that once gave a silently wrong model or file."""

import io
import os
import signal
import stat
import subprocess
import sys
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import flux
from flux import Dense, LoadError, ModelNameError, load, loadmodel, save, state
from flux.atomic import temporaries

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_arrays_named_like_savez_keywords_round_trip(tmp_path):
    model = {"allow_pickle": np.arange(3.0), "file": np.ones(2), "w": np.zeros(1)}
    save(tmp_path / "m.npz", model)
    target = {"allow_pickle": np.zeros(3), "file": np.zeros(2), "w": np.ones(1)}
    load(tmp_path / "m.npz", target)
    for name in model:
        np.testing.assert_array_equal(target[name], model[name])


def test_colliding_dotted_names_are_refused(tmp_path):
    model = {"x.y": np.ones(2), "x": {"y": np.zeros(2)}}
    with pytest.raises(ModelNameError, match=r"both named 'x.y' \(at paths \['x.y'\] and \['x', 'y'\]\)"):
        save(tmp_path / "m.npz", model)
    assert not os.listdir(tmp_path)
    save(tmp_path / "other.npz", {"x.y": np.ones(2)})
    with pytest.raises(ModelNameError):
        load(tmp_path / "other.npz", model)
    np.testing.assert_array_equal(model["x"]["y"], np.zeros(2))


def test_tied_arrays_under_two_names_still_save(tmp_path):
    shared = np.arange(2.0)
    save(tmp_path / "m.npz", {"a": shared, "b": shared})
    target = {"a": np.zeros(2), "b": np.zeros(2)}
    load(tmp_path / "m.npz", target)
    np.testing.assert_array_equal(target["b"], shared)


def test_saving_keeps_an_existing_files_mode(tmp_path):
    path = tmp_path / "m.npz"
    save(path, Dense(2, 1))
    os.chmod(path, 0o640)
    save(path, Dense(2, 1))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_a_new_file_gets_the_umask_mode_not_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        save(tmp_path / "m.npz", Dense(2, 1))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "m.npz").st_mode) == 0o644


def test_saving_through_a_symlink_replaces_its_target(tmp_path):
    real = tmp_path / "store" / "real.npz"
    real.parent.mkdir()
    save(real, Dense(2, 1, rng=0))
    link = tmp_path / "latest.npz"
    link.symlink_to(real)
    source = Dense(2, 1, rng=1)
    save(link, source)
    assert link.is_symlink()
    target = load(real, Dense(2, 1, rng=2))
    np.testing.assert_array_equal(target.weight, source.weight)


def test_values_beyond_float32_range_are_refused(tmp_path):
    np.savez(tmp_path / "wide.npz", weight=np.array([[1.0, 1e39]]), bias=np.zeros(1))
    model = Dense(2, 1, rng=0)
    before = model.weight.copy()
    with pytest.raises(LoadError, match=r"weight holds 1e\+39, beyond the range of the model's float32"):
        load(tmp_path / "wide.npz", model)
    np.testing.assert_array_equal(model.weight, before)


def test_infinities_in_the_file_load_as_infinities(tmp_path):
    np.savez(tmp_path / "inf.npz", weight=np.array([[1.0, np.inf]]), bias=np.zeros(1))
    assert load(tmp_path / "inf.npz", Dense(2, 1)).weight[0, 1] == np.inf


def member_declaring(shape, payload, compress=False):
    """The bytes of an .npz whose one member 'weight' declares ``shape`` but holds ``payload``."""
    buffer = io.BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        with archive.open("weight.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f8", "fortran_order": False, "shape": shape})
            for chunk in payload:
                member.write(chunk)
    return buffer.getvalue()


def test_a_file_declaring_a_huge_array_raises_load_error(tmp_path):
    path = tmp_path / "huge.npz"
    path.write_bytes(member_declaring((2 ** 40,), [b"\0" * 16]))
    with pytest.raises(LoadError, match=r"declares shape \(1099511627776,\)"):
        load(path, {"weight": np.zeros(2 ** 40 // 2 ** 38)})


def test_a_small_compressed_file_is_refused_before_its_data_is_read(tmp_path):
    path = tmp_path / "bomb.npz"
    count = 6_000_000   # 48 MB of zeros, a few dozen KiB compressed
    path.write_bytes(member_declaring((count,), (bytes(1 << 20) for _ in range(count * 8 >> 20)),
                                      compress=True))
    assert path.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(LoadError):
            load(path, Dense(2, 1))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20, f"refusing the file allocated {peak} bytes"


KILLED_WRITER = """
import sys, time
from flux.atomic import replace_atomically
def write(stream):
    stream.write(b"half")
    stream.flush()
    print("writing", flush=True)
    time.sleep(60)
replace_atomically(sys.argv[1], write)
"""


def test_a_killed_saves_temporary_is_removed_by_the_next_save(tmp_path):
    path = tmp_path / "m.npz"
    env = dict(os.environ, PYTHONPATH=ROOT)
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)], env=env,
                              stdout=subprocess.PIPE, text=True)
    assert writer.stdout.readline().strip() == "writing"
    left = temporaries(path)
    assert [pid for _, pid in left] == [writer.pid]
    save(path, Dense(2, 1))                       # the writer still runs: its file stays
    assert len(temporaries(path)) == 1
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    save(path, Dense(2, 1))
    assert temporaries(path) == []
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]


def test_state_is_a_snapshot_and_loadmodel_checks_it():
    model = flux.Chain(Dense(3, 2, rng=0), flux.BatchNorm(2))
    snapshot = state(model)
    assert list(snapshot) == list(flux.model_state.named_arrays(model))
    assert any("running" in name or "mean" in name for name in snapshot)
    model[0].weight += 1
    assert not np.array_equal(snapshot["layers.0.weight"], model[0].weight)
    loadmodel(model, snapshot)
    np.testing.assert_array_equal(model[0].weight, snapshot["layers.0.weight"])
    with pytest.raises(LoadError, match=r"layers.0.weight has shape \(2, 4\)"):
        loadmodel(model, state(flux.Chain(Dense(4, 2), flux.BatchNorm(2))))
    with pytest.raises(LoadError, match="has no array for"):
        loadmodel(model, {"layers.0.weight": snapshot["layers.0.weight"]})


def test_loadmodel_from_another_model_copies_in_place():
    target, source = Dense(3, 2, rng=0), Dense(3, 2, rng=1)
    weight = target.weight
    assert loadmodel(target, source) is target
    assert target.weight is weight
    np.testing.assert_array_equal(weight, source.weight)
    assert target.weight is not source.weight
