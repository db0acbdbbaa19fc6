"""Case 1: the cost of one gradient call on small scalar functions, where overhead is everything."""

import numpy as np

from . import functions, hand, report
from .contestants import COLUMNS, gradient_builders, measure_row
from .harness import ratio
from .report import Target

# zygote.grad(f), made once and called, beside zygote.gradient(f, x)
GRAD = "zygote.grad"
OVERHEAD_COLUMNS = COLUMNS[:3] + (GRAD,) + COLUMNS[3:]

# (label, function in `functions`, arguments, maths module for zygote)
ROWS = (
    ("polynomial", "polynomial", (1.3,), "math"),
    ("x log(x + sqrt(1+x²))", "asinh_like", (1.3,), "math"),
    ("Gaussian", "gaussian", (0.4,), "math"),
    ("100-step loop", "loop100", (0.3,), "math"),
    ("branchy", "branchy", (0.7,), "math"),
    ("logsumexp of 10", "logsumexp", (np.linspace(-1.0, 2.0, 10),), "numpy"),
    ("10 operations", "ten_ops", (0.3,), "math"),
)


def run(settings):
    rows = []
    for label, name, args, maths in ROWS:
        reference = getattr(hand, f"{name}_grad")(*args)[1]
        builders = gradient_builders(name, args, maths=maths)
        builders = {**dict(list(builders.items())[:3]), GRAD: grad_builder(name, args, maths),
                    **dict(list(builders.items())[3:])}
        rows.append(measure_row(label, builders, settings, reference))
    grad_over_function = {row.label: ratio(row.cells.get(GRAD), row.cells.get("function")) for row in rows}
    measured = [r.median for r in grad_over_function.values() if r is not None]
    ten_ops = rows[-1]
    over_function = ten_ops.ratios().get("function")
    over_autograd = ten_ops.ratios().get("autograd")
    autograd_cell = ten_ops.cells.get("autograd")
    targets = [
        Target("polynomial: zygote.grad(f) call ÷ the function's call",
               grad_over_function["polynomial"].median if grad_over_function["polynomial"] else None,
               3.0, "<=", why_missing=str(rows[0].cells.get(GRAD))),
        Target("every scalar row, the slowest: zygote.grad(f) call ÷ the function's call",
               max(measured) if len(measured) == len(rows) else None, 4.0, "<=",
               why_missing="a row without a zygote.grad time"),
        Target("10-op scalar function: zygote gradient ÷ the function's call",
               over_function.median if over_function else None, 4.0, "<=",
               why_missing=str(ten_ops.cells.get("zygote"))),
        Target("10-op scalar function: autograd.grad ÷ zygote gradient (speed-up)",
               1.0 / over_autograd.median if over_autograd else None, 10.0, ">=",
               why_missing=str(autograd_cell) if over_autograd is None else ""),
    ]
    return report.timed_section(
        "overhead", "Gradient call overhead on small functions",
        ("One gradient of a scalar function of a Python float (the logsumexp takes a "
         "float64 array of 10). zygote's time is a whole `zygote.gradient(f, x)` call, "
         "zygote.grad's a call of the function `zygote.grad(f)` made once; "
         "peers call a gradient function made once (`tangent.grad(f)`, "
         "`autograd.grad(f)`, `jax.grad(f)`, `jax.jit(jax.grad(f))`); torch runs "
         "`f` on a tensor that requires grad and `torch.autograd.grad`."),
        rows, OVERHEAD_COLUMNS, targets)


def grad_builder(name, args, maths):
    def build():
        import zygote
        g = zygote.grad(getattr(functions.copy(maths), name))
        g(*args)  # the first call compiles its entry point
        return lambda: (g(*args),)
    return build
