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

from . import RULES, Rule, adjoint, _register
from .. import runtime
from ..activity import category
from ..cotangents import is_zero
from ..errors import UnsupportedSyntaxError
from ..structure import fields_of

# -- building objects ------------------------------------------------------------------------


def construct(protocol, mask, cls, args, kwargs):
    """``cls(*args, **kwargs)`` as ``(y, back)``: a namedtuple passes its fields' cotangents to
    the arguments; a class whose ``__init__`` is Python code has it differentiated."""
    if issubclass(cls, tuple) and isinstance(getattr(cls, "_fields", None), tuple):
        return _construct_namedtuple(cls, args, kwargs)
    init = cls.__init__
    if cls.__new__ is not object.__new__ or not isinstance(init, types.FunctionType):
        raise UnsupportedSyntaxError(
            f"constructing a {cls.__name__} object from differentiated values (its class "
            "has no __init__ written in Python, or its own __new__)", hint=(
                "build the object outside the differentiated function and pass it in"))
    obj = object.__new__(cls)
    _, init_back = protocol.call("-a" + mask[1:], init, obj, *args, **kwargs)

    def construct_back(dy):
        # What the object holds when __init__ returns is what its cotangent describes.
        runtime.deposit(obj, dy)
        parts = init_back(0)
        runtime.reclaim(obj)  # attributes __init__ did not set came from no argument
        return (0,) + tuple(parts[2:])
    return obj, construct_back


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


def _candidates(op, a, b, inplace):
    """``(receiver, other, method name, swapped)`` in the order Python tries them."""
    _, forward, reflected, in_place = _BINARY[op]
    ta, tb = type(a), type(b)
    order = [(a, b, in_place, False)] if inplace else []
    if tb is not ta and issubclass(tb, ta) and getattr(tb, reflected, None) is not getattr(ta, reflected, None):
        order.append((b, a, reflected, True))
    order.append((a, b, forward, False))
    if tb is not ta and (b, a, reflected, True) not in order:
        order.append((b, a, reflected, True))
    return order


def _binary(protocol, op, a, b, inplace):
    symbol = _BINARY[op][0]
    names = _BINARY[op][1:]
    if not any(_own_method(type(v), n) for v in (a, b) for n in names):
        if op is operator.add and isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
            y = a + b
            return y, lambda dy: (0, *runtime.add_back(dy, a, b))
        return protocol.call("-" + category(a) + category(b), op, a, b)
    for receiver, other, name, swapped in _candidates(op, a, b, inplace):
        method = getattr(type(receiver), name, None)
        if method is None:
            continue
        if not isinstance(method, types.FunctionType):
            y = method(receiver, other)  # a built-in type's operator: 2.0 * v gives NotImplemented
            if y is NotImplemented:
                continue
            raise UnsupportedSyntaxError(
                f"{type(a).__name__} {symbol} {type(b).__name__} computed by "
                f"{type(receiver).__name__}'s built-in operator from a {type(other).__name__} object",
                hint="define the reflected method on your class, or convert the operand first")
        y, back = protocol.call("-" + category(receiver) + category(other), method, receiver, other)
        if y is NotImplemented:
            continue

        def operator_back(dy, back=back, swapped=swapped):
            parts = back(dy)
            return (0, parts[2], parts[1]) if swapped else (0, parts[1], parts[2])
        return y, operator_back
    raise TypeError(f"unsupported operand type(s) for {symbol}: '{type(a).__name__}' and '{type(b).__name__}'")


def _unary(protocol, op, a):
    name = _UNARY[op][1]
    method = _own_method(type(a), name)
    if method is None:
        return protocol.call("-" + category(a), op, a)
    y, back = protocol.call("-" + category(a), method, a)
    return y, lambda dy: (0, back(dy)[1])


def _operator_function(op, inplace):
    """The function generated code calls for ``op`` when an operand may be a user object,
    with its rule: ``add(a, b)`` is ``a + b`` (``iadd``, ``a += b``) dispatched as Python does."""
    def apply(a, b):
        return op(a, b) if not inplace else getattr(operator, "i" + op.__name__)(a, b)
    apply.__name__ = apply.__qualname__ = ("i" if inplace else "") + op.__name__.strip("_")

    def rule(protocol, a, b):
        y, back = _binary(protocol, op, a, b, inplace)
        return y, lambda dy: back(dy)[1:]
    adjoint(apply, output_kind="a", calls_back=True)(rule)
    return apply


def _unary_function(op):
    def apply(a):
        return op(a)
    apply.__name__ = apply.__qualname__ = op.__name__.strip("_")

    def rule(protocol, a):
        y, back = _unary(protocol, op, a)
        return y, lambda dy: back(dy)[1:]
    adjoint(apply, output_kind="a", calls_back=True)(rule)
    return apply


BINARY = {op: _operator_function(op, False) for op in _BINARY}
IN_PLACE = {op: _operator_function(op, True) for op in _BINARY}
UNARY = {op: _unary_function(op) for op in _UNARY}

__all__ = ["construct", "BINARY", "IN_PLACE", "UNARY", "RULES", "fields_of"]
