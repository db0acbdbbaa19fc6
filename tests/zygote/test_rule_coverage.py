"""docs/rule-coverage.md is current, and every second derivative it claims is checked."""
import pytest

import rule_coverage
from test_rules_registry import describe, differentiable_rules


def test_the_coverage_page_is_current():
    assert rule_coverage.PAGE.read_text() == rule_coverage.render(), (
        "docs/rule-coverage.md is out of date: run python tests/zygote/rule_coverage.py")


def test_every_claimed_second_order_has_a_rule():
    rules = {describe(key) for key in differentiable_rules()}
    assert not rule_coverage.SECOND_ORDER - rules


@pytest.mark.parametrize("key", [key for key in differentiable_rules()
                                 if describe(key) in rule_coverage.SECOND_ORDER], ids=describe)
def test_second_order_matches_differences(key):
    row = rule_coverage.mirror_row(key)
    assert row is not None, f"no sample row of float arguments calls {describe(key)} as it is written"
    rule_coverage.second_order_check(row)
