"""Case 5: second derivatives: a scalar function's, and the Hessian of ``sum(tanh(A x))``.

zygote's ``hessian`` and nested ``gradient`` may not exist yet; a missing one is reported
as not available. Beside ``zygote.hessian`` the table shows the Hessian built from what
exists today: the pullback of the gradient, called once per row.
"""

import numpy as np
import zygote

from . import functions, hand, peers, report
from .contestants import measure_row, torch_arguments
from .harness import NotAvailable
from .report import Section, Target

SIZES = (10, 100)
POINT = 1.3
COLUMNS = ("function", "hand-written", "zygote", "zygote, by rows", "tangent", "autograd", "jax",
           "jax.jit", "torch")

asinh_like = functions.copy("math").asinh_like
tanh_sum = functions.copy("numpy").tanh_sum


# -- a scalar function's second derivative -------------------------------------------------


def first_derivative(x):
    return zygote.gradient(asinh_like, x)[0]


def second_derivative_builders(x):
    def zygote_nested():
        zygote.gradient(first_derivative, x)  # raises if nesting is not supported
        return lambda: zygote.gradient(first_derivative, x)

    def tangent_nested():
        tangent = peers.load("tangent")
        ddf = tangent.grad(tangent.grad(functions.copy("tangent").asinh_like))
        return lambda: ddf(x)

    def autograd_nested():
        autograd = peers.load("autograd")
        g = autograd.grad(autograd.grad(functions.copy("autograd").asinh_like))
        return lambda: g(x)

    def jax_nested(jit):
        jax = peers.load("jax")
        g = jax.grad(jax.grad(functions.copy("jax").asinh_like))
        g = jax.jit(g) if jit else g
        return lambda: jax.block_until_ready(g(x))

    def torch_nested():
        torch = peers.load("torch")
        f = functions.copy("torch").asinh_like
        (xt,) = torch_arguments([x], (0,))

        def second():
            (d1,) = torch.autograd.grad(f(xt), xt, create_graph=True)
            return torch.autograd.grad(d1, xt)
        return second

    return {
        "function": lambda: (lambda: asinh_like(x)),
        "hand-written": lambda: (lambda: hand.asinh_like_second(x)),
        "zygote": zygote_nested,
        "tangent": tangent_nested,
        "autograd": autograd_nested,
        "jax": lambda: jax_nested(False),
        "jax.jit": lambda: jax_nested(True),
        "torch": torch_nested,
    }


# -- the Hessian of sum(tanh(A x)) ---------------------------------------------------------


def hessian_builders(A, x):
    def zygote_hessian():
        if not hasattr(zygote, "hessian"):
            raise NotAvailable("zygote.hessian does not exist yet")
        f = in_x(A)
        return lambda: zygote.hessian(f, x)

    def zygote_by_rows():
        eye = np.eye(len(x))

        def hessian():
            g, back = zygote.pullback(gradient_in_x, A, x)
            return np.stack([back(e)[1] for e in eye])
        return hessian

    def autograd_hessian():
        autograd = peers.load("autograd")
        h = autograd.hessian(functions.copy("autograd").tanh_sum, 1)
        return lambda: h(A, x)

    def jax_hessian(jit):
        jax = peers.load("jax")
        h = jax.hessian(functions.copy("jax").tanh_sum, argnums=1)
        h = jax.jit(h) if jit else h
        Aj, xj = jax.numpy.asarray(A), jax.numpy.asarray(x)
        return lambda: jax.block_until_ready(h(Aj, xj))

    def torch_hessian():
        torch = peers.load("torch")
        f = functions.copy("torch").tanh_sum
        At, xt = torch.from_numpy(A), torch.from_numpy(x)
        return lambda: torch.autograd.functional.hessian(lambda v: f(At, v), xt)

    return {
        "function": lambda: (lambda: tanh_sum(A, x)),
        "hand-written": lambda: (lambda: hand.tanh_sum_hessian(A, x)),
        "zygote": zygote_hessian,
        "zygote, by rows": zygote_by_rows,
        "autograd": autograd_hessian,
        "jax": lambda: jax_hessian(False),
        "jax.jit": lambda: jax_hessian(True),
        "torch": torch_hessian,
    }


def in_x(A):
    return lambda x: tanh_sum(A, x)


def gradient_in_x(A, x):
    return zygote.gradient(tanh_sum, A, x)[1]


def run(settings):
    rng = np.random.default_rng(0)
    rows = [measure_row("f''(x) of x log(x + sqrt(1+x²))", second_derivative_builders(POINT),
                        settings, hand.asinh_like_second(POINT))]
    for n in SIZES:
        A, x = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n)
        rows.append(measure_row(f"Hessian of sum(tanh(A x)), n={n}", hessian_builders(A, x),
                                settings, hand.tanh_sum_hessian(A, x)))
    second, big = rows[0], rows[-1]
    over_function = second.ratios().get("function")
    over_jax = big.ratios().get("jax")
    targets = [
        Target("second derivative of a scalar function (nested gradient) ÷ the function's call",
               over_function.median if over_function else None, 10.0, "<=",
               why_missing=str(second.cells.get("zygote"))),
        Target(f"Hessian of sum(tanh(A x)), n={SIZES[-1]}: zygote.hessian ÷ jax.hessian (eager)",
               over_jax.median if over_jax else None, 3.0, "<=",
               why_missing=str(big.cells.get("zygote") if over_jax is None else "")),
    ]
    return Section(
        key="higher_order",
        title="Higher order",
        intro=("The second derivative of the scalar `x log(x + sqrt(1+x²))` at 1.3 "
               "(zygote: `gradient` of a function that calls `gradient`; the peers nest "
               "their `grad`, torch differentiates twice with `create_graph=True`), and the "
               "Hessian in x of `sum(tanh(A x))`, float64 (`zygote.hessian`, "
               "`autograd.hessian`, `jax.hessian`, `torch.autograd.functional.hessian`). "
               "\"zygote, by rows\" builds the Hessian from the pullback of the gradient, "
               "one backward call per row."),
        tables=[report.timing_table("Time per call", rows, COLUMNS),
                report.ratio_table("zygote ÷ peer", rows, exclude=("zygote, by rows",))],
        bars=report.ratio_bars(rows, exclude=("zygote, by rows",)),
        targets=targets,
        summary=report.summary(rows, exclude=("zygote, by rows",)),
        data={"rows": rows},
    )
