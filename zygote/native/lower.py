"""Lowering a function's generated primal and adjoint into the subset of Python numba compiles.

The interpreted gradient keeps loop values on one Python list, reaches other user functions
through the call protocol and reads globals by name. Compiled code cannot: here each saved
value gets a typed stack of its own, a call of another user function becomes a direct call of
that function's compiled primal (its pullback becomes the saved tuple, passed to its compiled
adjoint), and every global or closure value becomes a parameter read when the gradient runs
(numba would otherwise freeze it at compile time). What does not fit raises
``NativeUnsupportedError`` naming the construct and the user's file:line.

>>> import math
>>> def f(x):
...     return math.sin(x) * x
>>> unit = lower(f, "f")
>>> unit.entry
'f_gradient'
>>> "def f_gradient(x, dout):" in unit.source
True
"""
import ast
import builtins
import math
import re
import types

import numpy as np

from .. import nodes, protocol, rules
from ..compiler.pipeline import stages
from ..errors import ZygoteError
from .kernels import KERNELS, pullbacks

# Builtins numba compiles, by name.
_BUILTINS = frozenset({"range", "len", "abs", "min", "max", "float", "int", "bool", "enumerate",
                       "zip", "round", "sum", "True", "False", "None", "List"})
# Modules numba compiles calls into.
_MODULES = {"math": math, "numpy": np}
_COMMENT = re.compile(r"^(\s*)'line (\d+): (.*)'$", re.MULTILINE)


class NativeUnsupportedError(ZygoteError):
    """A construct of a differentiated function that the compiled path cannot compile.

    The message names the construct and the user's ``file:line``.
    """

    def __init__(self, construct, filename=None, lineno=None):
        self.construct = construct
        where = f"{filename}:{lineno}: " if filename else ""
        super().__init__(f"{where}{construct} cannot be compiled with numba")


class Unit:
    """Compiled-path source for one function and the functions it calls.

    ``source`` is a module's text (without its imports); ``entry`` names the fused gradient
    function (primal then adjoint); ``env`` lists ``(function, name, parameter)`` for each
    global or closure value the code reads, in the order the entry takes them after the
    function's own parameters; ``guards`` lists ``(function, name, value)`` bindings that the
    code was compiled for (callees, modules), to check before each call; ``modules`` maps
    aliases to module names for the imports.
    """

    def __init__(self, source, entry, env, guards, modules):
        self.source = source
        self.entry = entry
        self.env = env
        self.guards = guards
        self.modules = modules


# The attribute ``zygote.native.grad`` puts on the functions it returns.
COMPILED_GRADIENT = "native_gradient"


def lower(fn, mask):
    """The ``Unit`` of ``fn``'s gradient for the activity pattern ``mask`` (one character per
    positional parameter, as ``zygote.activity.category`` gives)."""
    inner = getattr(fn, COMPILED_GRADIENT, None)
    if inner is not None:
        code = inner.f.__code__
        raise NativeUnsupportedError(f"the derivative of the compiled gradient {fn.__qualname__} "
                                     "(a second derivative runs interpreted)",
                                     code.co_filename, code.co_firstlineno)
    lowering = _Lowering()
    entry = lowering.function(fn, mask, fused=True)
    source = "\n\n\n".join(lowering.sources)
    return Unit(source, entry, lowering.env_of[(fn, mask)], lowering.guards, lowering.modules)


