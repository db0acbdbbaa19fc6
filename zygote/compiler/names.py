"""Fresh, readable names for temporaries and adjoints (``sin_x``, ``dW``)."""
import re

import gast

_OP_WORDS = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.FloorDiv: "floordiv", gast.Mod: "mod", gast.Pow: "pow", gast.MatMult: "matmul",
    gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not", gast.Invert: "invert",
}
_MAX_LEN = 24


def names_in(tree):
    """Every identifier that occurs in ``tree`` (variables, arguments, attributes)."""
    from ..nodes import walk  # nodes imports gast only; no cycle
    found = set()
    for node in walk(tree):
        if isinstance(node, gast.Name):
            found.add(node.id)
        elif isinstance(node, (gast.FunctionDef, gast.ClassDef)):
            found.add(node.name)
    return found


class Namer:
    """Hands out names that collide with nothing in the function being transformed."""

    def __init__(self, taken=()):
        self.taken = set(taken)
        self.temps = set()

    def fresh(self, hint):
        base = _clean(hint) or "tmp"
        name = base
        counter = 1
        while name in self.taken:
            name = f"{base}_{counter}"
            counter += 1
        self.taken.add(name)
        self.temps.add(name)
        return name

    def reserve(self, name):
        self.taken.add(name)


def describe(node):
    """A short hint naming what ``node`` computes: ``sin_x`` for ``np.sin(x)``."""
    if isinstance(node, gast.Name):
        return node.id
    if isinstance(node, gast.Constant):
        value = node.value
        if isinstance(value, bool) or value is None:
            return str(value)
        if isinstance(value, (int, float)):
            return str(value).replace(".", "_").replace("-", "m")
        return "const"
    if isinstance(node, gast.Attribute):
        return f"{describe(node.value)}_{node.attr}"
    if isinstance(node, gast.Call):
        func = node.func.attr if isinstance(node.func, gast.Attribute) else describe(node.func)
        if node.args:
            return f"{func}_{describe(node.args[0])}"
        return func
    if isinstance(node, gast.BinOp):
        return f"{describe(node.left)}_{_OP_WORDS.get(type(node.op), 'op')}_{describe(node.right)}"
    if isinstance(node, gast.UnaryOp):
        return f"{_OP_WORDS.get(type(node.op), 'op')}_{describe(node.operand)}"
    if isinstance(node, gast.Subscript):
        return f"{describe(node.value)}_item"
    if isinstance(node, gast.Compare):
        return "cond"
    if isinstance(node, gast.BoolOp):
        return "either" if isinstance(node.op, gast.Or) else "both"
    if isinstance(node, (gast.Tuple, gast.List)):
        return "seq"
    if isinstance(node, gast.Lambda):
        return "lam"
    return type(node).__name__.lower()


def _clean(hint):
    hint = re.sub(r"[^0-9a-zA-Z_]", "_", hint)
    hint = re.sub(r"_+", "_", hint).strip("_")
    if hint and hint[0].isdigit():
        hint = "v" + hint
    if len(hint) > _MAX_LEN:
        hint = hint[:_MAX_LEN].rstrip("_")
    return hint


def adjoint_name(name, taken):
    """The cotangent variable of ``name``: ``dx`` for ``x``, avoiding names in ``taken``."""
    candidate = "d" + name
    if candidate not in taken:
        return candidate
    candidate = "d_" + name
    counter = 1
    while candidate in taken:
        candidate = f"d_{name}_{counter}"
        counter += 1
    return candidate
