"""Real source text for functions whose file cannot be read: the ``python -c`` command line.

``python -c CODE`` compiles CODE under the file name ``<string>`` and keeps no copy that
``inspect`` can find, but the interpreter's original arguments (``sys.orig_argv``) still hold
it. Strings run with ``exec`` share that file name, so a definition found in the command is
used only when it compiles to the very code object that runs.
"""
import ast
import sys

import gast

from .. import nodes
from . import verify


def command_text():
    """The CODE of ``python -c CODE``, or None when the interpreter was started otherwise."""
    argv = getattr(sys, "orig_argv", None) or []
    for index, arg in enumerate(argv[1:-1], 1):
        if arg == "-c":
            return argv[index + 1]
        if not arg.startswith("-") or arg == "-m":
            return None  # a script or module runs; its own arguments may contain "-c"
    return None


def command_tree(code):
    """The gast ``FunctionDef`` of ``code`` found in the ``-c`` command and checked against it, or None."""
    text = command_text()
    if text is None or code.co_filename != "<string>":
        return None
    try:
        module = ast.parse(text)
    except SyntaxError:
        return None
    for node in ast.walk(module):
        if getattr(node, "lineno", None) != code.co_firstlineno:
            continue
        tree = None
        if isinstance(node, ast.FunctionDef) and node.name == code.co_name:
            tree = nodes.from_ast(node)
        elif isinstance(node, ast.Lambda) and code.co_name == "<lambda>":
            lam = nodes.from_ast(node)
            body = gast.copy_location(nodes.ret(lam.body), lam.body)
            tree = gast.copy_location(nodes.function("lambda", lam.args, [body]), lam)
        if tree is not None and verify.difference(tree, code) is None:
            return tree, dict(enumerate((line.strip() for line in text.splitlines()), 1))
    return None
