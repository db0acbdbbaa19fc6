"""Reading a function's source and parsing it into a gast FunctionDef with the user's line numbers."""
import ast
import functools
import inspect
import linecache
import textwrap
import weakref

import gast

from .. import lift, nodes
from ..errors import SourceUnavailableError, UnsupportedSyntaxError

# Trees of functions that zygote generated itself (they have no file to read),
# keyed by code object, so that generated code can be differentiated again.
GENERATED_TREES = {}
# Names of the helper cells of each generated code object (its other free variables are the user's).
GENERATED_HELPERS = {}


class ParsedFunction:
    """A parsed function: its gast tree, where it came from, and its code object."""

    __slots__ = ("tree", "filename", "code", "is_lambda", "shared", "lines")

    def __init__(self, tree, filename, code, is_lambda, shared=False, lines=None):
        self.tree = tree
        self.shared = shared  # the tree is kept elsewhere too: copy before changing it
        self.filename = filename
        self.code = code
        self.is_lambda = is_lambda
        self.lines = lines  # line number -> text, when the text is not in the file (lifted code)

    def line_text(self, lineno):
        """The source text of line ``lineno``, stripped, for comments in generated code."""
        if self.lines is not None:
            return self.lines.get(lineno, "")
        if not self.filename or lineno is None:
            return ""
        return linecache.getline(self.filename, lineno).strip()


def parse_function(fn):
    """Parse ``fn`` into a gast ``FunctionDef``: from its source, else lifted from its bytecode.

    The source is used when it compiles to the code object that runs; without a readable
    source (``python -c``, the interactive interpreter, ``exec``), or when the file was edited
    after the function was defined, the tree is rebuilt from the bytecode (``zygote.lift``).
    """
    try:
        parsed = parse_source(fn)
    except SourceUnavailableError:
        if fn.__code__.co_flags & 0x20:
            raise UnsupportedSyntaxError("a generator (yield) without source", fn.__code__.co_filename,
                                         fn.__code__.co_firstlineno, "define it in a file") from None
        parsed = None
    if parsed is not None and (parsed.shared or lift.matches(parsed.tree, parsed.code)):
        return parsed
    tree, lines = lift.recover(fn)
    return ParsedFunction(tree, fn.__code__.co_filename, fn.__code__, tree.name == "lambda", lines=lines)


def parse_source(fn):
    """Parse the source of Python function ``fn`` into a gast ``FunctionDef``.

    Lambdas come back as a ``FunctionDef`` whose body returns the lambda's
    expression. Line numbers are the user's, so tracebacks point at their file.
    """
    code = fn.__code__
    if code.co_flags & (0x80 | 0x100 | 0x200):  # coroutine, iterable coroutine, async generator
        raise UnsupportedSyntaxError("an async function", code.co_filename, code.co_firstlineno,
                                     "differentiate a synchronous function")
    if code in GENERATED_TREES:
        tree = GENERATED_TREES[code]
        return ParsedFunction(tree, code.co_filename, code, False, shared=True)
    filename = code.co_filename
    if code.co_name == "<lambda>":
        node = _find_lambda(fn, code)
        return ParsedFunction(node, filename, code, True)
    # The file's tree, parsed once for all its functions, holds the definition; reading the
    # function's own lines (``inspect``) is the way for text that does not parse as a whole.
    try:
        node = _definition(_file_tree(fn, code), code)
    except SourceUnavailableError:
        node = None
    if node is not None:
        return ParsedFunction(nodes.from_ast(node), filename, code, False)
    try:
        lines, first = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise SourceUnavailableError(fn, str(exc)) from None
    source = textwrap.dedent("".join(lines))
    try:
        module = ast.parse(source)
    except SyntaxError:
        # A def inside an expression or with odd indentation: fall back to the whole file.
        node = _find_in_module(fn, code)
        return ParsedFunction(node, filename, code, False)
    ast.increment_lineno(module, first - 1)
    tree = nodes.from_ast(module).body[0]
    if not isinstance(tree, gast.FunctionDef) or tree.name != code.co_name:
        tree = _find_in_module(fn, code)
    return ParsedFunction(tree, filename, code, False)


@functools.lru_cache(maxsize=64)
def _module_tree(filename, source):
    return ast.parse(source)


def _file_tree(fn, code):
    filename = code.co_filename
    lines = linecache.getlines(filename, fn.__globals__)
    if not lines:
        raise SourceUnavailableError(fn, f"no source lines for {filename!r}")
    try:
        return _module_tree(filename, "".join(lines))
    except SyntaxError as exc:
        raise SourceUnavailableError(fn, f"cannot parse {filename!r}: {exc}") from None


def _find_in_module(fn, code):
    node = _definition(_file_tree(fn, code), code)
    if node is None:
        raise SourceUnavailableError(fn, "its definition was not found in its file")
    return nodes.from_ast(node)


