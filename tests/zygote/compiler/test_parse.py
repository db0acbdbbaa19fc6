"""Stage 1, parse: a function object in, a gast FunctionDef with the user's line numbers out."""
import gast
import pytest

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
