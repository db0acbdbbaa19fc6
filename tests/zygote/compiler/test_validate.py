"""Stage 2, validate: a parsed tree in, the same tree out, or an error naming the construct and line."""
import pytest

from zygote.compiler.parse import parse_function
from zygote.compiler.validate import validate
from zygote.errors import UnsupportedSyntaxError


def supported(x, n):
    total = 0.0
    for i in range(n):
        if i % 2:
            continue
        total = total + x ** i
    return total


def with_class(x):
    class Local:
        pass
    return x


def with_import(x):
    import math
    return math.sin(x)


def test_a_supported_function_passes_unchanged():
    parsed = parse_function(supported)
    assert validate(parsed) is parsed


@pytest.mark.parametrize("fn, construct, offset", [(with_class, "class definition", 1), (with_import, "import", 1)])
def test_refused_constructs_name_themselves_and_the_user_s_line(fn, construct, offset):
    with pytest.raises(UnsupportedSyntaxError) as info:
        validate(parse_function(fn))
    message = str(info.value)
    assert construct in message
    assert f"test_validate.py:{fn.__code__.co_firstlineno + offset}" in message
