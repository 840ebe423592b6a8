"""The HTML report's plots, drawn by matplotlib as inline SVG text.

matplotlib is imported inside the functions (it costs a noticeable fraction of a second)
so ``import advisor`` stays cheap. Figures are built with ``matplotlib.figure.Figure``
rather than pyplot: no global figure list to leak and no GUI backend to choose, which
is what ``matplotlib.use("Agg")`` would otherwise be for. The series are computed by
plain functions so tests can check them without drawing anything.
"""
from __future__ import annotations

import io
from typing import Any, Callable, Optional

from ..executors import REGISTRY
from ..model import Report
from ..units import human_bytes, human_seconds

# One colour per executor, the same in every plot, from matplotlib's default cycle.
COLOURS = {n: e.colour for n, e in REGISTRY.items()}
# One colour per part of a trial's time, the same in every report: the overheads in warm
# colours, the useful work in blue, what the model cannot explain in grey.
PART_COLOURS = {"startup": "#d62728", "dispatch": "#ff9f1c", "transfer": "#e8c547", "compute": "#1f77b4",
                "imbalance": "#b0b0b0"}
FIGSIZE = (7.0, 3.6)  # inches: wide enough for a laptop column, short enough to fit a printed page twice


def speedup_series(report: Report) -> dict[str, list[tuple[int, float]]]:
    """executor -> [(workers, best speedup over its chunk sizes)], serial left out (it is the 1x line)."""
    best: dict[str, dict[int, float]] = {}
    for t in report.trials:
        if t.ok and t.speedup and t.executor != "serial":
            per = best.setdefault(t.executor, {})
            per[t.workers] = max(per.get(t.workers, 0.0), t.speedup)
    return {executor: sorted(per.items()) for executor, per in best.items()}


def fit_series(report: Report) -> dict[str, list[tuple[int, float]]]:
    """executor -> [(workers, speedup the fitted USL curve predicts)], for executors with a fit.

    Runs to the larger of the usable CPU count and the executor's largest measured pool,
    as far as the fit in the report goes.
    """
    series: dict[str, list[tuple[int, float]]] = {}
    measured = speedup_series(report)
    for executor, fit in report.scaling.items():
        if not isinstance(fit, dict) or not fit.get("predicted"):
            continue
        reach = max([report.machine.usable_cpus] + [w for w, _ in measured.get(executor, [])])
        points = sorted((int(w), float(s)) for w, s in fit["predicted"].items() if int(w) <= reach)
        if len(points) >= 2:
            series[executor] = points
    return series


def chunk_series(report: Report) -> dict[str, list[tuple[int, float]]]:
    """Pool label -> [(chunksize, seconds)] for the process-pool trials that finished.

    One line per worker count and start method: pools that differ in either are
    different configurations, and mixing them would zigzag one line.
    """
    series: dict[tuple[int, str], list[tuple[int, float]]] = {}
    for t in report.trials:
        if t.executor == "processes" and t.ok and t.seconds is not None:
            series.setdefault((t.workers, t.start_method or "fork"), []).append((t.chunksize or 1, t.seconds))
    return {f"processes {w}w" + ("" if method == "fork" else f" ({method})"): sorted(points)
            for (w, method), points in sorted(series.items())}


def cache_bars(report: Report) -> list[tuple[str, int]]:
    c = report.machine.caches
    return [("L1d", c.l1d_bytes), ("L2", c.l2_bytes), ("L3", c.l3_bytes),
            ("working set", report.data.working_set_bytes)]


def to_svg(fig: Any, salt: str) -> str:
    """The figure as an <svg> element: no XML prolog, no metadata, stable ids."""
    import matplotlib

    buffer = io.StringIO()
    # A salt per plot makes ids repeatable across runs yet distinct between the plots
    # that share one HTML page.
    with matplotlib.rc_context({"svg.hashsalt": salt}):
        fig.savefig(buffer, format="svg", bbox_inches="tight",
                    metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buffer.getvalue()
    return text[text.index("<svg"):].strip()


def _figure() -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGSIZE, layout="constrained")
    fig.set_facecolor("white")
    return fig, fig.add_subplot()


