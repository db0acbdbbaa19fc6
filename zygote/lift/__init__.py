"""Syntax trees for functions whose source cannot be read, lifted from their bytecode and verified.

``lift_function(fn)`` rebuilds the ``FunctionDef`` of ``fn`` from ``fn.__code__``:
``instructions`` decodes the bytecode (the only version-specific module), ``structure``
rebuilds statements and control flow from the jumps, ``expressions`` rebuilds expressions on
a symbolic stack, and ``verify`` compiles the result and compares it with the original
instructions. A tree that does not compile back to the code that runs is never returned:
``SourceUnavailableError`` names the construct instead.

>>> namespace = {}
>>> exec("def cube(x):\\n    return x * x * x", namespace)
>>> tree = lift_function(namespace["cube"])
>>> tree.name, [type(s).__name__ for s in tree.body]
('cube', ['Return'])
"""
import ast
import linecache
import weakref

import gast

from .. import nodes
from ..errors import SourceUnavailableError
from . import text, verify
from .expressions import Marker
from .instructions import Unrecoverable
from .signature import arguments
from .structure import Structurer

__all__ = ["lift_function", "matches", "recover"]


def recover(fn):
    """``(tree, lines)`` for ``fn`` when its source file cannot be read or no longer matches.

    The tree comes from real text where some exists (the ``python -c`` command), else from
    the bytecode; ``lines`` maps line numbers to the text shown in generated code's comments.
    """
    found = text.command_tree(fn.__code__)
    if found is not None:
        return found
    tree = lift_function(fn)
    return tree, recovered_lines(tree)


def recovered_lines(tree):
    """Line number to source text for each statement of a lifted tree (headers of compound ones)."""
    lines = {}
    pending = [tree]
    while pending:
        node = pending.pop(0)
        line = getattr(node, "lineno", None)
        if line is not None:
            header = ast.unparse(nodes.to_ast(node)).splitlines()[0]
            lines[line] = f"{lines[line]}; {header}" if line in lines else header
        inner = [s for field in ("body", "orelse") for s in getattr(node, field, None) or ()
                 if isinstance(s, gast.stmt)]
        pending[:0] = inner
    return lines


def lift_function(fn):
    """The verified gast ``FunctionDef`` of ``fn``, rebuilt from its bytecode.

    A lambda comes back as a ``FunctionDef`` named ``lambda`` that returns its expression.
    Raises ``SourceUnavailableError`` naming the construct that could not be rebuilt.
    """
    code = fn.__code__
    where = code.co_filename
    try:
        body = Structurer(code, _lift_code).body()
        name = "lambda" if code.co_name == "<lambda>" else code.co_name
        tree = nodes.at_line(nodes.function(name, arguments(code), body), code.co_firstlineno)
        problem = verify.difference(tree, code)
        if problem is not None:
            # The compiler's implicit ``return None`` at the end reads as explicit returns;
            # where those compile differently, the function falls off its end instead.
            implicit = _without_final_returns(tree)
            if verify.difference(implicit, code) is None:
                tree, problem = implicit, None
    except Unrecoverable as exc:
        line = exc.line if exc.line is not None else code.co_firstlineno
        raise SourceUnavailableError(fn, f"{exc.construct} at {where}:{line} could not be "
                                         f"rebuilt from its bytecode") from None
    if problem is not None:
        raise SourceUnavailableError(fn, f"rebuilt from the bytecode of {where}, {problem}")
    return tree


def matches(tree, code):
    """Whether the gast ``FunctionDef`` ``tree``, parsed from ``code``'s file, compiles to ``code``.

    A function is parsed again for each activity pattern; while its file's text in
    ``linecache`` stays the same, the first answer stands.
    """
    entry = linecache.cache.get(code.co_filename)
    token = (entry[0], entry[1], id(entry[2])) if entry and len(entry) == 4 else None
    if token is not None and _MATCHED.get(code) == token:
        return True
    found = verify.difference(tree, code) is None
    if found and token is not None:
        _MATCHED[code] = token
    return found


_MATCHED = weakref.WeakKeyDictionary()  # code object -> the linecache entry its text matched


def _without_final_returns(tree):
    """A copy of ``tree`` whose functions end without ``return None`` where falling off does the same."""
    tree = nodes.clone(tree)
    for function in nodes.walk(tree):
        if isinstance(function, gast.FunctionDef):
            _drop_final_returns(function.body)
            if not function.body:
                function.body.append(nodes.pass_())
    return tree


def _drop_final_returns(body):
    """Remove the ``return None`` statements at the end of ``body`` and of its last branches."""
    while body and isinstance(body[-1], gast.Return) and (
            body[-1].value is None or isinstance(body[-1].value, gast.Constant) and body[-1].value.value is None):
        body.pop()
    if body and isinstance(body[-1], gast.If):
        for branch in (body[-1].body, body[-1].orelse):
            _drop_final_returns(branch)
        if not body[-1].body:
            body[-1].body.append(nodes.pass_())


def _lift_code(code, defaults, kwdefaults):
    """A nested code object as the expression or statement that made it."""
    if code.co_name in ("<listcomp>", "<genexpr>"):
        return Marker("comprehension", Structurer(code, _lift_code).comprehension)
    if code.co_name.startswith("<") and code.co_name != "<lambda>":
        kind = {"<dictcomp>": "a dict comprehension", "<setcomp>": "a set comprehension"}
        raise Unrecoverable(kind.get(code.co_name, f"a {code.co_name[1:-1]}"), code.co_firstlineno)
    body = Structurer(code, _lift_code).body()
    args = arguments(code, defaults, kwdefaults)
    if code.co_name == "<lambda>":
        return nodes.make(gast.Lambda, args=args, body=_as_expression(body, code))
    return nodes.at_line(nodes.function(code.co_name, args, body), code.co_firstlineno)


def _as_expression(body, code):
    """The expression a lambda's statements return (the compiler may have split ``a if c else b``)."""
    if len(body) == 1 and isinstance(body[0], gast.Return):
        return body[0].value
    if len(body) >= 1 and isinstance(body[0], gast.If) and len(body[0].body) >= 1:
        test = body[0].test
        rest = body[0].orelse or body[1:]
        return nodes.make(gast.IfExp, test=test, body=_as_expression(body[0].body, code),
                          orelse=_as_expression(rest, code))
    raise Unrecoverable("a lambda", code.co_firstlineno)
