"""Smoke test of the benchmark suite: ``python -m benchmarks --quick`` runs and writes its report.

It checks that the suite runs, not the numbers. Peers that are not installed are reported
as missing by the suite, so the test passes with or without ``.[bench]``.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CASES = ("overhead", "arrays", "first_gradient", "no_source", "higher_order", "loops", "mnist",
         "conv", "recurrent", "distributed", "transformers", "writes", "compiled")


def run_suite(out, *args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out),
                           *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=env)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("benchmarks")
    return run_suite(out), out


def test_quick_run_exits_cleanly(quick_run):
    done, _ = quick_run
    assert done.returncode == 0, done.stderr[-3000:]


def test_report_has_every_case_and_the_machine(quick_run):
    _, out = quick_run
    text = (out / "RESULTS.md").read_text(encoding="utf-8")
    assert "Quick mode" in text
    for heading in ("## Targets", "## Headline ratios", "## Machine", "## Method"):
        assert heading in text
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert set(results["sections"]) == set(CASES)
    for key, section in results["sections"].items():
        assert not section["error"], f"case {key} crashed: {section['error']}"
    assert results["machine"]["threads"] == 1


def test_charts_are_drawn_when_matplotlib_is_installed(quick_run):
    pytest.importorskip("matplotlib")
    _, out = quick_run
    for case in CASES:
        assert (out / "charts" / f"{case}.png").stat().st_size > 0


def test_a_missing_peer_is_reported_not_fatal(tmp_path):
    hidden = tmp_path / "hidden"
    (hidden / "autograd").mkdir(parents=True)
    (hidden / "autograd" / "__init__.py").write_text(
        "raise ImportError('hidden by the benchmark smoke test')\n")
    env = {**os.environ, "PYTHONPATH": str(hidden)}
    done = run_suite(tmp_path / "out", "--cases", "overhead", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    text = (tmp_path / "out" / "RESULTS.md").read_text(encoding="utf-8")
    assert "missing" in text and "hidden by the benchmark smoke test" in text
