"""Compiling generated function trees into code objects, keeping the user's file and line numbers."""
import builtins
import types

from .. import nodes, writes
from .parse import GENERATED_HELPERS, GENERATED_TREES

_FACTORY = "zygote_factory"


class Compiled:
    """Code objects of a primal and an adjoint and the free names each needs bound."""

    def __init__(self, primal_code, adjoint_code):
        self.primal_code = primal_code
        self.adjoint_code = adjoint_code


def compile_functions(primal, adjoint, filename, helper_names, user_freevars):
    """Compile the primal and adjoint trees; helpers and the user's free variables stay free."""
    return Compiled(*compile_trees([primal, adjoint], filename, helper_names, user_freevars))


def compile_trees(trees, filename, helper_names, user_freevars):
    """Code objects of generated function ``trees``, whose free names are helpers or user cells.

    The trees are kept (by code object), so that zygote can differentiate the generated code.
    """
    # Comment markers are constant expression statements, which compile to nothing.
    factory = nodes.function(_FACTORY, list(helper_names) + list(user_freevars),
                             list(trees) + [nodes.ret(nodes.const(None))])
    nodes.at_line(factory, trees[0].lineno)
    module = nodes.to_ast(nodes.module([factory]))
    code = compile(module, filename, "exec", dont_inherit=True)
    factory_code = next(c for c in code.co_consts if hasattr(c, "co_name") and c.co_name == _FACTORY)
    found = {c.co_name: c for c in factory_code.co_consts if hasattr(c, "co_name")}
    codes = [found[tree.name] for tree in trees]
    if trees[0].name.endswith("_primal"):
        writes.PRIMALS.add(codes[0])  # so that a write can ask whether its caller logs writes
    for tree, generated in zip(trees, codes):
        GENERATED_TREES[generated] = tree
        GENERATED_HELPERS[generated] = frozenset(helper_names)
    return codes


def closure_function(tree, cells, namespace, filename):
    """The function that the ``FunctionDef`` ``tree`` defines, compiled with the objects ``cells``
    bound to its free names and ``namespace`` as its globals."""
    factory = nodes.function("zygote_closure_factory", list(cells), [tree, nodes.ret(nodes.load(tree.name))])
    nodes.at_line(factory, 1)
    code = compile(nodes.to_ast(nodes.module([factory])), filename, "exec", dont_inherit=True)
    scope = {}
    exec(code, {"__builtins__": builtins}, scope)  # noqa: S102 -- a tree zygote built itself
    made = scope["zygote_closure_factory"](**cells)
    return types.FunctionType(made.__code__, namespace, tree.name, None, made.__closure__)
