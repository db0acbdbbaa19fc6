"""Walking models as trees: their children, trainable arrays, named leaves and mapped copies.

A model is a tree whose inner nodes are layer objects (anything with a ``__dict__`` that is
not a function, class or module), tuples, lists and dicts, and whose leaves are arrays and
other values. A *parameter* is a floating-point ``numpy.ndarray`` reached through trainable
children. A class chooses its trainable children by defining a method ``trainable(self)``
that returns attribute names; by default every attribute is trainable. The same array
reached twice (tied weights) is one parameter.

>>> import numpy as np
>>> class Affine:
...     def __init__(self):
...         self.scale = np.ones(2)
...         self.shift = np.zeros(2)
...         self.name = "affine"
>>> [name for name, _ in named_leaves(Affine())]
['scale', 'shift']
"""

import copy
import functools
import types

import numpy as np

import zygote
from zygote.structure import cotangent_from_parts, held_paths

__all__ = ["params", "trainable", "children", "named_leaves", "lookup", "mirror", "fmap",
           "f32", "f64", "modules", "is_parameter"]

OPAQUE_TYPES = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
                types.ModuleType, type, functools.partial, np.ufunc)


def is_parameter(x):
    """True for a floating-point numpy array, the only kind of leaf that gets trained.

    >>> is_parameter(np.zeros(3)), is_parameter(np.arange(3)), is_parameter(1.0)
    (True, False, False)
    """
    return isinstance(x, np.ndarray) and np.issubdtype(x.dtype, np.floating)


def is_node(x):
    """True for a layer-like object whose attributes are walked."""
    return hasattr(x, "__dict__") and not isinstance(x, OPAQUE_TYPES)


def children(x):
    """Return the ``(key, child)`` pairs of a node: indices, dict keys or attribute names.

    Arrays, numbers, strings, functions and other opaque values have no children.

    >>> children((np.zeros(1), "a"))[1]
    (1, 'a')
    """
    if isinstance(x, (tuple, list)):
        return list(enumerate(x))
    if isinstance(x, dict):
        return list(x.items())
    if is_node(x):
        return list(vars(x).items())
    return []


def trainable(x):
    """Return the ``(key, child)`` pairs of ``x`` that training may change.

    A class narrows this by defining ``trainable(self)`` returning attribute names.

    >>> class Scaled:
    ...     def __init__(self):
    ...         self.weight, self.frozen = np.ones(2), np.ones(2)
    ...     def trainable(self):
    ...         return ("weight",)
    >>> [key for key, _ in trainable(Scaled())]
    ['weight']
    """
    method = getattr(type(x), "trainable", None)
    if method is not None and is_node(x):
        return [(name, getattr(x, name)) for name in method(x)]
    return children(x)


def walk(x, path, only_trainable, ancestors):
    """Yield ``(path, leaf)`` for every array below ``x``, once per path.

    ``ancestors`` holds the ids of the nodes above ``x``, so a cycle ends the walk there;
    an object shared by two branches is walked in both.
    """
    if isinstance(x, np.ndarray):
        yield path, x
        return
    if not isinstance(x, (tuple, list, dict)) and not is_node(x):
        return
    if id(x) in ancestors:
        return
    inner = ancestors | {id(x)}
    pairs = trainable(x) if only_trainable else children(x)
    for key, child in pairs:
        yield from walk(child, path + (key,), only_trainable, inner)


def named_leaves(model, *, only_trainable=False):
    """Return ``(name, array)`` for every float array in ``model``, names joined with dots.

    A tied array appears once per path that reaches it.

    >>> from flux import Chain, Dense
    >>> [name for name, _ in named_leaves(Chain(Dense(2, 3), Dense(3, 1)))]
    ['layers.0.weight', 'layers.0.bias', 'layers.1.weight', 'layers.1.bias']
    """
    return [(".".join(map(str, path)), leaf)
            for path, leaf in parameter_paths(model, only_trainable)]


def parameter_paths(model, only_trainable=True):
    """``(path, array)`` for every parameter below ``model``, once per path (a tied array
    repeats), in walking order: the layout of gradients, optimiser states and flat buffers."""
    return [(path, leaf) for path, leaf in walk(model, (), only_trainable, frozenset())
            if is_parameter(leaf)]


def params(model):
    """Collect the trainable arrays of ``model`` into a ``zygote.Params``, each once.

    >>> from flux import Chain, Dense
    >>> d = Dense(2, 2)
    >>> len(params(Chain(d, d)))
    2
    """
    return zygote.Params([leaf for _, leaf in first_paths(model)])


