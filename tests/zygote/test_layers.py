"""zygote's import layering: the import-linter contracts in pyproject.toml hold, every module has
its place in them, and no package of the project has an import cycle."""
import pathlib
import pkgutil
import tomllib

import grimp
from importlinter import cli

import zygote

ROOT = pathlib.Path(__file__).resolve().parents[2]
CONFIG = ROOT / "pyproject.toml"


def contracts():
    return tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]


def test_import_contracts_hold(capsys):
    status = cli.lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == 0, report


def test_every_module_of_zygote_has_a_layer():
    layered = next(c for c in contracts() if c["type"] == "layers" and c["containers"] == ["zygote"])
    named = {part.strip() for layer in layered["layers"] for part in layer.split("|")}
    modules = {info.name for info in pkgutil.iter_modules(zygote.__path__)}
    assert modules == named, f"not in a layer: {sorted(modules - named)}; gone: {sorted(named - modules)}"


def cycles(graph):
    """The strongly connected components of more than one module in an import graph (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(module):
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    for package in ("zygote", "flux"):
        graph = grimp.build_graph(package, include_external_packages=False, cache_dir=None)
        assert cycles(graph) == [], f"import cycles in {package}"


def test_the_cycle_finder_finds_a_cycle():
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")):
        graph.add_import(importer=importer, imported=imported)
    assert cycles(graph) == [["a", "b", "c"]]
