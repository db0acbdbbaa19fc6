"""Checking a function's syntax tree against the code object that runs: compile it, compare instructions.

A tree is trusted only when compiling it gives the instructions of the original code
object: the same operations with the same arguments (names, constants, jump targets),
recursively for nested functions, lambdas and comprehensions. Line numbers and column
positions are left aside, and so are ``NOP`` instructions, which the compiler adds or drops
to keep line numbers. Defining functions are rebuilt around the tree (an enclosing function
for free variables, a class for methods) so that names resolve as they did.

>>> def square(x):
...     return x * x
>>> import ast, gast
>>> tree = gast.ast_to_gast(ast.parse("def square(x):\\n    return x * x")).body[0]
>>> difference(tree, square.__code__) is None
True
"""
import dis
import inspect
import linecache

import gast

from .. import nodes
from .instructions import called_through_attribute

_JUMPS = frozenset(dis.hasjrel) | frozenset(dis.hasjabs)
_IGNORED = {"NOP", "EXTENDED_ARG", "CACHE"}
_SIGNATURE_FLAGS = inspect.CO_VARARGS | inspect.CO_VARKEYWORDS | inspect.CO_GENERATOR \
    | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR

_CONSTRUCTS = {
    gast.If: "an if statement", gast.While: "a while loop", gast.For: "a for loop",
    gast.Assign: "an assignment", gast.AugAssign: "an augmented assignment",
    gast.Return: "a return statement", gast.Expr: "an expression statement",
    gast.Break: "a break", gast.Continue: "a continue", gast.Raise: "a raise statement",
    gast.Assert: "an assert statement", gast.FunctionDef: "a nested function",
}


def difference(tree, code):
    """``None`` when ``tree`` (a gast ``FunctionDef``) compiles to ``code``, else what differs, in words."""
    try:
        compiled = compile_in_scope(tree, code)
    except (SyntaxError, ValueError, TypeError) as exc:
        return f"the rebuilt function does not compile ({exc})"
    if compiled is None:
        return "the rebuilt function could not be found in its compiled scope"
    if _identical(compiled, code):
        return None
    line = _first_difference(compiled, code)
    if line is None:
        return None
    if line is True:
        return "its signature or variables differ"
    return f"{_construct_at(tree, line)} at line {line} compiles differently"


def compile_in_scope(tree, code):
    """Compile ``tree`` where ``code`` was defined, and return the code object of the function."""
    body = [tree]
    qualname = getattr(code, "co_qualname", code.co_name).split(".")
    if len(qualname) > 1 and qualname[-2] != "<locals>":
        # A method: the class gives name mangling and the __class__ cell of super().
        body = [nodes.make(gast.ClassDef, name=qualname[-2], bases=[], keywords=[], body=body, decorator_list=[])]
    free = [name for name in code.co_freevars if name != "__class__"]
    if free:
        cells = nodes.assign(nodes.store(free[0]), nodes.const(None))
        cells.targets = [nodes.store(name) for name in free]
        body = [nodes.function("__enclosing_scope__", [], [cells, *body])]
    # The compiler calls ``module.f(...)`` without LOAD_METHOD when ``module`` was bound by an
    # import statement, so the names the original treats that way are imported here too.
    imports = [nodes.make(gast.Import, names=[nodes.make(gast.alias, name=name, asname=None)])
               for name in sorted(_imported_names(code))]
    module = nodes.to_ast(nodes.module(imports + body))
    if _names(code) & _PYTEST_NAMES:
        _rewrite_asserts_as_pytest_does(module, code)
    compiled = compile(module, code.co_filename, "exec", dont_inherit=True)
    return _find(compiled, tree.name)


_PYTEST_NAMES = {"@pytest_ar", "@py_builtins"}


def _names(code):
    """The global and attribute names ``code`` and its nested code objects use."""
    found = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            found |= _names(const)
    return found


def _rewrite_asserts_as_pytest_does(module, code):
    """Rewrite the ``assert`` statements of ``module`` the way pytest did to ``code``'s test module.

    pytest compiles test modules with each ``assert`` expanded into code that explains a
    failure, so their code objects differ from their text; the text is checked against
    the code by applying the same rewrite, with the file's text for the messages.
    """
    from _pytest.assertion.rewrite import rewrite_asserts
    source = "".join(linecache.getlines(code.co_filename)).encode()
    rewrite_asserts(module, source, code.co_filename, None)


