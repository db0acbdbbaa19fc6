"""Stage 4, analyse: a normal form in, the facts the transform needs out (activity and kinds,
assignment sites, names whose cotangents add with plain +, objects made locally)."""
import math

from zygote.compiler.analysis import ANY, NUMERIC, analyse
from zygote.compiler.normalise import normalise
from zygote.compiler.parse import parse_function
from zygote.compiler.pipeline import resolver_for
from zygote.compiler.validate import validate


def facts_of(fn, kinds, scalars=()):
    normal_form = normalise(validate(parse_function(fn)), {"math", "np"})
    return normal_form, analyse(normal_form, resolver_for(fn, normal_form), kinds, set(scalars))


def scaled(x, w, n):
    y = math.sin(x) * w
    count = n + 1
    return y + count


def poly(x, w):
    y = x * w
    return y + 1.0


def reuse(x, data):
    x = data * 2.0
    x = x * x
    return x


def boxed(x):
    box = {"v": x}
    return box["v"]


def test_activity_follows_the_differentiated_inputs_only():
    _, facts = facts_of(scaled, {"x": NUMERIC})
    assert sorted(facts.kind) == ["sin_x", "x", "y", "y_add_count"]
    assert all(kind == NUMERIC for kind in facts.kind.values())


def test_a_container_of_an_active_value_is_active_of_unknown_kind():
    _, facts = facts_of(boxed, {"x": NUMERIC})
    assert facts.kind["box"] == ANY and facts.local_objects == {"box"}


def test_python_numbers_flowing_into_numbers_add_with_plus():
    _, facts = facts_of(poly, {"x": NUMERIC, "w": NUMERIC}, scalars={"x", "w"})
    assert facts.scalar_closed == {"x", "w", "y", "y_add_1_0"}
    _, facts = facts_of(poly, {"x": NUMERIC, "w": NUMERIC}, scalars={"x"})
    assert facts.scalar_closed == set()  # w may be an array: x * w is no longer a number


def test_sites_know_which_names_are_overwritten():
    normal_form, facts = facts_of(reuse, {"x": NUMERIC})
    first, second = normal_form.tree.body[0], normal_form.tree.body[2]
    assert facts.sites.reassigned_after("x", facts.sites.of_stmt[id(first)])
    # x = data * 2.0 rebinds x to a value of the inactive data: only the last x is active
    facts.activity.at(second)
    assert "x" in facts.activity.current
