"""Builders for gast nodes: the only module that calls gast node constructors."""
import ast

import gast

_LIST_FIELDS = frozenset({
    "body", "orelse", "targets", "args", "keywords", "elts", "decorator_list",
    "posonlyargs", "kwonlyargs", "kw_defaults", "defaults", "ops", "comparators",
    "values", "keys", "type_params", "generators", "ifs", "type_ignores", "items",
    "handlers", "finalbody",
})

_OPERATORS = {
    "+": gast.Add, "-": gast.Sub, "*": gast.Mult, "/": gast.Div, "//": gast.FloorDiv,
    "%": gast.Mod, "**": gast.Pow, "@": gast.MatMult,
}


def make(cls, **fields):
    """Build a node of gast class ``cls``, filling the fields it has and we did not give
    (an empty list or None); other keywords are ignored."""
    layout = _LAYOUTS.get(cls)
    if layout is None:
        layout = _LAYOUTS[cls] = tuple((f, f in _LIST_FIELDS) for f in cls._fields)
    node = cls.__new__(cls)
    values = node.__dict__
    for field, is_list in layout:
        value = fields.get(field, _MISSING)
        if value is _MISSING:
            value = [] if is_list else None
        values[field] = value
    return node


_LAYOUTS = {}  # gast class -> ((field, whether it holds a list), ...)
_MISSING = object()


def load(name):
    return gast.Name(name, gast.Load(), None, None)


def store(name):
    return gast.Name(name, gast.Store(), None, None)


def const(value):
    return make(gast.Constant, value=value)


def attribute(value, attr):
    return make(gast.Attribute, value=value, attr=attr, ctx=gast.Load())


def subscript(value, index):
    return make(gast.Subscript, value=value, slice=index, ctx=gast.Load())


def call(func, args=(), keywords=()):
    if isinstance(func, str):
        func = load(func)
    return make(gast.Call, func=func, args=list(args),
                keywords=[make(gast.keyword, arg=k, value=v) for k, v in keywords])


def binop(left, op, right):
    return make(gast.BinOp, left=left, op=_OPERATORS[op](), right=right)


def neg(operand):
    return make(gast.UnaryOp, op=gast.USub(), operand=operand)


def not_(operand):
    return make(gast.UnaryOp, op=gast.Not(), operand=operand)


def compare(left, op, right):
    return make(gast.Compare, left=left, ops=[op], comparators=[right])


def and_(values):
    """``v0 and v1 and ...`` (``True`` for no values)."""
    values = list(values)
    if not values:
        return const(True)
    return values[0] if len(values) == 1 else make(gast.BoolOp, op=gast.And(), values=values)


def named(name, value):
    """``(name := value)``."""
    return make(gast.NamedExpr, target=store(name), value=value)


def is_not_none(value):
    return compare(value, gast.IsNot(), const(None))


def tuple_load(elts):
    return make(gast.Tuple, elts=list(elts), ctx=gast.Load())


def tuple_store(names):
    return make(gast.Tuple, elts=[store(n) for n in names], ctx=gast.Store())


def list_load(elts):
    return make(gast.List, elts=list(elts), ctx=gast.Load())


def assign(target, value):
    """``target = value``; a str target is a plain name, a list of str a tuple unpacking."""
    if isinstance(target, str):
        target = store(target)
    elif isinstance(target, (list, tuple)):
        target = tuple_store(target)
    return make(gast.Assign, targets=[target], value=value)


def expr(value):
    return make(gast.Expr, value=value)


def ret(value):
    return make(gast.Return, value=value)


def if_(test, body, orelse=()):
    return make(gast.If, test=test, body=list(body), orelse=list(orelse))


def for_(target, iterable, body):
    if isinstance(target, str):
        target = store(target)
    return make(gast.For, target=target, iter=iterable, body=list(body), orelse=[])


def while_(test, body):
    return make(gast.While, test=test, body=list(body), orelse=[])


def try_finally(body, finalbody):
    return make(gast.Try, body=list(body), handlers=[], orelse=[], finalbody=list(finalbody))


def break_():
    return make(gast.Break)


def continue_():
    return make(gast.Continue)


def pass_():
    return make(gast.Pass)


def arguments(names, vararg=None, kwonly=(), kw_defaults=(), kwarg=None, defaults=()):
    return make(
        gast.arguments,
        args=[make(gast.Name, id=n, ctx=gast.Param()) for n in names],
        posonlyargs=[],
        vararg=make(gast.Name, id=vararg, ctx=gast.Param()) if vararg else None,
        kwonlyargs=[make(gast.Name, id=n, ctx=gast.Param()) for n in kwonly],
        kw_defaults=list(kw_defaults),
        kwarg=make(gast.Name, id=kwarg, ctx=gast.Param()) if kwarg else None,
        defaults=list(defaults),
    )


