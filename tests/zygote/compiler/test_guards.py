"""Guards walked one by one (a new entry's first checks) answer as the compiled guard function
does, whatever is rebound, and a gradient follows a rebinding on every call, walked or compiled."""
import math
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import zygote
from zygote.compiler import cache
from zygote.protocol import TRANSFORMS

SOURCE = """\
import math

import numpy as np

import helpers


def f(x):
    return np.sum(np.sin(x)) * math.cos(1.0) + helpers.g(np.sum(x)) * len([1, 2]) + other(x)


def other(x):
    return np.sum(x * x)
"""


def fresh_module():
    helpers = types.ModuleType("helpers")
    helpers.g = lambda n: 1.0 * n
    module = types.ModuleType("guarded")
    module.__dict__["__builtins__"] = __builtins__
    import sys
    sys.modules["helpers"] = helpers
    try:
        code = compile(SOURCE, "<guarded>", "exec")
        exec(code, module.__dict__)  # noqa: S102
    finally:
        del sys.modules["helpers"]
    return module, helpers


REBINDINGS = {
    "nothing": lambda m, h: None,
    "np.sin": lambda m, h: setattr(m, "np", types.SimpleNamespace(sin=np.cos, sum=np.sum)),
    "math": lambda m, h: m.__dict__.__setitem__("math", types.SimpleNamespace(cos=math.sin)),
    "a builtin shadowed": lambda m, h: m.__dict__.__setitem__("len", lambda xs: 7),
    "a module's function": lambda m, h: setattr(h, "g", lambda n: 2.0 * n),
    "a callee": lambda m, h: m.__dict__.__setitem__("other", lambda x: np.sum(x)),
    "a name removed": lambda m, h: m.__dict__.pop("other"),
}


@pytest.mark.parametrize("rebinding", REBINDINGS)
def test_walked_and_compiled_guards_agree(rebinding):
    module, helpers = fresh_module()
    x = np.array([0.3, -0.2])
    zygote.gradient(module.f, x)
    entry = TRANSFORMS.entry_for(module.f, "n", "")
    assert entry.guards
    REBINDINGS[rebinding](module, helpers)
    walked = cache._guards_hold_in(entry.guards, module.__dict__)
    assert walked == cache._guard_function(entry.guards, module.__dict__)()
    assert walked == (rebinding == "nothing")


@settings(max_examples=20, deadline=None)
@given(calls_before=st.integers(0, 2 * cache._WALKED_GUARD_CHECKS), scale=st.floats(0.5, 3.0))
def test_a_gradient_follows_a_rebinding_on_any_call(calls_before, scale):
    module, helpers = fresh_module()
    x = np.array([0.3, -0.2])
    for _ in range(calls_before):
        zygote.gradient(module.f, x)
    module.other = lambda v: scale * np.sum(v * v)
    (dx,) = zygote.gradient(module.f, x)
    np.testing.assert_allclose(dx, np.cos(x) * math.cos(1.0) + 2.0 + 2 * scale * x, rtol=1e-12)
