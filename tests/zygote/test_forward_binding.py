"""Forward mode binds a call's arguments to the parameters as Python does, with or without inspect."""
import inspect
import itertools

import pytest

from zygote.forward import calls


def plain(a, b, c=3.0, d=4.0):
    return a


def positional_only(a, /, b, c=5.0):
    return a


def rest(a, b, *more):
    return a


def keyword_only(a, *, k=1.0):
    return a


def inspected(fn, args, dargs, kwargs, dkwargs):
    """What binding through ``inspect.signature`` gives (the general path of ``_bind``)."""
    saved = calls._bind_plain
    calls._bind_plain = lambda *unused: None
    try:
        return calls._bind(fn, args, dargs, kwargs, dkwargs)
    finally:
        calls._bind_plain = saved


CALLS = [(fn, n, keys) for fn in (plain, positional_only, rest, keyword_only)
         for n in range(5) for keys in itertools.chain.from_iterable(
             itertools.combinations("abcdk", r) for r in range(3))]


@pytest.mark.parametrize("fn, n, keys", CALLS)
def test_the_fast_binding_agrees_with_inspect(fn, n, keys):
    args = tuple(float(i + 10) for i in range(n))
    dargs = tuple(float(i + 20) for i in range(n))
    kwargs = {k: float(ord(k)) for k in keys}
    dkwargs = {k: -float(ord(k)) for k in keys}
    try:
        expected = inspected(fn, args, dargs, kwargs, dkwargs)
    except TypeError:
        expected = TypeError
    fast = calls._bind_plain(fn, args, dargs, kwargs, dkwargs)
    if fast is None:
        return  # left to inspect, which gives the answer above
    assert expected is not TypeError, f"bound a call Python refuses: {fn.__name__}{args}{kwargs}"
    assert fast == expected


def test_the_fast_binding_takes_the_common_calls():
    assert calls._bind_plain(plain, (1.0, 2.0), (0.5, 0.0), {"d": 7.0}, {"d": 1.0}) == \
        ((1.0, 2.0, 3.0, 7.0), (0.5, 0.0, 0, 1.0))
    assert calls._bind_plain(rest, (1.0, 2.0, 3.0), (0.1, 0.2, 0.3), {}, {}) == \
        ((1.0, 2.0, (3.0,)), (0.1, 0.2, (0.3,)))
    assert inspect.signature(plain)  # (the module's functions are plain Python functions)
