"""The report: case results rendered as Markdown tables in RESULTS.md and as PNG charts.

Each case returns a `Section`: tables of formatted cells, the bars for its chart, and the
targets it checks. Empty cells carry a footnote saying why (missing peer, feature not
available, failure, wrong gradient), so the tables stay narrow and nothing is silently
left out.
"""

import json
import math
import time
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path

from .harness import Measurement, Ratio, Skipped

CHART_DIR = "charts"
# One colour per contestant, the same in every chart (matplotlib's default cycle).
COLOURS = {name: f"C{i}" for i, name in enumerate(
    ("function", "hand-written", "tangent", "autograd", "jax", "jax.jit", "torch"))}


@dataclass
class Table:
    title: str
    columns: list
    rows: list
    notes: list = field(default_factory=list)


@dataclass
class Bar:
    """One bar of a chart: ``group`` on the x axis, ``series`` in the legend."""

    group: str
    series: str
    value: float
    low: float
    high: float


@dataclass
class Target:
    """A figure with a bound, e.g. "gradient / function call <= 4x"."""

    figure: str
    value: float = None
    bound: float = None
    relation: str = "<="
    unit: str = "x"
    why_missing: str = ""

    @property
    def met(self):
        if self.value is None:
            return None
        return self.value <= self.bound if self.relation == "<=" else self.value >= self.bound


@dataclass
class Section:
    key: str
    title: str
    intro: str = ""
    tables: list = field(default_factory=list)
    bars: list = field(default_factory=list)
    chart: str = "ratios"      # "ratios": ours / peer, log scale; "seconds": plain values
    chart_label: str = ""
    targets: list = field(default_factory=list)
    summary: dict = field(default_factory=dict)   # peer -> geometric-mean ratio
    text: str = ""
    data: dict = field(default_factory=dict)
    error: str = ""


# -- formatting ------------------------------------------------------------------------------


def seconds(value):
    """``value`` seconds with a unit and three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if value >= scale or unit == "ns":
            return f"{value / scale:.3g} {unit}"


def size(value):
    """``value`` bytes in MiB, or KiB below one MiB."""
    if abs(value) < 2**20:
        return f"{value / 2**10:.0f} KiB"
    return f"{value / 2**20:.3g} MiB" if abs(value) < 1000 * 2**20 else f"{value / 2**20:.0f} MiB"


def times(value):
    """A ratio: ``2.5x``, or ``1/40`` below 0.1 (zygote forty times faster)."""
    if value < 0.1:
        return f"1/{1 / value:.3g}" if 1 / value < 1000 else f"1/{1 / value:.0f}"
    return f"{value:.3g}x" if value < 100 else f"{value:.0f}x"


def measurement(cell, footnotes, unit=seconds):
    """A table cell: median (min–max), or the kind of skip with a footnote."""
    if isinstance(cell, Measurement):
        if len(cell.samples) == 1:
            return unit(cell.median)
        return f"{unit(cell.median)} ({unit(cell.low)}–{unit(cell.high)})"
    if isinstance(cell, Skipped):
        return f"{cell.kind} {footnotes.mark(cell)}"
    return "—"


def ratio_cell(value):
    if not isinstance(value, Ratio):
        return "—"
    if value.low == value.high:
        return times(value.median)
    return f"{times(value.median)} ({times(value.low)}–{times(value.high)})"


class Footnotes:
    """Numbered reasons for empty cells, one number per distinct reason."""

    def __init__(self):
        self.reasons = {}

    def mark(self, skipped):
        text = str(skipped)
        if text not in self.reasons:
            self.reasons[text] = len(self.reasons) + 1
        return f"[{self.reasons[text]}]"

    def lines(self):
        return [f"[{n}] {text}" for text, n in self.reasons.items()]


def timing_table(title, rows, columns, unit=seconds):
    """Rows of `contestants.Row` as a table, one column per contestant present in any row."""
    present = [c for c in columns if any(c in row.cells for row in rows)]
    notes = Footnotes()
    body = [[row.label] + [measurement(row.cells.get(c), notes, unit) if c in row.cells
                           else "—" for c in present] for row in rows]
    return Table(title, ["benchmark"] + present, body, notes.lines())


def ratio_table(title, rows, ours="zygote", exclude=()):
    """zygote's time over each peer's, per row (below 1, or 1/N: zygote is faster)."""
    peers = []
    for row in rows:
        for name in row.cells:
            if name != ours and name not in peers and name not in exclude:
                peers.append(name)
    body = [[row.label] + [ratio_cell(row.ratios(ours).get(p)) for p in peers] for row in rows]
    return Table(title, ["benchmark"] + [f"÷ {p}" for p in peers], body)


def ratio_bars(rows, ours="zygote", exclude=()):
    bars = []
    for row in rows:
        for peer, value in row.ratios(ours).items():
            if isinstance(value, Ratio) and peer not in exclude:
                bars.append(Bar(row.label, f"{ours} ÷ {peer}", value.median, value.low,
                                value.high))
    return bars


def summary(rows, exclude=()):
    """Per peer, the geometric mean over ``rows`` of zygote's ratio to it (rows where both ran)."""
    logs = {}
    for row in rows:
        for peer, value in row.ratios().items():
            if isinstance(value, Ratio) and peer not in exclude:
                logs.setdefault(peer, []).append(math.log(value.median))
    return {peer: math.exp(sum(values) / len(values)) for peer, values in logs.items()}