def _imported_names(code):
    """Globals that ``code`` calls attributes of as the compiler does for imported modules."""
    found = called_through_attribute(code)
    for const in code.co_consts:
        if inspect.iscode(const):
            found |= _imported_names(const)
    return found


def _find(code, name):
    for const in code.co_consts:
        if inspect.iscode(const):
            if const.co_name == name:
                return const
            found = _find(const, name)
            if found is not None:
                return found
    return None


def _identical(mine, theirs):
    """Whether the two code objects have the same bytes, names and constants (the usual case, fast)."""
    if mine.co_code != theirs.co_code or mine.co_names != theirs.co_names \
            or mine.co_varnames != theirs.co_varnames or mine.co_freevars != theirs.co_freevars \
            or mine.co_cellvars != theirs.co_cellvars or len(mine.co_consts) != len(theirs.co_consts) \
            or _signature(mine) != _signature(theirs):
        return False
    for a, b in zip(mine.co_consts, theirs.co_consts):
        if inspect.iscode(a) and inspect.iscode(b):
            if not _identical(a, b):
                return False
        elif inspect.iscode(a) or inspect.iscode(b) or _constant_key(a) != _constant_key(b):
            return False
    return True


def _first_difference(mine, theirs):
    """The original line where ``mine`` and ``theirs`` first differ, ``True`` for the signature, or None."""
    if _signature(mine) != _signature(theirs):
        return True
    a, b = _instructions(mine), _instructions(theirs)
    nested = []
    for index in range(max(len(a), len(b))):
        if index >= len(a) or index >= len(b):
            return b[min(index, len(b) - 1)][2] if b else theirs.co_firstlineno
        (op_a, arg_a, _), (op_b, arg_b, line_b) = a[index], b[index]
        if inspect.iscode(arg_a) and inspect.iscode(arg_b):
            nested.append((arg_a, arg_b))
            arg_a = arg_b = None
        if op_a != op_b or arg_a != arg_b:
            return line_b
    for inner_a, inner_b in nested:
        found = _first_difference(inner_a, inner_b)
        if found is not None:
            return inner_b.co_firstlineno if found is True else found
    return None


def _signature(code):
    return (code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount,
            code.co_varnames[:code.co_argcount + code.co_kwonlyargcount],
            code.co_flags & _SIGNATURE_FLAGS, set(code.co_freevars), set(code.co_cellvars))


def _instructions(code):
    """``(operation, argument, line)`` of each instruction; jump arguments are instruction indices."""
    raw = [i for i in dis.get_instructions(code) if i.opname not in _IGNORED]
    index_at = {}
    for index, ins in enumerate(raw):
        index_at[ins.offset] = index
    out, line = [], code.co_firstlineno
    for ins in raw:
        if ins.starts_line is not None:
            line = ins.starts_line
        arg = ins.argval
        if ins.opcode in _JUMPS:
            arg = index_at.get(ins.argval, _next_kept(index_at, ins.argval))
        elif ins.opname == "LOAD_CONST" and not inspect.iscode(arg):
            arg = _constant_key(arg)
        elif ins.opname == "KW_NAMES":
            arg = code.co_consts[ins.arg]
        elif ins.opname == "LOAD_GLOBAL":
            arg = (ins.arg & 1, ins.argval)
        elif ins.opname in ("MAKE_FUNCTION", "BINARY_OP", "CALL", "PRECALL", "FORMAT_VALUE"):
            arg = ins.arg
        out.append((ins.opname, arg, line))
    return out


def _next_kept(index_at, offset):
    later = [o for o in index_at if o > offset]
    return index_at[min(later)] if later else len(index_at)


def _constant_key(value):
    """A key equal for equal constants of the same type (so 1 and 1.0, 0.0 and -0.0 differ)."""
    if isinstance(value, (tuple, frozenset)):
        return type(value), tuple(_constant_key(v) for v in value)
    return type(value), repr(value)


def _construct_at(tree, line):
    """Words for the innermost statement of ``tree`` that starts at ``line``."""
    found = "the code"
    for node in nodes.walk(tree):
        if getattr(node, "lineno", None) == line and type(node) in _CONSTRUCTS:
            found = _CONSTRUCTS[type(node)]
            if not isinstance(node, (gast.If, gast.While, gast.For, gast.FunctionDef)):
                break
    return found
