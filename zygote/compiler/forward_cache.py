"""The cache of forward transforms: one compiled tangent function per code object and activity pattern.

A miss runs the front of the pipeline (parse, validate, normalise, analyse) and the forward
stage (``compiler.forward``), and compiles the result; an entry is kept while the globals
its code resolved at transform time still denote the same objects.
"""
import threading
import types

from .. import rules
from .analysis import analyse
from .cache import _collector_paused, _guard_function, _necessary_guards
from .compile import compile_trees
from .forward import forward_stage
from .normalise import normalise
from .parse import parse_function
from .pipeline import initial_kinds, resolver_for, scalar_params
from .validate import validate


class ForwardEntry:
    """The compiled forward function of one function for one pattern of active inputs."""

    __slots__ = ("source", "code", "forward", "helper_cells", "guards", "guard_check", "plain", "globals_ref")

    def __init__(self, fn, forward, code):
        self.source = fn.__code__  # kept, so that the id keying the cache stays its own
        self.code = code
        self.forward = forward
        self.helper_cells = {name: types.CellType(obj) for name, obj in forward.helpers.items()}
        self.guards = _necessary_guards(forward.guards)
        self.guard_check = None
        self.plain = None
        self.globals_ref = None

    def guards_hold(self, fn):
        check = self.guard_check
        if check is None or check.__globals__ is not fn.__globals__:
            check = self.guard_check = _guard_function(self.guards, fn.__globals__)
        return check()

    def function_for(self, fn):
        """The forward function bound to ``fn``'s globals, closure and defaults."""
        if fn.__closure__ is None and fn.__globals__ is self.globals_ref:
            return self.plain
        cells = []
        user_free = fn.__code__.co_freevars
        for name in self.code.co_freevars:
            cell = self.helper_cells.get(name)
            if cell is None:
                cell = fn.__closure__[user_free.index(name)]
            cells.append(cell)
        made = types.FunctionType(self.code, fn.__globals__, self.code.co_name, None, tuple(cells))
        if fn.__closure__ is None:
            self.globals_ref, self.plain = fn.__globals__, made
        return made


class ForwardCache:
    """Forward transforms of user functions, built on demand.

    ``helpers`` provides what generated forward code calls (``jvp_call``, ``item_tangent``, ...).
    """

    def __init__(self, helpers):
        self.helpers = helpers
        self.entries = {}  # id(code object) -> {(param mask, env mask): ForwardEntry}
        self._lock = threading.RLock()
        rules.on_change(lambda fn: self.clear())

    def entry_for(self, fn, param_mask, env):
        code = fn.__code__
        per_code = self.entries.get(id(code))
        entry = per_code.get((param_mask, env)) if per_code is not None else None
        if entry is not None and (not entry.guards or entry.guards_hold(fn)):
            return entry
        with self._lock, _collector_paused():
            forward = build_forward(fn, param_mask, env, self.helpers)
            (compiled,) = compile_trees([forward.tree], code.co_filename, list(forward.helpers),
                                        code.co_freevars)
            entry = ForwardEntry(fn, forward, compiled)
            self.entries.setdefault(id(code), {})[(param_mask, env)] = entry
        return entry

    def clear(self):
        with self._lock:
            self.entries.clear()


def build_forward(fn, param_mask, env, helpers):
    """The ``Forward`` tree of ``fn``: parse, validate, normalise, analyse, then the forward stage."""
    parsed = validate(parse_function(fn))
    modules = {n for n, v in fn.__globals__.items() if isinstance(v, types.ModuleType)}
    nf = normalise(parsed, modules)
    resolver = resolver_for(fn, nf)
    analysis = analyse(nf, resolver, initial_kinds(fn, param_mask, env), scalar_params(fn, param_mask))
    return forward_stage(nf, parsed, analysis, resolver, helpers)