def _log2_ticks(ax: Any, values: list[int], axis: str = "x") -> None:
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    ticks = sorted(set(values))
    target = ax.xaxis if axis == "x" else ax.yaxis
    getattr(ax, f"set_{axis}scale")("log", base=2)
    target.set_ticks(ticks)
    target.set_major_formatter(ScalarFormatter())
    target.set_minor_formatter(NullFormatter())


def _legend(ax: Any) -> None:
    # Outside the axes, to the right: inside, it hides whichever points land in its corner.
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small", frameon=False)


def _draw_speedup(report: Report) -> Any:
    series = speedup_series(report)
    if not series:
        return None
    usable = report.machine.usable_cpus
    what_if = report.what_if if report.what_if.get("executor") not in (None, "serial") else {}
    workers = sorted({w for points in series.values() for w, _ in points} | {1, usable}
                     | ({int(what_if["workers"])} if what_if else set()))
    fits = fit_series(report)
    fig, ax = _figure()
    # Thin and solid, so it does not read as one of the dashed fitted curves.
    ax.plot(workers, workers, "-", color="#bbbbbb", linewidth=1, label="ideal (linear)")
    ax.axhline(1.0, color=COLOURS["serial"], linewidth=1, linestyle=":", label="serial (1x)")
    ax.axvline(usable, color="#d62728", linewidth=1.5, linestyle="-.", label=f"usable CPUs ({usable})")
    for executor, points in series.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", color=COLOURS.get(executor), label=executor)
    for executor, points in fits.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, linestyle=(0, (4, 3)), linewidth=1.5, color=COLOURS.get(executor),
                label=f"{executor} (USL fit)")
    rec = report.recommendation
    if rec.executor != "serial":
        # A hollow ring, so the measured point it marks stays visible inside it.
        ax.plot([rec.workers], [rec.expected_speedup], marker="o", markersize=16, linestyle="none",
                markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5, label="advice")
    if what_if:
        # The prediction for another machine, with its band, where the x axis reaches its workers.
        low, mid, high = what_if["low"], what_if["predicted_speedup"], what_if["high"]
        ax.errorbar([what_if["workers"]], [mid], yerr=[[max(0.0, mid - low)], [max(0.0, high - mid)]], fmt="D",
                    color=COLOURS.get(what_if["executor"]), capsize=4,
                    label=f"predicted on {what_if['cpus']} CPUs ({what_if['executor']})")
    best = max([s for points in [*series.values(), *fits.values()] for _, s in points]
               + ([what_if["high"]] if what_if else []))
    # The ideal line would dwarf the measurements if the axis followed it to the largest pool.
    ax.set_ylim(0, max(best, usable, 1.0) * 1.3)
    _log2_ticks(ax, workers)
    ax.set_xlim(workers[0] / 1.2, workers[-1] * 1.2)  # points at the ends stay off the frame
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup vs serial")
    ax.grid(True, alpha=0.3)
    _legend(ax)
    return fig


def _draw_chunks(report: Report) -> Any:
    series = chunk_series(report)
    chunks = sorted({c for points in series.values() for c, _ in points})
    if len(chunks) < 2:
        return None
    from matplotlib.ticker import FuncFormatter

    fig, ax = _figure()
    serial = next((t.seconds for t in report.trials if t.executor == "serial" and t.ok and t.seconds), None)
    if serial:
        ax.axhline(serial, color=COLOURS["serial"], linestyle=":", label=f"serial ({human_seconds(serial)})")
    shades = ("#ff7f0e", "#d95f02", "#a63603", "#fdae6b", "#7f2704")
    for i, (label, points) in enumerate(series.items()):
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", color=shades[i % len(shades)], label=label)
    _log2_ticks(ax, chunks)
    highest = max([s for points in series.values() for _, s in points] + [serial or 0.0])
    ax.set_ylim(0, highest * 1.15)  # headroom so the serial line is not drawn on the frame
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: human_seconds(v) if v > 0 else "0"))
    ax.set_xlabel("chunk size (items per task)")
    ax.set_ylabel("time for all calls")
    ax.grid(True, alpha=0.3)
    _legend(ax)
    return fig


