"""Rejecting Python constructs that the transformation does not handle, naming file and line."""
import gast

from ..errors import UnsupportedSyntaxError

_REFUSED = {
    gast.Raise: None,  # allowed: it simply stops the primal
    gast.Await: ("await", "differentiate a synchronous function"),
    gast.AsyncFunctionDef: ("an async function", "differentiate a synchronous function"),
    gast.AsyncFor: ("async for", "differentiate a synchronous function"),
    gast.AsyncWith: ("async with", "differentiate a synchronous function"),
    gast.ClassDef: ("a class definition", "define the class outside the function"),
    gast.Import: ("an import statement", "import at module level"),
    gast.ImportFrom: ("an import statement", "import at module level"),
}
_TRY_STAR = getattr(gast, "TryStar", None)


def validate(parsed):
    """Raise ``UnsupportedSyntaxError`` for the first unsupported construct in ``parsed``."""
    tree, filename = parsed.tree, parsed.filename
    for node in _walk_own(tree):
        if isinstance(node, _NestedDeclaration):
            kind = "global" if isinstance(node.node, gast.Global) else "nonlocal"
            raise UnsupportedSyntaxError(f"a {kind} statement in a function defined inside it",
                                         filename, node.node.lineno,
                                         "define the function outside, or return the new value")
        kind = type(node)
        refused = _REFUSED.get(kind)
        if refused is None and kind is _TRY_STAR and kind is not None:
            refused = ("try/except*", "catch the exception group with except")
        if refused:
            construct, hint = refused
            raise UnsupportedSyntaxError(construct, filename, getattr(node, "lineno", None), hint)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id in ("exec", "eval"):
            raise UnsupportedSyntaxError(f"{node.func.id}()", filename, node.lineno,
                                         "write the code out in the function")
    return parsed


class _NestedDeclaration:
    """A ``global`` or ``nonlocal`` statement met inside a nested function or lambda."""

    def __init__(self, node):
        self.node = node


def _walk_own(tree):
    """Walk ``tree`` without entering nested functions or lambdas (they are validated when called)."""
    stack = list(tree.body) if isinstance(tree, gast.FunctionDef) else [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            # A nested function may run without being transformed (when nothing needs its
            # adjoint), so a nonlocal or global write inside it must be refused here.
            for inner in gast.walk(node):
                if isinstance(inner, (gast.Nonlocal, gast.Global)):
                    yield _NestedDeclaration(inner)
            # Defaults and decorators run in the enclosing function; bodies do not.
            args = node.args
            stack.extend(args.defaults)
            stack.extend(d for d in args.kw_defaults if d is not None)
            if isinstance(node, gast.FunctionDef):
                stack.extend(node.decorator_list)
            continue
        stack.extend(gast.iter_child_nodes(node))
