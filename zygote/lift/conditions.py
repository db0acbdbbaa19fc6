"""Reading a run of conditional jumps back as one test built from ``and``, ``or`` and ``not``.

The compiler turns ``if a and (b or c):`` into one conditional jump per operand, each
going to the body, past it, or to the next operand. ``test_from_atoms`` finds an
expression that compiles to the same jumps; when several do (``not (a or b)`` and
``not a and not b``), any one is the same function.
"""
import gast

from .. import nodes
from .expressions import negate


class Atom:
    """One test of a condition: ``expr`` jumps to ``target`` when its truth is ``when``."""

    __slots__ = ("start", "jump", "expr", "when", "target", "after")

    def __init__(self, start, jump, expr, when, target, after):
        self.start, self.jump, self.expr, self.when, self.target = start, jump, expr, when, target
        self.after = after  # the machine once the atom's value is popped


def as_truth(expr, kind):
    """A jump on ``kind`` ("true", "false", "none", "not none") as an expression and the truth that jumps."""
    if kind == "none":
        return nodes.compare(expr, gast.Is(), nodes.const(None)), True
    if kind == "not none":
        return nodes.compare(expr, gast.IsNot(), nodes.const(None)), True
    return expr, kind == "true"


def boolop(op, values):
    flat = []
    for value in values:
        if isinstance(value, gast.BoolOp) and isinstance(value.op, op):
            flat.extend(value.values)
        else:
            flat.append(value)
    return nodes.make(gast.BoolOp, op=op(), values=flat)


def test_from_atoms(atoms, lo, hi, target, when, labels):
    """The expression whose test jumps to ``target`` when its truth is ``when``, from ``atoms[lo:hi]``.

    ``labels[k]`` is where control goes after atom ``k`` when it does not jump (the start of
    atom ``k + 1``, or the fall-through of the whole test).
    """
    if hi - lo == 1:
        atom = atoms[lo]
        if atom.target != target:
            return None
        return atom.expr if atom.when == when else negate(atom.expr)
    # Every part jumps to ``target`` on the same truth: an ``or`` of parts (when true) or an ``and``.
    starts = [a.start for a in atoms]
    cuts = [cut for cut in range(lo + 1, hi) if all(
        a.target == target or a.target in starts[q + 1:cut + 1] for q, a in enumerate(atoms[lo:cut], lo))]
    if cuts:
        bounds = [lo] + cuts + [hi]
        parts = [test_from_atoms(atoms, p, q, target, when, labels) for p, q in zip(bounds, bounds[1:])]
        if all(p is not None for p in parts):
            return boolop(gast.Or if when else gast.And, parts)
    # All parts but the last skip past the test on the other truth: an ``and`` that jumps when
    # true (or an ``or`` that jumps when false).
    end = labels[hi - 1]
    for split in range(hi - 1, lo, -1):
        last = test_from_atoms(atoms, split, hi, target, when, labels)
        if last is None:
            continue
        first = test_from_atoms(atoms, lo, split, end, not when, labels)
        if first is not None:
            return boolop(gast.And if when else gast.Or, [first, last])
    return None
