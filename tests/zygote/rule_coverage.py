"""The rule coverage table (docs/rule-coverage.md), built from the registry and the sample tables.

For every rule zygote registers: whether its first derivative is checked against central
differences (every differentiable rule is: the registry test fails otherwise), whether its
second derivative is (the names in ``SECOND_ORDER``, each checked by ``second_order_check`` in
test_rule_coverage, and the keys of the test modules' ``SECOND_ORDER_CASES``), whether complex
inputs are (the keys the complex tests list in their ``COMPLEX_CHECKED``), and whether float32
arguments keep float32 cotangents (a sample row with ``float32`` checks it). Regenerate the
page with ``python tests/zygote/rule_coverage.py``.
"""
import pathlib
import sys
import types

import numpy as np

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))

import zygote  # noqa: E402
from zygote.rules import RULES  # noqa: E402
from zygote.testing import check_grad, output_weights  # noqa: E402
from conftest import complete_rows  # noqa: E402
from test_rules_registry import describe, differentiable_rules, sample_tables  # noqa: E402

PAGE = HERE.parent.parent / "docs" / "rule-coverage.md"

# The rules whose second derivative (the gradient of a weighted sum of their gradient) is
# checked against central differences, by name, on the first sample row of float arguments
# that calls the rule as it is written (test_rule_coverage runs each).
SECOND_ORDER = frozenset([
    "_operator.add", "_operator.sub", "_operator.mul", "_operator.truediv", "_operator.mod",
    "_operator.pow", "_operator.neg", "_operator.pos", "_operator.abs", "_operator.matmul", "math.sin",
    "math.cos", "math.tan", "math.exp", "math.exp2", "math.cbrt", "math.degrees", "math.radians",
    "math.expm1", "math.log", "math.log1p", "math.log2", "math.log10", "math.sqrt", "math.tanh",
    "math.sinh", "math.cosh", "math.asin", "math.acos", "math.atan", "math.asinh", "math.acosh",
    "math.atanh", "math.erf", "math.erfc", "math.fabs", "math.pow", "math.atan2", "math.fmod",
    "math.hypot", "numpy.sin", "numpy.cos", "numpy.tan", "numpy.exp", "numpy.exp2", "numpy.expm1",
    "numpy.log", "numpy.log2", "numpy.log10", "numpy.log1p", "numpy.sqrt", "numpy.cbrt",
    "numpy.square", "numpy.reciprocal", "numpy.tanh", "numpy.sinh", "numpy.cosh", "numpy.arcsin",
    "numpy.arccos", "numpy.arctan", "numpy.arcsinh", "numpy.arccosh", "numpy.arctanh", "numpy.sinc",
    "numpy.deg2rad", "numpy.radians", "numpy.rad2deg", "numpy.degrees", "numpy.absolute", "numpy.fabs",
    "numpy.sign", "numpy.negative", "numpy.positive", "numpy.add", "numpy.subtract", "numpy.multiply",
    "numpy.divide", "numpy.power", "numpy.float_power", "numpy.remainder", "numpy.fmod",
    "numpy.maximum", "numpy.minimum", "numpy.fmax", "numpy.fmin", "numpy.arctan2", "numpy.hypot",
    "numpy.logaddexp", "numpy.logaddexp2", "numpy.clip", "numpy.float64", "numpy.float32",
    "numpy.float16", "numpy.sum", "numpy.mean", "numpy.prod", "numpy.max", "numpy.min", "numpy.var",
    "numpy.std", "numpy.nansum", "numpy.nanmean", "numpy.cumsum", "numpy.diff", "numpy.matmul",
    "numpy.dot", "numpy.inner", "numpy.outer", "numpy.tensordot", "numpy.trace", "numpy.diagonal",
    "numpy.diag", "numpy.average", "numpy.vdot", "numpy.cumprod", "numpy.ptp", "numpy.linalg.inv",
    "numpy.linalg.solve", "numpy.linalg.det", "numpy.linalg.slogdet", "numpy.linalg.eigvalsh",
    "numpy.linalg.cholesky", "numpy.triu", "numpy.ravel", "numpy.squeeze", "numpy.atleast_1d",
    "numpy.atleast_2d", "numpy.atleast_3d", "numpy.copy", "numpy.transpose", "numpy.flip",
    "numpy.fliplr", "numpy.flipud", "numpy.sort", "numpy.stack", "numpy.asarray", "numpy.array",
    "builtins.abs", "builtins.float", "builtins.pow", "builtins.sum", "builtins.enumerate",
    "builtins.reversed", "builtins.list", "numpy.append", "numpy.rot90", "numpy.gradient",
    "numpy.kron", "numpy.cross", "numpy.linalg.norm", "numpy.linalg.pinv", "numpy.real",
    "numpy.conjugate", "numpy.real_if_close", "numpy.fft.irfft", "numpy.fft.fftshift",
    "numpy.fft.ifftshift",
])


def name_of(key):
    """A rule's key as the table shows it; an object without a name (np.r_) by its numpy name."""
    if not isinstance(key, tuple) and not hasattr(key, "__qualname__"):
        for name in dir(np):
            if getattr(np, name) is key:
                return f"numpy.{name}"
    return describe(key)


def mirror_row(key):
    """The first sample row that calls the rule ``key`` as ``key(*args)`` with up to three float
    arguments and no keywords (the calls ``second_order_check`` can make by name)."""
    for rows in sample_tables().values():
        for row in complete_rows(rows):
            if row["key"] is key and row["mirrors"] and not isinstance(key, tuple) \
                    and not row["kwargs"] and len(row["args"]) in LOSSES \
                    and all(isinstance(a, float) or isinstance(a, np.ndarray) and a.dtype.kind == "f"
                            for a in row["args"]):
                return row
    return None


