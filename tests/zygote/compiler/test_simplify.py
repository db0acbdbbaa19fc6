"""Stage 6, simplify: a generated function tree in, the same tree with its removable copies
propagated away out (the user's names and their cotangents may be kept)."""
import gast

from zygote.compiler.codegen import render
from zygote.compiler.simplify import propagate_copies


def tree_of(source):
    return gast.parse(source).body[0]


SOURCE = '''def f_adjoint(saved, dout):
    x, y = saved
    dz_add_y = dout
    dz = dz_add_y
    dy = dz_add_y
    dx = dz * y
    return 0, dx, dy
'''


def test_copies_of_unnamed_values_disappear():
    assert render(propagate_copies(tree_of(SOURCE))) == '''def f_adjoint(saved, dout):
    x, y = saved
    dx = dout * y
    return 0, dx, dout
'''


def test_names_to_keep_stay():
    kept = render(propagate_copies(tree_of(SOURCE), keep={"dz", "dy"}))
    assert kept == '''def f_adjoint(saved, dout):
    x, y = saved
    dz = dout
    dy = dout
    dx = dz * y
    return 0, dx, dy
'''
