"""The transform cache: hits, invalidation, run-time globals, threads and bounded growth."""
import concurrent.futures
import math

import numpy as np

import zygote
from zygote.compiler import cache, parse, pipeline
from zygote.protocol import TRANSFORMS


def test_second_call_does_not_parse(monkeypatch):
    def f(x):
        return x * math.sin(x)
    zygote.gradient(f, 1.0)
    calls = []
    original = parse.parse_function
    monkeypatch.setattr(pipeline, "parse_function", lambda fn: calls.append(fn) or original(fn))
    zygote.gradient(f, 2.0)
    assert calls == []


def test_redefinition_gets_a_fresh_transform():
    namespace = {}
    source_a = "def f(x):\n    return x * 2\n"
    source_b = "def f(x):\n    return x * 3\n"
    import linecache
    for source, expected in ((source_a, 2.0), (source_b, 3.0)):
        filename = f"<redefined {expected}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), namespace)
        assert zygote.gradient(namespace["f"], 1.0) == (expected,)


SCALE = 2.0


def scaled(x):
    return x * SCALE


def test_globals_are_read_when_the_gradient_runs():
    global SCALE
    assert zygote.gradient(scaled, 1.0) == (2.0,)
    SCALE = 5.0
    try:
        assert zygote.gradient(scaled, 1.0) == (5.0,)
    finally:
        SCALE = 2.0


def test_rebinding_a_module_name_invalidates_inlined_rules():
    namespace = {"math": math}
    import linecache
    source = "def f(x):\n    return math.sin(x)\n"
    linecache.cache["<rebind>"] = (len(source), None, source.splitlines(True), "<rebind>")
    exec(compile(source, "<rebind>", "exec"), namespace)
    f = namespace["f"]
    assert zygote.gradient(f, 0.0) == (1.0,)

    class FakeMath:
        @staticmethod
        def sin(x):
            return 3.0 * x

    namespace["math"] = FakeMath
    assert zygote.gradient(f, 0.0) == (3.0,)


def test_thread_pool_stress():
    def f(x, k):
        s = 0.0
        for i in range(k):
            s = s + math.sin(x * i)
        return s

    def g(x):
        return np.sum(np.tanh(x) ** 2)

    def work(i):
        if i % 2:
            x = 0.1 * i
            return zygote.gradient(f, x, 5)[0] - sum(j * math.cos(x * j) for j in range(5))
        x = np.linspace(-1, 1, 7) * i
        t = np.tanh(x)
        return float(np.max(np.abs(zygote.gradient(g, x)[0] - 2 * t * (1 - t * t))))

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(work, range(400)))
    assert max(abs(e) for e in errors) < 1e-10


def test_many_lambdas_do_not_grow_the_cache():
    before = TRANSFORMS.size()
    for i in range(2000):
        assert zygote.gradient(lambda x: x * i, 1.0) == (float(i),)
    assert TRANSFORMS.size() - before <= 2


def test_cache_of_code_made_at_run_time_is_bounded(monkeypatch):
    import linecache
    monkeypatch.setattr(cache, "MAX_CODE_OBJECTS", len(TRANSFORMS.entries) + 20)
    limit = cache.MAX_CODE_OBJECTS
    first_trees = None
    for i in range(limit + 30):
        filename = f"<generated source {i}>"
        source = f"f = lambda x: x * {i}.0\n"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace = {}
        exec(compile(source, filename, "exec"), namespace)
        assert zygote.gradient(namespace["f"], 1.0) == (float(i),)
        if first_trees is None:
            # the trees kept for the first function's generated primal and adjoint
            (entry,) = TRANSFORMS.entries[id(namespace["f"].__code__)].values()
            first_trees = (entry.primal_code, entry.adjoint.__code__)
            assert all(code in parse.GENERATED_TREES for code in first_trees)
    assert len(TRANSFORMS.entries) <= limit
    # the oldest transforms were evicted, and the trees of their generated code with them
    assert not any(code in parse.GENERATED_TREES for code in first_trees)

def _counting_builds(monkeypatch):
    built = []
    original = cache.build

    def counted(fn, *args, **kwargs):
        built.append(fn.__qualname__)
        return original(fn, *args, **kwargs)
    monkeypatch.setattr(cache, "build", counted)
    return built


def test_repeated_calls_transform_nothing_again(monkeypatch):
    # Planned calls carry the guards of their callees, builtins of other modules (``type`` in
    # zygote.cotangents) among them: those must hold, or every call transforms again.
    rng = np.random.default_rng(0)
    z, v = rng.standard_normal((8, 5)), rng.standard_normal((8, 5))

    def softmax_loss(z):
        shifted = z - np.max(z, axis=1, keepdims=True)
        return -np.sum(shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)))
    calls = [lambda: zygote.jvp(softmax_loss, (z,), (v,)), lambda: zygote.gradient(softmax_loss, z),
             lambda: zygote.hvp(softmax_loss, z, v)]
    for call in calls:
        call()
    built = _counting_builds(monkeypatch)
    for call in calls * 3:
        call()
    assert built == []


def test_a_guard_on_a_builtin_of_another_module_holds_until_that_module_shadows_it():
    from zygote.compiler.resolve import ForeignName
    namespace = {"__builtins__": __builtins__}
    guards = ((ForeignName(namespace, "len"), (), len),)
    assert cache._guards_hold_in(guards, globals())
    check = cache._guard_function(guards, globals())
    assert check()
    namespace["len"] = lambda x: 0
    assert not cache._guards_hold_in(guards, globals())
    assert not check()