def function(name, args, body):
    if not isinstance(args, gast.arguments):
        args = arguments(args)
    return make(gast.FunctionDef, name=name, args=args, body=list(body), decorator_list=[])


def module(body):
    return make(gast.Module, body=list(body), type_ignores=[])


def comment_line(lineno, text):
    """A no-op marker statement that codegen renders as ``# line N: text``."""
    marker = expr(const(f"line {lineno}: {text}"))
    marker.zygote_comment = True
    return marker


def at_line(node, lineno):
    """Give ``node`` the line ``lineno`` unless it has one; nodes below inherit it at compile time."""
    if lineno is not None and getattr(node, "lineno", None) is None and "lineno" in node._attributes:
        node.lineno = lineno
        node.col_offset = 0
        node.end_lineno = lineno
        node.end_col_offset = 0
    return node


def quote(source):
    """Parse a short template into a list of statements."""
    return gast.parse(source).body


def clone(tree):
    """A deep copy of the gast tree ``tree``: its nodes and lists are new, other values shared.

    ``copy.deepcopy`` does the same through its generic protocol, several times slower; the
    transform copies rule expressions and templates at every call site.

    >>> (tree,) = quote("y = x + 1")
    >>> copied = clone(tree)
    >>> copied is not tree and copied.value is not tree.value
    True
    """
    if isinstance(tree, list):
        return [clone(item) for item in tree]
    if not isinstance(tree, gast.AST):
        return tree
    node = type(tree).__new__(type(tree))
    for name, value in vars(tree).items():
        setattr(node, name, clone(value) if isinstance(value, (list, gast.AST)) else value)
    return node


def fill(template, **parts):
    r"""``template`` (a tree from ``quote``) with each name in ``parts`` replaced: a statement
    that is just the name by the statements given (a list), a name elsewhere by the node given.

    >>> import astor
    >>> (tree,) = fill(quote("def f(a):\n    BODY\n    return RESULT"),
    ...                BODY=[assign("b", binop(load("a"), "+", const(1)))], RESULT=load("b"))
    >>> print(astor.to_source(gast.gast_to_ast(module([tree]))).strip())
    def f(a):
        b = a + 1
        return b
    """
    class Filler(gast.NodeTransformer):
        def visit_Expr(self, node):
            if isinstance(node.value, gast.Name) and isinstance(parts.get(node.value.id), list):
                return parts[node.value.id]
            return self.generic_visit(node)

        def visit_Name(self, node):
            found = parts.get(node.id)
            return found if found is not None and not isinstance(found, list) else node
    filler = Filler()
    return [filler.visit(stmt) for stmt in template]


def names_loaded(node):
    """Identifiers read (``Load`` context) anywhere in ``node``: a fast walk over gast fields."""
    found = set()
    stack = [node]
    pop, push = stack.pop, stack.append
    name_type, load_type = gast.Name, gast.Load
    while stack:
        current = pop()
        if type(current) is name_type:
            if type(current.ctx) is load_type:
                found.add(current.id)
            continue
        for field in current._fields:
            value = getattr(current, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, gast.AST):
                        push(item)
            elif isinstance(value, gast.AST):
                push(value)
    return found


def walk(node):
    """Every node below ``node`` (and itself), in no particular order; faster than ``gast.walk``."""
    stack = [node]
    pop, push, ast_type = stack.pop, stack.append, gast.AST
    while stack:
        current = pop()
        yield current
        for field in current._fields:
            value = getattr(current, field, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast_type):
                        push(item)
            elif isinstance(value, ast_type):
                push(value)


def children(node):
    """The direct child nodes of ``node``."""
    out = []
    for field in node._fields:
        value = getattr(node, field, None)
        if type(value) is list:
            out.extend(item for item in value if isinstance(item, gast.AST))
        elif isinstance(value, gast.AST):
            out.append(value)
    return out