def _draw_caches(report: Report) -> Any:
    bars = cache_bars(report)
    labels = [label for label, _ in bars]
    sizes = [max(size, 1) for _, size in bars]  # a log axis cannot show zero bytes
    colours = ["#9ecae1"] * 3 + [COLOURS["processes"]]
    fig, ax = _figure()
    ax.barh(labels, sizes, color=colours)
    ax.set_xscale("log", base=2)
    for y, size in enumerate(sizes):
        ax.annotate(human_bytes(size), (size, y), xytext=(4, 0), textcoords="offset points", va="center")
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    # Room for the label past the longest bar; start a little below the smallest bar.
    low, top = max(1.0, min(sizes) / 8), max(sizes) * 16
    ax.set_xlim(low, top)
    # Ticks every 32x fall on 1 B, 32 B, 1 KiB, 32 KiB, 1 MiB...: round numbers in binary units.
    ax.xaxis.set_major_locator(FixedLocator([2.0 ** k for k in range(0, 50, 5) if low <= 2.0 ** k <= top]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: human_bytes(v).replace(".0 ", " ")))
    ax.axvline(sizes[-1], color=COLOURS["processes"], linestyle="--", linewidth=1)
    ax.invert_yaxis()  # smallest cache on top, reading down like the hierarchy
    ax.set_xlabel("bytes (log scale)")
    ax.grid(True, axis="x", alpha=0.3)
    return fig


def _seconds_tick(seconds: float) -> str:
    """A short axis label: round tick values need no trailing zeros ("200 ms", "1.2 s")."""
    if seconds <= 0:
        return "0"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds * 1e9:.3g} ns"


def _draw_breakdown(report: Report) -> Any:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from .facts import BREAKDOWN_PARTS, breakdown_label, breakdown_trials, is_choice

    pairs = breakdown_trials(report)
    if not pairs:
        return None
    rec = report.recommendation
    fig, ax = _figure()
    fig.set_size_inches(FIGSIZE[0], 1.4 + 0.36 * len(pairs))
    rows = list(range(len(pairs)))
    left = [0.0] * len(pairs)
    for key, label in BREAKDOWN_PARTS:
        widths = [parts.get(key, 0.0) for _, parts in pairs]
        ax.barh(rows, widths, left=left, height=0.62, color=PART_COLOURS[key], label=label,
                edgecolor="white", linewidth=0.5)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    for y, (t, _) in enumerate(pairs):  # the measured time past the end of each bar
        end = max(left[y], t.seconds or 0.0)
        ax.annotate(human_seconds(t.seconds or 0.0), (end, y), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize="small", color="#444444")
    ax.set_yticks(rows, [breakdown_label(t, rec).replace(" ◀ advice", "") for t, _ in pairs])
    for tick, (t, _) in zip(ax.get_yticklabels(), pairs, strict=True):
        if is_choice(t, rec):
            tick.set_fontweight("bold")
    ax.invert_yaxis()  # fastest on top, as in the table
    ax.set_xlim(0, max(left + [t.seconds or 0.0 for t, _ in pairs]) * 1.18)  # room for the labels
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: _seconds_tick(v)))
    ax.set_xlabel("time for all calls (modelled split of the measured time)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    # Above the bars, in one row in stacking order: the bars need the width more than a side legend.
    fig.legend(loc="outside upper center", ncols=len(BREAKDOWN_PARTS), fontsize="small", frameon=False,
               handlelength=1.2, columnspacing=1.2)
    return fig


def _render(name: str, draw: Callable[[Report], Any], report: Report) -> Optional[str]:
    import matplotlib

    # Text a little larger than matplotlib's 10 pt, as the SVG is scaled down to the page
    # column; rc settings apply when artists are created, so the context spans the drawing.
    with matplotlib.rc_context({"font.size": 11, "legend.fontsize": 10}):
        fig = draw(report)
        return None if fig is None else to_svg(fig, name)


def speedup_plot(report: Report) -> Optional[str]:
    """Speedup by worker count, one line per executor; None when nothing finished."""
    return _render("speedup", _draw_speedup, report)


def chunk_plot(report: Report) -> Optional[str]:
    """Process-pool time by chunk size; None unless two or more chunk sizes finished."""
    return _render("chunks", _draw_chunks, report)


def cache_plot(report: Report) -> Optional[str]:
    """Working set against the per-core caches."""
    return _render("caches", _draw_caches, report)


def breakdown_plot(report: Report) -> Optional[str]:
    """Stacked bars of where each of the fastest trials' time goes; None without a breakdown."""
    return _render("breakdown", _draw_breakdown, report)
