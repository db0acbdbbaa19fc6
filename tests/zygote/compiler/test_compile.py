"""Stage 7, compile: primal and adjoint trees in, code objects under the user's file and lines out,
with the trees kept so that generated code can be differentiated again."""
import math

from zygote.compiler.compile import compile_functions
from zygote.compiler.parse import GENERATED_TREES
from zygote.compiler.pipeline import stages
from zygote.protocol import HELPERS


def scaled(x, w):
    y = math.sin(x) * w
    return y + w


def test_code_objects_keep_the_user_s_file_and_lines_and_their_trees():
    transformed = stages(scaled, "ff", "", HELPERS, compile=False).transformed
    compiled = compile_functions(transformed.primal, transformed.adjoint, __file__,
                                 list(transformed.helpers), ())
    for code, tree in ((compiled.primal_code, transformed.primal), (compiled.adjoint_code, transformed.adjoint)):
        assert code.co_filename == __file__
        assert GENERATED_TREES[code] is tree
    lines = {line for _, _, line in compiled.primal_code.co_lines() if line is not None}
    first = scaled.__code__.co_firstlineno
    assert {first + 1, first + 2} <= lines
    assert set(compiled.adjoint_code.co_freevars) <= set(transformed.helpers)
