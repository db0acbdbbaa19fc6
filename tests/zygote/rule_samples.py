"""Sample tables for the rule tests: rows naming a rule, a function that calls it, and arguments.

Each ``test_rules_*`` module keeps one table and imports the checks below that apply to its
rows; ``conftest`` runs each check over the rows of the module that imports it, and the
registry test finds the rows through the module's ``SAMPLES``.
"""
import numpy as np
import pytest


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


# -- the checks a table's rows go through (see conftest for the fixtures) --------------------


def test_rule_matches_differences(row, check_sample):
    check_sample(row)


@pytest.mark.rows("dynamic")
def test_rule_called_as_a_value(row, check_sample_dynamically):
    check_sample_dynamically(row)


@pytest.mark.rows("float32")
def test_rule_keeps_float32(row, check_sample_float32):
    check_sample_float32(row)


@pytest.mark.rows("mirrors")
def test_rule_cotangents_have_the_arguments_shapes(row, check_sample_shapes):
    check_sample_shapes(row)


def test_rule_value_is_the_plain_value(row):
    """The differentiated call computes what the plain call computes, bit for bit."""
    import zygote  # (here, so that importing the checks stays cheap)
    value, _ = zygote.withgradient(row["static"], *row["args"])
    plain = row["static"](*row["args"])
    assert np.array_equal(value, plain, equal_nan=True), f"{value!r} differs from the plain call's {plain!r}"
