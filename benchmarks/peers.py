"""The peer frameworks, imported on first use under the suite's thread limits, or the reason one is missing.

A peer that is not installed, or fails to import, raises `harness.Missing` with the reason
each time it is asked for; the case that wanted it reports the cell as missing and goes on.
None of these packages is a dependency of zygote or flux: they come with ``.[bench]``.
"""

import importlib
import types

from .harness import Missing, apply_thread_limits

_LOADED = {}

# The numpy names the benchmark functions use; torch spells max over an axis ``amax``.
_TORCH_NAMES = ("sin", "cos", "exp", "log", "sqrt", "tanh", "sum")


def load(name):
    """The module of peer ``name`` (autograd, jax, torch, tangent), imported once."""
    if name not in _LOADED:
        try:
            _LOADED[name] = _import(name)
        except Exception as error:  # noqa: BLE001 -- any import failure makes it missing
            _LOADED[name] = Missing(f"{name} does not import ({type(error).__name__}: "
                                    f"{str(error).splitlines()[0] if str(error) else ''})")
        apply_thread_limits()
    loaded = _LOADED[name]
    if isinstance(loaded, Missing):
        raise loaded
    return loaded


def available(name):
    """Whether peer ``name`` imports."""
    try:
        load(name)
    except Missing:
        return False
    return True


def _import(name):
    if name == "autograd":
        module = importlib.import_module("autograd")
        importlib.import_module("autograd.numpy")
        return module
    if name == "jax":
        module = importlib.import_module("jax")
        module.config.update("jax_enable_x64", True)  # float64 like numpy; float32 stays float32
        importlib.import_module("jax.numpy")
        return module
    if name == "torch":
        import os
        module = importlib.import_module("torch")
        threads = int(os.environ.get("BENCH_THREADS", "1"))
        module.set_num_threads(threads)
        try:
            module.set_num_interop_threads(threads)
        except RuntimeError:  # only allowed before torch's first parallel work
            pass
        return module
    if name == "tangent":
        return importlib.import_module("tangent")
    raise Missing(f"unknown peer {name!r}")


def maths(framework):
    """The ``m`` that the benchmark functions call for ``framework`` (see `functions`)."""
    if framework in ("math",):
        import math
        return math
    if framework in ("numpy", "tangent"):
        import numpy
        return numpy
    if framework == "autograd":
        load("autograd")
        return importlib.import_module("autograd.numpy")
    if framework == "jax":
        load("jax")
        return importlib.import_module("jax.numpy")
    if framework == "torch":
        torch = load("torch")
        return types.SimpleNamespace(max=torch.amax,
                                     **{name: getattr(torch, name) for name in _TORCH_NAMES})
    raise ValueError(f"no maths module for {framework!r}")
