"""Shared helpers of the optimiser tests."""

import numpy as np
import pytest

import zygote
from flux import update


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


@pytest.fixture
def quadratic_falls():
    """``quadratic_falls(opt, steps)``: assert that ``opt`` cuts ``Σ (x - target)²`` a
    hundredfold from ``x = 0`` in float32, and keeps ``x`` float32."""
    def check(opt, steps=300):
        target = np.array([3.0, -2.0, 0.5], dtype=np.float32)
        x = np.zeros(3, np.float32)
        start = float(np.sum((x - target) ** 2))
        for _ in range(steps):
            update(opt, x, 2 * (x - target))
        assert float(np.sum((x - target) ** 2)) < 0.01 * start
        assert x.dtype == np.float32
    return check
