"""Static facts about a normalised function: where names are assigned, and which values are active."""
import gast

from ..activity import ANY, NUMERIC
from .. import nodes
from ..nodes import names_loaded, walk
from ..rules import lookup


# numpy functions whose result may share memory with an argument
VIEWING = frozenset({"transpose", "reshape", "ravel", "squeeze", "expand_dims", "atleast_1d",
                     "atleast_2d", "atleast_3d", "broadcast_to", "broadcast_arrays", "moveaxis",
                     "swapaxes", "rollaxis", "diagonal", "real", "imag", "asarray", "asanyarray",
                     "ascontiguousarray", "asfortranarray", "flip", "fliplr", "flipud", "rot90",
                     "split", "array_split", "hsplit", "vsplit", "dsplit", "unstack",
                     "matrix_transpose", "permute_dims"})

# Attributes whose values carry no derivative (shapes, sizes, types).
NONDIFF_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes",
                                "__class__", "__name__", "training"})


class Site:
    """Where a statement sits: its order in the function, enclosing loops, and whether it is top level."""

    __slots__ = ("pos", "loops", "top")

    def __init__(self, pos, loops, top):
        self.pos = pos
        self.loops = loops
        self.top = top


class Sites:
    """Program positions of every statement and every assignment of every name."""

    def __init__(self, body, params):
        self.of_stmt = {}
        self.assigned = {name: [Site(-1, (), True)] for name in params}
        self.loop_spans = {}
        self._counter = 0
        self._walk(body, (), True)

    def _walk(self, stmts, loops, top):
        for stmt in stmts:
            site = Site(self._counter, loops, top)
            self._counter += 1
            self.of_stmt[id(stmt)] = site
            if isinstance(stmt, gast.For):
                self.add(stmt.target.id, Site(site.pos, loops + (id(stmt),), False))
            else:
                for name in assigned_by(stmt):
                    self.add(name, site)
            if isinstance(stmt, gast.If):
                self._walk(stmt.body, loops, False)
                self._walk(stmt.orelse, loops, False)
            elif isinstance(stmt, (gast.For, gast.While)):
                inner = loops + (id(stmt),)
                start = self._counter
                self._walk(stmt.body, inner, False)
                self.loop_spans[id(stmt)] = (start, self._counter)
            elif isinstance(stmt, gast.With):
                self._walk(stmt.body, loops, False)

    def add(self, name, site):
        self.assigned.setdefault(name, []).append(site)

    def reassigned_after(self, name, site):
        """Whether ``name`` may be assigned again after ``site`` has run."""
        for other in self.assigned.get(name, ()):
            if other.pos > site.pos:
                return True
            if set(other.loops) & set(site.loops):
                return True
        return False

    def final_at_end(self, name, site):
        """Whether the value ``name`` has at ``site`` is still its value when the function returns."""
        if self.reassigned_after(name, site):
            return False
        return any(s.top for s in self.assigned.get(name, [Site(-1, (), True)]))


def assigned_by(stmt):
    """Names that statement ``stmt`` itself binds (not those of nested blocks)."""
    if isinstance(stmt, gast.Assign):
        target = stmt.targets[0]
        if isinstance(target, gast.Name):
            return [target.id]
        if isinstance(target, gast.Tuple):
            return [e.value.id if isinstance(e, gast.Starred) else e.id for e in target.elts]
        if isinstance(target, gast.Subscript):
            return [target.value.id]
        return []
    if isinstance(stmt, gast.For):
        return [stmt.target.id]
    if isinstance(stmt, gast.FunctionDef):
        return [stmt.name]
    if isinstance(stmt, gast.With):
        return [i.optional_vars.id for i in stmt.items if i.optional_vars is not None]
    return []


def loaded_names(node):
    return names_loaded(node)


def index_atoms(index):
    """The names an index of normal form reads as keys: the index itself or a tuple's items."""
    return index.elts if isinstance(index, gast.Tuple) else [index]


