"""Rules for user objects: building one from differentiated values, writing its attributes,
and Python's operators dispatched to the methods a class defines.

An object's cotangent is a dict by attribute name, a namedtuple's a tuple by field (as any
tuple's). ``construct`` runs the class's own Python ``__init__`` through the call protocol,
so that the constructor is differentiated from its source; the operators follow Python's
dispatch order (the left operand's method, then the right one's reflected method, the
reflected method first when the right operand's class is a subclass that overrides it, and
on to the next candidate when a method returns ``NotImplemented``).

>>> import zygote
>>> class Scaled:
...     def __init__(self, value, factor):
...         self.value = value * factor
...     def __mul__(self, other):
...         return Scaled(self.value * other, 1.0)
>>> zygote.gradient(lambda x: (Scaled(x, 3.0) * x).value, 2.0)
(12.0,)
"""
import operator
import types

import numpy as np

from . import Rule, _register, adjoint, nograd
from .. import runtime
from ..cotangents import is_zero
from ..errors import UnsupportedSyntaxError
from ..structure import fields_of

# -- building objects ------------------------------------------------------------------------


def construct(protocol, mask, cls, args, kwargs):
    """``cls(*args, **kwargs)`` as ``(y, back)``: a namedtuple passes its fields' cotangents to
    the arguments; a class whose ``__init__`` is Python code is built by ``build``, which is
    differentiated like any Python function (so to any order)."""
    if is_namedtuple(cls):
        return _construct_namedtuple(cls, args, kwargs)
    if cls is dict:
        y, back = protocol.call("-" + mask[1:], build_dict, *args, **kwargs)
        return y, back
    if not builds(cls):
        raise UnsupportedSyntaxError(
            f"constructing a {cls.__name__} object from differentiated values (its class "
            "has no __init__ written in Python, or its own __new__)", hint=(
                "build the object outside the differentiated function and pass it in"))
    y, back = protocol.call("--" + mask[1:], build, cls, *args, **kwargs)
    return y, lambda dy: (0,) + tuple(back(dy)[2:])


def builds(cls):
    """Whether ``build`` makes ``cls`` objects: plain ``__new__``, ``__init__`` in Python."""
    return cls.__new__ is object.__new__ and isinstance(cls.__init__, types.FunctionType)


def build(cls, *args, **kwargs):
    """``cls(*args, **kwargs)`` for a class that ``builds``: a new object, then its ``__init__``
    (whose writes to the object reach the arguments' cotangents)."""
    obj = object.__new__(cls)
    init = cls.__init__
    init(obj, *args, **kwargs)
    return obj


def build_dict(*source, **entries):
    """``dict(*source, **entries)`` written out, so that zygote differentiates it from this
    source: the cotangent of each entry goes to the value it was made from.

    >>> import zygote
    >>> zygote.gradient(lambda x: dict([("a", x)], b=2 * x)["b"], 1.0)
    (2.0,)
    """
    if len(source) > 1:
        raise TypeError(f"dict expected at most 1 argument, got {len(source)}")
    made = {}
    if source:
        items = source[0]
        if hasattr(items, "keys"):
            for key in items.keys():
                made[key] = items[key]
        else:
            for key, value in items:
                made[key] = value
    for key in entries:
        made[key] = entries[key]
    return made


def build_namedtuple(cls, *args):
    """``cls(*args)`` for a namedtuple class, written so that zygote differentiates it again."""
    return make_namedtuple(cls, args)


def make_namedtuple(cls, values):
    """``cls(*values)``."""
    return cls(*values)


@adjoint(make_namedtuple, output_kind="a")
def _make_namedtuple_rule(cls, values):
    n = len(values)

    def make_namedtuple_back(dy):
        return 0, runtime.split_cotangent(dy, n)
    return cls(*values), make_namedtuple_back


def is_namedtuple(cls):
    return issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple)


def _construct_namedtuple(cls, args, kwargs):
    y = cls(*args, **kwargs)
    fields = cls._fields

    def namedtuple_back(dy):
        if is_zero(dy):
            by_field = {}
        elif isinstance(dy, dict):
            by_field = dy
        else:
            by_field = dict(zip(fields, dy))
        parts = (0,) + tuple(by_field.get(f, 0) for f in fields[:len(args)])
        return parts + ({k: by_field.get(k, 0) for k in kwargs},) if kwargs else parts
    return y, namedtuple_back


# -- writing attributes ----------------------------------------------------------------------


def _setattr_rule(write, obj, name, value):
    """``setattr(obj, name, value)`` (a frozen dataclass's ``__init__`` calls
    ``object.__setattr__``): the written attribute's cotangent goes to ``value``."""
    write(obj, name, value)

    def setattr_back(dy):
        # The cotangent of obj after the write was deposited by the caller; what is left
        # once the attribute's part is taken out belongs to obj before the write.
        dvalue, before = runtime.setattr_back(runtime.withdraw(obj), name)
        return 0, before, 0, dvalue
    return None, setattr_back


