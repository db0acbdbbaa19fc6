"""Stage 5, transform: a normal form and its analysis in, the primal and adjoint trees out."""
import math

from zygote.compiler.analysis import NUMERIC, analyse
from zygote.compiler.codegen import render
from zygote.compiler.normalise import normalise
from zygote.compiler.parse import parse_function
from zygote.compiler.pipeline import resolver_for
from zygote.compiler.transform import transform
from zygote.compiler.validate import validate
from zygote.protocol import HELPERS


def transformed(fn, kinds, scalars=()):
    parsed = validate(parse_function(fn))
    normal_form = normalise(parsed, {"math", "np"})
    resolver = resolver_for(fn, normal_form)
    facts = analyse(normal_form, resolver, kinds, set(scalars))
    return transform(normal_form, parsed, facts, resolver, HELPERS)


def scaled(x, w):
    y = math.sin(x) * w
    return y + w


def loop_sum(x, n):
    total = 0.0
    for i in range(n):
        total = total + x * i
    return total


def test_primal_saves_what_the_adjoint_reads_and_the_adjoint_runs_backwards():
    result = transformed(scaled, {"x": NUMERIC, "w": NUMERIC})
    line = scaled.__code__.co_firstlineno
    assert render(result.primal, result.adjoint) == f'''def scaled_primal(x, w):
    sin_x = math.sin(x)
    y = sin_x * w
    y_add_w = y + w
    return y_add_w, (sin_x, w, x)


def scaled_adjoint(saved, dout):
    sin_x, w, x = saved
    # line {line + 2}: return y + w
    dy_add_w = dout
    dy = dy_add_w
    dw = dy_add_w
    # line {line + 1}: y = math.sin(x) * w
    dsin_x = dy * w.conjugate()
    dw = add_cotangent(dw, dy * sin_x.conjugate(), w)
    dx = dsin_x * math.cos(x)
    return 0, unbroadcast(dx, x), unbroadcast(dw, w)
'''
    assert result.guards[("math", ("sin",))] is math.sin  # a rebinding of math.sin retransforms
    assert set(result.helpers) == {"add_cotangent", "unbroadcast", "math"}  # conj is written as methods


def test_a_loop_pushes_what_later_iterations_overwrite():
    result = transformed(loop_sum, {"x": NUMERIC}, scalars={"x"})
    primal, adjoint = render(result.primal), render(result.adjoint)
    assert result.stack == "stack"
    assert "        stack.append(i)\n" in primal and "    return total, (x, n_iter, stack)\n" in primal
    assert "    for _ in range(n_iter):\n" in adjoint and "        i = stack.pop()\n" in adjoint
    assert adjoint.rstrip().endswith("return 0, dx, 0")  # n is constant: no cotangent
