"""Tests for flux.data (DataLoader) and flux.utils (one-hot encodings, accuracy)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flux import DataLoader, accuracy, onecold, onehot, onehotbatch

X = np.arange(20).reshape(10, 2)
Y = np.arange(10) * 10


def test_batches_in_order_with_partial_last_batch():
    loader = DataLoader((X, Y), batchsize=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(batches[2][0], X[8:])
    assert all(isinstance(batch, tuple) for batch in batches)


def test_partial_false_drops_the_short_batch():
    loader = DataLoader(X, batchsize=4, partial=False)
    assert len(loader) == 2
    assert [len(b) for b in loader] == [4, 4]


def test_batchsize_larger_than_data():
    assert [len(b) for b in DataLoader(X, batchsize=64)] == [10]
    assert list(DataLoader(X, batchsize=64, partial=False)) == []


def test_single_array_gives_arrays_and_views_without_shuffle():
    batch = next(iter(DataLoader(X, batchsize=3)))
    assert isinstance(batch, np.ndarray)
    assert np.shares_memory(batch, X)


def test_shuffle_covers_everything_once_and_keeps_pairs():
    loader = DataLoader((X, Y), batchsize=3, shuffle=True, rng=0)
    xs, ys = zip(*loader)
    xs, ys = np.concatenate(xs), np.concatenate(ys)
    assert sorted(ys.tolist()) == Y.tolist()
    np.testing.assert_array_equal(xs[:, 0] * 5, ys)  # rows stay paired
    assert not np.shares_memory(xs, X)


def test_shuffle_changes_every_epoch_and_is_reproducible():
    loader = DataLoader(Y, batchsize=5, shuffle=True, rng=np.random.default_rng(1))
    first, second = next(iter(loader)), next(iter(loader))
    assert not np.array_equal(first, second)
    again = DataLoader(Y, batchsize=5, shuffle=True, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(next(iter(again)), first)


def test_shuffled_batches_differ_from_the_unshuffled_order():
    orders = [np.concatenate(list(DataLoader(Y, batchsize=2, shuffle=True, rng=s)))
              for s in range(3)]
    assert any(not np.array_equal(order, Y) for order in orders)


def test_dict_and_list_data_keep_their_structure():
    batch = next(iter(DataLoader({"x": X, "y": Y}, batchsize=2)))
    assert set(batch) == {"x", "y"} and batch["y"].tolist() == [0, 10]
    batch = next(iter(DataLoader([X, Y], batchsize=2)))
    assert isinstance(batch, list) and len(batch) == 2


def test_different_lengths_are_an_error():
    with pytest.raises(ValueError, match=r"different numbers of observations.*10.*9"):
        DataLoader((X, Y[:9]))


def test_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="batchsize"):
        DataLoader(X, batchsize=0)
    with pytest.raises(ValueError, match="scalar"):
        DataLoader(np.float32(1.0))


def test_onehot_and_onehotbatch():
    np.testing.assert_array_equal(onehot(2, range(4)), [0, 0, 1, 0])
    batch = onehotbatch([3, 1, 3], [1, 2, 3])
    assert batch.dtype == np.float32 and batch.shape == (3, 3)
    np.testing.assert_array_equal(batch, [[0, 0, 1], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(onehotbatch(["b"], ["c", "a", "b"]), [[0, 0, 1]])


def test_onehotbatch_rejects_unknown_labels_unless_default():
    with pytest.raises(ValueError, match=r"label 10 is not among the classes \[0, 1"):
        onehotbatch([1, 10], range(10))
    np.testing.assert_array_equal(onehotbatch([5, 1], [0, 1], default=0), [[1, 0], [0, 1]])


def test_onecold_inverts_onehotbatch():
    labels = np.random.default_rng(0).integers(0, 7, 50)
    np.testing.assert_array_equal(onecold(onehotbatch(labels, range(7))), labels)
    classes = list("abcdefg")
    assert onecold(onehotbatch(["c", "g"], classes), classes).tolist() == ["c", "g"]


def test_accuracy_with_labels_and_onehot():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert accuracy(scores, [0, 1, 1, 1]) == 0.75
    assert accuracy(scores, onehotbatch([0, 1, 1, 1], range(2))) == 0.75


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 40), st.integers(1, 12), st.booleans(), st.booleans())
def test_batches_partition_the_data(n, batchsize, shuffle, partial):
    data = np.arange(n)
    loader = DataLoader((data, -data), batchsize=batchsize, shuffle=shuffle, partial=partial,
                        rng=n)
    batches = list(loader)
    assert len(batches) == len(loader)
    assert all(len(x) == batchsize for x, _ in batches[:-1 if partial else None])
    seen = np.concatenate([x for x, _ in batches]) if batches else np.array([], int)
    assert len(set(seen.tolist())) == len(seen)          # nothing twice
    expected = n if partial else n - n % batchsize
    assert len(seen) == expected
    for x, y in batches:
        np.testing.assert_array_equal(y, -x)