def _register_setattr(fn):
    # Registered without the wrapper that skips ``back`` for a zero cotangent: the call's
    # result is None, and the write still passes on what was deposited for the object.
    _register(fn, Rule(fn, "pullback", lambda obj, name, value: _shifted(_setattr_rule(fn, obj, name, value)),
                       output_kind="a"))


def _shifted(pair):
    y, back = pair
    return y, lambda dy: back(dy)[1:]


for _fn in (setattr, object.__setattr__):
    _register_setattr(_fn)

# -- the hand-off of cotangents, differentiated (generated adjoints are differentiated again) --
#
# In the adjoint being differentiated, a deposit reaches a withdrawal through the table: in
# its adjoint, the withdrawal's cotangent travels back to the deposit through a second table.


def _deposit_rule(obj, dobj):
    kept = runtime.deposit(obj, dobj)
    handed = not is_zero(dobj) and is_zero(kept)

    def deposit_back(dkept):
        return 0, runtime.withdraw(obj, "reverse") if handed else dkept
    return kept, deposit_back


# (without the wrapper that skips ``back`` for a zero cotangent: what was deposited comes
# back through the table even when the caller's own part is 0)
_register(runtime.deposit, Rule(runtime.deposit, "pullback", _deposit_rule, output_kind="a"))


@adjoint(runtime.withdraw, output_kind="a")
def _withdraw_rule(obj):
    found = runtime.withdraw(obj)

    def withdraw_back(dfound):
        if not is_zero(found):
            runtime.deposit(obj, dfound, "reverse")
        return (0,)
    return found, withdraw_back


@adjoint(runtime.reclaim, output_kind="a")
def _reclaim_rule(obj, kept):
    left = runtime.withdraw(obj)

    def reclaim_back(dy):
        if not is_zero(left):
            runtime.deposit(obj, dy, "reverse")
        return 0, dy
    return runtime.accum(kept, left), reclaim_back


@adjoint(runtime.setattr_back, output_kind="a")
def _setattr_back_rule(dobj, name):
    """``setattr_back`` splits a cotangent in two; its adjoint puts the parts back together."""
    split = type(dobj) is dict and name in dobj

    def setattr_back_back(dy):
        dpart, drest = runtime.split_cotangent(dy, 2)
        if not split:
            return drest, 0
        # (what reaches the rest at ``name`` belongs to other versions of the attribute)
        rest = {k: v for k, v in drest.items() if k != name} if type(drest) is dict else {}
        rest[name] = dpart
        return rest, 0
    return runtime.setattr_back(dobj, name), setattr_back_back


# -- operators -------------------------------------------------------------------------------

_BINARY = {  # operator: (symbol, method, reflected method, in-place method)
    operator.add: ("+", "__add__", "__radd__", "__iadd__"),
    operator.sub: ("-", "__sub__", "__rsub__", "__isub__"),
    operator.mul: ("*", "__mul__", "__rmul__", "__imul__"),
    operator.truediv: ("/", "__truediv__", "__rtruediv__", "__itruediv__"),
    operator.floordiv: ("//", "__floordiv__", "__rfloordiv__", "__ifloordiv__"),
    operator.mod: ("%", "__mod__", "__rmod__", "__imod__"),
    operator.pow: ("**", "__pow__", "__rpow__", "__ipow__"),
    operator.matmul: ("@", "__matmul__", "__rmatmul__", "__imatmul__"),
}
_UNARY = {operator.neg: ("-", "__neg__"), operator.pos: ("+", "__pos__"),
          operator.invert: ("~", "__invert__"), abs: ("abs()", "__abs__")}


def _own_method(kind, name):
    method = getattr(kind, name, None)
    return method if isinstance(method, types.FunctionType) else None


def _order(op, inplace, a, b):
    """``(receiver is b, method name)`` in the order Python tries them for ``a op b``."""
    _, forward, reflected, in_place = _BINARY[op]
    ta, tb = type(a), type(b)
    order = [(False, in_place)] if inplace else []
    if tb is not ta and issubclass(tb, ta) and getattr(tb, reflected, None) is not getattr(ta, reflected, None):
        order.append((True, reflected))
    order.append((False, forward))
    if tb is not ta and (True, reflected) not in order:
        order.append((True, reflected))
    return order


def methods_to_try(op, inplace, a, b):
    """The Python methods ``a op b`` may call, ``[(name, swapped)]`` in Python's order; empty
    when the operands' own (built-in) operator computes the result."""
    found = []
    for swapped, name in _order(op, inplace, a, b):
        receiver, other = (b, a) if swapped else (a, b)
        method = getattr(type(receiver), name, None)
        if isinstance(method, types.FunctionType):
            found.append((name, swapped))
        elif method is not None and found == [] and any(_user_operand(op, v) for v in (a, b)):
            # a built-in operator before any Python one: 2.0 * v gives NotImplemented
            if method(receiver, other) is not NotImplemented:
                raise UnsupportedSyntaxError(
                    f"{type(a).__name__} {_BINARY[op][0]} {type(b).__name__} computed by "
                    f"{type(receiver).__name__}'s built-in operator from a "
                    f"{type(other).__name__} object",
                    hint="define the reflected method on your class, or convert the operand first")
    return found