def _definition(module, code):
    """The ``def`` of ``code`` in the tree ``module`` (by name and first line), or None.

    The table of a module's definitions is built once and kept on the tree."""
    table = getattr(module, "zygote_definitions", None)
    if table is None:
        table = {}
        for node in nodes.walk(module):
            if isinstance(node, ast.FunctionDef):
                for line in (node.lineno, *(d.lineno for d in node.decorator_list)):
                    table.setdefault((node.name, line), node)
        module.zygote_definitions = table
    return table.get((code.co_name, code.co_firstlineno))


def _lambdas_by_line(module):
    """The lambda nodes of a module tree grouped by line (computed once, kept on the tree)."""
    table = getattr(module, "zygote_lambdas", None)
    if table is None:
        table = {}
        for node in nodes.walk(module):
            if isinstance(node, ast.Lambda):
                table.setdefault(node.lineno, []).append(node)
        module.zygote_lambdas = table
    return table


def _find_lambda(fn, code):
    alone = None if code in _NOT_ALONE else _lambda_of_its_line(fn, code)
    if alone is not None:
        tree = _as_function(alone)
        if lift.verify.difference(tree, code) is None:
            return tree
        _NOT_ALONE.add(code)
    module = _file_tree(fn, code)
    candidates = list(_lambdas_by_line(module).get(code.co_firstlineno, ()))
    if len(candidates) > 1:
        enclosing = [n for n in candidates if _encloses(n, code)]
        # Lambdas nest: the innermost one that encloses the code is the one.
        enclosing.sort(key=lambda n: (n.lineno, n.col_offset), reverse=True)
        candidates = enclosing[:1] or [n for n in candidates if _same_code(n, code)]
    if not candidates:
        raise SourceUnavailableError(fn, "the lambda could not be located in its source line")
    return _as_function(candidates[0])


def _lambda_of_its_line(fn, code):
    """The lambda of ``code`` parsed from the few lines of the statement that starts on its
    line, when they hold one lambda starting there; else None (then the file is parsed).

    Rules are lambdas of a line or two: this spares parsing their modules at the first
    gradient. The caller checks that the tree compiles to ``code``."""
    lines = linecache.getlines(code.co_filename, fn.__globals__)
    first = code.co_firstlineno
    if not 0 < first <= len(lines):
        return None
    text = lines[first - 1]
    stripped = text.lstrip()
    for count in range(1, min(_STATEMENT_LINES, len(lines) - first + 1) + 1):
        try:
            tree = ast.parse(stripped + "".join(lines[first:first - 1 + count]))
            break
        except SyntaxError:
            continue
    else:
        return None
    found = [n for n in nodes.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == 1]
    if len(found) != 1:
        return None
    indent = len(text) - len(stripped)
    for node in nodes.walk(tree):
        if "lineno" in node._attributes and hasattr(node, "lineno"):
            if node.lineno == 1:
                node.col_offset += indent
            if node.end_lineno == 1:
                node.end_col_offset += indent
            node.lineno += first - 1
            node.end_lineno += first - 1
    return found[0]


_STATEMENT_LINES = 8  # the most lines of a statement read for a lambda before parsing its file
_NOT_ALONE = weakref.WeakSet()  # code of lambdas that the lines of their statement do not give


def _as_function(lambda_node):
    """A gast ``FunctionDef`` named ``lambda`` returning the body of the ast ``lambda_node``."""
    node = nodes.from_ast(lambda_node)
    body = gast.Return(value=node.body)
    gast.copy_location(body, node.body)
    func = gast.FunctionDef(
        name="lambda", args=node.args, body=[body], decorator_list=[],
        returns=None, type_comment=None, **({"type_params": []} if "type_params" in gast.FunctionDef._fields else {}),
    )
    gast.copy_location(func, node)
    return func


def _encloses(lambda_node, code):
    """Whether the instructions of ``code`` lie inside ``lambda_node``'s source span."""
    positions = getattr(code, "co_positions", None)
    if positions is None:
        return False
    for line, _, col, end_col in positions():
        if line is None or col is None or end_col is None or end_col <= col:
            continue  # set-up instructions carry no real source span
        start = (lambda_node.lineno, lambda_node.col_offset)
        end = (lambda_node.end_lineno, lambda_node.end_col_offset)
        return start <= (line, col) < end
    return False


def _same_code(lambda_node, code):
    """Whether compiling ``lambda_node`` gives the bytecode of ``code`` (tells apart lambdas on one line)."""
    expression = ast.Expression(body=lambda_node)
    ast.fix_missing_locations(expression)
    try:
        compiled = compile(expression, code.co_filename, "eval")
    except SyntaxError:
        return False
    for const in compiled.co_consts:
        if inspect.iscode(const) and const.co_name == "<lambda>":
            return (const.co_code == code.co_code and const.co_names == code.co_names
                    and const.co_varnames == code.co_varnames
                    and _consts(const) == _consts(code))
    return False


def _consts(code):
    return tuple(c for c in code.co_consts if not inspect.iscode(c))
