"""The transform cache: one compiled primal/adjoint pair per code object and activity pattern."""
import builtins
import contextlib
import gc
import functools
import threading
import types
import weakref

from .. import rules, runtime
from .analysis import Resolver, category, guard_terms
from .compile import closure_function, compile_functions
from .normalise import normalise
from .parse import GENERATED_HELPERS, GENERATED_TREES, parse_function
from .simplify import propagate_copies_in_pair
from .transform import transform
from .validate import validate

_lock = threading.RLock()
# id(code object) -> {(param mask, env mask): Entry} (each Entry holds its code object, so
# the id stays valid; code objects hash their whole contents, ids are cheap). Lambdas made by one expression share a
# code object, so the cache grows with the source that is differentiated, not with calls;
# code made at run time (exec) is bounded by evicting the oldest entries.
MAX_CODE_OBJECTS = 4096
_CACHE = {}
_ENV_NAMES = {}


class Entry:
    """A compiled transform of one function for one pattern of active inputs."""

    __slots__ = ("code", "primal_code", "adjoint", "helper_cells", "guards", "globals_ref",
                 "primal_plain", "transformed", "n_positional", "simple", "guard_check",
                 "fused", "__weakref__")

    def __init__(self, fn, transformed, compiled):
        self.code = fn.__code__
        self.transformed = transformed
        self.primal_code = compiled.primal_code
        self.helper_cells = {name: types.CellType(obj) for name, obj in transformed.helpers.items()}
        user_cells = dict(zip(fn.__code__.co_freevars, fn.__closure__ or ()))
        adjoint_closure = tuple(self.helper_cells[n] if n in self.helper_cells else user_cells[n]
                                for n in compiled.adjoint_code.co_freevars)
        self.adjoint = types.FunctionType(compiled.adjoint_code, {"__builtins__": builtins},
                                          compiled.adjoint_code.co_name, None, adjoint_closure)
        self.guards = _necessary_guards(transformed.guards)
        code = fn.__code__
        self.n_positional = code.co_argcount
        self.simple = not (code.co_flags & (0x04 | 0x08)) and code.co_kwonlyargcount == 0
        self.globals_ref = None
        self.primal_plain = None
        self.guard_check = None
        self.fused = None  # the fused gradient function (zygote.fused), made on demand

    def guards_hold(self, fn):
        """Whether the names the transform resolved still denote the same objects."""
        return self.guard_for(fn)()

    def guard_for(self, fn):
        """A function of no arguments telling whether the guards hold for ``fn``'s globals."""
        check = self.guard_check
        if check is None or check.__globals__ is not fn.__globals__:
            check = self.guard_check = _guard_function(self.guards, fn.__globals__)
        return check

    def primal_for(self, fn):
        if fn.__closure__ is None and fn.__globals__ is self.globals_ref \
                and fn.__defaults__ is None and fn.__kwdefaults__ is None:
            return self.primal_plain
        code = self.primal_code
        cells = []
        user_free = fn.__code__.co_freevars
        for name in code.co_freevars:
            cell = self.helper_cells.get(name)
            if cell is None:
                cell = fn.__closure__[user_free.index(name)]
            cells.append(cell)
        primal = types.FunctionType(code, fn.__globals__, code.co_name, fn.__defaults__, tuple(cells))
        primal.__kwdefaults__ = fn.__kwdefaults__
        if fn.__closure__ is None and fn.__defaults__ is None and fn.__kwdefaults__ is None:
            self.globals_ref = fn.__globals__
            self.primal_plain = primal
        return primal


def _necessary_guards(guards):
    """``(root, path, obj)`` per guard, leaving out a module whose attributes are guarded.

    The generated code only relies on those attributes (``np.sum``), so checking the module
    itself (``np``) as well would cost time and catch nothing more.
    """
    dotted = {root for (root, path) in guards if path}
    return tuple((root, path, obj) for (root, path), obj in guards.items()
                 if path or root not in dotted or not isinstance(obj, types.ModuleType))


_GUARD = """\
def zygote_guard():
    try:
        return {}
    except (NameError, AttributeError, KeyError):
        return False  # a name that is gone, or an attribute that is: the guard fails
"""


def _guard_function(guards, namespace):
    """A compiled ``lambda: a.b is E0 and c is E1 ...`` over ``namespace`` (one call per check)."""
    terms, expected = guard_terms(guards)
    return closure_function("zygote_guard", _GUARD.format(" and ".join(terms) or "True"), expected,
                            namespace, "<zygote guard>")


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