def outer_names(func_node):
    """Names a nested def or lambda reads from enclosing scopes (a superset is fine)."""
    args = func_node.args
    own = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            own.add(extra.id)
    body = func_node.body if isinstance(func_node.body, list) else [func_node.body]
    stored = set()
    loaded = set()
    for stmt in body:
        for n in walk(stmt):
            if isinstance(n, gast.Name):
                (stored if isinstance(n.ctx, gast.Store) else loaded).add(n.id)
    return loaded - own - stored


class Activity:
    """Forward activity and kind: which names carry a derivative, and whether they are numeric."""

    def __init__(self, body, resolver, initial, in_place=False, user_code=True):
        self.kind = dict(initial)   # name -> NUMERIC or ANY; absent: inactive
        self.inputs = frozenset(initial)
        self.resolver = resolver
        self.in_place = in_place
        self.closures = {}          # nested def -> the names it reads from this function
        # Names active just before each statement: a name reused for data and then for a
        # derived value (x = x @ W) is only differentiated where it holds the latter.
        self.before = {}
        self.current = None
        self.body = body
        self.user_code = user_code
        self._read_owners = None
        self._made = None
        self._block(body)
        while in_place:
            # A write makes its target active, and with it every name bound to the same
            # object earlier on: run again until no name is added.
            known = dict(self.kind)
            self._block(body)
            if self.kind == known:
                break

    def at(self, stmt):
        """Make ``active`` answer for the program point just before ``stmt``."""
        self.current = self.before.get(id(stmt))

    def active(self, node):
        if not isinstance(node, gast.Name) or node.id not in self.kind:
            return False
        return self.current is None or node.id in self.current

    def kind_of(self, node):
        return self.kind.get(node.id) if isinstance(node, gast.Name) else None

    def _set(self, name, kind):
        old = self.kind.get(name)
        if kind is None or old == ANY:
            return
        if old != kind:
            self.kind[name] = ANY if old is not None else kind

    def _block(self, stmts):
        for stmt in stmts:
            self._stmt(stmt)

    def _stmt(self, stmt):
        self.before.setdefault(id(stmt), set()).update(self.kind)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            kind = self.value_kind(stmt.value)
            if self.in_place and isinstance(stmt.value, gast.Call):
                self._written_by_call(stmt.value)
            if isinstance(target, gast.Name):
                self._set(target.id, kind)
                if isinstance(stmt.value, gast.Call):
                    self._mark_changed(stmt.value)
                if self.in_place and target.id in self.kind:
                    # the value may share memory with these: a write through either name
                    # changes both, so both carry the derivative
                    for name in self._alias_sources(stmt.value):
                        if name not in self.kind:
                            self._set(name, ANY)
            elif isinstance(target, gast.Tuple):
                for name in assigned_by(stmt):
                    self._set(name, ANY if kind else None)
            elif isinstance(target, gast.Attribute):
                if kind and isinstance(target.value, gast.Name):
                    self._set(target.value.id, ANY)
            elif isinstance(target, gast.Subscript):
                if kind:
                    # The container may be a dict or list as well as an array.
                    self._set(target.value.id, self.kind.get(target.value.id) or ANY)
        elif isinstance(stmt, gast.If):
            self._block(stmt.body)
            self._block(stmt.orelse)
        elif isinstance(stmt, (gast.For, gast.While)):
            if isinstance(stmt, gast.For) and stmt.zygote_kind == "seq":
                self._set(stmt.target.id, self.value_kind(stmt.iter))
            while True:
                before = dict(self.kind)
                self._block(stmt.body)
                if self.kind == before:
                    break
        elif isinstance(stmt, gast.With):
            self._block(stmt.body)
        elif isinstance(stmt, gast.FunctionDef):
            self.closures[stmt.name] = outer_names(stmt)
            if any(n in self.kind for n in outer_names(stmt)):
                self._set(stmt.name, ANY)

    def _mark_changed(self, call):
        """Objects a call hands a differentiated value to may keep it (``box.add(x)``,
        ``Counter.__init__``): the method's owner, and the arguments made in this function or
        whose attributes it reads, carry a derivative from there on."""
        atoms = [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        atoms += [k.value for k in call.keywords]
        owner = call.func.value if isinstance(call.func, gast.Attribute) else None
        if not any(self.active(a) for a in atoms + [owner]):
            return
        if self._read_owners is None:
            # (in generated code, any value handed to a call, but not the owner of a method
            # call: its stacks are zygote's)
            self._read_owners = attribute_owners(self.body) if self.user_code else set()
        changed = [owner] if self.user_code and isinstance(owner, gast.Name) \
            and self.resolver.static(owner) is None else []
        writes = isinstance(call.func, gast.Attribute) and call.func.attr == "__setattr__" or (
            isinstance(call.func, gast.Name) and call.func.id == "setattr")
        changed += [a for i, a in enumerate(atoms) if isinstance(a, gast.Name) and (
            a.id in self._read_owners or a.id in self.made() or (writes and i == 0)
            or (not self.user_code and self._dynamic(call)))]
        for atom in changed:
            if atom.id not in self.kind:  # (an active name keeps its kind: arrays stay numeric)
                self._set(atom.id, ANY)

    def _dynamic(self, call):
        """Whether generated code's ``call`` goes through the call protocol (where user code,
        which may change the objects it is handed, runs)."""
        static = self.resolver.static(call.func)
        obj = static.obj if static is not None else None
        return getattr(obj, "__module__", None) == "zygote.protocol" and \
            getattr(obj, "__name__", None) in ("call", "call_method")

    def made(self):
        """Names bound only to objects this function makes (by a call or a display)."""
        if self._made is None:
            self._made = local_objects(self.body, ())
        return self._made

    def value_kind(self, value):
        """The kind of the value an expression in normal form produces, or None if inactive."""
        if isinstance(value, gast.Name):
            return self.kind.get(value.id)
        if isinstance(value, gast.Constant) or getattr(value, "zygote_opaque", False):
            return None
        if isinstance(value, gast.BinOp):
            kinds = [self.kind_of(value.left), self.kind_of(value.right)]
            if not any(kinds):
                return None
            if getattr(value, "zygote_inplace", False) and isinstance(value.left, gast.Name) \
                    and kinds[0] is None and value.left.id in self.made():
                return ANY  # obj += x on an object made here: its __iadd__ may keep x
            return NUMERIC if all(k in (NUMERIC, None) for k in kinds) else ANY
        if isinstance(value, gast.UnaryOp):
            if isinstance(value.op, gast.Not):
                return None
            return self.kind_of(value.operand)
        if isinstance(value, gast.Compare):
            return None
        if isinstance(value, gast.Call):
            return self._call_kind(value)
        if isinstance(value, gast.Attribute):
            if value.attr in NONDIFF_ATTRIBUTES or (self.resolver.static(value) is not None
                                                    and not self.active(value.value)):
                return None  # a global's attribute is a constant unless the global is differentiated
            if value.attr in ("T", "mT", "real"):
                return self.kind_of(value.value)
            return ANY if self.active(value.value) else None
        if isinstance(value, gast.Subscript):
            kind = self.kind_of(value.value)
            if kind is None and any(self.active(atom) for atom in index_atoms(value.slice)):
                return ANY  # a constant object read at a differentiated key (np.r_[x, y])
            return kind
        if isinstance(value, (gast.Tuple, gast.List)):
            elts = [e.value if isinstance(e, gast.Starred) else e for e in value.elts]
            return ANY if any(self.active(e) for e in elts) else None
        if isinstance(value, gast.Dict):
            return ANY if any(self.active(v) for v in value.values) else None
        if isinstance(value, gast.Lambda):
            return ANY if any(n in self.kind for n in outer_names(value)) else None
        return None

    def _alias_sources(self, value):
        """Names whose objects the result of ``value`` may be, or be a view of."""
        if isinstance(value, gast.Name):
            return [value.id]
        if isinstance(value, (gast.Subscript, gast.Attribute)) and isinstance(value.value, gast.Name) \
                and self.resolver.static(value) is None:
            return [value.value.id]
        if isinstance(value, gast.Call):
            static = self.resolver.static(value.func)
            rule = lookup(static.obj) if static is not None else None
            if rule is not None and getattr(static.obj, "__name__", "") not in VIEWING:
                return []
            atoms = [a.value if isinstance(a, gast.Starred) else a for a in value.args]
            if isinstance(value.func, gast.Attribute) and static is None:
                atoms.append(value.func.value)
            return [a.id for a in atoms if isinstance(a, gast.Name)]
        return []

    def _written_by_call(self, call):
        """A call without a rule may write a differentiated value into any object it is given."""
        static = self.resolver.static(call.func)
        if static is not None and lookup(static.obj) is not None:
            return
        atoms = [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        atoms += [k.value for k in call.keywords]
        if isinstance(call.func, gast.Attribute):
            atoms.append(call.func.value)
        if isinstance(call.func, gast.Name):
            atoms += [nodes.load(n) for n in sorted(self.closures.get(call.func.id, ()))]
        if any(self.active(a) for a in atoms):
            for atom in atoms:
                if isinstance(atom, gast.Name) and atom.id not in self.kind:
                    self._set(atom.id, ANY)

    def _call_kind(self, call):
        args = [a.value if isinstance(a, gast.Starred) else a for a in call.args]
        args += [k.value for k in call.keywords]
        arg_active = any(self.active(a) for a in args)
        static = self.resolver.static(call.func)
        if static is not None:
            rule = lookup(static.obj)
            if rule is not None:
                if rule.kind == "nograd" or not arg_active:
                    return None
                return rule.output_kind
            root = call.func
            while isinstance(root, gast.Attribute):
                root = root.value
            if arg_active or self.active(root):
                return ANY
            return None  # a global function or builtin applied to constants
        callee = call.func.value if isinstance(call.func, gast.Attribute) else call.func
        if arg_active or self.active(callee):
            return ANY
        return None


def walk_stmts(stmts):
    for stmt in stmts:
        yield stmt
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and not isinstance(stmt, gast.FunctionDef):
                yield from walk_stmts(inner)


def attribute_owners(body):
    """Names whose attributes the function reads or calls methods of (``obj.total``)."""
    found = set()
    for stmt in walk_stmts(body):
        for node in walk(stmt):
            if isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) \
                    and node.attr not in NONDIFF_ATTRIBUTES and node.attr not in ("T", "mT", "real"):
                found.add(node.value.id)
    return found


def local_objects(body, params):
    """Names bound only to objects made in this function (a display or a call), never to a parameter."""
    made, other = set(), set(params)
    for stmt in walk_stmts(body):
        for name in assigned_by(stmt):
            value = getattr(stmt, "value", None)
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                    and isinstance(value, (gast.Call, gast.Dict, gast.List, gast.Tuple)):
                made.add(name)
            else:
                other.add(name)
    return made - other


def scalar_closed(body, scalars, kind, resolver):
    """Active names that are Python numbers and flow only into Python-number results.

    All cotangents of such names are the output cotangent times numbers, so they share one
    shape and add with plain ``+`` (no broadcast dimension can be counted twice).
    """
    scalar = set(scalars)
    uses = {}  # name -> targets of the statements that read it actively
    every = list(walk_stmts(body))
    statements = [s for s in every if isinstance(s, gast.Assign)]
    # An inactive name counts as a number only if every binding of it is one: all of them
    # are plain assignments, and each assigns a number.
    stores = {}
    for stmt in every:
        for name in assigned_by(stmt):
            stores[name] = stores.get(name, 0) + 1
    inactive = {}
    for stmt in statements:
        target = stmt.targets[0]
        if isinstance(target, gast.Name) and target.id not in kind:
            inactive.setdefault(target.id, []).append(stmt.value)
    inactive = {n: values for n, values in inactive.items() if len(values) == stores.get(n)}
    changed = True
    while changed:
        changed = False
        for stmt in statements:
            target = stmt.targets[0]
            if not isinstance(target, gast.Name) or target.id not in kind:
                continue
            if target.id not in scalar and scalar_value(stmt.value, scalar, resolver, kind):
                scalar.add(target.id)
                changed = True
        for name, values in inactive.items():
            if name not in scalar and all(scalar_value(v, scalar, resolver, kind) for v in values):
                scalar.add(name)
                changed = True
    for stmt in statements:
        target = stmt.targets[0]
        target_name = target.id if isinstance(target, gast.Name) else None
        for name in loaded_names(stmt.value) if not isinstance(stmt.value, gast.Compare) else ():
            if name in kind:
                uses.setdefault(name, set()).add(target_name)
    closed = set(scalar)
    # A returned one-element tuple of a number (a fused gradient's result) passes on its
    # single cotangent whole: its element is as closed as a returned number.
    closed |= _returned_singleton(body, statements)
    changed = True
    while changed:
        changed = False
        for name in list(closed):
            if any(t is None or t not in closed for t in uses.get(name, ())):
                closed.discard(name)
                changed = True
    return closed


def _returned_singleton(body, statements):
    """{name} when the body ends ``name = (a,); return name`` and reads ``name`` nowhere else."""
    ret = body[-1] if body else None
    if not isinstance(ret, gast.Return) or not isinstance(ret.value, gast.Name):
        return set()
    name = ret.value.id
    bound = [s for s in statements if isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if len(bound) != 1 or not isinstance(bound[0].value, gast.Tuple) or len(bound[0].value.elts) != 1:
        return set()
    reads = sum(1 for stmt in body for node in walk(stmt)
                if isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load))
    return {name} if reads == 1 else set()


def scalar_value(value, scalar, resolver, kind):
    """Whether a normal-form value is surely a Python number given the ``scalar`` names."""
    def atom_ok(atom):
        if isinstance(atom, gast.Constant):
            return type(atom.value) in (int, float)
        if not isinstance(atom, gast.Name):
            return False
        if atom.id in scalar:
            return True
        if atom.id in kind:
            return False
        # A constant global number (a step size, say): guarded, so a rebinding retransforms.
        static = resolver.static(atom)
        if static is not None and type(static.obj) in (int, float):
            resolver.guard(static)
            return True
        return False
    if isinstance(value, gast.Name):
        return value.id in scalar
    if isinstance(value, gast.BinOp) and not isinstance(value.op, gast.MatMult):
        return atom_ok(value.left) and atom_ok(value.right)
    if isinstance(value, gast.UnaryOp):
        return atom_ok(value.operand)
    if isinstance(value, gast.Call) and not value.keywords:
        static = resolver.static(value.func)
        fn = static.obj if static is not None else None
        rule = lookup(fn) if fn is not None else None
        from_math = (getattr(fn, "__module__", None) == "math" or fn in (abs, float)
                     or (rule is not None and rule.keeps_numbers))
        return from_math and all(atom_ok(a) for a in value.args)
    return False


class Analysis:
    """What the transform needs to know of a function in normal form before generating code.

    ``activity`` says which names carry a derivative at each statement and of which kind;
    ``sites`` where each statement and assignment sits; ``scalar_closed`` the active names
    whose cotangents add with plain ``+``; ``local_objects`` the names bound only to objects
    made in the function; ``bound_calls`` the call or attribute each name is assigned from.
    """

    def __init__(self, activity, sites, scalar_closed, local_objects, bound_calls, scalars):
        self.activity = activity
        self.sites = sites
        self.scalar_closed = scalar_closed
        self.local_objects = local_objects
        self.bound_calls = bound_calls
        self.scalars = scalars

    @property
    def kind(self):
        return self.activity.kind


def analyse(nf, resolver, initial_kinds, scalars=frozenset(), in_place=False, user_code=True):
    """The ``Analysis`` of normal form ``nf`` whose active inputs have ``initial_kinds``.

    ``scalars`` are the parameters passed Python numbers; ``in_place`` says that the
    function writes into objects (or calls a function that does); ``user_code=False`` says the
    code is zygote's own (generated, or a rule's helper), whose calls change no user object.

    >>> from zygote.compiler.normalise import normalise
    >>> from zygote.compiler.parse import parse_function
    >>> from zygote.compiler.resolve import Resolver
    >>> def f(x, n):
    ...     y = x * 2.0
    ...     return y + n
    >>> nf = normalise(parse_function(f))
    >>> facts = analyse(nf, Resolver(f, nf.namer.taken), {"x": NUMERIC})
    >>> sorted(facts.kind)
    ['x', 'y', 'y_add_n']
    """
    body = nf.tree.body
    params = nf.params + other_params(nf.tree)
    activity = Activity(body, resolver, initial_kinds, in_place, user_code)
    closed = scalar_closed(body, scalars, activity.kind, resolver)
    objects = local_objects(body, set(params))
    sites = Sites(body, params)
    bound_calls = {s.targets[0].id: s.value for s in walk_stmts(body)
                   if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                   and isinstance(s.value, (gast.Call, gast.Attribute))}
    return Analysis(activity, sites, closed, objects, bound_calls, frozenset(scalars))


def other_params(tree):
    """The parameters of function ``tree`` beyond its positional ones: keyword-only, ``*args``, ``**kwargs``."""
    args = tree.args
    extra = [a.id for a in args.kwonlyargs]
    extra += [a.id for a in (args.vararg, args.kwarg) if a is not None]
    return extra


def defined_by(stmt):
    """``(name, function node)`` when ``stmt`` is a ``def`` or assigns a ``lambda``, else ``(None, None)``."""
    if isinstance(stmt, gast.FunctionDef):
        return stmt.name, stmt
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and isinstance(stmt.value, gast.Lambda):
        return stmt.targets[0].id, stmt.value
    return None, None


def closures(body, params):
    """Names bound only to functions defined here (``def`` or ``lambda``): for each, the names
    it reads from this scope and the statements that define it.

    A closure reads its cells when it is called, not when it is made, so the cotangent it
    hands back belongs to the values its cells hold at the call (late binding).
    """
    reads, defs, other = {}, {}, set(params)
    for stmt in walk_stmts(body):
        name, func = defined_by(stmt)
        if func is None:
            other.update(assigned_by(stmt))
            continue
        reads.setdefault(name, set()).update(outer_names(func))
        defs.setdefault(name, []).append(stmt)
    return {name: (frozenset(outer), tuple(defs[name])) for name, outer in reads.items()
            if name not in other}


def closure_uses(body, closed):
    """``(name, statement, passed)`` for each statement reading a closure in ``closed`` other
    than by calling or returning it: passing it to a call (``passed``), or keeping it, in a
    container or under another name. There its cotangent may arrive before a later call
    reads its cells."""
    found = []
    for stmt in walk_stmts(body):
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.FunctionDef) or isinstance(value, gast.Lambda):
            continue  # read when the new function is called: its own cotangent comes then
        callee, passed = set(), set()
        if isinstance(value, gast.Call):
            callee = {id(value.func)}
            passed = {id(a) for a in [*value.args, *(k.value for k in value.keywords)]}
            passed |= {id(a.value) for a in value.args if isinstance(a, gast.Starred)}
        elif isinstance(stmt, gast.Return):
            callee = {id(value)}
        own = [getattr(stmt, f) for f in ("test", "iter", "items") if hasattr(stmt, f)]
        own = [p for part in own for p in (part if isinstance(part, list) else [part])]
        for node in (n for part in (own or [stmt]) for n in walk(part)):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) \
                    and node.id in closed and id(node) not in callee:
                found.append((node.id, stmt, id(node) in passed))
                break
    return found
