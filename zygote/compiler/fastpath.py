"""Entry points compiled per function for the commonest call: ``gradient(f, *numbers)``.

A gradient of a small scalar function costs little more than the function itself, so
what the call does around the generated code matters: checking the argument types, the
guards of the transform and packing the result. For a plain function called with Python
numbers called more than once, ``entry_point`` compiles those steps into one function
specialised to ``f``'s arity, argument types and guards, around f's fused gradient
(``compiler.fused``); it answers ``MISS`` when any of them no longer holds.

>>> import math
>>> from zygote.protocol import TRANSFORMS
>>> def f(x, y):
...     return x * math.sin(y)
>>> entry, _ = TRANSFORMS.fast_entry(f, (2.0, 0.0))
>>> fast = entry_point(f, entry, (float, float))
>>> fast((2.0, 0.0))
(0.0, 2.0)
>>> fast((2, 0.0)) is MISS
True
"""
import copy

import gast

from .. import nodes
from ..cotangents import public
from .compile import closure_function
from .fused import fused_gradient
from .resolve import guard_terms

MISS = object()

_TEMPLATE = nodes.quote("""\
def zygote_entry(args):
    try:
        UNPACK
    except ValueError:
        return MISS
    try:
        if not CHECKS:
            return MISS
    except (NameError, AttributeError, KeyError):
        return MISS
    GRADIENT
    return RESULTS
""")


def entry_point(f, entry, kinds):
    """A function of the argument tuple giving ``gradient(f, *args)``, or ``MISS``."""
    names = [f"a{i}" for i in range(len(kinds))]
    # Builtins travel as cells too: a user's module may define its own ``type`` or ``float``.
    cells = {"MISS": MISS, "gradient": fused_gradient(f, entry), "public": public, "type": type,
             "float": float, "ValueError": ValueError, "NameError": NameError,
             "AttributeError": AttributeError, "KeyError": KeyError}
    checks = []
    for name, kind in zip(names, kinds):
        cells[f"kind_{name}"] = kind
        checks.append(nodes.compare(nodes.call(nodes.load("type"), [nodes.load(name)]), gast.Is(),
                                    nodes.load(f"kind_{name}")))
    terms, objects = guard_terms(entry.guards)
    checks += terms
    cells.update(objects)
    results = []
    for name, kind in zip(names, kinds):
        part = nodes.load(f"{name}_grad")
        public_part = nodes.call(nodes.load("public"), [part, nodes.load(name)])
        if kind is float:
            # A float argument's cotangent is usually a float already: skip the conversion call.
            is_float = nodes.compare(nodes.call(nodes.load("type"), [part]), gast.Is(), nodes.load("float"))
            public_part = nodes.make(gast.IfExp, test=is_float, body=part, orelse=public_part)
        results.append(public_part)
    unpack = nodes.assign(nodes.tuple_store(names), nodes.load("args"))
    gradient = nodes.assign(nodes.tuple_store([f"{n}_grad" for n in names]),
                            nodes.call(nodes.load("gradient"), [nodes.load(n) for n in names]))
    (tree,) = nodes.fill(copy.deepcopy(_TEMPLATE), UNPACK=[unpack], CHECKS=nodes.and_(checks),
                         GRADIENT=[gradient], RESULTS=nodes.tuple_load(results))
    # The guards read f's globals, as the transform resolved them there.
    return closure_function(tree, cells, f.__globals__, "<zygote entry>")
