"""The driver of the compiler: runs the stages in order on one function for one activity pattern.

``build`` is what the cache asks for on a miss; ``stages`` runs the same stages and returns
every intermediate tree, for reading and for the stages' own tests.

>>> def f(x):
...     return x * x
>>> from zygote.protocol import HELPERS
>>> result = stages(f, "n", "", HELPERS)
>>> [name for name in vars(result) if not name.startswith("_")]
['parsed', 'normal_form', 'analysis', 'transformed', 'compiled']
"""
import types

import gast

from .. import nodes
from ..errors import ZygoteError
from ..nodes import walk
from ..params import params_mode
from ..rules import lookup
from .analysis import analyse
from .compile import compile_functions
from .writing import rebinding_augments, writes_in, writes_shared_objects
from .mutation import writes_outside
from .normalise import normalise
from .parse import GENERATED_TREES, parse_function
from .resolve import Resolver
from .simplify import propagate_copies_in_pair
from .transform import transform
from .validate import validate

_ENV_NAMES = {}


class Stages:
    """The result of each stage for one function: parse and validate (``parsed``), normalise
    (``normal_form``), analyse (``analysis``), transform and simplify (``transformed``),
    compile (``compiled``)."""

    def __init__(self, parsed, normal_form, analysis, transformed, compiled):
        self.parsed = parsed
        self.normal_form = normal_form
        self.analysis = analysis
        self.transformed = transformed
        self.compiled = compiled


def build(fn, param_mask, env, helpers, plan_call=None):
    """``(transformed, compiled)``: the primal and adjoint of ``fn`` for one activity pattern.

    ``param_mask`` has one character per parameter and ``env`` one per environment name
    (``f`` a Python number, ``n`` an array, ``a`` anything else, ``-`` a constant);
    ``helpers`` names the functions generated code calls; ``plan_call(fn, kinds, active)``
    plans direct calls of other global functions (None: every call goes through the run time).
    """
    done = stages(fn, param_mask, env, helpers, plan_call)
    return done.transformed, done.compiled


def stages(fn, param_mask, env, helpers, plan_call=None, simplify=None, compile=True):
    """Run every stage on ``fn`` and return a ``Stages``.

    Copies are propagated (``simplify``) by default only where they cost time: in code on
    numbers and in generated code being differentiated again; ``simplify=True`` forces it,
    ``simplify=False`` skips it. ``compile=False`` stops before compiling (``compiled`` is None).
    """
    parsed = validate(parse_function(fn))
    module_names = {n for n, v in fn.__globals__.items() if isinstance(v, types.ModuleType)}
    normal_form = normalise(parsed, module_names)
    resolver = resolver_for(fn, normal_form)
    through = not parsed.shared and calls_writer(normal_form, resolver)
    analysis = analyse(normal_form, resolver, initial_kinds(fn, param_mask, env),
                       scalar_params(fn, param_mask),
                       through or (not parsed.shared and may_write(normal_form)),
                       user_code=parsed.code not in GENERATED_TREES)
    transformed = transform(normal_form, parsed, analysis, resolver, helpers, plan_call,
                            writes_through=through)
    for kind, names in normal_form.declared.items():
        # The primal writes these names where the plain call would: the module or the cell.
        declaration = gast.Global if kind == "global" else gast.Nonlocal
        transformed.primal.body.insert(0, nodes.make(declaration, names=list(names)))
    if simplify is None:
        # Copies cost as much as the arithmetic in code on numbers (next to array work they
        # cost nothing, and the pass would only delay the first gradient).
        simplify = parsed.shared or set(param_mask) <= {"f", "-"}
    if simplify:
        # The user's own names and their cotangents stay, for adjoint_source to read like
        # the function; generated code being differentiated again has no reader to please.
        user_names = fn.__code__.co_varnames + fn.__code__.co_cellvars
        keep = set() if parsed.shared else {p for n in user_names for p in (n, "d" + n)}
        keep |= {n for names in normal_form.declared.values() for n in names}
        propagate_copies_in_pair(transformed.primal, transformed.adjoint, keep)
    compiled = None
    if compile:
        compiled = compile_functions(transformed.primal, transformed.adjoint, parsed.filename,
                                     list(transformed.helpers), fn.__code__.co_freevars)
    return Stages(parsed, normal_form, analysis, transformed, compiled)


