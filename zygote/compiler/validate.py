"""Rejecting Python constructs that the transformation does not handle, naming file and line."""
import gast

from ..errors import UnsupportedSyntaxError

_REFUSED = {
    gast.Try: ("try/except", "move the try block out of the differentiated function"),
    gast.Raise: None,  # allowed: it simply stops the primal
    gast.Yield: ("a generator (yield)", "return a list instead"),
    gast.YieldFrom: ("a generator (yield from)", "return a list instead"),
    gast.Await: ("await", "differentiate a synchronous function"),
    gast.AsyncFunctionDef: ("an async function", "differentiate a synchronous function"),
    gast.AsyncFor: ("async for", "differentiate a synchronous function"),
    gast.AsyncWith: ("async with", "differentiate a synchronous function"),
    gast.Global: ("a global statement", "pass the value in and return the new one"),
    gast.Nonlocal: ("a nonlocal statement", "pass the value in and return the new one"),
    gast.ClassDef: ("a class definition", "define the class outside the function"),
    gast.Import: ("an import statement", "import at module level"),
    gast.ImportFrom: ("an import statement", "import at module level"),
    gast.Delete: ("del", "rebind the name instead"),
    gast.DictComp: ("a dict comprehension", "build the dict with a for loop"),
    gast.SetComp: ("a set comprehension", "use a list"),
    gast.Set: ("a set display", "use a list or tuple"),
    gast.NamedExpr: ("an assignment expression (:=)", "assign on its own line"),
}
_MATCH = getattr(gast, "Match", None)
_TRY_STAR = getattr(gast, "TryStar", None)


def validate(parsed):
    """Raise ``UnsupportedSyntaxError`` for the first unsupported construct in ``parsed``."""
    tree, filename = parsed.tree, parsed.filename
    for node in _walk_own(tree):
        kind = type(node)
        refused = _REFUSED.get(kind)
        if refused is None and kind in (_MATCH, _TRY_STAR) and kind is not None:
            refused = ("a match statement" if kind is _MATCH else "try/except*", "use if/elif")
        if refused:
            construct, hint = refused
            raise UnsupportedSyntaxError(construct, filename, getattr(node, "lineno", None), hint)
        if isinstance(node, (gast.For, gast.While)) and node.orelse:
            raise UnsupportedSyntaxError(
                f"{'for' if isinstance(node, gast.For) else 'while'}...else", filename,
                node.lineno, "set a flag before break and test it after the loop")
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                and node.func.id in ("exec", "eval"):
            raise UnsupportedSyntaxError(f"{node.func.id}()", filename, node.lineno,
                                         "write the code out in the function")
    return parsed


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
                    yield inner
            # Defaults and decorators run in the enclosing function; bodies do not.
            args = node.args
            stack.extend(args.defaults)
            stack.extend(d for d in args.kw_defaults if d is not None)
            if isinstance(node, gast.FunctionDef):
                stack.extend(node.decorator_list)
            continue
        stack.extend(gast.iter_child_nodes(node))
