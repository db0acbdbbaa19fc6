"""Every differentiable rule that zygote registers has sample inputs in some ``test_rules_*`` module.

The rows themselves are checked by the module that lists them; this test only fails when a
rule was added without one, naming the rule and the table to extend.
"""
import importlib.util
import inspect
import pathlib
import sys

import pytest

import zygote  # noqa: F401  (registers the rules)
from zygote.rules import METHOD_RULES, RULES

HERE = pathlib.Path(__file__).parent


def sample_tables():
    """``{module name: SAMPLES}`` of every sibling ``test_rules_*`` module that has a table."""
    tables = {}
    for path in sorted(HERE.glob("test_rules_*.py")):
        if path.stem == pathlib.Path(__file__).stem:
            continue
        module = sys.modules.get(path.stem)
        if module is None or pathlib.Path(getattr(module, "__file__", "")).resolve() != path.resolve():
            spec = importlib.util.spec_from_file_location(f"zygote_rule_samples.{path.stem}", path)
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            except pytest.skip.Exception:
                continue  # a table for an extra that is not installed (its rules are not either)
        if hasattr(module, "SAMPLES"):
            tables[path.stem] = module.SAMPLES
    return tables


def differentiable_rules():
    """``{key: rule}`` of the expression and pullback rules that zygote's own modules register."""
    found = {}
    for registry in (RULES, METHOD_RULES):
        for key, rule in registry.items():
            if rule.kind not in ("expr", "pullback"):
                continue
            impl = inspect.unwrap(rule.impl)  # the rule as written, inside zygote's wrappers
            module = getattr(impl, "__module__", "") or ""
            code = getattr(impl, "__code__", None)
            if not module.startswith("zygote") or (code and code.co_filename.startswith("<doctest")):
                continue  # a user's rule (or one a docstring example registered)
            found[key] = rule
    return found


def describe(key):
    if isinstance(key, tuple):
        return f"{key[0].__name__}.{key[1]}"
    return f"{getattr(key, '__module__', None) or ''}.{getattr(key, '__qualname__', repr(key))}".lstrip(".")


def test_every_differentiable_rule_has_sample_inputs():
    tables = sample_tables()
    sampled = {row["key"] for rows in tables.values() for row in rows}
    missing = sorted(describe(key) for key in differentiable_rules() if key not in sampled)
    assert not missing, (
        f"{len(missing)} differentiable rules have no sample inputs: {', '.join(missing)}. Add a "
        f"row with sample(...) to the SAMPLES table of a tests/zygote/test_rules_*.py module "
        f"(tables: {', '.join(tables)})")


def test_every_sample_names_a_registered_rule():
    rules = differentiable_rules()
    stale = [describe(row["key"]) for rows in sample_tables().values() for row in rows if row["key"] not in rules]
    assert not stale, f"samples for rules that are not registered (or not differentiable): {stale}"
