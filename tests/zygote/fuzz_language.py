"""Statements of the program fuzzer (``fuzz_programs``) that exercise the rest of the language:
comprehensions of every kind and generator expressions, assignment expressions, loops with
``else``, ``try``/``except``/``else``/``finally`` with exceptions raised and caught inside,
``match`` statements, jumps out of ``with`` blocks, and generator functions, ``map`` and
``filter``.

Each entry of ``STATEMENTS`` draws one statement as ``fuzz_programs.statement`` does: a list
of ``Line``s, binding what it binds in ``scope``. Whatever decides a path at run time (a
raise, a guard, a filter) is a ``Cond`` or a call of a traced helper, so that the traced
rendering records it and inputs where a difference step would change the path are rejected.
"""
from fuzz_programs import (ARRAY, SCALAR, WEIGHTS, Cond, Expr, Line, as_kind, blocks, conditions, expressions,
                           flat, fresh, is_array, rebound, target)

# The helpers these statements call; the traced header redefines the two that decide.
HELPERS = (
    "\nimport contextlib\n\n\ndef checked(v, limit):\n"
    "    if v > limit:\n"
    "        raise ValueError('over the limit')\n"
    "    return v\n\n\n"
    "def kept(t):\n"
    "    return t > 0.3\n\n\n"
    "def scaled_values(v, n):\n"
    "    for k in range(n):\n"
    "        yield v * (k + 1)\n"
    "    yield from [v * v]\n"
)
TRACED_HELPERS = (
    "\nimport contextlib\n\n\ndef checked(v, limit):\n"
    "    if branch(-1, v > limit):\n"
    "        raise ValueError('over the limit')\n"
    "    return v\n\n\n"
    "def kept(t):\n"
    "    return branch(-2, t > 0.3)\n"
)


def scalar(d, scope, depth=1):
    return as_kind(expressions(d, scope, depth), SCALAR)


def bind_scalar(d, scope, indent, *parts):
    """``name = <parts>`` for a scalar value, into a name that may take one."""
    name = target(d, scope, SCALAR)
    value = rebound(scope, name, Expr(SCALAR, *parts))
    scope.bind(name, value.kind)
    return [Line(indent, f"{name} = ", value)]


def array_name(d, scope):
    arrays = scope.names(ARRAY)
    return d.choice(arrays) if arrays else f"np.array([{d.choice(['0.5', '1.5'])}, -0.7, 2.0])"


def comprehension(d, scope, indent):
    """A list, dict or set comprehension or a generator expression over an array, reduced."""
    source = array_name(d, scope)
    inner = scope.child()
    item = scope.new_name("c")
    inner.kinds[item] = SCALAR
    inner.loop_vars.append(item)
    element = scalar(d, inner)
    form = d.choice(["list", "list_if", "dict", "set", "generator"])
    if form == "list":
        return bind_scalar(d, scope, indent, "sum([", element, f" for {item} in {source}])")
    if form == "list_if":
        keep = Cond(next(scope.counter), Expr(SCALAR, item), ">", Expr(SCALAR, "0.3"))
        return bind_scalar(d, scope, indent, "sum([", element, f" for {item} in {source} if ", keep, "] + [0.0])")
    if form == "dict":
        table = scope.new_name("d")
        return [Line(indent, f"{table} = {{k: ", element, f" for k, {item} in enumerate({source})}}")] \
            + bind_scalar(d, scope, indent, f"{table}[0] * {table}[2] + sum({table}.values())")
    if form == "set":
        # a set of loop indices: it merges equal items, and no differentiated value is among them
        return bind_scalar(d, scope, indent, "len({k % 2 for k in range(3)}) * ", scalar(d, scope))
    return bind_scalar(d, scope, indent, "sum(", element, f" for {item} in {source})")


def walrus(d, scope, indent):
    """``if (name := e) > c:`` and a block that reads ``name``."""
    name = target(d, scope, SCALAR)
    value = rebound(scope, name, scalar(d, scope))
    scope.bind(name, SCALAR)
    test = Cond(next(scope.counter), Expr(SCALAR, f"({name} := ", fresh(value), ")"), d.choice([">", "<"]),
                scalar(d, scope, 0))
    return [Line(indent, "if ", test, ":")] + flat(blocks(d, scope.child(), indent + 1, 2))


def loop_else(d, scope, indent):
    """A ``for`` or counted ``while`` loop that may break, with an ``else`` block."""
    inner = scope.child()
    if d.boolean():
        index = "ijk"[len(scope.index_vars)]
        inner.loop_vars.append(index)
        inner.index_vars.append(index)
        inner.kinds[index] = SCALAR
        header = [Line(indent, f"for {index} in range({d.integer(1, 3)}):")]
        step = []
    else:
        counter = scope.new_name("n")
        header = [Line(indent, f"{counter} = 0"), Line(indent, f"while {counter} < {d.integer(1, 3)}:")]
        step = [Line(indent + 1, f"{counter} += 1")]
    body = flat(blocks(d, inner, indent + 1, 2))
    body += [Line(indent + 1, "if ", conditions(d, inner), ":"), Line(indent + 2, "break")] + step
    orelse = [Line(indent, "else:")] + flat(blocks(d, scope.child(), indent + 1, 2))
    return header + body + orelse


