"""Rebuilding expressions and simple statements from straight-line instructions on a symbolic stack.

A ``Machine`` runs decoded instructions (``instructions.Instruction``) the way the
interpreter would, but its stack holds syntax trees instead of values: ``LOAD x`` pushes the
name ``x``, ``BINARY +`` pops two trees and pushes their sum. Stores, ``POP_TOP``, ``RETURN``
and ``RAISE`` finish statements, which ``step`` hands back. Jumps are not its business: the
structurer (``structure.py``) drives the machine between them.
"""
import gast

from .. import nodes
from .instructions import Unrecoverable

_BINARY = {
    "+": gast.Add, "-": gast.Sub, "*": gast.Mult, "/": gast.Div, "//": gast.FloorDiv,
    "%": gast.Mod, "**": gast.Pow, "@": gast.MatMult, "<<": gast.LShift, ">>": gast.RShift,
    "&": gast.BitAnd, "|": gast.BitOr, "^": gast.BitXor,
}
_COMPARE = {
    "<": gast.Lt, "<=": gast.LtE, ">": gast.Gt, ">=": gast.GtE, "==": gast.Eq, "!=": gast.NotEq,
    "is": gast.Is, "is not": gast.IsNot, "in": gast.In, "not in": gast.NotIn,
}
_UNARY = {"-": gast.USub, "+": gast.UAdd, "not": gast.Not, "~": gast.Invert}


class Marker:
    """A stack entry that is not an expression: NULL, an iterator, a closure tuple, a code object."""

    __slots__ = ("kind", "value")

    def __init__(self, kind, value=None):
        self.kind, self.value = kind, value

    def __repr__(self):
        return f"<{self.kind}>"


NULL = Marker("NULL")


class Slot:
    """Element ``index`` of a tuple target that ``UNPACK_SEQUENCE`` left for a store to fill."""

    __slots__ = ("target", "index", "root", "starred")

    def __init__(self, target, index, root, starred=False):
        self.target, self.index, self.root, self.starred = target, index, root, starred


def constant(value):
    """A constant as source would spell it: tuples of constants become tuple displays."""
    if type(value) is tuple:
        return nodes.tuple_load([constant(v) for v in value])
    return nodes.const(value)


def negate(test):
    """``not test`` for a test that decides a jump, without doubling a ``not`` already there."""
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        return test.operand
    if isinstance(test, gast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (gast.Is, gast.IsNot)) \
            and isinstance(test.comparators[0], gast.Constant) and test.comparators[0].value is None:
        # In a test, ``x is None`` and ``x is not None`` are one jump either way round.
        flipped = gast.IsNot() if isinstance(test.ops[0], gast.Is) else gast.Is()
        return nodes.compare(test.left, flipped, test.comparators[0])
    return nodes.not_(test)


