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

from ..model import Report
from ..units import human_bytes, human_seconds

# One colour per executor, the same in every plot, from matplotlib's default cycle.
COLOURS = {"serial": "#7f7f7f", "threads": "#1f77b4", "processes": "#ff7f0e", "asyncio": "#2ca02c",
           "joblib": "#9467bd", "interpreters": "#8c564b", "dask": "#e377c2"}
FIGSIZE = (7.0, 3.6)  # inches: wide enough for a laptop column, short enough to fit a printed page twice


def speedup_series(report: Report) -> dict[str, list[tuple[int, float]]]:
    """executor -> [(workers, best speedup over its chunk sizes)], serial left out (it is the 1x line)."""
    best: dict[str, dict[int, float]] = {}
    for t in report.trials:
        if t.ok and t.speedup and t.executor != "serial":
            per = best.setdefault(t.executor, {})
            per[t.workers] = max(per.get(t.workers, 0.0), t.speedup)
    return {executor: sorted(per.items()) for executor, per in best.items()}


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
    workers = sorted({w for points in series.values() for w, _ in points} | {1, usable})
    fig, ax = _figure()
    ax.plot(workers, workers, "--", color="#999999", label="ideal (linear)")
    ax.axhline(1.0, color=COLOURS["serial"], linewidth=1, linestyle=":", label="serial (1x)")
    ax.axvline(usable, color="#d62728", linewidth=1.5, linestyle="-.", label=f"usable CPUs ({usable})")
    for executor, points in series.items():
        xs, ys = zip(*points, strict=True)
        ax.plot(xs, ys, marker="o", color=COLOURS.get(executor), label=executor)
    rec = report.recommendation
    if rec.executor != "serial":
            # A hollow ring, so the measured point it marks stays visible inside it.
        ax.plot([rec.workers], [rec.expected_speedup], marker="o", markersize=16, linestyle="none",
                markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5, label="advice")
    best = max(s for points in series.values() for _, s in points)
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
