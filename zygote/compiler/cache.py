"""The transform cache: one compiled primal/adjoint pair per code object and activity pattern.

A ``TransformCache`` asks the pipeline (``compiler.pipeline.build``) for a transform on a
miss, and keeps it while the globals the transform resolved (its guards) still hold. The
call protocol owns the cache in use (``zygote.protocol.TRANSFORMS``) and gives it the
helpers that generated code calls.
"""
import builtins
import contextlib
import gc
import functools
import threading
import types
import weakref

from .. import nodes, rules
from ..activity import argument_kinds, callee_active, category, keyword_kinds
from ..params import params_mode, views_a_param
from ..recursion import NESTING as _NESTING, active as headroom_active, back_with_headroom, too_deep, with_headroom
from ..runtime import dict_back, split_cotangent
from . import planned
from .resolve import ForeignName, foreign_value, guard_terms
from .compile import closure_function
from .parse import GENERATED_HELPERS, GENERATED_TREES
from .pipeline import _ENV_NAMES, build, env_names

MAX_CODE_OBJECTS = 4096  # code objects with transforms kept; past it the oldest are evicted


class Entry:
    """A compiled transform of one function for one pattern of active inputs."""

    __slots__ = ("code", "primal_code", "adjoint", "helper_cells", "guards", "globals_ref",
                 "primal_plain", "transformed", "n_positional", "simple", "guard_check",
                 "fused", "guard_uses", "reaches_out", "__weakref__")

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
        self.guard_uses = 0
        self.fused = None  # the fused gradient function (compiler.fused), made on demand
        # Whether the generated code calls other generated code directly, bypassing
        # pullback_function, and so may recurse (zygote.recursion).
        self.reaches_out = any(_generated(obj) for obj in transformed.helpers.values())

    def guards_hold(self, fn):
        """Whether the names the transform resolved still denote the same objects.

        The first checks walk the guards; an entry checked more often compiles them into
        one function (about a millisecond, which a new function's second gradient should
        not pay).
        """
        check = self.guard_check
        if check is not None and check.__globals__ is fn.__globals__:
            return check()
        self.guard_uses += 1
        if self.guard_uses > _WALKED_GUARD_CHECKS:
            return self.guard_for(fn)()
        return _guards_hold_in(self.guards, fn.__globals__)

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


def _generated(obj):
    """Whether ``obj`` is a function of generated code (a planned call's primal or adjoint)."""
    return type(obj) is types.FunctionType and obj.__code__ in GENERATED_TREES


def _necessary_guards(guards):
    """``(root, path, obj)`` per guard, leaving out a module whose attributes are guarded.

    The generated code only relies on those attributes (``np.sum``), so checking the module
    itself (``np``) as well would cost time and catch nothing more.
    """
    dotted = {root for (root, path) in guards if path}
    return tuple((root, path, obj) for (root, path), obj in guards.items()
                 if path or root not in dotted or not isinstance(obj, types.ModuleType))


_GUARD = nodes.quote("""\
def zygote_guard():
    try:
        return CHECKS
    except (NameError, AttributeError, KeyError):
        return False
""")  # a name that is gone, or an attribute that is: the guard fails


_WALKED_GUARD_CHECKS = 8


def _guards_hold_in(guards, namespace):
    """What the compiled guard function answers, found by walking the guards one by one."""
    found = namespace.get("__builtins__", builtins)
    names = found if isinstance(found, dict) else vars(found)
    for root, path, obj in guards:
        try:
            if isinstance(root, ForeignName):
                value = foreign_value(root)
            else:
                value = namespace[root] if root in namespace else names[root]
            for attr in path:
                value = getattr(value, attr)
        except (KeyError, AttributeError, NameError):
            return False
        if value is not obj:
            return False
    return True


def _guard_function(guards, namespace):
    """A compiled ``lambda: a.b is E0 and c is E1 ...`` over ``namespace`` (one call per check)."""
    terms, expected = guard_terms(guards)
    (tree,) = nodes.fill(nodes.clone(_GUARD), CHECKS=nodes.and_(terms))
    return closure_function(tree, expected, namespace, "<zygote guard>")


def env_mask(fn, callee_active):
    """One character per environment name: which free variables and globals are differentiated."""
    params = params_mode()
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
        return "n" if id(value) in params or views_a_param(value) else "-"
    if kind == "f":
        return "-"  # a plain number in the environment is never a parameter
    if type(value) in (tuple, list) and len(value) <= _SCANNED_ITEMS:
        # A batch of data (``loss(*batch)``): differentiated only if it holds a parameter, or
        # an object that may; a call spreading it then passes constants.
        return kind if any(_env_category(item, params) != "-" for item in value) else "-"
    return kind


_SCANNED_ITEMS = 64  # a longer list or tuple in the environment is taken to be differentiated