class _Lowering:
    def __init__(self):
        self.sources = []  # in dependency order: callees first
        self.done = {}  # (fn, mask) -> (primal name, adjoint name)
        self.env_of = {}  # (fn, mask) -> [(fn, name, parameter)], callees' included
        self.guards = []
        self.modules = {}
        self.active = set()

    # -- one function ------------------------------------------------------------------

    def function(self, fn, mask, fused):
        key = (fn, mask)
        if key in self.active:
            raise NativeUnsupportedError(f"the recursive call of {fn.__qualname__}",
                                         fn.__code__.co_filename, fn.__code__.co_firstlineno)
        self.active.add(key)
        try:
            return self._function(fn, mask, fused)
        finally:
            self.active.discard(key)

    def _function(self, fn, mask, fused):
        done = stages(fn, mask, "", protocol.HELPERS, None, simplify=True, compile=False)
        transformed = done.transformed
        module = nodes.to_ast(nodes.module([transformed.primal, transformed.adjoint]))
        primal, adjoint = module.body
        where = _Where(fn)
        base = re.sub(r"\W", "", fn.__name__) or "function"
        prefix = f"{base}_{len(self.done)}" if not fused else base
        env = []
        callees = {}  # name of a pullback in the generated code -> the callee's adjoint
        self._split_stacks(primal, adjoint, where)
        self._lower_calls(fn, primal, adjoint, where, env, callees)
        self._lower_rule_pullbacks(transformed.helpers, primal, adjoint, callees)
        _plain_operators(transformed.helpers, primal, adjoint)
        _call_adjoints(adjoint, callees)
        self._zero_accumulators(adjoint)
        self._lower_plain_calls(fn, primal, where, env)
        self._bind_free_names(fn, transformed.helpers, primal, adjoint, where, env)
        env_params = [p for _, _, p in env]
        if fused:
            tree = _fuse(primal, adjoint, f"{prefix}_gradient", env_params, where)
            names = tree.name
        else:
            primal.name, adjoint.name = f"{prefix}_primal", f"{prefix}_adjoint"
            primal.args.args += [ast.arg(arg=p) for p in env_params]
            adjoint.args.args += [ast.arg(arg=p) for p in env_params]
            _single_return(primal, where)
            tree = [primal, adjoint]
            names = (primal.name, adjoint.name)
        body = tree if isinstance(tree, list) else [tree]
        text = "\n\n\n".join(ast.unparse(ast.fix_missing_locations(t)) for t in body)
        self.sources.append(_COMMENT.sub(lambda m: f"{m.group(1)}pass  # line {m.group(2)}: {m.group(3)}", text))
        self.env_of[(fn, mask)] = env
        self.done[(fn, mask)] = names
        return names

    # -- saved values: one typed stack per name ------------------------------------------

    def _split_stacks(self, primal, adjoint, where):
        stacks = {t.targets[0].id for t in primal.body
                  if isinstance(t, ast.Assign) and len(t.targets) == 1
                  and isinstance(t.targets[0], ast.Name) and isinstance(t.value, ast.List)
                  and not t.value.elts and _is_stack(t.targets[0].id, primal)}
        if not stacks:
            return
        pushed = {s: [] for s in stacks}
        for node in ast.walk(primal):
            if _is_method_call(node, stacks, "append"):
                key = _saved_key(node.args[0]) if len(node.args) == 1 else None
                if key is None:
                    raise NativeUnsupportedError("a saved value that is not a name", *where.of(node))
                stack = node.func.value.id
                if key not in pushed[stack]:
                    pushed[stack].append(key)
                node.func.value = ast.Name(id=_stack_name(stack, key), ctx=ast.Load())
        for node in ast.walk(adjoint):
            if isinstance(node, ast.Assign) and _is_method_call(node.value, stacks, "pop"):
                key = _saved_key(node.targets[0])
                if key is None:
                    raise NativeUnsupportedError("a restored value that is not a name", *where.of(node))
                node.value.func.value = ast.Name(id=_stack_name(node.value.func.value.id, key),
                                                 ctx=ast.Load())
        split = {s: [_stack_name(s, v) for v in pushed[s]] for s in stacks}
        primal.body = _expand_stack_statements(primal.body, split, declare=True)
        adjoint.body = _expand_stack_statements(adjoint.body, split, declare=False)
        for tree in (primal, adjoint):
            for node in ast.walk(tree):
                if isinstance(node, ast.Tuple):
                    elts = []
                    for e in node.elts:
                        if isinstance(e, ast.Name) and e.id in split:
                            elts += [ast.Name(id=n, ctx=e.ctx) for n in split[e.id]]
                        else:
                            elts.append(e)
                    node.elts = elts

    # -- calls of other user functions ---------------------------------------------------

    def _lower_calls(self, fn, primal, adjoint, where, env, callees):
        for node in list(ast.walk(primal)):
            if not (isinstance(node, ast.Assign) and _is_call_of(node.value, "call")):
                continue
            call = node.value
            if not (isinstance(call.args[0], ast.Constant) and isinstance(call.args[1], ast.Name)
                    and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple)
                    and not any(isinstance(a, ast.Starred) for a in call.args)):
                raise NativeUnsupportedError("this call", *where.of(node))
            callee_name = call.args[1].id
            callee = _resolve(fn, callee_name)
            if hasattr(callee, COMPILED_GRADIENT):
                raise NativeUnsupportedError(f"the derivative of the compiled gradient {callee_name} "
                                             "(a second derivative runs interpreted)", *where.of(node))
            if not isinstance(callee, types.FunctionType) or rules.lookup(callee) is not None:
                raise NativeUnsupportedError(f"a call of {callee_name} (a {type(callee).__name__})",
                                             *where.of(node))
            mask = call.args[0].value
            if mask[:1] not in ("-", ""):
                raise NativeUnsupportedError(f"a call of the closure {callee_name}", *where.of(node))
            # Compiled code holds numbers and arrays only: what the caller's analysis left open
            # ("a", anything) is one of them.
            bound = _positional(callee, call.args[2:], call.keywords, where, node)
            callee_mask = "".join(mask[1 + i] if i >= 0 else "-" for _, i in bound).replace("a", "n")
            call.args[2:] = [a for a, _ in bound]
            call.keywords = []
            key = (callee, callee_mask)
            if key not in self.done:
                self.function(callee, callee_mask, fused=False)
            primal_name, adjoint_name = self.done[key]
            self.guards.append((fn, callee_name, callee))
            callee_env = []
            for owner, name, param in self.env_of[key]:
                callee_env.append(param)
                if all(p != param for _, _, p in env):
                    env.append((owner, name, param))
            back = node.targets[0].elts[1].id
            callees[back] = (adjoint_name, callee_env)
            node.value = ast.Call(func=ast.Name(id=primal_name, ctx=ast.Load()),
                                  args=call.args[2:] + [ast.Name(id=p, ctx=ast.Load()) for p in callee_env],
                                  keywords=[])

    def _lower_rule_pullbacks(self, helpers, primal, adjoint, callees):
        """Pullback rules with compiled versions: ``y, y_back = rule(args)`` becomes a call of
        the compiled primal, and ``y_back(dy)`` a call of the compiled adjoint on its saved values."""
        compiled = {}
        for fn, names in pullbacks().items():
            rule = rules.lookup(fn)
            if rule is not None and rule.impl is not None:
                compiled[id(rule.impl)] = names
        for node in ast.walk(primal):
            if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name) and node.value.func.id in helpers
                    and id(helpers[node.value.func.id]) in compiled and not node.value.keywords
                    and len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple)):
                continue
            primal_kernel, adjoint_kernel = compiled[id(helpers[node.value.func.id])]
            node.value.func = ast.Name(id=primal_kernel, ctx=ast.Load())
            callees[node.targets[0].elts[1].id] = (adjoint_kernel, [])
        # ``d_part, *rest = back(dy)``: numba has no starred assignment; the first part is all
        # a pullback of one argument gives.
        for tree in (primal, adjoint):
            for node in ast.walk(tree):
                if (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple)
                        and node.targets[0].elts and isinstance(node.targets[0].elts[-1], ast.Starred)
                        and not any(isinstance(e, ast.Starred) for e in node.targets[0].elts[:-1])):
                    kept = node.targets[0].elts[:-1]
                    node.targets = [ast.Tuple(elts=kept, ctx=ast.Store())]
                    node.value = ast.Subscript(value=node.value, slice=ast.Slice(
                        lower=None, upper=ast.Constant(value=len(kept)), step=None), ctx=ast.Load())

    def _lower_plain_calls(self, fn, primal, where, env):
        """Calls of user functions that carry no derivative run the function's compiled primal."""
        bound = {a.arg for a in primal.args.args} | _stored_names(primal)
        plain = {}
        for node in ast.walk(primal):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id not in bound and node.func.id != "call"):
                continue
            callee = _resolve(fn, node.func.id)
            if not isinstance(callee, types.FunctionType) or rules.lookup(callee) is not None:
                continue
            if any(isinstance(a, ast.Starred) for a in node.args):
                raise NativeUnsupportedError(f"a call of {node.func.id} with *args", *where.of(node))
            node.args = [a for a, _ in _positional(callee, node.args, node.keywords, where, node)]
            node.keywords = []
            key = (callee, "-" * len(node.args))
            if key not in self.done:
                self.function(callee, key[1], fused=False)
            self.guards.append((fn, node.func.id, callee))
            callee_env = []
            for owner, name, param in self.env_of[key]:
                callee_env.append(param)
                if all(p != param for _, _, p in env):
                    env.append((owner, name, param))
            call = ast.Call(func=ast.Name(id=self.done[key][0], ctx=ast.Load()),
                            args=node.args + [ast.Name(id=p, ctx=ast.Load()) for p in callee_env],
                            keywords=[])
            plain[id(node)] = ast.Subscript(value=call, slice=ast.Constant(value=0), ctx=ast.Load())
        if plain:
            _Replace(plain).visit(primal)

    # -- zeros typed like the value they stand for ----------------------------------------

    def _zero_accumulators(self, adjoint):
        bound = {a.arg for a in adjoint.args.args} | _stored_names(adjoint)
        for node in ast.walk(adjoint):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and isinstance(node.value, ast.Constant)
                    and node.value.value == 0 and type(node.value.value) is int):
                name = node.targets[0].id
                if name.startswith("d") and name[1:] in bound:
                    node.value = ast.Call(func=ast.Name(id="zero_like", ctx=ast.Load()),
                                          args=[ast.Name(id=name[1:], ctx=ast.Load())], keywords=[])
                else:
                    node.value = ast.Constant(value=0.0)

    # -- names read from the environment -------------------------------------------------

    def _bind_free_names(self, fn, helpers, primal, adjoint, where, env):
        for tree in (primal, adjoint):
            bound = {a.arg for a in tree.args.args} | _stored_names(tree)
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                    continue
                name = node.id
                if name in bound or name in _BUILTINS or name in KERNELS or name in self._compiled_names():
                    continue
                value = _resolve(fn, name)
                if name in helpers and not isinstance(helpers[name], types.ModuleType):
                    raise NativeUnsupportedError(f"the run-time helper {name}", *where.of(node))
                if name in helpers:
                    value = helpers[name]
                if isinstance(value, types.ModuleType):
                    if value.__name__ not in _MODULES:
                        raise NativeUnsupportedError(f"the module {value.__name__}", *where.of(node))
                    self.modules[name] = value.__name__
                    self.guards.append((fn, name, value))
                    continue
                if value is _MISSING:
                    raise NativeUnsupportedError(f"the name {name}", *where.of(node))
                if not _is_data(value):
                    raise NativeUnsupportedError(f"{name} (a {type(value).__name__})", *where.of(node))
                param = f"env_{fn.__name__}_{name}"
                if all(p != param for _, _, p in env):
                    env.append((fn, name, param))
                node.id = param

    def _compiled_names(self):
        return {n for names in self.done.values() for n in names}


