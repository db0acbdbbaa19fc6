"""Normalisation of a parsed function into A-normal form with structured, single-exit control flow.

After ``normalise`` every statement is one of:

- ``t = e`` where ``e`` is one operation on atoms (names or constants): an operator, a
  call, an attribute read, a subscript, a tuple/list/dict display, a comparison, a copy, or
  a lambda; ``a, b = t`` unpacks a name; ``obj.attr = a`` and ``y[index] = a`` write;
- ``if a: ... else: ...``; ``for i in range(...)`` or ``for x in seq`` where ``seq`` holds a
  materialised list; ``while True:`` whose body leaves by ``break``; ``break`` only in tail
  position of a loop body, ``continue`` removed;
- a nested ``def``; ``with``, ``assert`` and ``raise`` (which only act in the primal);
- one final ``return result``.
"""

import gast

from .. import nodes
from ..errors import UnsupportedSyntaxError
from .branching import BranchingExpressions
from .exceptions import ExceptionStatements
from .patterns import MatchStatements
from .lower import lower_jumps, lower_loop_returns, lower_regions, single_exit
from .mutation import Mutations, fresh_lists
from .names import Namer, describe, names_in
from .statements import SimpleStatements, jumps_out

class NormalForm:
    """The normalised function tree, the namer that made its temporaries, and its helper names."""

    def __init__(self, tree, namer, helpers, params, declared=None, writes=True):
        self.tree = tree
        self.namer = namer
        self.helpers = helpers      # name in code -> intrinsic key
        self.params = params        # positional parameter names in order
        self.declared = declared or {}  # "global"/"nonlocal" -> names the primal declares
        self.writes = writes        # whether it may write in place (item stores, del, op=)


def normalise(parsed, module_names=frozenset()):
    """Return the ``NormalForm`` of ``parsed`` (a ``ParsedFunction``).

    ``module_names`` are global names bound to modules: calls through them
    (``np.sin(x)``) keep their dotted callee so that rules can be looked up.
    """
    tree = nodes.clone(parsed.tree) if parsed.shared else parsed.tree
    namer = Namer(names_in(tree))
    local_names = _assigned_names(tree) | _param_names(tree.args)
    lowering = _Lowering(parsed.filename, namer, frozenset(module_names) - local_names)
    lowering.local_names = local_names
    # zygote's own generated code appends to stacks nobody else sees, and is differentiated
    # again for higher derivatives: its lists are rebound, never written.
    lowering.fresh_lists = local_names if parsed.shared else None
    lowering.tree = tree
    positional = tree.args.posonlyargs + tree.args.args
    lowering.first_param = positional[0].id if positional else None
    if _is_generator(tree):
        lowering.out, lowering.line = [], tree.lineno
        lowering.start_generator()
        body = lowering.out + lowering.block(tree.body)
        lowering.out = body
        lowering.emit(nodes.ret(lowering.generator_result()))
        lowering.out = None
    else:
        body = lowering.block(tree.body)
    body = lower_regions(body, namer)
    body = lower_loop_returns(body, namer)
    try:
        body = lower_jumps(body, in_loop=False)
    except UnsupportedSyntaxError as error:
        raise UnsupportedSyntaxError(error.construct, parsed.filename, error.lineno,
                                     "leave the with block first") from None
    body = single_exit(body, namer)
    tree.body = body
    tree.decorator_list = []
    params = [a.id for a in tree.args.posonlyargs + tree.args.args]
    writes = lowering.writes or "augment" in lowering.helpers.values()
    return NormalForm(tree, namer, lowering.helpers, params, lowering.declared, writes)


def _is_generator(tree):
    return any(isinstance(node, (gast.Yield, gast.YieldFrom)) for node in nodes.walk_scope(tree.body))


def _param_names(args):
    found = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            found.add(extra.id)
    return found


def _assigned_names(tree):
    found = set()
    for node in nodes.walk_scope(tree.body):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            found.add(node.id)
        elif isinstance(node, gast.FunctionDef):
            found.add(node.name)
    return found


