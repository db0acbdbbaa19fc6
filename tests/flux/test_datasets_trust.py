"""Regression tests: MNIST files that are altered, planted or out of range are refused, never read."""

import gzip
import hashlib
import logging
import shutil

import numpy as np
import pytest

from flux.datasets import MNIST, SPLITS, DatasetError, vendored_dir

IMAGES, LABELS = SPLITS["test"]


def copy_test_split(directory):
    directory.mkdir(parents=True, exist_ok=True)
    for name in SPLITS["test"]:
        shutil.copy(vendored_dir() / name, directory / name)
    return directory


def rewrite(path, change):
    """Replace the gzip file at ``path`` with one holding ``change(bytearray of its contents)``."""
    raw = bytearray(gzip.decompress(path.read_bytes()))
    change(raw)
    path.write_bytes(gzip.compress(bytes(raw), compresslevel=1))


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("FLUX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_a_relabelled_file_is_refused(no_env):
    root = copy_test_split(no_env / "mine")
    rewrite(root / LABELS, lambda raw: raw.__setitem__(8, (raw[8] + 1) % 10))  # first label
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte.gz is not the published file"):
        MNIST.testdata(root=root)


def test_a_bit_flipped_image_file_is_refused(no_env):
    root = copy_test_split(no_env / "mine")
    rewrite(root / IMAGES, lambda raw: raw.__setitem__(5000, raw[5000] ^ 0x10))
    with pytest.raises(DatasetError, match="SHA-256 of its contents is"):
        MNIST.testdata(root=root)


def test_the_untouched_copy_loads(no_env):
    X, y = MNIST.testdata(root=copy_test_split(no_env / "mine"))
    assert X.shape == (10000, 28, 28) and y[:3].tolist() == [7, 2, 1]


def test_labels_out_of_range_are_refused_even_unverified(no_env):
    root = copy_test_split(no_env / "mine")
    rewrite(root / LABELS, lambda raw: raw.__setitem__(8 + 17, 200))
    with pytest.raises(DatasetError, match="label 200 at index 17 is outside 0..9"):
        MNIST.testdata(root=root, checksums=False)


def test_a_file_planted_in_the_cache_does_not_win_over_the_bundled_copy(no_env):
    cache = copy_test_split(no_env / "cache" / "flux" / "mnist")
    rewrite(cache / LABELS, lambda raw: raw.__setitem__(8, 3))
    X, y = MNIST.testdata()
    assert y[0] == 7


def test_a_planted_file_in_a_searched_directory_is_refused_not_skipped(no_env, monkeypatch):
    planted = copy_test_split(no_env / "env" / "mnist")
    rewrite(planted / LABELS, lambda raw: raw.__setitem__(8, 3))
    monkeypatch.setenv("FLUX_DATA", str(no_env / "env"))
    with pytest.raises(DatasetError, match="not the published file"):
        MNIST.testdata()


def test_missing_files_say_so_before_and_after_a_failed_download(no_env, caplog):
    root = no_env / "empty"
    root.mkdir()
    with caplog.at_level(logging.WARNING, logger="flux"):
        with pytest.raises(DatasetError, match=f"MNIST test files not found in {root}, and "
                                               f"downloading them failed"):
            MNIST.testdata(root=root, mirrors=["http://127.0.0.1:9/"])
    assert f"MNIST test files not found in {root}; downloading" in caplog.text


def test_checksums_false_reads_a_users_own_files(no_env):
    root = copy_test_split(no_env / "mine")
    rewrite(root / IMAGES, lambda raw: raw.__setitem__(5000, 0))
    X, _ = MNIST.testdata(np.uint8, root=root, checksums=False)
    assert X.ravel()[5000 - 16] == 0


def test_a_file_changed_after_verification_is_checked_again(no_env):
    root = copy_test_split(no_env / "mine")
    MNIST.testdata(root=root)                 # verified, and remembered by size and mtime
    rewrite(root / LABELS, lambda raw: raw.__setitem__(8, 3))
    with pytest.raises(DatasetError, match="not the published file"):
        MNIST.testdata(root=root)


def test_verification_is_remembered_only_for_a_matching_sum(no_env, monkeypatch):
    root = copy_test_split(no_env / "mine")
    MNIST.testdata(root=root)
    calls = []
    real_sha256 = hashlib.sha256
    monkeypatch.setattr(hashlib, "sha256", lambda data: calls.append(1) or real_sha256(data))
    MNIST.testdata(root=root)
    assert calls == []                         # both files remembered
    with pytest.raises(DatasetError):
        MNIST.testdata(root=root, checksums={IMAGES: "0" * 64, LABELS: "0" * 64})