_MISSING = object()


class _Replace(ast.NodeTransformer):
    """Replaces nodes by identity: ``{id(old): new}``."""

    def __init__(self, new):
        self.new = new

    def visit(self, node):
        if id(node) in self.new:
            return self.new[id(node)]
        return self.generic_visit(node)


def _resolve(fn, name):
    """The value ``name`` has for ``fn`` now: a closure cell, a global or a builtin."""
    code = fn.__code__
    if name in code.co_freevars and fn.__closure__ is not None:
        try:
            return fn.__closure__[code.co_freevars.index(name)].cell_contents
        except ValueError:
            return _MISSING
    if name in fn.__globals__:
        return fn.__globals__[name]
    return getattr(builtins, name, _MISSING)


env_value = _resolve  # the value of an environment name of a function when its gradient runs


def _is_data(value):
    if type(value) in (float, int, bool, complex):
        return True
    return isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "biuf"


class _Where:
    """Maps a node of generated code to the user's file and line (the latest line marker)."""

    def __init__(self, fn):
        self.filename = fn.__code__.co_filename
        self.first = fn.__code__.co_firstlineno

    def of(self, node):
        return self.filename, getattr(node, "lineno", None) or self.first


def _operator_nodes():
    """zygote's run-time operator dispatch (for operands that may be user objects), by the id
    of the function generated code calls: the operator's node and whether it is unary."""
    import operator
    from ..rules import objects
    binary = {operator.add: ast.Add, operator.sub: ast.Sub, operator.mul: ast.Mult,
              operator.truediv: ast.Div, operator.floordiv: ast.FloorDiv, operator.mod: ast.Mod,
              operator.pow: ast.Pow, operator.matmul: ast.MatMult}
    unary = {operator.neg: ast.USub, operator.pos: ast.UAdd}
    found = {}
    for table in (objects.BINARY, objects.IN_PLACE):
        for op, fn in table.items():
            if op in binary:
                found[id(fn)] = (binary[op], False)
    for op, fn in objects.UNARY.items():
        if op in unary:
            found[id(fn)] = (unary[op], True)
    return found


