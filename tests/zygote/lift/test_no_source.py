"""Differentiating functions that have no source file, in real interpreters started as subprocesses.

Each child prints ``RESULT <zygote's gradient> <central difference>`` lines; the test compares
them. ``python -c`` keeps its command in ``sys.orig_argv``, so zygote reads real text there;
``python -``, ``python -i`` and ``exec`` leave only bytecode, which zygote lifts.
"""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import zygote

ROOT = Path(__file__).resolve().parents[3]

# Printed by each child after its work: zygote's gradient and a central difference.
REPORT = textwrap.dedent("""
    def report(f, x, h=1e-6):
        import zygote
        (dx,) = zygote.gradient(f, x)
        print("RESULT", repr(float(dx)), repr((f(x + h) - f(x - h)) / (2 * h)))
""")


def run_python(*args, stdin=None):
    """Run a child interpreter with this checkout importable; return its stdout."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def results(stdout):
    """The (gradient, difference) pairs a child printed."""
    pairs = [line.split()[1:] for line in stdout.splitlines() if line.startswith("RESULT")]
    return [(float(a), float(b)) for a, b in pairs]


def assert_close(pairs, count):
    assert len(pairs) == count, pairs
    for gradient, difference in pairs:
        np.testing.assert_allclose(gradient, difference, rtol=1e-5, atol=1e-7)


PROGRAM = REPORT + textwrap.dedent("""
    import math

    def poly(x):
        total = 0.0
        k = 0
        while True:
            k += 1
            if k % 2 == 0:
                continue
            total = total + x ** k / k  # the sum
            if k > 6:
                break
        return total

    def outer(x):
        inner = lambda t: math.sin(t) * x
        return inner(x) + poly(x)

    def slope(x):
        return zygote.gradient(outer, x)[0]

    report(lambda x: x * x * 3.0, 1.5)
    report(poly, 0.7)
    report(outer, 0.4)
    report(slope, 0.4)