def env_mask(fn, callee_active):
    """One character per environment name: which free variables and globals are differentiated."""
    params = runtime.params_mode()
    if params is None and not callee_active:
        return ""
    freevars, global_names = env_names(fn.__code__, fn.__globals__)
    chars = []
    for name, cell in zip(freevars, fn.__closure__ or ()):
        try:
            value = cell.cell_contents
        except ValueError:
            chars.append("-")
            continue
        chars.append(_env_category(value, params) if params is not None or callee_active else "-")
    if params is not None:
        namespace = fn.__globals__
        for name in global_names:
            chars.append(_env_category(namespace[name], params) if name in namespace else "-")
    return "".join(chars)


def _env_category(value, params):
    kind = category(value)
    if params is None or kind == "-":
        return kind
    if kind == "n":
        return "n" if id(value) in params else "-"
    if kind == "f":
        return "-"  # a plain number in the environment is never a parameter
    return kind


def initial_kinds(fn, param_mask, env):
    code = fn.__code__
    kinds = {}
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount
                             + bool(code.co_flags & 0x04) + bool(code.co_flags & 0x08)]
    for name, char in zip(names, param_mask):
        if char != "-":
            kinds[name] = "n" if char == "f" else char
    if env:
        freevars, global_names = env_names(code, fn.__globals__)
        env_list = list(freevars) + (list(global_names) if runtime.params_mode() is not None else [])
        for name, char in zip(env_list, env):
            if char != "-":
                kinds[name] = "n" if char == "f" else char
    return kinds


def scalar_params(fn, param_mask):
    """Parameters passed Python numbers: their cotangents need no unbroadcasting."""
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    return {name for name, char in zip(names, param_mask) if char == "f"}


def build(fn, param_mask, env):
    """Parse, validate, normalise, transform and compile ``fn`` for one activity pattern."""
    parsed = validate(parse_function(fn))
    resolver_globals = fn.__globals__
    module_names = {n for n, v in resolver_globals.items() if isinstance(v, types.ModuleType)}
    nf = normalise(parsed, module_names)
    local_names = set(nf.namer.taken) - set(fn.__code__.co_freevars) - _global_reads(nf, fn)
    resolver = Resolver(fn, local_names)
    transformed = transform(nf, parsed, resolver, initial_kinds(fn, param_mask, env), runtime,
                            scalar_params(fn, param_mask))
    if parsed.shared or set(param_mask) <= {"f", "-"}:
        # Copies cost as much as the arithmetic in code on numbers (next to array work they
        # cost nothing, and the pass would only delay the first gradient). The user's own
        # names and their cotangents stay, for adjoint_source to read like the function;
        # generated code being differentiated again has no reader to please.
        user_names = fn.__code__.co_varnames + fn.__code__.co_cellvars
        keep = set() if parsed.shared else {p for n in user_names for p in (n, "d" + n)}
        propagate_copies_in_pair(transformed.primal, transformed.adjoint, keep)
    compiled = compile_functions(transformed.primal, transformed.adjoint, parsed.filename,
                                 list(transformed.helpers), fn.__code__.co_freevars)
    return Entry(fn, transformed, compiled)


def _global_reads(nf, fn):
    """Names the function reads but never binds: globals and builtins."""
    import gast
    from ..nodes import walk
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


def entry_for(fn, param_mask, env):
    code = fn.__code__
    key = (param_mask, env)
    per_code = _CACHE.get(id(code))
    entry = per_code.get(key) if per_code is not None else None
    if entry is not None and (not entry.guards or entry.guards_hold(fn)):
        return entry
    with _lock, _collector_paused():
        entry = build(fn, param_mask, env)
        if id(code) not in _CACHE and len(_CACHE) >= MAX_CODE_OBJECTS:
            oldest = next(iter(_CACHE))
            for evicted in _CACHE.pop(oldest).values():
                _forget_generated(evicted)
            _ENV_NAMES.pop(oldest, None)
        _CACHE.setdefault(id(code), {})[key] = entry
    return entry


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector while a transform allocates its many short-lived,
    acyclic tree nodes: a full collection of a large process (one that loaded JAX or torch,
    say) would otherwise land in the middle and cost more than the transform."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _forget_generated(entry):
    """Drop the trees kept for an evicted entry's generated code."""
    fused = () if entry.fused is None else (entry.fused.__code__,)
    for generated in (entry.primal_code, entry.adjoint.__code__) + fused:
        GENERATED_TREES.pop(generated, None)
        GENERATED_HELPERS.pop(generated, None)