_WRITERS = {}  # code object -> whether its function writes into objects it did not make


def calls_writer(normal_form, resolver):
    """Whether the function defines or calls (by a global name) a function that may write
    into an object it did not make, such as ``def fill(out, v): out[:] = v``."""
    for node in walk(normal_form.tree):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not normal_form.tree:
            if writes_outside(node):
                return True
        elif isinstance(node, gast.Call):
            static = resolver.static(node.func)
            fn = static.obj if static is not None else None
            if not isinstance(fn, types.FunctionType) or lookup(fn) is not None:
                continue
            found = _WRITERS.get(fn.__code__)
            if found is None:
                try:
                    found = writes_outside(parse_function(fn).tree)
                except ZygoteError:
                    found = False
                _WRITERS[fn.__code__] = found
            if found:
                resolver.guard(static)
                return True
    return False


def may_write(normal_form):
    """Whether the function may write in place, before its analysis says which names hold
    numbers: item writes, ``del``, in-place operators, or attribute writes and method calls on
    objects that two of its names reach (``writing.writes_shared_objects``)."""
    if writes_shared_objects(normal_form.tree):
        return True
    if not normal_form.writes:
        return False
    tree = normal_form.tree
    params = normal_form.params + [a.id for a in tree.args.kwonlyargs]
    rebinding = rebinding_augments(tree.body, normal_form.helpers, params, ())
    return writes_in(tree.body, normal_form.helpers, rebinding)


def resolver_for(fn, normal_form):
    """The ``Resolver`` of the names ``fn`` reads from its globals and builtins."""
    local_names = set(normal_form.namer.taken) - set(fn.__code__.co_freevars) \
        - _global_reads(normal_form)
    return Resolver(fn, local_names)


def env_names(code, namespace):
    """Names a function may read from its environment: free variables and globals (nested code too)."""
    found = _ENV_NAMES.get(id(code))
    if found is None or found[0] is not code:
        names = set()
        stack = [code]
        while stack:
            current = stack.pop()
            names.update(current.co_names)
            stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
        found = (code, tuple(code.co_freevars), tuple(sorted(names)))
        _ENV_NAMES[id(code)] = found
    return found[1:]


def initial_kinds(fn, param_mask, env):
    """The kinds of the active parameters and environment names, as the analysis starts from them."""
    code = fn.__code__
    kinds = {}
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount
                             + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)]
    for name, char in zip(names, param_mask):
        if char != "-":
            kinds[name] = "n" if char == "f" else char
    if env:
        freevars, global_names = env_names(code, fn.__globals__)
        env_list = list(freevars) + (list(global_names) if params_mode() is not None else [])
        for name, char in zip(env_list, env):
            if char != "-":
                kinds[name] = "n" if char == "f" else char
    return kinds


def scalar_params(fn, param_mask):
    """Parameters passed Python numbers: their cotangents need no unbroadcasting."""
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    return {name for name, char in zip(names, param_mask) if char == "f"}


def _global_reads(nf):
    """Names the function reads but never binds: globals and builtins."""
    bound = set(nf.params)
    args = nf.tree.args
    bound |= {a.id for a in args.kwonlyargs}
    bound |= {a.id for a in (args.vararg, args.kwarg) if a is not None}
    loaded = set()
    for node in walk(nf.tree):
        if isinstance(node, gast.Name):
            (bound if isinstance(node.ctx, gast.Store) else loaded).add(node.id)
        elif isinstance(node, gast.FunctionDef) and node is not nf.tree:
            bound.add(node.name)
    return loaded - bound - set(nf.helpers)
