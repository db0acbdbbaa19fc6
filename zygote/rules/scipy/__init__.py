"""Rules for scipy, each part registered once that part of scipy has been imported.

Importing ``scipy.stats`` or ``scipy.signal`` takes longer than importing zygote, so zygote
imports none of scipy itself: the rules for ``scipy.special`` register right after the
program's own ``import scipy.special`` has run (at once, if it ran before zygote's import).
Without scipy installed none of the rule modules here is ever imported.
"""
import importlib
import importlib.abc
import sys

# The scipy modules that have rules, and the module of this package holding them.
COVERED = {"scipy.special": "special", "scipy.stats": "stats", "scipy.linalg": "linalg",
           "scipy.signal": "signal"}


def register_imported():
    """Register the rules of every covered scipy module that is already imported."""
    for name, part in COVERED.items():
        if name in sys.modules:
            importlib.import_module(f"{__name__}.{part}")


class RegisterAfterImport(importlib.abc.MetaPathFinder):
    """An import hook that finds nothing itself: it hands a covered scipy module's import to
    the other finders and registers the module's rules once its code has run."""

    def find_spec(self, fullname, path, target=None):
        part = COVERED.get(fullname)
        if part is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _RegisteringLoader(spec.loader, f"{__name__}.{part}")
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    """Runs a module with its own loader, puts that loader back, then imports its rules."""

    def __init__(self, loader, rules_module):
        self.loader = loader
        self.rules_module = rules_module

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        module.__loader__ = self.loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        importlib.import_module(self.rules_module)

    def __getattr__(self, name):  # resource readers and the like: the real loader's
        if name == "loader":  # not set yet (a copy being made): no real loader to ask
            raise AttributeError(name)
        return getattr(self.loader, name)


def install():
    """Register the rules for what is imported now, and for the rest when it is imported."""
    if not any(isinstance(finder, RegisterAfterImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, RegisterAfterImport())
    register_imported()