class TransformCache:
    """The compiled transforms of user functions, built on demand by the pipeline.

    ``helpers`` names the functions generated code calls (``call``, ``accum``, ...).

    >>> from zygote.protocol import TRANSFORMS
    >>> def f(x):
    ...     return x * x
    >>> entry = TRANSFORMS.entry_for(f, "f", "")
    >>> y, saved = entry.primal_for(f)(3.0)
    >>> y, entry.adjoint(saved, 1.0)
    (9.0, (0, 6.0))
    """

    def __init__(self, helpers):
        self.helpers = helpers
        self._lock = threading.RLock()
        # id(code object) -> {(param mask, env mask): Entry} (each Entry holds its code
        # object, so the id stays valid; ids are cheap to hash, code objects are not).
        # Lambdas made by one expression share a code object, so the cache grows with the
        # source that is differentiated, not with calls; code made at run time (exec) is
        # bounded by evicting the oldest entries.
        self.entries = {}
        # Functions that some transform calls directly (a planned call): a rule registered
        # for one of them later must take over, so the transforms made before are dropped.
        self.planned = weakref.WeakSet()
        rules.on_change(self._rule_registered)

    def entry_for(self, fn, param_mask, env):
        """The ``Entry`` for ``fn`` with this activity of its parameters and environment."""
        code = fn.__code__
        key = (param_mask, env)
        per_code = self.entries.get(id(code))
        entry = per_code.get(key) if per_code is not None else None
        if entry is not None and (not entry.guards or entry.guards_hold(fn)):
            return entry
        with self._lock, _collector_paused():
            plan_call = functools.partial(planned.static_call, self)
            entry = Entry(fn, *build(fn, param_mask, env, self.helpers, plan_call))
            if id(code) not in self.entries and len(self.entries) >= MAX_CODE_OBJECTS:
                oldest = next(iter(self.entries))
                for evicted in self.entries.pop(oldest).values():
                    _forget_generated(evicted)
                _ENV_NAMES.pop(oldest, None)
            self.entries.setdefault(id(code), {})[key] = entry
        return entry

    def pullback_function(self, fn, mask, args, kwargs):
        """``(y, back)`` for a user function, with ``back(dy) -> (dfn, *dargs[, dkwargs])``."""
        if not headroom_active():
            # The outermost differentiated call of a user function: its recursion may go as
            # deep as the plain call's, in the forward pass and in the backward one.
            y, back = with_headroom(self.pullback_function, fn, mask, args, kwargs)
            return y, back_with_headroom(back)
        param_mask = param_mask_for(fn, mask, args, kwargs)
        env = env_mask(fn, callee_active(mask))
        entry = self.entry_for(fn, param_mask, env)
        primal = entry.primal_for(fn)
        nesting = _NESTING
        depth = nesting.depth = nesting.depth + 1
        try:
            if depth > nesting.most:
                raise too_deep(fn, nesting.most)
            y, saved = primal(*args, **kwargs)
        finally:
            nesting.depth = depth - 1
        back = functools.partial(entry.adjoint, saved)
        if not kwargs and entry.simple and len(args) == entry.n_positional:
            return y, back
        return y, _rebinding_back(back, fn.__code__, len(args), kwargs)

    def transformed_for(self, fn, param_mask, env=""):
        """The ``Transformed`` trees for ``fn`` (used by ``adjoint_source``)."""
        return self.entry_for(fn, param_mask, env).transformed

    def fast_entry(self, fn, args):
        """``(entry, primal)`` for a plain call ``fn(*args)`` with no environment activity, or (None, None)."""
        code = fn.__code__
        if len(args) != code.co_argcount or code.co_flags & 0x0C or code.co_kwonlyargcount \
                or params_mode() is not None:
            return None, None
        mask = "".join([category(a) for a in args])
        per_code = self.entries.get(id(code))
        entry = per_code.get((mask, "")) if per_code is not None else None
        if entry is None or (entry.guards and not entry.guards_hold(fn)):
            entry = self.entry_for(fn, mask, "")
        return entry, entry.primal_for(fn)

    def size(self):
        """Number of (code object, activity pattern) transforms held."""
        return sum(len(v) for v in list(self.entries.values()))

    def clear(self):
        """Forget every transform (and the trees kept for its generated code)."""
        with self._lock:
            for per_code in self.entries.values():
                for entry in per_code.values():
                    _forget_generated(entry)
            self.entries.clear()
            _ENV_NAMES.clear()
            self.planned.clear()

    def _rule_registered(self, fn):
        if fn is not None and fn in self.planned:
            self.clear()


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


def param_mask_for(fn, mask, args, kwargs):
    """Activity of ``fn``'s parameters from the call-site mask, refined by the values passed."""
    code = fn.__code__
    chars = []
    for char, value in zip(argument_kinds(mask, len(args)), args):
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
    kw_chars = keyword_kinds(mask, len(args))
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
            dvar = split_cotangent(dvar, n_args - n_pos)
            positional.extend(dvar)
        out = (denv,) + tuple(positional)
        if kwargs:
            dkwargs = rest[1 if has_var else 0] if code.co_flags & 0x08 else {}
            dkw = {}
            for key in kwargs:
                if key in by_name:
                    dkw[key] = by_name[key]
                else:
                    dkw[key] = dict_back(dkwargs, key)
            out = out + (dkw,)
        return out
    return call_back
