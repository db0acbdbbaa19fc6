"""Every ```python block in docs/*.md runs, so the guide cannot drift away from the code.

The blocks of one Markdown file run in order in one shared namespace, as a reader would
type them. Two HTML comments, on the line before a fence, change that:

- ``<!-- skip -->`` before a Python block: shown, not run (the 20-epoch training, the
  benchmark suite). The block must say why in a comment.
- ``<!-- output -->`` before a ``text`` block: it must equal what the Python block just
  before it printed (trailing spaces ignored), so pasted output such as
  ``zygote.adjoint_source`` stays exact.

Output written as ``# -> value`` comments is for the reader and is not compared; ``assert``
statements in a block are checks.

zygote reads a function's source through ``linecache``, so code ``exec``-ed from a string
could not be differentiated. Each block is therefore registered in ``linecache`` under its
own name, ``<page>.md[line N]`` (N is the fence's line in the page), and compiled with that
name: its functions and lambdas can be differentiated, line numbers inside it start at 1
exactly as if the reader had saved the block as a script, and a traceback names the page
and block.
"""
import contextlib
import inspect
import io
import linecache
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^( *)```\s*([\w+-]*)\s*$")  # may be indented, inside a list item
SKIP, OUTPUT = "<!-- skip -->", "<!-- output -->"
LINK = re.compile(r"\]\(([^)\s]+)\)")
# Written by `python -m benchmarks`, so absent from a checkout until the suite has run.
GENERATED = ("benchmarks/RESULTS.md", "benchmarks/charts/")


class Block:
    """A fenced code block: language, fence line (1-based), code lines, and the mark above it."""

    def __init__(self, language, fence_line, lines, mark):
        self.language, self.fence_line, self.lines, self.mark = language, fence_line, lines, mark

    @property
    def runs(self):
        return self.language == "python" and self.mark != SKIP


def blocks(path):
    """The fenced code blocks of the Markdown file ``path``, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{path.name}:{i + 1}: code fence never closed")
        before = [line.strip() for line in lines[:i] if line.strip()]
        mark = before[-1] if before and before[-1] in (SKIP, OUTPUT) else None
        indent = len(match.group(1))
        code = [line[indent:] if line.startswith(" " * indent) else line.lstrip()
                for line in lines[i + 1:end]]
        found.append(Block(match.group(2), i + 1, code, mark))
        i = end + 1
    return found


def run_block(block, filename, namespace):
    """Compile ``block`` under ``filename`` (registered in linecache), run it, return its stdout."""
    source = "\n".join(block.lines) + "\n"
    # mtime None: linecache.checkcache keeps this entry rather than looking for a file.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 -- the docs' own code
    return printed.getvalue()


def run_markdown(path):
    """Run the Python blocks of ``path`` in order in one namespace, checking marked output.

    Rules that the page's own code registers (``@zygote.adjoint(np.linalg.inv)``) are
    withdrawn afterwards, so that pages and the rest of the test suite do not see each
    other's rules; rules registered by modules the page imports stay.
    """
    from zygote import rules
    namespace = {"__name__": f"docs_{path.stem.replace('-', '_')}"}
    registries = [(registry, dict(registry)) for registry in (rules.RULES, rules.METHOD_RULES)]
    registered = []
    printed = None
    try:
        for block in blocks(path):
            if block.runs:
                filename = f"{path.name}[line {block.fence_line}]"
                registered.append(filename)
                printed = run_block(block, filename, namespace)
            elif block.mark == OUTPUT:
                assert printed is not None, f"{path.name}:{block.fence_line}: output without code"
                shown = [line.rstrip() for line in block.lines]
                actual = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
                assert actual == shown, (
                    f"{path.name}:{block.fence_line}: the block above printed\n"
                    + "\n".join(actual) + "\n(paste it into the page if the change is intended)")
    finally:
        for filename in registered:
            linecache.cache.pop(filename, None)
        for registry, saved in registries:
            for key, rule in list(registry.items()):
                if saved.get(key) is not rule and defined_in(rule, registered):
                    if key in saved:
                        registry[key] = saved[key]
                    else:
                        del registry[key]
    return namespace


def defined_in(rule, filenames):
    """Whether ``rule`` (its pullback, or the function a nograd rule names) comes from ``filenames``."""
    source = inspect.unwrap(rule.impl) if rule.impl is not None else rule.fn
    code = getattr(source, "__code__", None)
    return code is not None and code.co_filename in filenames


PAGES = sorted(DOCS.glob("*.md"))
# A page about an extra runs where that extra is installed (the test extra installs it).
NEEDS = {"scipy.md": "scipy"}


def test_docs_exist():
    assert {p.name for p in PAGES} >= {"index.md", "getting-started.md", "troubleshooting.md"}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_code_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # whatever a block writes lands in a scratch directory
    if page.name in NEEDS:
        pytest.importorskip(NEEDS[page.name])
    run_markdown(page)


def anchors(path):
    """The heading anchors of a Markdown file, as GitHub spells them."""
    found = set()
    in_code = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
        elif not in_code and line.startswith("#"):
            heading = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", heading).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+:", target):
            continue
        relative, _, anchor = target.partition("#")
        resolved = (page.parent / relative).resolve() if relative else page
        name = resolved.relative_to(ROOT).as_posix() if resolved.is_relative_to(ROOT) else target
        if not resolved.exists():
            if not name.startswith(GENERATED):
                broken.append(target)
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(target)
    assert not broken, f"{page.name} links to missing files or headings: {broken}"


def table_rows(text, header, column):
    """(first cell, cell ``column``) of each row of the Markdown table that starts with ``header``."""
    rows = []
    for line in text[text.index(header):].splitlines()[2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append((cells[0], cells[column]))
    return rows


def test_performance_targets_match_the_latest_results():
    """performance.md lists the suite's targets; RESULTS.md (when a run wrote it) has the same."""
    results = ROOT / "benchmarks" / "RESULTS.md"
    if not results.exists():
        pytest.skip("no benchmarks/RESULTS.md: the suite has not run in this checkout")
    page = table_rows((DOCS / "performance.md").read_text(encoding="utf-8"), "| figure | target |", 1)
    latest = table_rows(results.read_text(encoding="utf-8"), "| figure | measured | target |", 2)
    assert page == latest, "copy the targets of benchmarks/RESULTS.md into docs/performance.md"


def test_skipped_blocks_say_why():
    for page in PAGES:
        for block in blocks(page):
            if block.language == "python" and block.mark == SKIP:
                assert any(line.lstrip().startswith("#") for line in block.lines), (
                    f"{page.name}:{block.fence_line}: a skipped block should say why in a comment")
