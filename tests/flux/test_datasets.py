"""Tests for flux.datasets: IDX decoding and checks, the search order, and downloads over loopback."""

import gzip
import hashlib
import http.server
import threading
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from flux.datasets import (MNIST, SHA256, SPLITS, DatasetError, download, parse_idx, read_idx,
                           search_dirs, vendored_dir)


def idx_bytes(array):
    """Encode a uint8 array in IDX format."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path, payload):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as stream:
        stream.write(payload)
    return path


def fake_split(directory, split, n=3, seed=0):
    """Write a tiny MNIST-shaped split (n images, n labels) and return the arrays."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    image_name, label_name = SPLITS[split]
    write_gz(Path(directory) / image_name, idx_bytes(images))
    write_gz(Path(directory) / label_name, idx_bytes(labels))
    return images, labels


def sums_in(directory, split):
    """The SHA-256 sums of the decompressed files of ``split`` in ``directory``."""
    return {name: hashlib.sha256(gzip.decompress((Path(directory) / name).read_bytes())).hexdigest()
            for name in SPLITS[split]}


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No $FLUX_DATA, an empty cache, and no vendored copy, so only the test's files exist."""
    monkeypatch.delenv("FLUX_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr("flux.datasets.vendored_dir", lambda: tmp_path / "no-vendored")
    return tmp_path


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path / 'www'``; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- IDX ------------

def test_parse_idx_round_trip():
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(parse_idx(idx_bytes(array)), array)


def test_parse_idx_rejects_bad_magic():
    with pytest.raises(DatasetError, match="bad magic number"):
        parse_idx(b"\x1f\x8b\x08\x00" + bytes(20))


def test_parse_idx_rejects_truncated_and_overlong_payloads():
    good = idx_bytes(np.zeros((4, 5), np.uint8))
    with pytest.raises(DatasetError, match="truncated.*dimensions \\(4, 5\\)"):
        parse_idx(good[:-1])
    with pytest.raises(DatasetError, match="longer than its header says"):
        parse_idx(good + b"\x00")
    with pytest.raises(DatasetError, match="truncated: header"):
        parse_idx(good[:6])


def test_read_idx_reports_a_truncated_gzip(tmp_path):
    path = write_gz(tmp_path / "x-idx1-ubyte.gz", idx_bytes(np.zeros(5000, np.uint8)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        read_idx(path)


def test_read_idx_reports_a_file_that_is_not_gzip(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(DatasetError, match="corrupt or truncated"):
        read_idx(path)


# ---------------------------------------------------------------- search ---------

def test_vendored_mnist_test_split():
    X, y = MNIST.testdata(np.float32, root=vendored_dir())
    assert X.shape == (10000, 28, 28) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (10000,) and y.dtype == np.int64
    assert sorted(np.unique(y).tolist()) == list(range(10))
    assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_vendored_files_match_their_checksums():
    for names in SPLITS.values():
        for name in names:
            raw = gzip.decompress((vendored_dir() / name).read_bytes())
            assert hashlib.sha256(raw).hexdigest() == SHA256[name], name


def test_vendored_mnist_train_split_shape():
    X, y = MNIST.traindata(np.uint8, root=vendored_dir())
    assert X.shape == (60000, 28, 28) and X.dtype == np.uint8 and len(y) == 60000


def test_root_argument_wins(isolated):
    images, labels = fake_split(isolated / "mine", "test", n=4)
    fake_split(isolated / "cache" / "flux" / "mnist", "test", n=2)
    X, y = MNIST.testdata(np.float64, root=isolated / "mine",
                          checksums=sums_in(isolated / "mine", "test"))
    assert X.dtype == np.float64 and len(X) == 4
    np.testing.assert_allclose(X, images / 255)
    np.testing.assert_array_equal(y, labels)


def test_search_order_env_then_vendored_then_cache(isolated, monkeypatch):
    fake_split(isolated / "cache" / "flux" / "mnist", "test", n=2)
    assert len(MNIST.testdata(checksums=sums_in(isolated / "cache" / "flux" / "mnist",
                                                "test"))[0]) == 2
    fake_split(isolated / "no-vendored", "test", n=5)
    assert len(MNIST.testdata(checksums=sums_in(isolated / "no-vendored", "test"))[0]) == 5
    monkeypatch.setenv("FLUX_DATA", str(isolated / "env"))
    fake_split(isolated / "env" / "mnist", "test", n=3)
    assert len(MNIST.testdata(checksums=sums_in(isolated / "env" / "mnist", "test"))[0]) == 3
    dirs = search_dirs()
    assert dirs == [isolated / "env" / "mnist", isolated / "no-vendored",
                    isolated / "cache" / "flux" / "mnist"]


def test_vendored_copy_is_used_when_nothing_else_exists(isolated):
    fake_split(isolated / "no-vendored", "test", n=5)
    assert len(MNIST.testdata(checksums=sums_in(isolated / "no-vendored", "test"))[0]) == 5


def test_mismatched_image_and_label_counts(isolated):
    images, _ = fake_split(isolated / "mine", "train", n=3)
    write_gz(isolated / "mine" / SPLITS["train"][1], idx_bytes(np.zeros(2, np.uint8)))
    with pytest.raises(DatasetError, match="3 images but .* 2 labels"):
        MNIST.traindata(root=isolated / "mine", checksums=False)


def test_missing_files_without_download(isolated):
    with pytest.raises(DatasetError, match="not found"):
        MNIST.testdata(root=isolated / "empty", download=False)


# ---------------------------------------------------------------- download -------

def payloads(split, n=3):
    """Tiny IDX payloads for a split, their gzip files' bytes and their checksums."""
    rng = np.random.default_rng(1)
    arrays = [rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
              rng.integers(0, 10, n, dtype=np.uint8)]
    raw = {name: idx_bytes(a) for name, a in zip(SPLITS[split], arrays)}
    sums = {name: hashlib.sha256(data).hexdigest() for name, data in raw.items()}
    return raw, sums


def test_download_verifies_and_installs(server, tmp_path):
    www, url = server
    raw, sums = payloads("test")
    for name, data in raw.items():
        write_gz(www / name, data)
    download(list(raw), tmp_path / "dest", mirrors=[url], checksums=sums)
    for name, data in raw.items():
        assert gzip.decompress((tmp_path / "dest" / name).read_bytes()) == data
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == sorted(raw)


def test_download_falls_back_to_the_next_mirror(server, tmp_path):
    www, url = server
    raw, sums = payloads("test")
    for name, data in raw.items():
        write_gz(www / "good" / name, data)
    download(list(raw), tmp_path / "dest", mirrors=[url + "missing/", url + "good/"],
             checksums=sums)
    assert all((tmp_path / "dest" / name).is_file() for name in raw)


def test_download_rejects_a_wrong_checksum_and_leaves_nothing(server, tmp_path):
    www, url = server
    raw, sums = payloads("test")
    for name, data in raw.items():
        write_gz(www / name, data[:-1] + b"\x07")      # same size, different contents
    with pytest.raises(DatasetError, match="SHA-256 .* does not match"):
        download(list(raw), tmp_path / "dest", mirrors=[url], checksums=sums)
    assert list((tmp_path / "dest").iterdir()) == []


def test_download_reports_every_failed_mirror(server, tmp_path):
    _, url = server
    with pytest.raises(DatasetError, match="(?s)could not download.*404.*404"):
        download(["t10k-labels-idx1-ubyte.gz"], tmp_path, mirrors=[url + "a/", url + "b/"])


def test_missing_split_is_downloaded_into_root(server, isolated, monkeypatch):
    www, url = server
    raw, sums = payloads("test", n=4)
    for name, data in raw.items():
        write_gz(www / name, data)
    monkeypatch.setattr("flux.datasets.SHA256", sums)
    X, y = MNIST.testdata(root=isolated / "fresh", mirrors=[url])
    assert X.shape == (4, 28, 28)
    assert (isolated / "fresh" / SPLITS["test"][0]).is_file()
