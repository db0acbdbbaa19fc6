"""Rules for Python's containers: dict and list methods, ``super``, ``functools.partial`` and the
loop and append intrinsics that normal form calls.

Their outputs are containers, so every rule here is registered with ``output_kind="a"``: the
compiler adds their cotangents structurally (``accum``), never with ``+``.
"""
import functools

import numpy as np

from . import adjoint, nograd
from .. import structure
from ..cotangents import _float_dtype, is_zero, unbroadcast
from ..errors import MissingRuleError, UnsupportedSyntaxError
from ..runtime import (_match_args, catch, dict_set, exception_matches, exit_arguments, generated, iterate, list_append,
                       mapping_rest, match_class, match_field, match_mapping, match_sequence, set_add, set_of)

# -- methods of the built-in containers -------------------------------------------------------


@adjoint(None, method_of=(dict, "get"), output_kind="a")
def _dict_get_rule(d, key, default=None):
    present = key in d

    def dict_get_back(dy):
        if present:
            return {key: dy}, 0, 0
        return 0, 0, dy
    return d.get(key, default), dict_get_back


@adjoint(None, method_of=(dict, "values"), output_kind="a")
def _dict_values_rule(d):
    keys = list(d)
    return [d[k] for k in keys], lambda dy: (0 if is_zero(dy) else dict(zip(keys, dy)),)


@adjoint(None, method_of=(dict, "items"), output_kind="a")
def _dict_items_rule(d):
    keys = list(d)

    def dict_items_back(dy):
        if is_zero(dy):
            return (0,)
        return ({k: (0 if is_zero(pair) else pair[1]) for k, pair in zip(keys, dy)},)
    return [(k, d[k]) for k in keys], dict_items_back


@adjoint(None, method_of=(list, "copy"), output_kind="a")
def _list_copy_rule(items):
    return list(items), lambda dy: (dy,)


nograd(None, method_of=(dict, ("keys",)))
nograd(None, method_of=(list, ("index", "count")))
nograd(None, method_of=(tuple, ("index", "count")))


@adjoint(super, output_kind="a")
def _super_rule(*args):
    """``super(cls, obj)``: a proxy whose cotangent is ``obj``'s."""
    if len(args) != 2:
        raise UnsupportedSyntaxError("super() without its two arguments in generated code")
    return super(*args), lambda dproxy: (0, dproxy)


# -- functools.partial -------------------------------------------------------------------------


@adjoint(functools.partial, output_kind="a")
def _partial_rule(fn, *bound, **keywords):
    if keywords:
        return _partial_with_keywords(fn, bound, keywords)
    made = functools.partial(fn, *bound)

    def partial_back(dpartial):
        if not isinstance(dpartial, dict):
            return (0,) * (1 + len(bound))
        dargs = dpartial.get("args", (0,) * len(bound))
        return (dpartial.get("func", 0),) + tuple(dargs)
    return made, partial_back


def _partial_with_keywords(fn, bound, keywords):
    def partial_back(dpartial):
        dargs = dpartial.get("args", (0,) * len(bound)) if isinstance(dpartial, dict) else (0,) * len(bound)
        return (0,) + tuple(dargs)
    return functools.partial(fn, *bound, **keywords), partial_back


# -- the intrinsics of normal form: a loop's sequence, appending --------------------------------


@adjoint(iterate, output_kind="a")
def _iterate_rule(seq):
    items = list(seq)

    def iterate_back(ditems):
        if is_zero(ditems):
            return (0,)
        if isinstance(seq, np.ndarray):
            dtype = _float_dtype(seq)
            return (np.stack([np.zeros(seq.shape[1:], dtype) if is_zero(d) else unbroadcast(d, item)
                              for d, item in zip(ditems, items)]) if items else np.zeros_like(seq),)
        if isinstance(seq, tuple):
            return (tuple(ditems),)
        if isinstance(seq, dict):
            return (dict(zip(items, ditems)),)
        if structure.iterates_itself(seq):
            return (structure.held_items_cotangent(seq, items, ditems),)
        return (list(ditems),)
    return items, iterate_back


@adjoint(list_append, output_kind="a")
def _list_append_rule(items, value):
    if type(items) is not list:
        raise MissingRuleError(type(items).append)

    def list_append_back(dy):
        if is_zero(dy):
            return 0, 0
        return list(dy[:-1]), dy[-1]
    return items + [value], list_append_back


@adjoint(dict_set, output_kind="a")
def _dict_set_rule(items, key, value):
    def dict_set_back(dy):
        if is_zero(dy):
            return 0, 0, 0
        # A key written again hides its earlier value, which gets no cotangent.
        return {k: d for k, d in dy.items() if k != key}, 0, dy.get(key, 0)
    return dict_set(items, key, value), dict_set_back


# A set's cotangent is a list in the set's own iteration order (what iterating over it, sum,
# sorted and list give back); an item equal to one already in the set is dropped, as Python
# drops it, and gets no cotangent.


@adjoint(set_of, output_kind="a")
def _set_of_rule(*values):
    made = set_of(*values)

    def set_of_back(dy):
        if is_zero(dy):
            return (0,) * len(values)
        where = {v: d for v, d in zip(made, dy)}
        parts, seen = [], set()
        for v in values:
            parts.append(0 if v in seen else where[v])
            seen.add(v)
        return tuple(parts)
    return made, set_of_back


@adjoint(set_add, output_kind="a")
def _set_add_rule(items, value):
    grown = set_add(items, value)

    def set_add_back(dy):
        if is_zero(dy):
            return 0, 0
        where = {v: d for v, d in zip(grown, dy)}
        return [where[v] for v in items], (0 if value in items else where[value])
    return grown, set_add_back


nograd(catch, exception_matches, exit_arguments, match_class, match_mapping, match_sequence)

# -- the reads of match patterns ----------------------------------------------------------------


@adjoint(match_field, output_kind="a")
def _match_field_rule(subject, cls, i):
    name = _match_args(cls)[i]

    def match_field_back(dy):
        if is_zero(dy):
            return 0, 0, 0
        return (dy if name is None else {name: dy}), 0, 0
    return match_field(subject, cls, i), match_field_back


@adjoint(mapping_rest, output_kind="a")
def _mapping_rest_rule(subject, keys):
    return mapping_rest(subject, keys), lambda dy: (dy, 0)


@adjoint(generated, output_kind="a")
def _generated_rule(items):
    def generated_back(dy):
        if is_zero(dy):
            return (0,)
        if len(dy) != len(items):
            raise UnsupportedSyntaxError(
                f"a generator whose {len(items)} values were consumed in parts ({len(dy)} reached "
                "one consumer)", hint="consume it once, whole (sum, list, a for loop), or return a list")
        return (list(dy),)
    return generated(items), generated_back