def first_paths(model):
    """``(path, array)`` for each trainable array of ``model``, at the first path reaching it."""
    unique = {}
    for path, leaf in parameter_paths(model):
        unique.setdefault(id(leaf), (path, leaf))
    return list(unique.values())


@zygote.adjoint(params, output_kind="a")
def params_rule(model):
    """``params(m)`` inside a differentiated loss (a penalty over the weights): the cotangent of
    each array, one per entry of the ``Params``, goes back to the model at that array's path."""
    found = first_paths(model)

    def params_back(dps):
        return (cotangent_from_parts(model, [path for path, _ in found], dps),)
    return zygote.Params([leaf for _, leaf in found]), params_back


def lookup(tree, path):
    """Follow ``path`` (attribute names, keys, indices) into a nested gradient or state tree.

    Returns ``None`` where the tree has no such entry.

    >>> lookup({"layers": ({"weight": 1},)}, ("layers", 0, "weight"))
    1
    >>> lookup(None, ("layers",)) is None
    True
    """
    for key in path:
        if isinstance(tree, dict):
            tree = tree.get(key)
        elif isinstance(tree, (tuple, list)) and isinstance(key, int) and key < len(tree):
            tree = tree[key]
        else:
            return None
    return tree


def mirror(fn, model):
    """Build a tree shaped like the trainable part of ``model``, ``fn(array)`` at each parameter.

    Layer objects become dicts of their trainable attributes, tuples and lists stay tuples
    and lists, and anything else becomes ``None``. A tied array maps to one shared result.
    This is the shape of ``zygote.gradient`` results and of :func:`flux.setup` states.

    >>> mirror(lambda a: a.shape, {"w": np.zeros((2, 3)), "n": 1})
    {'w': (2, 3), 'n': None}
    """
    memo = {}

    def build(x, seen):
        if is_parameter(x):
            if id(x) not in memo:
                memo[id(x)] = fn(x)
            return memo[id(x)]
        if not isinstance(x, (tuple, list, dict)) and not is_node(x):
            return None
        if id(x) in seen:
            return None
        inner = seen | {id(x)}
        pairs = [(key, build(child, inner)) for key, child in trainable(x)]
        if isinstance(x, tuple):
            return tuple(value for _, value in pairs)
        if isinstance(x, list):
            return [value for _, value in pairs]
        return dict(pairs)
    return build(model, frozenset())


def fmap(fn, model):
    """Return a copy of ``model`` with every float array replaced by ``fn(array)``.

    Layer objects are shallow-copied, containers rebuilt; a tied array maps to one new array,
    so ties survive. Non-float arrays and other leaves are shared, not copied.

    >>> fmap(lambda a: a * 2, [np.ones(2), "label"])
    [array([2., 2.]), 'label']
    """
    memo = {}

    def build(x):
        if id(x) in memo:
            return memo[id(x)]
        if is_parameter(x):
            new = fn(x)
        elif isinstance(x, tuple):
            new = tuple(build(child) for child in x)
        elif isinstance(x, list):
            new = [build(child) for child in x]
        elif isinstance(x, dict):
            new = {key: build(child) for key, child in x.items()}
        elif is_node(x):
            new = copy.copy(x)
            memo[id(x)] = new
            for key, child in vars(x).items():
                setattr(new, key, build(child))
        else:
            new = x
        memo[id(x)] = new
        return new
    return build(model)


def f32(model):
    """Copy of ``model`` with float32 parameters.

    >>> f32([np.zeros(1)])[0].dtype
    dtype('float32')
    """
    return fmap(lambda a: a.astype(np.float32), model)


def f64(model):
    """Copy of ``model`` with float64 parameters (useful for finite-difference checks).

    >>> f64([np.zeros(1, np.float32)])[0].dtype
    dtype('float64')
    """
    return fmap(lambda a: a.astype(np.float64), model)


def modules(model):
    """Return every layer object in ``model``, outermost first, each once.

    >>> from flux import Chain, Dense
    >>> [type(m).__name__ for m in modules(Chain(Dense(1, 1)))]
    ['Chain', 'Dense']
    """
    found, seen = [], set()

    def visit(x):
        if isinstance(x, np.ndarray) or id(x) in seen:
            return
        if is_node(x) or isinstance(x, (tuple, list, dict)):
            seen.add(id(x))
            if is_node(x):
                found.append(x)
            for _, child in children(x):
                visit(child)
    visit(model)
    return found


@zygote.adjoint(modules, output_kind="a")
def modules_rule(model):
    """``modules(m)`` inside a differentiated loss: each layer's cotangent goes back to it."""
    found = modules(model)
    held = held_paths(model)
    paths = [held[id(layer)] for layer in found]

    def modules_back(dlayers):
        return (cotangent_from_parts(model, paths, dlayers),)
    return found, modules_back


