"""Stage 1, parse: a function object in, a gast FunctionDef with the user's line numbers out."""
import ast

import gast
import pytest

import zygote
from zygote import nodes

from zygote.compiler.codegen import render
from zygote.compiler.parse import parse_function
from zygote.errors import SourceUnavailableError


def halved(x):
    y = x / 2.0
    return y


PAIR = (lambda x: x + 1.0, lambda x: x * 3.0)  # two lambdas on one line


def test_a_def_comes_back_as_its_tree_with_its_file_and_lines():
    parsed = parse_function(halved)
    assert isinstance(parsed.tree, gast.FunctionDef) and parsed.tree.name == "halved"
    assert parsed.filename == __file__ and not parsed.is_lambda
    first = halved.__code__.co_firstlineno
    assert [stmt.lineno for stmt in parsed.tree.body] == [first + 1, first + 2]
    assert render(parsed.tree) == "def halved(x):\n    y = x / 2.0\n    return y\n"


def test_each_lambda_of_a_line_is_found_by_its_column():
    texts = [render(parse_function(f).tree) for f in PAIR]
    assert texts == ["def lambda(x):\n    return x + 1.0\n", "def lambda(x):\n    return x * 3.0\n"]
    assert all(parse_function(f).is_lambda for f in PAIR)


def test_code_without_source_is_lifted_and_unliftable_code_is_refused():
    namespace = {}
    exec("def made(x):\n    return x * 2.0\n", namespace)
    assert parse_function(namespace["made"]).tree.name == "made"
    exec("def guarded(x):\n    try:\n        return x\n    except ValueError:\n        return 0.0\n", namespace)
    with pytest.raises(SourceUnavailableError, match="guarded"):
        parse_function(namespace["guarded"])

    def counting(n):
        yield n
    assert parse_function(counting).tree.name == "counting"  # normalise lowers its yields


SPLIT = [
    lambda x: x * 2.0
    + x * x,  # the lambda's body goes on: its first line alone parses to a different lambda
    lambda x,
    k=3.0: x * k,  # its first line alone does not parse
]

NESTED_CALL = dict(key=lambda x: (
    x * x), other=1)


def decorated(f):
    return f


@decorated
def with_a_decorator(x):
    return x * 4.0


def test_lambdas_spread_over_lines_are_whole():
    texts = [render(parse_function(f).tree) for f in SPLIT + [NESTED_CALL["key"]]]
    assert texts == ["def lambda(x):\n    return x * 2.0 + x * x\n",
                     "def lambda(x, k=3.0):\n    return x * k\n",
                     "def lambda(x):\n    return x * x\n"]
    for f in SPLIT + [NESTED_CALL["key"]]:
        assert zygote.gradient(f, 1.5)[0] == pytest.approx(
            (f(1.5 + 1e-6) - f(1.5 - 1e-6)) / 2e-6, rel=1e-6)


def test_a_decorated_def_and_a_nested_def_are_found_in_their_file():
    assert render(parse_function(with_a_decorator).tree).endswith("def with_a_decorator(x):\n    return x * 4.0\n")

    def inner(x):
        return x + 1.0
    tree = parse_function(inner).tree
    assert tree.name == "inner" and tree.body[0].lineno == inner.__code__.co_firstlineno + 1


def test_a_lambda_keeps_the_columns_of_its_file():
    tree = parse_function(PAIR[1]).tree
    assert tree.col_offset == open(__file__).read().splitlines()[PAIR[1].__code__.co_firstlineno - 1].index("lambda x: x * 3")


def _files():
    import pathlib
    import zygote as package
    root = pathlib.Path(package.__file__).parent
    return sorted(root.rglob("*.py")) + sorted(pathlib.Path(ast.__file__).parent.glob("[a-m]*.py"))


def test_from_ast_gives_the_tree_gast_gives():
    checked = 0
    for path in _files():
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        assert ast.dump(nodes.from_ast(tree), include_attributes=True) == \
            ast.dump(gast.ast_to_gast(tree), include_attributes=True), path
        checked += 1
    assert checked > 100


def test_clone_is_a_deep_copy():
    (tree,) = nodes.quote("y = f(x, [1, 2], k=x.a)")
    tree.zygote_comment = True
    copied = nodes.clone(tree)
    assert ast.dump(copied, include_attributes=True) == ast.dump(tree, include_attributes=True)
    assert copied.zygote_comment
    originals = {id(n) for n in gast.walk(tree)}
    assert not any(id(n) in originals for n in gast.walk(copied))