def to_ast(node, where=(1, 0, 1, 0)):
    """Convert a gast tree to a Python ``ast`` tree (a direct, single-pass conversion).

    Nodes without a position take their parent's, as ``ast.fix_missing_locations`` would.
    """
    kind = type(node)
    values = node.__dict__
    lineno = values.get("lineno")
    if lineno is not None:
        where = (lineno, values.get("col_offset") or 0, values.get("end_lineno") or lineno,
                 values.get("end_col_offset") or 0)
    if kind is gast.Name:
        if type(node.ctx) is gast.Param:
            new = ast.arg(arg=node.id, annotation=None, type_comment=None)
        else:
            new = ast.Name(node.id, _CTX[type(node.ctx)])
    elif kind in _CTX:
        return _CTX[kind]
    else:
        layout = _AST_LAYOUTS.get(kind)
        if layout is None:
            target = getattr(ast, kind.__name__)
            layout = _AST_LAYOUTS[kind] = (target, tuple((f, f in _LIST_FIELDS) for f in target._fields),
                                           "lineno" in target._attributes)
        target, fields, positioned = layout
        new = target.__new__(target)
        converted = new.__dict__
        for field, is_list in fields:
            value = values.get(field)
            if type(value) is list:
                value = [to_ast(v, where) if isinstance(v, _AST) else v for v in value]
            elif isinstance(value, _AST):
                value = to_ast(value, where)
            elif value is None and is_list:
                value = []
            converted[field] = value
        if kind is gast.ExceptHandler and node.name is not None:
            converted["name"] = node.name.id
        if positioned:
            converted["lineno"], converted["col_offset"], converted["end_lineno"], \
                converted["end_col_offset"] = where
        return new
    new.lineno, new.col_offset, new.end_lineno, new.end_col_offset = where
    return new


# Context nodes carry no data: one of each serves every tree, as in the trees CPython builds.
_CTX = {gast.Load: ast.Load(), gast.Store: ast.Store(), gast.Del: ast.Del()}
_AST_LAYOUTS = {}  # gast class -> (ast class, ((field, holds a list), ...), has a position)


def from_ast(node):
    r"""Convert a Python ``ast`` tree to gast: the tree ``gast.ast_to_gast`` gives, in one pass.

    Function parameters become ``Name`` nodes in ``Param`` context and an ``except ... as e``
    name a ``Name``, as gast has them; every other node keeps its fields and position. A node
    class this does not know (syntax newer than it) is left to gast.

    >>> import ast
    >>> tree = from_ast(ast.parse("def f(x):\n    return x + 1").body[0])
    >>> type(tree.args.args[0].ctx).__name__, type(tree.body[0].value.op).__name__
    ('Param', 'Add')
    """
    kind = type(node)
    if kind is ast.Name:
        new = gast.Name(node.id, _GAST_CTX[type(node.ctx)](), None, None)
    elif kind is ast.arg:
        annotation = node.annotation
        new = gast.Name(node.arg, gast.Param(), None if annotation is None else from_ast(annotation),
                        node.type_comment)
    elif kind in _GAST_CTX:
        return _GAST_CTX[kind]()
    else:
        target = _GAST_CLASSES.get(kind)
        if target is None:
            target = getattr(gast, kind.__name__, None)
            if target is None or kind.__name__ in _GAST_OWN:
                return gast.ast_to_gast(node)
            _GAST_CLASSES[kind] = target
        new = target.__new__(target)
        # Fields and positions alike live in the node's __dict__.
        converted = new.__dict__
        for name, value in node.__dict__.items():
            if type(value) is list:
                value = [from_ast(v) if isinstance(v, _AST) else v for v in value]
            elif isinstance(value, _AST):
                value = from_ast(value)
            converted[name] = value
        if kind is ast.ExceptHandler and node.name:
            converted["name"] = gast.Name(node.name, gast.Store(), None, None)
        if "type_params" in target._fields and "type_params" not in converted:
            converted["type_params"] = []
        return new
    new.__dict__.update((a, v) for a, v in node.__dict__.items() if a in _POSITION)
    return new


_AST = ast.AST
_POSITION = frozenset({"lineno", "col_offset", "end_lineno", "end_col_offset"})
_GAST_CTX = {ast.Load: gast.Load, ast.Store: gast.Store, ast.Del: gast.Del}
_GAST_CLASSES = {}
# Nodes gast converts in its own way on some Python versions (type parameters, old forms).
_GAST_OWN = frozenset({"TypeVar", "TypeVarTuple", "ParamSpec", "alias", "Index", "ExtSlice",
                       "Num", "Str", "Bytes", "NameConstant", "Ellipsis"})


def walk_scope(stmts):
    """Statements and expressions of ``stmts``, not entering nested functions or lambdas."""
    stack = list(stmts)
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, (gast.FunctionDef, gast.Lambda)):
            continue
        stack.extend(children(node))