def timed_section(key, title, intro, rows, columns, targets):
    """A section of gradient timings: the times, zygote's ratios to each peer, bars and summary."""
    return Section(
        key=key, title=title, intro=intro,
        tables=[timing_table("Time per gradient call", rows, columns),
                ratio_table("zygote ÷ peer", rows)],
        bars=ratio_bars(rows), targets=targets, summary=summary(rows), data={"rows": rows})


SUMMARY_COLUMNS = ("function", "hand-written", "tangent", "autograd", "jax", "jax.jit", "torch")


def summary_table(sections):
    rows = [[s.title] + [times(s.summary[p]) if p in s.summary else "—" for p in SUMMARY_COLUMNS]
            for s in sections if s.summary]
    return Table("", ["case"] + [f"÷ {p}" for p in SUMMARY_COLUMNS], rows)


# -- Markdown --------------------------------------------------------------------------------


def markdown_table(table):
    lines = []
    if table.title:
        lines += [f"**{table.title}**", ""]
    lines.append("| " + " | ".join(table.columns) + " |")
    lines.append("|" + "|".join(["---"] + ["--:"] * (len(table.columns) - 1)) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    if table.notes:
        lines += [""] + [f"<sub>{note}</sub><br>" for note in table.notes]
    return "\n".join(lines)


def target_row(target):
    if target.value is None:
        measured, verdict = f"— ({target.why_missing})" if target.why_missing else "—", "n/a"
    else:
        measured = (times(target.value) if target.unit == "x"
                    else f"{target.value:.3g} {target.unit}")
        verdict = "yes" if target.met else "**no**"
    bound = (f"{target.relation} {times(target.bound)}" if target.unit == "x"
             else f"{target.relation} {target.bound:g} {target.unit}")
    return [target.figure, measured, bound, verdict]


def render(sections, machine, settings, elapsed, started, charts=()):
    """RESULTS.md as text; ``charts`` are the keys of the sections whose chart was drawn."""
    out = ["# Benchmarks", ""]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(started))
    out.append(f"Generated by `python -m benchmarks{' --quick' if settings.quick else ''}` on "
               f"{when} in {elapsed:.0f} s, {settings.threads} thread(s) for every framework, "
               f"on {machine['cpu']} ({machine['usable cores']} usable cores). Times are "
               f"medians over rounds with the range (min–max) in brackets; a ratio is our "
               f"time divided by the peer's, taken round by round in the same run, so below "
               f"1 means zygote is faster. Machine and method are at the end.")
    out.append("")
    if settings.quick:
        out += ["> **Quick mode**: a smoke test with tiny repeat counts and a 10-batch epoch. "
                "The numbers below say the suite runs, not how fast anything is.", ""]
    load = machine.get("load average")
    if load and machine.get("usable cores") and max(load.get("start", [0])[0],
                                                     load.get("end", [0])[0]) > 0.5:
        out += [f"> Load average {load['start']} at the start and {load['end']} at the end "
                f"on {machine['usable cores']} cores: other work shared the machine, so "
                f"absolute times are noisy; the ratios, taken within each round, much less.",
                ""]
    targets = [t for s in sections for t in s.targets]
    if targets:
        out += ["## Targets", ""]
        out.append(markdown_table(Table("", ["figure", "measured", "target", "met"],
                                        [target_row(t) for t in targets])))
        out.append("")
    if any(s.summary for s in sections):
        out += ["## Headline ratios", "",
                "zygote's time divided by each peer's, the geometric mean over each case's rows "
                "where both ran (for MNIST: flux's epoch over numpy's, torch's and jit-compiled "
                "JAX's). Below 1, or 1/N, zygote is faster.", ""]
        out += [markdown_table(summary_table(sections)), ""]
    for number, section in enumerate(sections, 1):
        out += [f"## {number}. {section.title}", ""]
        if section.intro:
            out += [section.intro, ""]
        if section.error:
            out += [f"This case failed: `{section.error}`", ""]
        for table in section.tables:
            out += [markdown_table(table), ""]
        if section.key in charts:
            out += [f"![{section.title}]({CHART_DIR}/{section.key}.png)", ""]
        if section.text:
            out += [section.text, ""]
    out += ["## Machine", ""]
    out += [f"- **{key}**: {_machine_value(value)}" for key, value in machine.items()]
    out += ["", "## Method", "", METHOD]
    return "\n".join(out) + "\n"