def _plain_operators(helpers, primal, adjoint):
    """Compiled code holds numbers and arrays only, never user objects: an operator that zygote
    dispatches at run time (``y, y_back = mul(a, b)``) is the operator itself, with no pullback
    of its own, and the adjoint's ``if y_back is None:`` branch is the one that runs."""
    operators = _operator_nodes()
    plain_backs = set()
    for node in ast.walk(primal):
        body = getattr(node, "body", None)
        if not isinstance(body, list):
            continue
        for field in ("body", "orelse"):
            statements = getattr(node, field, None)
            if not isinstance(statements, list):
                continue
            out = []
            for stmt in statements:
                found = _operator_of(stmt, helpers, operators)
                if found is None:
                    out.append(stmt)
                    continue
                (target, back), (op, unary), args = found
                value = (ast.UnaryOp(op=op(), operand=args[0]) if unary
                         else ast.BinOp(left=args[0], op=op(), right=args[1]))
                out.append(ast.Assign(targets=[ast.Name(id=target, ctx=ast.Store())], value=value))
                out.append(ast.Assign(targets=[ast.Name(id=back, ctx=ast.Store())], value=ast.Constant(value=None)))
                plain_backs.add(back)
            setattr(node, field, out)
    if plain_backs:
        _TakeNoneBranch(plain_backs).visit(adjoint)


