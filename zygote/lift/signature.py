"""A function's parameter list rebuilt from its code object (and the defaults its MAKE_FUNCTION took)."""
import inspect

import gast

from .. import nodes


def arguments(code, defaults=None, kwdefaults=None):
    """The gast ``arguments`` of ``code``; ``defaults`` and ``kwdefaults`` are trees or None.

    >>> def f(a, b=2, *rest, c, **more):
    ...     pass
    >>> args = arguments(f.__code__)
    >>> [a.id for a in args.args], args.vararg.id, [a.id for a in args.kwonlyargs], args.kwarg.id
    (['a', 'b'], 'rest', ['c'], 'more')
    """
    names = code.co_varnames
    positional, posonly, kwonly = code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount
    k = positional + kwonly
    vararg = kwarg = None
    if code.co_flags & inspect.CO_VARARGS:
        vararg, k = names[k], k + 1
    if code.co_flags & inspect.CO_VARKEYWORDS:
        kwarg = names[k]
    default_values = list(defaults.elts) if isinstance(defaults, gast.Tuple) else []
    given = {}
    if isinstance(kwdefaults, gast.Dict):
        given = {key.value: value for key, value in zip(kwdefaults.keys, kwdefaults.values)}
    kwonly_names = names[positional:positional + kwonly]
    args = nodes.arguments(names[posonly:positional], vararg=vararg, kwonly=kwonly_names,
                           kw_defaults=[given.get(n) for n in kwonly_names], kwarg=kwarg,
                           defaults=default_values)
    args.posonlyargs = [nodes.make(gast.Name, id=n, ctx=gast.Param()) for n in names[:posonly]]
    return args