def _machine_value(value):
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return "; ".join(_machine_value(v) for v in value)
    return str(value)


METHOD = """\
- Each row's contestants are built once (imports, conversions of the inputs to the
  framework's arrays, `jax.jit`, `tangent.grad`), their gradients compared with the
  hand-written one (a wrong gradient is reported, not timed), warmed up, and then timed in
  interleaved rounds: every round runs each contestant once, as a loop of calls calibrated
  to last a few milliseconds, with the garbage collector paused.
- Rounds go on until every contestant has had its budget and a minimum number of rounds.
  A ratio is the median of the per-round ratios (range in brackets), so load that hits
  one round hits both sides of the ratio.
- Threads: BLAS/OpenMP variables, `XLA_FLAGS`, `torch.set_num_threads` and threadpoolctl
  all set to the same count for every framework before any of them loads; child
  processes inherit it.
- "function" is the differentiated function's own call; "hand-written" is the limit: the
  forward pass and a hand-derived backward pass in the same dtype and operations
  (`benchmarks/hand.py`). zygote and the function use `math` for scalars and numpy for
  arrays; tangent uses numpy (it has no rules for `math`); autograd, JAX and PyTorch use
  their own numpy-like modules on the same source (`benchmarks/functions.py`).
- Peak memory is `ru_maxrss` of a child process that does one thing; first gradients
  use functions written to fresh files and imported anew, so nothing is cached.
- Regenerate with `python -m benchmarks` (about ten minutes); `--quick` is the CI smoke test.
"""


# -- charts ----------------------------------------------------------------------------------


def draw(section, path):
    """A grouped bar chart of the bars, ratios on a log scale; False without matplotlib."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    groups = list(dict.fromkeys(bar.group for bar in section.bars))
    series = list(dict.fromkeys(bar.series for bar in section.bars))
    width = 0.8 / max(1, len(series))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(groups) + (3.5 if len(series) > 1 else 1)),
                                    4.2))
    for index, name in enumerate(series):
        xs, heights, errors = [], [], [[], []]
        for bar in section.bars:
            if bar.series == name:
                xs.append(groups.index(bar.group) + (index - (len(series) - 1) / 2) * width)
                heights.append(bar.value)
                errors[0].append(max(0.0, bar.value - bar.low))
                errors[1].append(max(0.0, bar.high - bar.value))
        colour = COLOURS.get(name.rpartition("÷ ")[2])
        ax.bar(xs, heights, width, yerr=errors, capsize=2, label=name, color=colour)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups, rotation=20, ha="right", fontsize=8)
    if section.chart == "ratios":
        ax.set_yscale("log")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel(section.chart_label or "time ratio (below 1: zygote faster)")
    else:
        ax.set_ylabel(section.chart_label)
    ax.set_title(section.title, fontsize=10)
    if len(series) > 1:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def _jsonable(value):
    if is_dataclass(value):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return float(f"{value:.4g}")
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def write(sections, machine, settings, out_dir, elapsed, started):
    """Write RESULTS.md, results.json and the charts into ``out_dir``; return RESULTS.md's path."""
    out_dir = Path(out_dir)
    (out_dir / CHART_DIR).mkdir(parents=True, exist_ok=True)
    charts = [s.key for s in sections
              if s.bars and draw(s, out_dir / CHART_DIR / f"{s.key}.png")]
    text = render(sections, machine, settings, elapsed, started, charts)
    if any(s.bars for s in sections) and not charts:
        text += "\nCharts were not drawn: matplotlib is not installed.\n"
    path = out_dir / "RESULTS.md"
    path.write_text(text, encoding="utf-8")
    raw = {"machine": machine, "quick": settings.quick, "threads": settings.threads,
           "elapsed_s": elapsed, "sections": {s.key: {"title": s.title, "data": s.data,
                                                      "targets": s.targets, "error": s.error}
                                              for s in sections}}
    (out_dir / "results.json").write_text(json.dumps(_jsonable(raw), indent=1), "utf-8")
    return path