def _operator_of(stmt, helpers, operators):
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Tuple)
            and len(stmt.targets[0].elts) == 2 and all(isinstance(e, ast.Name) for e in stmt.targets[0].elts)
            and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name)
            and stmt.value.func.id in helpers and not stmt.value.keywords):
        return None
    found = operators.get(id(helpers[stmt.value.func.id]))
    if found is None or len(stmt.value.args) != (1 if found[1] else 2):
        return None
    return tuple(e.id for e in stmt.targets[0].elts), found, stmt.value.args


class _TakeNoneBranch(ast.NodeTransformer):
    """``if back is None: A else: B`` becomes ``A`` for the ``back`` names known to be None."""

    def __init__(self, names):
        self.names = names

    def visit_If(self, node):
        self.generic_visit(node)
        test = node.test
        if (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id in self.names
                and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
                and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None):
            return node.body
        return node


def _call_adjoints(adjoint, callees):
    """``back(dy)`` of a pullback kept as saved values becomes ``its_adjoint(back, dy, env...)``."""
    for node in ast.walk(adjoint):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in callees:
            adjoint_name, callee_env = callees[node.func.id]
            node.args = [ast.Name(id=node.func.id, ctx=ast.Load())] + node.args + \
                [ast.Name(id=p, ctx=ast.Load()) for p in callee_env]
            node.func = ast.Name(id=adjoint_name, ctx=ast.Load())


