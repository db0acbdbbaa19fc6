"""Sample tables for the rule tests: rows naming a rule, a function that calls it, and arguments.

Each ``test_rules_*`` module keeps one table; ``conftest`` turns its rows into checks and the
registry test finds the rows through the module's ``SAMPLES``.
"""
import numpy as np


class SampleTable:
    """The rows of one test module and the seeded random inputs they are built from."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.rows = []

    def add(self, key, static, *args, **options):
        """Add a sample row (see conftest) for the rule registered under ``key``."""
        self.rows.append(dict(key=key, static=static, args=args, **options))

    def uniform(self, *shape, lo=-2.0, hi=2.0):
        """A float64 array of ``shape`` uniform in [lo, hi) (fresh values on every call)."""
        return self.rng.uniform(lo, hi, shape)

    def away(self, *shape, lo=0.5, hi=2.0):
        """A float64 array of ``shape`` with magnitudes in [lo, hi) and random signs."""
        return self.rng.uniform(lo, hi, shape) * self.rng.choice([-1.0, 1.0], shape)
