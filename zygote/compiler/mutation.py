"""Lowering the mutating methods of lists, dicts and arrays, ``out=`` arguments and ``np.copyto``
into item writes and deletions, which the transform performs on the user's own objects.

``Mutations`` is the part of the normaliser in ``normalise`` that handles them. The type of
the receiver is known only at run time, so ``y.append(v)`` becomes a branch on
``container_kind(y)``: a list gets ``y[len(y):] = [v]``, anything else the method call
itself. An ``out=`` argument means "compute, then write into out": ``np.add(a, b, out=a)``
becomes ``t = np.add(a, b)``, ``a[...] = t``, and the call's value is ``a``.
"""

import gast

from .. import nodes

# method -> {number of positional arguments: (container kinds, template)}; Y is the object,
# A and B its arguments, R the call's value, T, J and K temporaries.
_METHODS = {
    "append": {1: (("list",), "Y[len(Y):] = [A]\nR = None")},
    "extend": {1: (("list",), "T = list(A)\nY[len(Y):] = T\nR = None")},
    "insert": {2: (("list",), "Y[A:A] = [B]\nR = None")},
    "pop": {0: (("list",), "R = Y[-1]\ndel Y[-1]"),
            1: (("list", "dict"), "R = Y[A]\ndel Y[A]"),
            2: (("dict",), "if A in Y:\n    R = Y[A]\n    del Y[A]\nelse:\n    R = B")},
    "remove": {1: (("list",), "J = Y.index(A)\ndel Y[J]\nR = None")},
    "clear": {0: (("list", "dict"), "for K in list(Y):\n    del Y[K]\nR = None")},
    "reverse": {0: (("list",), "T = Y[::-1]\nY[:] = T\nR = None")},
    "sort": {0: (("list",), "T = sorted(Y)\nY[:] = T\nR = None")},
    "fill": {1: (("array",), "Y[...] = A\nR = None")},
    "update": {1: (("dict",), "for K in list(A):\n    Y[K] = A[K]\nR = None")},
    "setdefault": {1: (("dict",), "if A not in Y:\n    Y[A] = None\nR = Y[A]"),
                   2: (("dict",), "if A not in Y:\n    Y[A] = B\nR = Y[A]")},
    "popitem": {0: (("dict",), "K = list(Y)[-1]\nT = Y[K]\ndel Y[K]\nR = (K, T)")},
    "__setitem__": {2: (("list", "dict", "array"), "Y[A] = B\nR = None")},
    "__delitem__": {1: (("list", "dict"), "del Y[A]\nR = None")},
}
# dict.clear on a list would be wrong only in name: list(Y) of a list gives its items, so
# list.clear has its own template.
_LIST_CLEAR = "del Y[:]\nR = None"
_ARRAY_SORT = "T = SORT(Y)\nY[...] = T\nR = None"


