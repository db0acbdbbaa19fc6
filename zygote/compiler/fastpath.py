"""Entry points compiled per function for the commonest call: ``gradient(f, *numbers)``.

A gradient of a small scalar function costs little more than the function itself, so
what the call does around the generated code matters: checking the argument types, the
guards of the transform and packing the result. For a plain function called with Python
numbers called more than once, ``entry_point`` compiles those steps into one function
specialised to ``f``'s arity, argument types and guards, around f's fused gradient
(``zygote.fused``); it answers ``MISS`` when any of them no longer holds.

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
from ..cotangents import public
from .compile import closure_function
from .fused import fused_gradient
from .resolve import guard_terms

MISS = object()

_TEMPLATE = """\
def zygote_entry(args):
    try:
        {unpack}
    except ValueError:
        return MISS
    try:
        if not ({checks}):
            return MISS
    except (NameError, AttributeError, KeyError):
        return MISS
    {grads} = gradient({names})
    return ({results})
"""


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
        checks.append(f"type({name}) is kind_{name}")
    terms, objects = guard_terms(entry.guards)
    checks += terms
    cells.update(objects)
    results = []
    for name, kind in zip(names, kinds):
        part = f"{name}_grad"
        # A float argument's cotangent is usually a float already: skip the conversion call.
        results.append(f"{part} if type({part}) is float else public({part}, {name})"
                       if kind is float else f"public({part}, {name})")
    source = _TEMPLATE.format(
        unpack="".join(n + ", " for n in names) + "= args" if names
        else "() = args", checks=" and ".join(checks) or "True", names=", ".join(names),
        grads="".join(n + "_grad, " for n in names) or "()", results="".join(r + ", " for r in results))
    # The guards read f's globals, as the transform resolved them there.
    return closure_function("zygote_entry", source, cells, f.__globals__, "<zygote entry>")