class _Lowering(BranchingExpressions, SimpleStatements, ExceptionStatements, MatchStatements, Mutations):
    """Lowers statements and expressions into normal form, one user statement at a time."""

    def __init__(self, filename, namer, module_names):
        self.filename = filename
        self.namer = namer
        self.module_names = module_names
        self.helpers = {}
        self.declared = {}
        self.yielded = None  # in a generator function: the list its yields append to
        self.out = None
        self.line = None
        self.writes = False

    # -- helpers -----------------------------------------------------------------------

    def helper(self, key):
        for name, known in self.helpers.items():
            if known == key:
                return nodes.load(name)
        name = self.namer.fresh(key)
        self.helpers[name] = key
        return nodes.load(name)

    def is_fresh_list(self, name):
        """Whether ``name`` holds a list no other name can see (see ``fresh_lists``)."""
        if self.fresh_lists is None:  # worked out the first time a list method asks
            self.fresh_lists = fresh_lists(self.tree, self.local_names, self.module_names)
        return name in self.fresh_lists

    def refuse(self, construct, node, hint=""):
        raise UnsupportedSyntaxError(construct, self.filename, getattr(node, "lineno", self.line), hint)

    def emit(self, stmt):
        if isinstance(stmt, gast.Delete) or (isinstance(stmt, gast.Assign)
                                             and isinstance(stmt.targets[0], gast.Subscript)):
            self.writes = True
        nodes.at_line(stmt, self.line)
        stmt.zygote_line = self.line
        self.out.append(stmt)
        return stmt

    def assign_temp(self, value, hint):
        name = self.namer.fresh(hint)
        self.emit(nodes.assign(name, value))
        return nodes.load(name)

    # -- statements --------------------------------------------------------------------

    def block(self, stmts):
        outer, self.out = self.out, []
        for stmt in stmts:
            saved_line = self.line
            self.line = getattr(stmt, "lineno", self.line)
            self.guarded_stmt(stmt)
            self.line = saved_line
        result, self.out = self.out, outer
        return result

    def stmt(self, node):
        method = getattr(self, "stmt_" + type(node).__name__, None)
        if method is None:
            self.refuse(f"the statement {type(node).__name__}", node)
        method(node)

    def stmt_Expr(self, node):
        if isinstance(node.value, (gast.Yield, gast.YieldFrom)):
            return self.yield_stmt(node.value)
        if isinstance(node.value, gast.Constant):
            return  # docstring or bare constant
        value = node.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "append" and isinstance(value.func.value, gast.Name) \
                and self.is_fresh_list(value.func.value.id) \
                and len(value.args) == 1 and not value.keywords:
            # Appending to a list no other name can see: rebinding it is the same and cheaper.
            name = value.func.value.id
            self.assign_to(name, nodes.call(self.helper("list_append"), [nodes.load(name), value.args[0]]))
            return
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "append" and isinstance(value.func.value, gast.Attribute) \
                and len(value.args) == 1 and not value.keywords:
            self.append_to_attribute(value.func.value, value.args[0])
            return
        value = self.simple(node.value)
        self.emit(nodes.assign(self.namer.fresh(describe(node.value)), value))

    def append_to_attribute(self, held, item):
        """``obj.items.append(v)`` as a read of the list, an append that rebinds it (as for a
        local list) and a write of the attribute, so that the adjoint sees every version."""
        obj = self.atom(held.value)
        items = self.assign_temp(nodes.attribute(obj, held.attr), f"{describe(obj)}_{held.attr}")
        appended = self.assign_temp(nodes.call(self.helper("list_append"), [items, self.atom(item)]),
                                    f"{describe(obj)}_{held.attr}")
        self.emit(nodes.assign(nodes.make(gast.Attribute, value=obj, attr=held.attr, ctx=gast.Store()),
                               appended))

    def stmt_Pass(self, node):
        pass

    def stmt_Assign(self, node):
        value = node.value
        if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
                and value.func.attr == "pop" and isinstance(value.func.value, gast.Name) \
                and self.is_fresh_list(value.func.value.id) \
                and not value.args and not value.keywords:
            # v = xs.pop() reads the last item and rebinds xs to the rest, without mutation.
            items = value.func.value.id
            last = self.assign_temp(nodes.subscript(nodes.load(items), nodes.const(-1)), f"{items}_last")
            rest = nodes.make(gast.Slice, lower=None, upper=nodes.const(-1), step=None)
            self.emit(nodes.assign(items, self.assign_temp(nodes.subscript(nodes.load(items), rest),
                                                           f"{items}_rest")))
            for target in node.targets:
                self.store(target, last)
            return
        if len(node.targets) == 1 and isinstance(node.targets[0], gast.Name):
            self.assign_to(node.targets[0].id, node.value)
            return
        value = self.atom(node.value)
        for target in node.targets:
            self.store(target, value)

    def stmt_AnnAssign(self, node):
        if node.value is not None:
            self.stmt_Assign(nodes.make(gast.Assign, targets=[node.target], value=node.value))

    def stmt_AugAssign(self, node):
        target = node.target
        op = node.op
        if isinstance(target, gast.Name):
            # y op= v writes into y when it is an array or list (Python's in-place operators);
            # the transform rebinds instead where no other name can see y. On a user object
            # the operation calls __iadd__ (and its kin) first.
            combined = self.atom(_in_place(nodes.make(gast.BinOp, left=nodes.load(target.id), op=op,
                                                      right=node.value)))
            self.emit(nodes.assign(target.id, nodes.call(self.helper("augment"),
                                                         [nodes.load(target.id), combined])))
        elif isinstance(target, gast.Attribute):
            obj = self.atom(target.value)
            old = self.assign_temp(nodes.attribute(obj, target.attr), f"{describe(obj)}_{target.attr}")
            new = self.atom(_in_place(nodes.make(gast.BinOp, left=old, op=op, right=node.value)))
            self.emit(nodes.assign(nodes.make(gast.Attribute, value=obj, attr=target.attr,
                                              ctx=gast.Store()), new))
        elif isinstance(target, gast.Subscript):
            array = self.subscript_owner(target)
            index = self.index(target.slice)
            old = self.assign_temp(nodes.subscript(array, index), f"{array.id}_item")
            new = self.atom(nodes.make(gast.BinOp, left=old, op=op, right=node.value))
            self.emit(nodes.assign(nodes.make(gast.Subscript, value=array, slice=nodes.clone(index),
                                              ctx=gast.Store()), new))
        else:
            self.refuse("this augmented assignment target", node)

    def assign_to(self, name, value_node):
        """``name = value_node``, keeping ``name`` out of its own right-hand side."""
        value = self.simple(value_node)
        if name in {n.id for n in gast.walk(value) if isinstance(n, gast.Name)} \
                and not isinstance(value, gast.Name):
            value = self.assign_temp(value, describe(value_node))
        self.emit(nodes.assign(name, value))

    def store(self, target, value):
        """Store atom ``value`` into an arbitrary assignment target."""
        if isinstance(target, gast.Name):
            self.emit(nodes.assign(target.id, value))
        elif isinstance(target, (gast.Tuple, gast.List)):
            names, deferred = [], []
            for elt in target.elts:
                starred = isinstance(elt, gast.Starred)
                inner = elt.value if starred else elt
                if isinstance(inner, gast.Name):
                    name = inner.id
                else:
                    name = self.namer.fresh("part")
                    deferred.append((inner, name))
                names.append((name, starred))
            if sum(starred for _, starred in names) > 1:
                self.refuse("more than one starred target", target)
            elts = [nodes.make(gast.Starred, value=nodes.store(n), ctx=gast.Store()) if s
                    else nodes.store(n) for n, s in names]
            self.emit(nodes.assign(nodes.make(gast.Tuple, elts=elts, ctx=gast.Store()), value))
            for inner, name in deferred:
                self.store(inner, nodes.load(name))
        elif isinstance(target, gast.Attribute):
            obj = self.atom(target.value)
            self.emit(nodes.assign(nodes.make(gast.Attribute, value=obj, attr=target.attr,
                                              ctx=gast.Store()), value))
        elif isinstance(target, gast.Subscript):
            array = self.subscript_owner(target)
            index = self.index(target.slice)
            self.emit(nodes.assign(nodes.make(gast.Subscript, value=array, slice=index,
                                              ctx=gast.Store()), value))
        else:
            self.refuse(f"assignment to {type(target).__name__}", target)

    def subscript_owner(self, target):
        owner = self.atom(target.value)
        if not isinstance(owner, gast.Name):
            self.refuse("item assignment into a constant", target)
        return owner

    def stmt_Delete(self, node):
        for target in node.targets:
            if isinstance(target, gast.Name):
                # ``del x`` ends the name's use; its value stays alive while the pullback may read it.
                continue
            if not isinstance(target, gast.Subscript):
                self.refuse("del of an attribute", node, "rebind the object instead")
            owner = self.subscript_owner(target)
            index = self.index(target.slice)
            self.emit(nodes.make(gast.Delete, targets=[
                nodes.make(gast.Subscript, value=owner, slice=index, ctx=gast.Del())]))

    def stmt_If(self, node):
        with self.guarded():
            test = self.atom(node.test)
        self.emit(nodes.if_(test, self.block(node.body), self.block(node.orelse)))

    def stmt_For(self, node):
        if node.orelse:
            return self.loop_else(node)
        iterable = node.iter
        is_range = (isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name)
                    and iterable.func.id == "range" and not iterable.keywords)
        with self.guarded():
            if is_range:
                args = [self.atom(a) for a in iterable.args]
                source = nodes.call("range", args)
                kind = "range"
            else:
                seq = self.atom(iterable)
                source = self.assign_temp(nodes.call(self.helper("iterate"), [seq]), f"{describe(seq)}_items")
                kind = "seq"
        if isinstance(node.target, gast.Name):
            target, unpack = node.target.id, []
        else:
            target = self.namer.fresh("item")
            unpack = [nodes.assign(node.target, nodes.load(target))]
            for stmt in unpack:
                nodes.at_line(stmt, self.line)
        body = self.block(unpack + node.body)
        loop = self.emit(nodes.for_(target, source, body))
        loop.zygote_kind = kind

    def stmt_While(self, node):
        if node.orelse:
            return self.loop_else(node)
        outer, self.out = self.out, []
        with self.guarded():
            test = self.atom(node.test)
        head = self.out
        self.out = outer
        body = head + [nodes.at_line(nodes.if_(test, self.block(node.body), [nodes.break_()]), self.line)]
        loop = self.emit(nodes.while_(nodes.const(True), body))
        loop.zygote_kind = "while"

    def stmt_Break(self, node):
        self.emit(nodes.break_())

    def stmt_Continue(self, node):
        self.emit(nodes.continue_())

    def stmt_Return(self, node):
        if self.yielded is not None:
            # A generator's return value only ends it (yield from would read it).
            self.emit(nodes.ret(self.generator_result()))
            return
        value = nodes.const(None) if node.value is None else self.atom(node.value)
        self.emit(nodes.ret(value))

    def stmt_Assert(self, node):
        test = self.atom(node.test)
        self.emit(nodes.make(gast.Assert, test=test, msg=node.msg))

    def stmt_With(self, node):
        if getattr(node, "zygote_capture", False):
            return self.guarded_again(node)
        items = []
        with self.guarded():
            for item in node.items:
                context = self.atom(item.context_expr)
                if item.optional_vars is not None and not isinstance(item.optional_vars, gast.Name):
                    self.refuse("a with-target that is not a name", node)
                items.append(nodes.make(gast.withitem, context_expr=context, optional_vars=item.optional_vars))
        if self.capture is not None:
            return self.with_in_try(node, items)
        if jumps_out(node.body):
            return self.with_region(node, items)
        self.emit(nodes.make(gast.With, items=items, body=self.block(node.body)))

    def stmt_FunctionDef(self, node):
        if node.decorator_list:
            self.refuse("a decorated nested function", node, "decorate it outside the function")
        self.emit(node)

    # -- expressions -------------------------------------------------------------------

    def atom(self, node):
        """Lower ``node`` and return a name or constant holding its value."""
        if isinstance(node, gast.Constant):
            return node
        if isinstance(node, gast.Name):
            return nodes.load(node.id)
        value = self.simple(node)
        if isinstance(value, (gast.Name, gast.Constant)):
            return value
        return self.assign_temp(value, describe(node))

    def simple(self, node):
        """Lower ``node`` into one operation whose operands are atoms."""
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is None:
            self.refuse(f"the expression {type(node).__name__}", node)
        return method(node)

    def expr_Name(self, node):
        return nodes.load(node.id)

    def expr_Constant(self, node):
        return node

    def expr_BinOp(self, node):
        lowered = nodes.make(gast.BinOp, left=self.atom(node.left), op=node.op, right=self.atom(node.right))
        return _in_place(lowered) if getattr(node, "zygote_inplace", False) else lowered

    def expr_UnaryOp(self, node):
        if isinstance(node.op, gast.UAdd):
            return self.atom(node.operand)
        return nodes.make(gast.UnaryOp, op=node.op, operand=self.atom(node.operand))

    def expr_Call(self, node):
        if isinstance(node.func, gast.Name) and node.func.id == "super" and not node.args \
                and self.first_param is not None:
            # Zero-argument super() reads its frame; spell out what it means.
            node = nodes.call("super", [nodes.load("__class__"), nodes.load(self.first_param)])
        written = self.mutating_call(node)
        if written is not None:
            return written
        func = self.callee(node.func)
        args = []
        for arg in node.args:
            if isinstance(arg, gast.Starred):
                args.append(nodes.make(gast.Starred, value=self.atom(arg.value), ctx=gast.Load()))
            else:
                args.append(self.atom(arg))
        keywords = [nodes.make(gast.keyword, arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
        return nodes.make(gast.Call, func=func, args=args, keywords=keywords)

    def callee(self, func):
        if isinstance(func, gast.Name):
            return nodes.load(func.id)
        if isinstance(func, gast.Attribute):
            root = func
            while isinstance(root, gast.Attribute):
                root = root.value
            if isinstance(root, gast.Name) and root.id in self.module_names:
                return nodes.clone(func)  # a dotted path into a module: np.linalg.norm
            return nodes.attribute(self.atom(func.value), func.attr)  # a method call
        return self.atom(func)

    def expr_Attribute(self, node):
        return nodes.attribute(self.atom(node.value), node.attr)

    def expr_Subscript(self, node):
        return nodes.subscript(self.atom(node.value), self.index(node.slice))

    def index(self, node):
        if isinstance(node, gast.Slice):
            parts = [None if p is None else self.atom(p) for p in (node.lower, node.upper, node.step)]
            return nodes.make(gast.Slice, lower=parts[0], upper=parts[1], step=parts[2])
        if isinstance(node, gast.Tuple):
            return nodes.make(gast.Tuple, elts=[self.index(e) for e in node.elts], ctx=gast.Load())
        return self.atom(node)

    def expr_Tuple(self, node):
        return nodes.make(gast.Tuple, elts=self.elements(node.elts), ctx=gast.Load())

    def expr_List(self, node):
        return nodes.make(gast.List, elts=self.elements(node.elts), ctx=gast.Load())

    def elements(self, elts):
        out = []
        for elt in elts:
            if isinstance(elt, gast.Starred):
                out.append(nodes.make(gast.Starred, value=self.atom(elt.value), ctx=gast.Load()))
            else:
                out.append(self.atom(elt))
        return out

    def expr_Dict(self, node):
        if any(k is None for k in node.keys):
            self.refuse("** unpacking in a dict display", node)
        return nodes.make(gast.Dict, keys=[self.atom(k) for k in node.keys],
                          values=[self.atom(v) for v in node.values])

    def expr_Lambda(self, node):
        return node

    def expr_JoinedStr(self, node):
        node.zygote_opaque = True
        return node



def _in_place(binop):
    """Mark ``a += b``'s operation: on a user object it calls ``__iadd__`` first."""
    binop.zygote_inplace = True
    return binop
