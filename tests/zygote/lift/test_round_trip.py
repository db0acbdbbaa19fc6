"""The lifter on whole programs: every function of the corpus and of fuzzed programs.

Each module's source is run with ``exec`` under a file name that has no text, so every
function in it must be lifted from bytecode. The lifted tree must pass verification, and
the gradient zygote computes from it must equal the gradient from the source.
"""
import inspect
import os
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import zygote
from zygote.lift import lift_function

import corpus_functions
from fuzz_programs import load, programs

NO_TEXT = "<no source>"


def exec_without_source(source, name):
    """The namespace of ``source`` run as module ``name`` from a file name without text."""
    namespace = {"__name__": name}
    exec(compile(source, NO_TEXT, "exec"), namespace)
    return namespace


def functions_of(namespace):
    """The functions and methods defined in ``namespace`` (by its own code)."""
    for value in list(namespace.values()):
        if isinstance(value, types.FunctionType) and value.__code__.co_filename == NO_TEXT:
            yield value
        elif isinstance(value, type):
            for member in vars(value).values():
                if isinstance(member, types.FunctionType) and member.__code__.co_filename == NO_TEXT:
                    yield member


def same_gradients(lifted, original, args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            expected = zygote.gradient(original, *args)
        except zygote.ZygoteError as error:
            with pytest.raises(type(error)):
                zygote.gradient(lifted, *args)
            return
        found = zygote.gradient(lifted, *args)
    assert_same_structure(found, expected)


def assert_same_structure(a, b):
    """Equal cotangents: the same containers, the same keys, numbers equal to rounding."""
    assert type(a) is type(b), (a, b)
    if isinstance(b, dict):
        assert a.keys() == b.keys()
        for key in b:
            assert_same_structure(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_structure(x, y)
    elif b is not None:
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


CORPUS_SOURCE = Path(corpus_functions.__file__).read_text()
LIFTED_CORPUS = exec_without_source(CORPUS_SOURCE, "lifted_corpus")


def test_every_function_of_the_corpus_lifts_and_verifies():
    lifted = list(functions_of(LIFTED_CORPUS))
    assert len(lifted) > 120
    for function in lifted:
        tree = lift_function(function)
        assert tree.name in (function.__name__, "lambda")


@pytest.mark.parametrize("index", range(len(corpus_functions.CORPUS)),
                         ids=[name for name, _, _ in corpus_functions.CORPUS])
def test_corpus_gradients_from_bytecode_equal_gradients_from_source(index):
    name, original, args = corpus_functions.CORPUS[index]
    lifted_name, lifted, lifted_args = LIFTED_CORPUS["CORPUS"][index]
    assert lifted_name == name and lifted.__code__.co_filename == NO_TEXT
    assert repr(lifted(*lifted_args)) == repr(original(*args))  # the same values, computed again
    same_gradients(lifted, original, lifted_args)


# ``make fuzz`` sets ZYGOTE_FUZZ_EXAMPLES for a long random run, as for test_fuzz.
LONG_RUN = int(os.environ.get("ZYGOTE_FUZZ_EXAMPLES", "0"))


@settings(max_examples=LONG_RUN or 25, deadline=None, derandomize=not LONG_RUN, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(program=programs(language=False))  # the constructs the lifter reads
def test_fuzzed_programs_lift_and_give_the_gradients_of_their_source(program, tmp_path_factory):
    namespace = exec_without_source(program.source, "lifted_fuzz")
    for function in functions_of(namespace):
        lift_function(function)
    from_file = load(program.source, tmp_path_factory.mktemp("fuzz"))
    assert inspect.getsourcefile(from_file.fuzzed) is not None
    same_gradients(namespace["fuzzed"], from_file.fuzzed, program.args)
