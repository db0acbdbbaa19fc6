"""Shared helpers of the optimiser tests."""

import pytest

import zygote


class FakeGrads:
    """Stands in for zygote.Grads: indexed by array identity, with a ``params`` collection."""

    def __init__(self, pairs):
        self.params = zygote.Params([p for p, _ in pairs])
        self.table = {id(p): g for p, g in pairs}

    def __getitem__(self, p):
        return self.table[id(p)]


@pytest.fixture
def fake_grads():
    """`FakeGrads`, for gradients the tests choose, ``None`` included."""
    return FakeGrads