def try_statement(d, scope, indent):
    """``try`` with a raise (direct or from a helper) and some of ``except``/``else``/``finally``."""
    body_scope = scope.child()
    lines = [Line(indent, "try:")]
    lines += flat(blocks(d, body_scope, indent + 1, 2))
    if d.boolean():
        lines += [Line(indent + 1, "if ", conditions(d, body_scope), ":"),
                  Line(indent + 2, f"raise {d.choice(['ValueError', 'KeyError'])}('raised')")]
    else:
        lines += bind_scalar(d, body_scope, indent + 1, "checked(", scalar(d, body_scope), ", 0.5)")
    lines += flat(blocks(d, body_scope, indent + 1, 1))
    # Every exception raised above is one of these handlers' (a LookupError is a KeyError's base).
    handlers = d.choice([["(KeyError, ValueError)"], ["KeyError", "ValueError"], ["ValueError", "LookupError"],
                         ["Exception"], ["ValueError", "KeyError", "Exception"]])
    for kind in handlers:
        lines.append(Line(indent, f"except {kind}:"))
        lines += flat(blocks(d, scope.child(), indent + 1, 2))
    if d.boolean():
        lines.append(Line(indent, "else:"))
        lines += flat(blocks(d, scope.child(), indent + 1, 2))
    if d.boolean():
        lines.append(Line(indent, "finally:"))
        lines += flat(blocks(d, scope.child(), indent + 1, 1))
    return lines


def match_statement(d, scope, indent):
    """``match`` on a pair of scalars: a guarded capture, a sequence with a star, a wildcard."""
    first, second = fresh(scalar(d, scope)), fresh(scalar(d, scope))
    lines = [Line(indent, "match (", first, ", ", second, "):")]
    p, q = scope.new_name("p"), scope.new_name("q")
    guarded = scope.child()
    guarded.kinds.update({p: SCALAR, q: SCALAR})
    guard = Cond(next(scope.counter), Expr(SCALAR, p), d.choice([">", "<"]), Expr(SCALAR, q))
    lines.append(Line(indent + 1, f"case ({p}, {q}) if ", guard, ":"))
    lines += flat(blocks(d, guarded, indent + 2, 2))
    starred = scope.child()
    starred.kinds[p] = SCALAR
    lines.append(Line(indent + 1, f"case [{p}, *rest]:" if d.boolean() else f"case [{p}, 0.5] | [_, {p}]:"))
    lines += flat(blocks(d, starred, indent + 2, 2))
    lines.append(Line(indent + 1, "case _:"))
    lines += flat(blocks(d, scope.child(), indent + 2, 1))
    return lines


def with_jumps(d, scope, indent):
    """A ``with`` block left early: by ``break``/``continue`` in a for loop, else by ``return``."""
    inner = scope.child()
    lines = [Line(indent, "with contextlib.nullcontext():")]
    lines += flat(blocks(d, inner, indent + 1, 1))
    if scope.loop_vars:
        jump = [Line(indent + 2, d.choice(["break", "continue"]))]
    else:
        e = expressions(d, inner, 1)
        jump = [Line(indent + 2, "return ", Expr(SCALAR, "np.sum(", e, f" * {WEIGHTS})")
                     if is_array(e.kind) else e)]
    lines += [Line(indent + 1, "if ", conditions(d, inner), ":")] + jump
    lines += flat(blocks(d, inner, indent + 1, 1))
    return lines


def iterators(d, scope, indent):
    """A generator function's values, ``map`` or ``filter`` over an array, reduced."""
    form = d.choice(["generator", "generator_loop", "map", "filter"])
    if form == "generator":
        return bind_scalar(d, scope, indent, "sum(scaled_values(", scalar(d, scope), f", {d.integer(0, 3)}))")
    if form == "generator_loop":
        total, item = scope.new_name("g"), scope.new_name("c")
        inner = scope.child()
        inner.kinds[item] = SCALAR
        inner.loop_vars.append(item)
        lines = [Line(indent, f"{total} = 0.0"), Line(indent, f"for {item} in scaled_values(", scalar(d, scope), ", 2):"),
                 Line(indent + 1, f"{total} = {total} + ", scalar(d, inner))]
        scope.bind(total, SCALAR)
        return lines
    source = array_name(d, scope)
    if form == "map":
        return bind_scalar(d, scope, indent, f"sum(map(lambda t: t * ", scalar(d, scope, 0), f" + t * t, {source}))")
    return bind_scalar(d, scope, indent, f"sum(filter(kept, {source})) + 0.0")


STATEMENTS = {
    "comprehension": comprehension, "walrus": walrus, "loop_else": loop_else, "try": try_statement,
    "match": match_statement, "with_jumps": with_jumps, "iterators": iterators,
}
COMPOUND = {"walrus", "loop_else", "try", "match", "with_jumps"}