def _positional(callee, args, keywords, where, node):
    """``args`` and ``keywords`` of a call of ``callee`` as its positional parameters, in order
    (missing ones take their number defaults), with the index each came from (-1: default)."""
    code = callee.__code__
    if code.co_flags & 0x0C or code.co_kwonlyargcount:
        raise NativeUnsupportedError(f"a call of {callee.__name__} (it takes *args, **kwargs or "
                                     "keyword-only arguments)", *where.of(node))
    params = code.co_varnames[:code.co_argcount]
    defaults = dict(zip(params[len(params) - len(callee.__defaults__ or ()):], callee.__defaults__ or ()))
    given = {params[i]: (a, i) for i, a in enumerate(args)}
    for k, keyword in enumerate(keywords):
        if keyword.arg is None or keyword.arg not in params or keyword.arg in given:
            raise NativeUnsupportedError(f"a call of {callee.__name__} with these keywords", *where.of(node))
        given[keyword.arg] = (keyword.value, len(args) + k)
    out = []
    for name in params:
        if name in given:
            out.append(given[name])
        elif name in defaults and type(defaults[name]) in (int, float, bool):
            out.append((ast.Constant(value=defaults[name]), -1))
        else:
            raise NativeUnsupportedError(f"a call of {callee.__name__} without {name}", *where.of(node))
    return out


def _stack_name(stack, key):
    return f"{stack}__{key}"


def _saved_key(node):
    """What a saved value is pushed and popped as: a name, or names joined for a tuple of names."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Tuple) and node.elts and all(isinstance(e, ast.Name) for e in node.elts):
        return "__".join(e.id for e in node.elts)
    return None


def _is_stack(name, primal):
    uses = [n for n in ast.walk(primal) if isinstance(n, ast.Name) and n.id == name]
    appends = [n for n in ast.walk(primal) if _is_method_call(n, {name}, "append")]
    # every use is the assignment, an append or the saved tuple
    return len(uses) == len(appends) + 2


def _is_method_call(node, receivers, method):
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == method and isinstance(node.func.value, ast.Name)
            and node.func.value.id in receivers)


def _is_call_of(node, name):
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name


def _expand_stack_statements(body, split, declare):
    out = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id in split:
            if declare:
                out += [ast.Assign(targets=[ast.Name(id=n, ctx=ast.Store())],
                                   value=ast.List(elts=[], ctx=ast.Load()))
                        for n in split[stmt.targets[0].id]]
            continue  # the adjoint's copy of the stack: compiled code pops each stack once
        out.append(stmt)
    return out


def _stored_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _single_return(tree, where):
    returns = [n for n in ast.walk(tree) if isinstance(n, ast.Return)]
    if len(returns) != 1 or tree.body[-1] is not returns[0]:
        raise NativeUnsupportedError("a return before the end of the function", *where.of(returns[0]))
    return returns[0]


def _fuse(primal, adjoint, name, env_params, where):
    """One function running the primal, then the adjoint on its saved values: ``(y, grads)``."""
    ret = _single_return(primal, where)
    if not (isinstance(ret.value, ast.Tuple) and len(ret.value.elts) == 2):
        raise NativeUnsupportedError("this return", *where.of(ret))
    y, saved = ret.value.elts
    saved_param, dout_param = (a.arg for a in adjoint.args.args)
    back = _single_return(adjoint, where)
    # Gradients of numbers are numbers and of arrays arrays of their shape, as gradient() gives.
    grads = ast.Tuple(elts=[
        g if isinstance(g, ast.Constant) else
        ast.Call(func=ast.Name(id="unbroadcast", ctx=ast.Load()),
                 args=[g, ast.Name(id=p.arg, ctx=ast.Load())], keywords=[])
        for g, p in zip(back.value.elts[1:], primal.args.args)], ctx=ast.Load())
    body = primal.body[:-1] + [
        ast.Assign(targets=[ast.Name(id="y_out", ctx=ast.Store())], value=y),
        ast.Assign(targets=[ast.Name(id=saved_param, ctx=ast.Store())], value=saved),
    ] + adjoint.body[:-1] + [
        ast.Return(value=ast.Tuple(elts=[ast.Name(id="y_out", ctx=ast.Load()), grads], ctx=ast.Load()))]
    args = primal.args
    args.args = args.args + [ast.arg(arg=p) for p in env_params] + [ast.arg(arg=dout_param)]
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                           type_params=[])