def loss_1(a):
    return np.sum(RULE(a) * WEIGHTS)


def loss_2(a, b):
    return np.sum(RULE(a, b) * WEIGHTS)


def loss_3(a, b, c):
    return np.sum(RULE(a, b, c) * WEIGHTS)


def slope_1(a):
    grads = zygote.gradient(LOSS, a)
    return np.sum(grads[0] * S0)


def slope_2(a, b):
    da, db = zygote.gradient(LOSS, a, b)
    return np.sum(da * S0) + np.sum(db * S1)


def slope_3(a, b, c):
    da, db, dc = zygote.gradient(LOSS, a, b, c)
    return np.sum(da * S0) + np.sum(db * S1) + np.sum(dc * S2)


LOSSES = {1: (loss_1, slope_1), 2: (loss_2, slope_2), 3: (loss_3, slope_3)}
RULE = WEIGHTS = LOSS = S0 = S1 = S2 = None   # (each check binds its own, see below)


def bound(template, **names):
    """``template`` with some of its globals bound to ``names``: zygote resolves them as globals,
    so the rule is called by name, as user code calls it."""
    return types.FunctionType(template.__code__, {**template.__globals__, **names}, template.__name__)


def second_order_check(row):
    """Check the gradient of a weighted sum of ``row``'s gradient against central differences."""
    key, args = row["key"], row["args"]
    loss_template, slope_template = LOSSES[len(args)]
    weights = output_weights(np.shape(key(*args)), 5)
    slopes = {f"S{i}": output_weights(np.shape(a), 7 + i) for i, a in enumerate(args)}
    loss = bound(loss_template, RULE=key, WEIGHTS=weights)
    slope = bound(slope_template, LOSS=loss, **slopes)
    return check_grad(slope, *args, rtol=1e-4, atol=1e-6, full_max=0, directions=1)


def second_derivative_check(f, x):
    """Check the gradient of ``Σ cos(x) ∇f(x)`` (``f`` calls the rule by name) against differences."""
    def second(x):
        (g,) = zygote.gradient(f, x)
        return np.sum(g * np.cos(x))
    return check_grad(second, x, rtol=1e-4, atol=1e-6)


def second_order_checked():
    """The names of the rules whose second derivative is checked: ``SECOND_ORDER`` and the keys of
    the test modules' ``SECOND_ORDER_CASES``."""
    import test_rules_construction
    import test_rules_fft
    import test_rules_linalg
    cases = {**test_rules_construction.SECOND_ORDER_CASES, **test_rules_fft.SECOND_ORDER_CASES,
             **test_rules_linalg.SECOND_ORDER_CASES}
    return SECOND_ORDER | {describe(key) for key in cases}


def complex_checked():
    """The keys whose complex inputs the complex tests check against differences."""
    import test_rules_complex
    import test_rules_fft
    return set(test_rules_complex.COMPLEX_CHECKED) | set(test_rules_fft.COMPLEX_CHECKED)


def coverage_table():
    """The markdown table: one line per differentiable rule, then the non-differentiable ones."""
    rows_by_key = {}
    for rows in sample_tables().values():
        for row in complete_rows(rows):
            rows_by_key.setdefault(row["key"], []).append(row)
    complex_keys, second = complex_checked(), second_order_checked()
    lines = ["| function | first order | second order | complex | float32 |",
             "|---|---|---|---|---|"]
    entries = []
    for key, rule in differentiable_rules().items():
        rows = rows_by_key.get(key, [])
        entries.append((name_of(key), "yes" if rows else "no", "yes" if describe(key) in second else "-",
                        "yes" if key in complex_keys else "-",
                        "yes" if any(r["float32"] for r in rows) else "-"))
    for entry in sorted(entries):
        lines.append("| `" + entry[0] + "` | " + " | ".join(entry[1:]) + " |")
    nograd = sorted(describe(fn) for fn, rule in RULES.items() if rule.kind == "nograd"
                    and (getattr(fn, "__module__", None) or "").split(".")[0] in
                    ("numpy", "math", "builtins", "_operator", "zygote")
                    and not getattr(getattr(fn, "__code__", None), "co_filename", "").startswith("<doctest"))
    return lines, nograd


def render():
    lines, nograd = coverage_table()
    return "\n".join([
        "# Rule coverage",
        "",
        "<!-- generated by tests/zygote/rule_coverage.py from the registry; do not edit by hand -->",
        "",
        "What the test suite checks for each rule zygote registers: the first derivative against",
        "central differences in float64 (every rule), the second derivative (the gradient of the",
        "rule's gradient), complex inputs (against differences in the real and imaginary parts,",
        "with the convention of [Writing rules](rules.md#complex-numbers)), and float32 arguments",
        "keeping float32 cotangents. `-` means not checked, not that it fails.",
        "",
        *lines,
        "",
        "## No derivative",
        "",
        "Marked `nograd`: piecewise constant in their inputs, or taking no number that could move",
        "their output (tests/zygote/test_rules_nograd.py checks each).",
        "",
        ", ".join(f"`{name}`" for name in nograd),
        "",
    ])


if __name__ == "__main__":
    if sys.argv[1:] == ["--explore"]:
        for key in differentiable_rules():
            row = mirror_row(key)
            if row is None:
                continue
            try:
                second_order_check(row)
                print("PASS", describe(key))
            except Exception as error:  # noqa: BLE001 -- an exploration report
                print("FAIL", describe(key), type(error).__name__, str(error).splitlines()[0][:100])
    else:
        PAGE.write_text(render())
        print(f"wrote {PAGE}")