def _binary_dispatch(op, inplace):
    """``a op b`` (``a op= b`` when ``inplace``) as Python dispatches it, written in Python so
    that zygote differentiates the method it picks, to any order."""
    plain = PLAIN[op]

    def dispatch(a, b):
        for name, swapped in methods_to_try(op, inplace, a, b):
            if swapped:
                y = getattr(type(b), name)(b, a)
            else:
                y = getattr(type(a), name)(a, b)
            if y is not NotImplemented:
                return y
        return plain(a, b)
    dispatch.__name__ = dispatch.__qualname__ = ("i" if inplace else "") + op.__name__.strip("_")
    return dispatch


def _unary_dispatch(op):
    plain = PLAIN[op]
    name = _UNARY[op][1]

    def dispatch(a):
        if own_method(a, name):
            return getattr(type(a), name)(a)
        return plain(a)
    dispatch.__name__ = dispatch.__qualname__ = op.__name__.strip("_")
    return dispatch


def own_method(value, name):
    """Whether ``value``'s class defines the method ``name`` in Python."""
    return _own_method(type(value), name) is not None


# The operators themselves, for operands without Python methods: the compiler differentiates
# these with the operators' own rules (it never dispatches inside them).
def _plain_add(a, b):
    return a + b


def _plain_sub(a, b):
    return a - b


def _plain_mul(a, b):
    return a * b


def _plain_truediv(a, b):
    return a / b


def _plain_floordiv(a, b):
    return a // b


def _plain_mod(a, b):
    return a % b


def _plain_pow(a, b):
    return a ** b


def _plain_matmul(a, b):
    return a @ b


def _plain_neg(a):
    return -a


def _plain_pos(a):
    return a


def _plain_invert(a):
    return ~a


def _plain_abs(a):
    return abs(a)


PLAIN = {operator.add: _plain_add, operator.sub: _plain_sub, operator.mul: _plain_mul,
         operator.truediv: _plain_truediv, operator.floordiv: _plain_floordiv, operator.mod: _plain_mod,
         operator.pow: _plain_pow, operator.matmul: _plain_matmul, operator.neg: _plain_neg,
         operator.pos: _plain_pos, operator.invert: _plain_invert, abs: _plain_abs}
PLAIN_CODES = frozenset(fn.__code__ for fn in PLAIN.values())
def _user_operand(op, value):
    names = _BINARY[op][1:] if op in _BINARY else _UNARY[op][1:]
    kind = type(value)
    return kind not in _PLAIN_TYPES and any(_own_method(kind, n) for n in names)


def plain_operands(op, *operands):
    """Whether no operand of ``op`` defines the operator in Python (numbers, arrays, lists)."""
    if all(type(v) in _PLAIN_TYPES for v in operands):
        return True
    return not any(_user_operand(op, v) for v in operands)


_PLAIN_TYPES = frozenset({float, int, complex, bool, list, tuple, dict, str, np.ndarray, np.float64,
                          np.float32})
_PROTOCOL_CALL = []  # zygote.protocol.call, which the protocol hands over when it is imported


def connect(call):
    """Give the operator functions the call protocol (a layer above this one)."""
    _PROTOCOL_CALL[:] = [call]


def protocol_call(mask, fn, *args):
    """``zygote.protocol.call``: ``(y, back)`` of ``fn(*args)``."""
    return _PROTOCOL_CALL[0](mask, fn, *args)


def _binary_first(op, dispatch):
    """What generated code calls for ``a op b`` when an operand may be a user object:
    ``(a op b, None)`` for plain operands (the adjoint then applies the operator's rule in
    place), else ``(y, back)`` of ``dispatch``, which is differentiated."""
    def operate(a, b):
        if type(a) in _PLAIN_TYPES and type(b) in _PLAIN_TYPES or plain_operands(op, a, b):
            return plain(a, b), None
        return protocol_call("-aa", dispatch, a, b)
    plain = PLAIN[op]
    operate.__name__ = operate.__qualname__ = dispatch.__name__
    return operate


def _unary_first(op, dispatch):
    def operate(a):
        if type(a) in _PLAIN_TYPES or plain_operands(op, a):
            return plain(a), None
        return protocol_call("-a", dispatch, a)
    plain = PLAIN[op]
    operate.__name__ = operate.__qualname__ = dispatch.__name__
    return operate


# The dispatching functions, by operator: what forward mode differentiates for an operand
# that is a user object.
DISPATCH = {op: _binary_dispatch(op, False) for op in _BINARY}
DISPATCH_IN_PLACE = {op: _binary_dispatch(op, True) for op in _BINARY}
DISPATCH_UNARY = {op: _unary_dispatch(op) for op in _UNARY}
BINARY = {op: _binary_first(op, DISPATCH[op]) for op in _BINARY}
IN_PLACE = {op: _binary_first(op, DISPATCH_IN_PLACE[op]) for op in _BINARY}
UNARY = {op: _unary_first(op, DISPATCH_UNARY[op]) for op in _UNARY}
nograd(methods_to_try, own_method, plain_operands)
