"""A corpus of realistic functions: zygote's gradient of each against central differences.

The functions live in ``corpus_functions``. ``check_grad`` checks the numeric arguments
(floats, arrays, lists and tuples of them); for arguments that are objects of a corpus
class, ``check_attribute_grads`` checks the gradient dict against differences taken by
nudging each float attribute of the object in place.
"""
import numpy as np
import pytest

import zygote
from zygote.testing import check_grad

import corpus_functions
import corpus_objects
from corpus_functions import CORPUS as FUNCTIONS
from corpus_objects import OBJECTS, SMOOTH

CORPUS = FUNCTIONS + OBJECTS

# name -> reason; each has a minimal xfail(strict) reproducer in test_regressions.py.
KNOWN_BUGS = {}


def test_corpus_is_large_and_names_are_unique():
    names = [name for name, _, _ in CORPUS]
    assert len(set(names)) == len(names)
    assert set(KNOWN_BUGS) <= set(names)
    assert len(names) - len(KNOWN_BUGS) >= 60


def entries():
    for name, function, args in CORPUS:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])] if name in KNOWN_BUGS else []
        yield pytest.param(function, args, id=name, marks=marks)


@pytest.mark.parametrize("function, args", list(entries()))
def test_corpus_gradient_matches_differences(function, args):
    check_grad(function, *args)
    check_attribute_grads(function, args)


def is_corpus_object(value):
    return type(value).__module__ in (corpus_functions.__name__, corpus_objects.__name__)


def check_attribute_grads(f, args, eps=1e-6, rtol=1e-5, atol=1e-7):
    """Compare the gradient dict of each corpus-object argument with central differences."""
    objects = [i for i, a in enumerate(args) if is_corpus_object(a)]
    if not objects:
        return
    grads = zygote.gradient(f, *args)
    for i in objects:
        obj = args[i]
        found = grads[i] or {}
        for name, value in vars(obj).items():
            if isinstance(value, float):
                expected = np.array([attribute_difference(f, args, obj, name, None, eps)])
            elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
                expected = np.array([attribute_difference(f, args, obj, name, k, eps)
                                     for k in range(value.size)]).reshape(value.shape)
            else:
                continue
            actual = found.get(name)
            actual = np.zeros_like(expected) if actual is None else np.reshape(actual, expected.shape)
            np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol,
                                       err_msg=f"argument {i}, attribute {name!r}")


def attribute_difference(f, args, obj, name, k, eps):
    """``(f(attr + eps) - f(attr - eps)) / 2 eps`` for one attribute (entry ``k`` of an array)."""
    original = getattr(obj, name)
    values = []
    for step in (eps, -eps):
        if k is None:
            setattr(obj, name, original + step)
        else:
            moved = original.copy()
            moved.flat[k] += step
            setattr(obj, name, moved)
        try:
            values.append(float(f(*args)))
        finally:
            setattr(obj, name, original)
    return (values[0] - values[1]) / (2 * eps)


def test_programs_on_objects_are_many():
    assert len(OBJECTS) >= 30 and SMOOTH <= {name for name, _, _ in OBJECTS}


@pytest.mark.parametrize("function, args", [pytest.param(f, a, id=n) for n, f, a in OBJECTS if n in SMOOTH])
def test_programs_on_objects_to_second_order(function, args):
    """The derivative in the first argument, itself differentiated, against differences."""
    rest = args[1:]
    check_grad(lambda first: zygote.gradient(function, first, *rest)[0], args[0])


@pytest.mark.parametrize("function, args", [pytest.param(f, a, id=n) for n, f, a in OBJECTS if n in SMOOTH])
def test_hessians_of_programs_on_objects_agree_with_reverse_over_reverse(function, args):
    """zygote.hessian (forward over reverse where forward mode follows the program) against the
    Jacobian of the gradient (reverse over reverse), in the first argument."""
    first, rest = args[0], args[1:]
    assert isinstance(first, (float, np.ndarray))
    f = lambda x: function(x, *rest)  # noqa: E731
    expected = zygote.jacobian(lambda x: np.asarray(zygote.gradient(f, x)[0], dtype=float), np.asarray(first, float))[0]
    np.testing.assert_allclose(zygote.hessian(f, first), np.reshape(expected, np.shape(first) * 2),
                               rtol=1e-7, atol=1e-9)


def test_attribute_check_catches_a_wrong_gradient():
    """The object check is live: a function whose attribute gradient zygote cannot see fails it."""
    model = corpus_functions.Smoother(0.4)
    with pytest.raises(AssertionError):
        check_attribute_grads(lambda s, xs: zygote.dropgrad(s.alpha) * xs[0] + s.alpha, (model, [1.0, 2.0]))