def cache_size():
    """Number of (code object, activity pattern) transforms held."""
    return sum(len(v) for v in list(_CACHE.values()))


def clear_cache():
    with _lock:
        for per_code in _CACHE.values():
            for entry in per_code.values():
                _forget_generated(entry)
        _CACHE.clear()
        _ENV_NAMES.clear()
        PLANNED.clear()


# Functions that some transform calls directly (a planned call): a rule registered for one
# of them later must take over, so the transforms made before are dropped.
PLANNED = weakref.WeakSet()


def _rule_registered(fn):
    if fn is not None and fn in PLANNED:
        clear_cache()


rules.on_change(_rule_registered)


def param_mask_for(fn, mask, args, kwargs):
    """Activity of ``fn``'s parameters from the call-site mask, refined by the values passed."""
    code = fn.__code__
    chars = []
    for char, value in zip(mask[1:1 + len(args)], args):
        if char == "a":
            char = category(value)
        chars.append(char)
    if not kwargs and len(args) == code.co_argcount and not (code.co_flags & 0x0C) \
            and not code.co_kwonlyargcount:
        return "".join(chars)
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    per_name = dict.fromkeys(names, "-")
    for name, char in zip(code.co_varnames[:code.co_argcount], chars):
        per_name[name] = char
    extra = chars[code.co_argcount:]
    kw_chars = mask[1 + len(args):]
    extra_kw = []
    for (key, value), char in zip(kwargs.items(), kw_chars):
        if char == "a":
            char = category(value)
        if key in per_name:
            per_name[key] = char
        else:
            extra_kw.append(char)
    out = [per_name[n] for n in names]
    if code.co_flags & 0x04:
        out.append("a" if any(c != "-" for c in extra) else "-")
    if code.co_flags & 0x08:
        out.append("a" if any(c != "-" for c in extra_kw) else "-")
    return "".join(out)


def pullback_function(fn, mask, args, kwargs):
    """``(y, back)`` for a user function, with ``back(dy) -> (dfn, *dargs[, dkwargs])``."""
    param_mask = param_mask_for(fn, mask, args, kwargs)
    env = env_mask(fn, mask[:1] not in ("", "-"))
    entry = entry_for(fn, param_mask, env)
    primal = entry.primal_for(fn)
    y, saved = primal(*args, **kwargs)
    back = functools.partial(entry.adjoint, saved)
    if not kwargs and entry.simple and len(args) == entry.n_positional:
        return y, back
    return y, _rebinding_back(back, fn.__code__, len(args), kwargs)


def _rebinding_back(back, code, n_args, kwargs):
    """Map cotangents per parameter back onto the call's positional and keyword arguments."""
    n_pos = code.co_argcount
    names = code.co_varnames[:n_pos + code.co_kwonlyargcount]
    has_var = bool(code.co_flags & 0x04)

    def call_back(dy):
        parts = back(dy)
        denv, per_param = parts[0], parts[1:]
        by_name = dict(zip(names, per_param[:len(names)]))
        rest = per_param[len(names):]
        positional = [by_name[n] for n in names[:min(n_args, n_pos)]]
        if n_args > n_pos:
            dvar = rest[0] if has_var else 0
            dvar = runtime.split_cotangent(dvar, n_args - n_pos)
            positional.extend(dvar)
        out = (denv,) + tuple(positional)
        if kwargs:
            dkwargs = rest[1 if has_var else 0] if code.co_flags & 0x08 else {}
            dkw = {}
            for key in kwargs:
                if key in by_name:
                    dkw[key] = by_name[key]
                else:
                    dkw[key] = runtime.dict_back(dkwargs, key)
            out = out + (dkw,)
        return out
    return call_back


def transformed_for(fn, param_mask, env=""):
    """The ``Transformed`` trees for ``fn`` (used by ``adjoint_source``)."""
    return entry_for(fn, param_mask, env).transformed


def fast_entry(fn, args):
    """``(entry, primal)`` for a plain call ``fn(*args)`` with no environment activity, or (None, None)."""
    code = fn.__code__
    if len(args) != code.co_argcount or code.co_flags & 0x0C or code.co_kwonlyargcount \
            or runtime.params_mode() is not None:
        return None, None
    mask = "".join([category(a) for a in args])
    per_code = _CACHE.get(id(code))
    entry = per_code.get((mask, "")) if per_code is not None else None
    if entry is None or (entry.guards and not entry.guards_hold(fn)):
        entry = entry_for(fn, mask, "")
    return entry, entry.primal_for(fn)