class Machine:
    """A symbolic stack for one straight run of instructions; ``step`` returns finished statements.

    ``lift_code(code, defaults, kwdefaults)`` turns a nested code object into a ``Lambda``
    or ``FunctionDef`` tree (the lifter passes it in, so nesting recurses through it).
    """

    def __init__(self, stack, lift_code):
        self.stack = list(stack)
        self.base = len(self.stack)
        self.lift_code = lift_code
        self.kwnames = ()
        self.stores = []  # (target, stack entry it took) of the statement being built
        self.started = False
        self.line = None
        self.popped_iterator = False

    def copy(self):
        other = Machine(self.stack, self.lift_code)
        other.base, other.kwnames, other.stores = self.base, self.kwnames, list(self.stores)
        other.started, other.line, other.popped_iterator = self.started, self.line, self.popped_iterator
        return other

    def push(self, item):
        self.stack.append(item)

    def pop(self):
        if not self.stack:
            raise Unrecoverable("an instruction that reads an empty stack")
        return self.stack.pop()

    def pop_expression(self):
        item = self.pop()
        if isinstance(item, gast.FunctionDef):
            raise Unrecoverable("a decorated nested function", getattr(item, "lineno", None))
        if not isinstance(item, gast.AST):
            raise Unrecoverable(f"a stack entry {item!r} used as a value")
        return item

    def pop_many(self, n):
        items = [self.pop_expression() for _ in range(n)]
        items.reverse()
        return items

    def idle(self):
        """Whether the machine stands between statements."""
        return not self.started

    # -- running ----------------------------------------------------------------------

    def step(self, ins):
        """Run one non-jump instruction; return the statement it finished, if any."""
        if ins.op == "SKIP":
            return None
        if not self.started:
            self.started, self.line = True, ins.line
        handler = getattr(self, "op_" + ins.op, None)
        if handler is None:
            raise Unrecoverable(f"the instruction {ins.op}", ins.line)
        depth = len(self.stack)
        statement = handler(ins)
        if self.stack and len(self.stack) <= depth + 2:
            _place(self.stack[-1], ins.position)
        if statement is not None:
            statement = nodes.at_line(statement, self.line)
            self.started, self.stores, self.popped_iterator = False, [], False
        return statement

    def finish(self, statement):
        """A statement finished by the structurer (break, continue, an ``if``) at the current line."""
        self.started, self.stores, self.popped_iterator = False, [], False
        return statement

    def op_LOAD(self, ins):
        if ins.kind == "closure":
            self.push(Marker("cell", ins.arg))
        else:
            self.push(nodes.load(ins.arg))

    def op_CONST(self, ins):
        value = ins.arg
        self.push(Marker("code", value) if hasattr(value, "co_code") else constant(value))

    def op_PUSH_NULL(self, ins):
        self.push(NULL)

    def op_LOAD_ATTR(self, ins):
        self.push(nodes.attribute(self.pop_expression(), ins.arg))

    def op_LOAD_METHOD(self, ins):
        owner = self.pop_expression()
        self.push(NULL)
        self.push(nodes.attribute(owner, ins.arg))

    def op_LOAD_ASSERTION_ERROR(self, ins):
        self.push(Marker("AssertionError"))

    def op_BINARY(self, ins):
        left, right = self.pop_many(2)
        node = nodes.make(gast.BinOp, left=left, op=_BINARY[ins.arg](), right=right)
        if ins.kind == "inplace":
            node.zygote_inplace = True
        self.push(node)

    def op_UNARY(self, ins):
        self.push(nodes.make(gast.UnaryOp, op=_UNARY[ins.arg](), operand=self.pop_expression()))

    def op_COMPARE(self, ins):
        left, right = self.pop_many(2)
        self.push(nodes.compare(left, _COMPARE[ins.arg](), right))

    def op_CHAIN(self, ins):
        left, right = self.pop_many(2)
        self.push(nodes.compare(left, _COMPARE[ins.arg](), right))

    def op_CHAIN_MORE(self, ins):
        right = self.pop_expression()
        chain = self.pop_expression()
        if not isinstance(chain, gast.Compare):
            raise Unrecoverable("a chained comparison", ins.line)
        self.push(nodes.make(gast.Compare, left=chain.left, ops=chain.ops + [_COMPARE[ins.arg]()],
                             comparators=chain.comparators + [right]))

    op_CHAIN_END = op_CHAIN_MORE

    def op_SUBSCR(self, ins):
        value, index = self.pop_many(2)
        self.push(nodes.subscript(value, index))

    def op_BUILD_SLICE(self, ins):
        parts = self.pop_many(ins.arg)
        parts = [None if isinstance(p, gast.Constant) and p.value is None else p for p in parts]
        parts += [None] * (3 - len(parts))
        self.push(nodes.make(gast.Slice, lower=parts[0], upper=parts[1], step=parts[2]))

    def op_BUILD_TUPLE(self, ins):
        if ins.arg and all(isinstance(i, Marker) and i.kind == "cell" for i in self.stack[-ins.arg:]):
            cells = [self.pop().value for _ in range(ins.arg)]
            self.push(Marker("closure", cells[::-1]))
            return
        self.push(nodes.tuple_load(self.pop_many(ins.arg)))

    def op_BUILD_LIST(self, ins):
        self.push(nodes.list_load(self.pop_many(ins.arg)))

    def op_LIST_EXTEND(self, ins):
        extra = self.pop_expression()
        target = self.stack[-ins.arg] if ins.arg <= len(self.stack) else None
        if not isinstance(target, gast.List):
            raise Unrecoverable("a list display with a starred item", ins.line)
        if isinstance(extra, gast.Tuple) and not target.elts and all(
                isinstance(e, gast.Constant) for e in extra.elts):
            target.elts.extend(extra.elts)  # [1.0, 2.0, 3.0] is built from a constant tuple
        else:
            target.elts.append(nodes.make(gast.Starred, value=extra, ctx=gast.Load()))

    def op_LIST_APPEND(self, ins):
        item = self.pop_expression()
        target = self.stack[-ins.arg] if ins.arg <= len(self.stack) else None
        if not isinstance(target, gast.List):
            raise Unrecoverable("a list display", ins.line)
        target.elts.append(item)

    def op_LIST_TO_TUPLE(self, ins):
        items = self.pop_expression()
        self.push(nodes.tuple_load(items.elts))

    def op_BUILD_MAP(self, ins):
        flat = self.pop_many(2 * ins.arg)
        self.push(nodes.make(gast.Dict, keys=flat[0::2], values=flat[1::2]))

    def op_BUILD_CONST_KEY_MAP(self, ins):
        keys = self.pop_expression()
        values = self.pop_many(ins.arg)
        self.push(nodes.make(gast.Dict, keys=list(keys.elts), values=values))

    def op_DICT_MERGE(self, ins):
        extra = self.pop_expression()
        target = self.stack[-ins.arg]
        if not isinstance(target, gast.Dict):
            raise Unrecoverable("a dict display with ** inside", ins.line)
        target.keys.append(None)
        target.values.append(extra)

    op_DICT_UPDATE = op_DICT_MERGE

    def op_FORMAT_VALUE(self, ins):
        spec = self.pop_expression() if ins.arg & 0x04 else None
        if spec is not None:
            spec = nodes.make(gast.JoinedStr, values=[spec])
        value = self.pop_expression()
        conversion = {0: -1, 1: ord("s"), 2: ord("r"), 3: ord("a")}[ins.arg & 0x03]
        self.push(nodes.make(gast.FormattedValue, value=value, conversion=conversion, format_spec=spec))

    def op_BUILD_STRING(self, ins):
        self.push(nodes.make(gast.JoinedStr, values=self.pop_many(ins.arg)))

    def op_KW_NAMES(self, ins):
        self.kwnames = ins.arg

    def op_CALL(self, ins):
        args = self.pop_many(ins.arg)
        second, first = self.pop(), self.pop()
        if first is NULL:
            func = second
        else:  # a method pushed as (function, self), or a comprehension called on its iterator
            func, args = first, [second] + args
        kwnames, self.kwnames = self.kwnames, ()
        if isinstance(func, Marker) and func.kind == "comprehension":
            iterator = args[0]
            if not (isinstance(iterator, Marker) and iterator.kind == "iterator"):
                raise Unrecoverable("a comprehension", ins.line)
            self.push(func.value(iterator.value))
            return
        if isinstance(func, Marker) and func.kind == "AssertionError":
            self.push(Marker("AssertionError", args[0]))
            return
        if not isinstance(func, gast.AST):
            raise Unrecoverable("a call of something that is not an expression", ins.line)
        split = len(args) - len(kwnames)
        keywords = list(zip(kwnames, args[split:]))
        self.push(nodes.call(func, args[:split], keywords))

    def op_CALL_FUNCTION_EX(self, ins):
        kwargs = self.pop_expression() if ins.arg & 1 else None
        positional = self.pop_expression()
        func = self.pop_expression()
        if self.pop() is not NULL:
            raise Unrecoverable("a call with * or ** arguments", ins.line)
        args = list(positional.elts) if isinstance(positional, gast.Tuple) else [
            nodes.make(gast.Starred, value=positional, ctx=gast.Load())]
        call = nodes.call(func, args)
        if kwargs is not None:
            if not isinstance(kwargs, gast.Dict):
                raise Unrecoverable("a call with ** arguments", ins.line)
            for key, value in zip(kwargs.keys, kwargs.values):
                call.keywords.append(nodes.make(gast.keyword, arg=None if key is None else key.value, value=value))
        self.push(call)

    def op_MAKE_FUNCTION(self, ins):
        code = self.pop()
        if ins.arg & 0x08:
            self.pop()  # the closure's cells: implicit in source
        if ins.arg & 0x04:
            raise Unrecoverable("annotations on a nested function", ins.line)
        kwdefaults = self.pop_expression() if ins.arg & 0x02 else None
        defaults = self.pop_expression() if ins.arg & 0x01 else None
        if not isinstance(code, Marker) or code.kind != "code":
            raise Unrecoverable("a function made from something other than a constant code object", ins.line)
        self.push(self.lift_code(code.value, defaults, kwdefaults))

    def op_GET_ITER(self, ins):
        self.push(Marker("iterator", self.pop_expression()))

    def op_COPY(self, ins):
        self.push(self.stack[-ins.arg])

    def op_SWAP(self, ins):
        n = ins.arg
        if self._unpacking_swap(n):
            return
        self.stack[-1], self.stack[-n] = self.stack[-n], self.stack[-1]

    def _unpacking_swap(self, n):
        """``a, b = b, a`` with targets that are not plain names: SWAP stands for build and unpack."""
        if self.stores or len(self.stack) != self.base + n:
            return False
        values = self.stack[-n:]
        if not all(isinstance(v, gast.AST) and not getattr(v, "zygote_inplace", False) for v in values):
            return False
        del self.stack[-n:]
        self._unpack(nodes.tuple_load(values), n)
        return True

    def op_UNPACK_SEQUENCE(self, ins):
        self._unpack(self.pop(), ins.arg)

    def op_UNPACK_EX(self, ins):
        before, after = ins.arg & 0xFF, ins.arg >> 8
        self._unpack(self.pop(), before + 1 + after, star=before)

    def _unpack(self, value, n, star=None):
        target = nodes.make(gast.Tuple, elts=[None] * n, ctx=gast.Store())
        if isinstance(value, Slot):
            value.target.elts[value.index] = target
            root = value.root
        else:
            root = (target, value)
        for index in reversed(range(n)):
            self.push(Slot(target, index, root, starred=index == star))

    # -- statements -------------------------------------------------------------------

    def op_STORE(self, ins):
        return self._store(nodes.store(ins.arg), self.pop(), ins)

    def op_STORE_ATTR(self, ins):
        owner = self.pop_expression()
        target = nodes.make(gast.Attribute, value=owner, attr=ins.arg, ctx=gast.Store())
        return self._store(target, self.pop(), ins)

    def op_STORE_SUBSCR(self, ins):
        index = self.pop_expression()
        owner = self.pop_expression()
        target = nodes.make(gast.Subscript, value=owner, slice=index, ctx=gast.Store())
        return self._store(target, self.pop(), ins)

    def _store(self, target, item, ins):
        if isinstance(item, Slot):
            if item.starred:
                target = nodes.make(gast.Starred, value=target, ctx=gast.Store())
            item.target.elts[item.index] = target
        self.stores.append((target, item))
        if len(self.stack) > self.base:
            return None
        return self._assignment(ins)

    def _assignment(self, ins):
        stores = self.stores
        items = [item for _, item in stores]
        first = items[0]
        slots = [i for i in items if isinstance(i, Slot)]
        if slots:
            target, value = slots[0].root
            # ``w, v = result = f()``: the unpacked tuple and plain targets of the same value.
            if not all(i.root is slots[0].root if isinstance(i, Slot) else i is value for i in items):
                raise Unrecoverable("an unpacking assignment", ins.line)
            if isinstance(value, Marker) and value.kind == "next" and len(slots) == len(items):
                return value_with_target(target)
            targets = []
            for store, item in stores:
                if not isinstance(item, Slot):
                    targets.append(store)
                elif target not in targets:
                    targets.append(target)
            return nodes.make(gast.Assign, targets=targets, value=self._value(value, ins))
        if all(i is first for i in items):
            if len(items) == 1:
                statement = self._single(stores[0][0], first, ins)
                if statement is not None:
                    return statement
            return nodes.make(gast.Assign, targets=[t for t, _ in stores], value=self._value(first, ins))
        # ``a, b = b, a`` with name targets: the compiler drops the SWAP and reorders the stores,
        # so the last store takes the first value.
        if len(set(map(id, items))) != len(items):
            raise Unrecoverable("a multiple assignment", ins.line)
        targets = [t for t, _ in reversed(stores)]
        values = [self._value(i, ins) for i in reversed(items)]
        return nodes.make(gast.Assign, targets=[nodes.make(gast.Tuple, elts=targets, ctx=gast.Store())],
                          value=nodes.tuple_load(values))

    def _single(self, target, value, ins):
        if isinstance(value, Marker) and value.kind == "next":
            return value_with_target(target)
        if isinstance(value, gast.FunctionDef):
            if not isinstance(target, gast.Name) or target.id != value.name:
                raise Unrecoverable("a nested function stored under another name", ins.line)
            return value
        if getattr(value, "zygote_inplace", False):
            if not _same_place(value.left, target):
                raise Unrecoverable("an augmented assignment", ins.line)
            return nodes.make(gast.AugAssign, target=target, op=value.op, value=value.right)
        return None

    def _value(self, item, ins):
        if not isinstance(item, gast.AST) or isinstance(item, gast.FunctionDef) \
                or getattr(item, "zygote_inplace", False):
            raise Unrecoverable("an assignment", ins.line)
        return item

    def op_POP_TOP(self, ins):
        item = self.pop()
        if isinstance(item, Marker) and item.kind == "iterator":
            self.popped_iterator = True  # a break or return leaving a for loop
            return None
        if len(self.stack) != self.base or not isinstance(item, gast.AST):
            raise Unrecoverable("a discarded value inside an expression", ins.line)
        return nodes.expr(item)

    def op_RETURN(self, ins):
        return nodes.ret(self.pop_expression())

    def op_RAISE_VARARGS(self, ins):
        if ins.arg != 1:
            raise Unrecoverable("a bare raise or raise ... from", ins.line)
        exc = self.pop()
        if isinstance(exc, Marker) and exc.kind == "AssertionError":
            statement = nodes.make(gast.Raise, exc=exc.value, cause=None)
            statement.zygote_assertion = True
            return statement
        return nodes.make(gast.Raise, exc=self._value(exc, ins), cause=None)


def _place(node, position):
    """Give a new expression node the source span its instruction came from.

    The compiler decides some layouts by line (it threads a jump to a jump only on one
    line), so the rebuilt tree carries the original spans and compiles the same way.
    """
    if not isinstance(node, gast.expr) or getattr(node, "lineno", None) is not None \
            or position is None or None in position:
        return
    node.lineno, node.end_lineno, node.col_offset, node.end_col_offset = position


def value_with_target(target):
    """The assignment of a for loop's next item: the structurer reads the target from it."""
    marker = nodes.make(gast.Assign, targets=[target], value=nodes.const(None))
    marker.zygote_loop_target = True
    return marker


def _same_place(load, store):
    """Whether the load-context tree ``load`` reads the place the store-context ``store`` writes."""
    if isinstance(load, gast.Name) and isinstance(store, gast.Name):
        return load.id == store.id
    if isinstance(load, gast.Attribute) and isinstance(store, gast.Attribute):
        return load.attr == store.attr and load.value is store.value
    if isinstance(load, gast.Subscript) and isinstance(store, gast.Subscript):
        return load.value is store.value and load.slice is store.slice
    return False