""")


def test_python_c_reads_the_command_line_and_gets_gradients_loops_and_nested_gradients():
    stdout, _ = run_python("-c", "import zygote\n" + PROGRAM)
    assert_close(results(stdout), 4)


def comment_for(program, statement):
    """The comment generated code carries for ``statement`` of ``program``."""
    line = [s.strip() for s in program.splitlines()].index(statement) + 1
    return f"# line {line}: {statement}"


def test_python_c_adjoint_source_quotes_the_command_text():
    program = "import zygote\n" + PROGRAM + "\nprint(zygote.adjoint_source(poly, 0.7))\n"
    stdout, _ = run_python("-c", program)
    assert comment_for(program, "total = total + x ** k / k  # the sum") in stdout


def test_a_script_piped_to_python_dash_is_lifted_from_its_bytecode():
    program = "import zygote\n" + PROGRAM + "\nprint(zygote.adjoint_source(poly, 0.7))\n"
    stdout, _ = run_python("-", stdin=program)
    assert_close(results(stdout), 4)
    # The lifted statement, rendered as text (the comment in the script is gone with it).
    assert comment_for(program, "total = total + x ** k / k  # the sum").split("  #")[0] in stdout


def test_the_interactive_interpreter_driven_through_stdin():
    session = textwrap.dedent("""\
        import zygote, math
        def report(f, x, h=1e-6):
            (dx,) = zygote.gradient(f, x)
            print("RESULT", repr(float(dx)), repr((f(x + h) - f(x - h)) / (2 * h)))

        def f(x):
            y = x
            for i in range(3):
                y = math.sin(y) + x * i
            return y

        report(f, 0.3)
        report(lambda x: f(x) * x, 0.3)
        report(lambda x: zygote.gradient(f, x)[0], 0.3)
        """)
    stdout, _ = run_python("-i", "-q", stdin=session)
    assert_close(results(stdout), 3)


def test_exec_inside_python_c_is_told_apart_from_the_command_by_its_bytecode():
    # Both definitions are `f` at line 2 of "<string>": only the bytecode says which one runs.
    program = REPORT + textwrap.dedent("""
        namespace = {}
        exec("import math\\ndef f(x):\\n    return math.exp(x) * 2.0", namespace)
        report(namespace["f"], 0.5)
    """)
    stdout, _ = run_python("-c", "def f(x):\n    return x\n" + program)
    ((gradient, difference),) = results(stdout)
    np.testing.assert_allclose([gradient, difference], 2.0 * np.exp(0.5), rtol=1e-6)


def test_a_traceback_from_lifted_code_points_at_the_users_line():
    program = textwrap.dedent("""\
        import math, zygote
        def f(x):
            y = x * 2.0
            return math.log(y)
        zygote.gradient(f, -1.0)
        """)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-"], input=program, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert 'File "<stdin>", line 4, in f' in done.stderr
    assert "ValueError: math domain error" in done.stderr


def test_ipython_cells_are_read_from_its_cell_cache():
    pytest.importorskip("IPython")
    program = REPORT + textwrap.dedent("""
        import math
        def f(x):
            return math.tanh(x) * x
        report(f, 0.8)
        print("LINES", zygote.adjoint_source(f, 0.8).count("# line"))
    """)
    stdout, _ = run_python("-m", "IPython", "--quick", "--no-banner", "--colors=NoColor", "-c",
                           "import zygote\n" + program)
    assert_close(results(stdout), 1)
    assert "LINES 1" in stdout


# -- exec and edited files, in this process ------------------------------------------------


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_exec_of_two_functions_that_call_each_other():
    source = textwrap.dedent("""
        import math

        def even_part(x, n):
            if n == 0:
                return math.cos(x)
            return x * odd_part(x, n - 1)

        def odd_part(x, n):
            if n == 0:
                return math.sin(x)
            return even_part(x, n - 1) + x
    """)
    namespace = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    f = namespace["even_part"]
    for n in (0, 3, 4):
        (dx, dn) = zygote.gradient(f, 0.6, n)
        np.testing.assert_allclose(dx, central(lambda x: f(x, n), 0.6), rtol=1e-6)
        assert dn is None
    assert zygote.gradient(f, 0.6, 3)[0] == zygote.gradient(f, 0.6, 3)[0]


def test_a_closure_with_defaults_and_globals_made_by_exec():
    source = textwrap.dedent("""
        import numpy as np
        SCALE = 3.0

        def make(w, power=2):
            def model(x, shift=0.5):
                return SCALE * np.sum(np.sin(w * x + shift) ** power)
            return model
    """)
    namespace = {}
    exec(source, namespace)
    model = namespace["make"](np.array([0.5, -1.0, 2.0]))
    x = np.array([0.3, 0.1, -0.4])
    (dx,) = zygote.gradient(model, x)
    expected = [central(lambda t: model(np.where(np.arange(3) == k, t, x)), x[k]) for k in range(3)]
    np.testing.assert_allclose(dx, expected, rtol=1e-6)
    namespace["SCALE"] = -1.0  # a global rebinding reaches the lifted code as it would the original
    np.testing.assert_allclose(zygote.gradient(model, x)[0], -np.array(expected) / 3.0, rtol=1e-6)


def test_a_module_edited_after_import_is_differentiated_as_it_runs(tmp_path):
    path = tmp_path / "edited_after_import.py"
    path.write_text("def f(x):\n    return x * x * x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import edited_after_import as module
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("edited_after_import", None)
    path.write_text("def f(x):\n    return x + 100.0 * x\n")
    os.utime(path, (1, 1))  # a new modification time, so linecache sees the new text
    (dx,) = zygote.gradient(module.f, 2.0)
    assert dx == pytest.approx(12.0)  # 3 x**2 from the code that runs, not 101 from the file
    assert module.f(2.0) == 8.0