class Mutations:
    """Methods of the normaliser for calls that mutate their receiver or an ``out=`` argument."""

    def mutating_call(self, node):
        """Lower call ``node`` if it mutates something; return the atom of its value, or None."""
        if getattr(node, "zygote_plain", False) or not isinstance(node.func, gast.Attribute):
            return None
        if self.module_path(node.func):
            if node.func.attr == "copyto" and len(node.args) == 2 and not node.keywords:
                dst, src = (self.atom(a) for a in node.args)
                self.write(dst, nodes.const(Ellipsis), src)
                return nodes.const(None)
            return self.out_argument(node)
        method = node.func.attr
        table = _METHODS.get(method)
        if any(isinstance(a, gast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            return None
        if table is None or (len(node.args) not in table and method != "sort"):
            return self.out_argument(node)
        receiver = self.atom(node.func.value)
        args = [self.atom(a) for a in node.args]
        keywords = [nodes.make(gast.keyword, arg=k.arg, value=self.atom(k.value)) for k in node.keywords]
        if method == "update" and not args and keywords:
            for k in keywords:
                self.write(receiver, nodes.const(k.arg), k.value)
            return nodes.const(None)
        if keywords and method != "sort":
            return self.out_argument(node)
        branches = []
        if method == "sort":
            branches.append((("list",), "T = sorted(Y)\nY[:] = T\nR = None" if not args else None))
            branches.append((("array",), _ARRAY_SORT))
        elif method == "clear":
            branches = [(("list",), _LIST_CLEAR), (("dict",), "for K in list(Y):\n    del Y[K]\nR = None")]
        else:
            branches = [table[len(args)]]
        result = self.namer.fresh(f"{method}_result")
        plain = nodes.make(gast.Call, func=nodes.attribute(receiver, method), args=args, keywords=keywords)
        plain.zygote_plain = True
        orelse = [nodes.assign(result, plain)]
        kind = self.assign_temp(nodes.call(self.helper("container_kind"), [receiver]),
                                f"{receiver.id}_kind" if isinstance(receiver, gast.Name) else "kind")
        for kinds, template in reversed(branches):
            if template is None:
                continue
            body = self.template(template, receiver, args, keywords, result)
            test = nodes.make(gast.Compare, left=kind, ops=[gast.In()],
                              comparators=[nodes.make(gast.Tuple, elts=[nodes.const(k) for k in kinds],
                                                      ctx=gast.Load())])
            orelse = [nodes.if_(test, body, orelse)]
        for stmt in orelse:
            self.stmt(stmt)
        return nodes.load(result)

    def template(self, source, receiver, args, keywords, result):
        """The statements of ``source`` for this call, at the user's line, ready to be lowered."""
        atoms = dict(zip("AB", args), Y=receiver)
        renamed = {"R": result}
        stmts = nodes.quote(source)
        template = list(gast.walk(gast.Module(body=stmts, type_ignores=[])))
        for node in template:
            if hasattr(node, "lineno"):
                node.lineno = node.end_lineno = self.line
            if isinstance(node, gast.Name) and node.id in ("R", "T", "J", "K"):
                if node.id not in renamed:
                    renamed[node.id] = self.namer.fresh("key" if node.id == "K" else "part")
                node.id = renamed[node.id]
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
                    and node.func.id in ("SORT", "sorted"):
                if node.func.id == "SORT":
                    node.func = self.helper("sort_array")
                node.keywords = nodes.clone(keywords)
        for node in template:
            for field, value in gast.iter_fields(node):
                if isinstance(value, gast.Name) and value.id in atoms:
                    setattr(node, field, nodes.clone(atoms[value.id]))
                elif isinstance(value, list):
                    value[:] = [nodes.clone(atoms[v.id]) if isinstance(v, gast.Name) and v.id in atoms
                                else v for v in value]
        return stmts

    def out_argument(self, node):
        """``f(..., out=o)`` as ``t = f(...)``, ``o[...] = t``; its value is ``o``."""
        out = [k for k in node.keywords if k.arg == "out"]
        if not out or (isinstance(out[0].value, gast.Constant) and out[0].value.value is None):
            return None
        target = self.atom(out[0].value)
        rest = [k for k in node.keywords if k.arg != "out"]
        call = nodes.make(gast.Call, func=node.func, args=node.args, keywords=rest)
        call.zygote_plain = True
        value = self.atom(call)
        self.write(target, nodes.const(Ellipsis), value)
        return target

    def write(self, target, index, value):
        self.emit(nodes.assign(nodes.make(gast.Subscript, value=target, slice=index, ctx=gast.Store()),
                               value))

    def module_path(self, func):
        root = func
        while isinstance(root, gast.Attribute):
            root = root.value
        return isinstance(root, gast.Name) and root.id in self.module_names


_READ_ONLY_BUILTINS = frozenset({"len", "sum", "sorted", "list", "tuple", "enumerate", "zip", "range",
                                 "min", "max", "reversed", "print", "isinstance", "any", "all"})


def fresh_lists(tree, local_names, module_names=frozenset()):
    """Local names that only ever hold lists made by a display in this function and that no
    other name, container or callee can see (``ys = xs``, ``[xs]`` or ``box.append(xs)``
    would): appending to them may rebind them instead of writing, as nobody can tell."""
    params = {a.id for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    made, spoilt = set(), set(params)
    for node in nodes.walk_scope(tree.body):
        if isinstance(node, gast.Call) and not _reads_arguments(node.func, module_names):
            spoilt.update(a.id for a in node.args + [k.value for k in node.keywords]
                          if isinstance(a, gast.Name))
        if isinstance(node, gast.Assign):
            for target in node.targets:
                if isinstance(target, gast.Name) and isinstance(node.value, gast.List):
                    made.add(target.id)
                else:
                    spoilt.update(n.id for n in gast.walk(target) if isinstance(n, gast.Name)
                                  and isinstance(n.ctx, gast.Store))
            if isinstance(node.value, gast.Name):
                spoilt.add(node.value.id)
        elif isinstance(node, (gast.AugAssign, gast.AnnAssign, gast.For, gast.With)):
            targets = [node.target] if not isinstance(node, gast.With) else \
                [i.optional_vars for i in node.items if i.optional_vars is not None]
            spoilt.update(n.id for t in targets for n in gast.walk(t) if isinstance(n, gast.Name))
        elif isinstance(node, (gast.List, gast.Tuple, gast.Set)):
            spoilt.update(e.id for e in node.elts if isinstance(e, gast.Name))
        elif isinstance(node, gast.Dict):
            spoilt.update(e.id for e in node.values if isinstance(e, gast.Name))
        elif isinstance(node, (gast.FunctionDef, gast.Lambda)):
            spoilt.update(n.id for n in gast.walk(node) if isinstance(n, gast.Name))
    return (made - spoilt) & set(local_names)


def _reads_arguments(func, module_names):
    """Whether a call of ``func`` only reads its arguments: a builtin that does, or a function
    of a module (``np.stack(xs)``)."""
    if isinstance(func, gast.Name):
        return func.id in _READ_ONLY_BUILTINS
    root = func
    while isinstance(root, gast.Attribute):
        root = root.value
    return isinstance(root, gast.Name) and root.id in module_names


_MUTATORS = frozenset(m for m in _METHODS if m != "pop") | {"pop", "sort", "clear"}


def writes_outside(tree):
    """Whether the user function ``tree`` (a def or lambda, not normalised) may write into an
    object it did not make: a parameter, a closure variable, a global, or a name bound to
    one of them. Its caller must then keep cotangents by object too."""
    body = tree.body if isinstance(tree.body, list) else [tree.body]
    made = set()
    for node in nodes.walk_scope(body):
        if isinstance(node, gast.Assign) and isinstance(node.value, (gast.List, gast.Dict, gast.BinOp,
                                                                     gast.ListComp, gast.Constant)):
            made.update(t.id for t in node.targets if isinstance(t, gast.Name))
    for node in nodes.walk_scope(body):
        for root in _written_roots(node):
            if root not in made:
                return True
        if isinstance(node, gast.FunctionDef) and writes_outside(node):
            return True
    return False


def _written_roots(node):
    """Names at the root of what statement or call ``node`` writes into."""
    targets = []
    if isinstance(node, (gast.Assign, gast.Delete)):
        targets = [t for t in node.targets if isinstance(t, gast.Subscript)]
    elif isinstance(node, gast.AugAssign):
        targets = [node.target]
    elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
        if node.func.attr in _MUTATORS:
            targets = [node.func.value]
        if node.func.attr == "copyto" and node.args:
            targets = [node.args[0]]
        targets += [k.value for k in node.keywords if k.arg == "out"]
    roots = []
    for target in targets:
        while isinstance(target, (gast.Subscript, gast.Attribute)):
            target = target.value
        roots.append(target.id if isinstance(target, gast.Name) else "")
    return roots
