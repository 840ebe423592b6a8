"""The terminal report (rich): verdict first, then the numbers behind it."""
from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from ..model import Machine, Recommendation, Report
from ..units import human_bytes, human_seconds
from . import facts
from .advice_words import advice_phrase
from .facts import executor_cell, is_choice, loop_text, projection_note


def verdict_line(rec: Recommendation) -> str:
    if rec.executor == "serial":
        why = rec.reason.removeprefix("Stay serial: ")
        return "paradvise: stay serial. " + why[:1].upper() + why[1:]
    advice = advice_phrase(rec.executor, rec.workers, rec.chunksize, rec.start_method, rec.blas_threads,
                           rec.expected_speedup)
    return f"paradvise: {advice}. {rec.reason}"


def trials_table(report: Report) -> Table:
    table = Table(title="Measured configurations" + facts.measured_calls_note(report), title_justify="left")
    for column in ("executor", "workers", "chunk", "median", "spread", "speedup", "note"):
        table.add_column(column, justify="left" if column in ("executor", "note") else "right")
    ranked = sorted(report.trials, key=lambda t: (not t.ok, t.seconds or 0.0))
    for t in ranked:
        note = "" if t.ok else (t.error or "failed")
        if t.ok and t.results_match is False:
            note = "results differ from serial"
        if is_choice(t, report.recommendation):
            note = "◀ advice"
        if t.ok and projection_note(t):
            note = f"{note} ({projection_note(t)})".strip()
        style = "bold green" if note.startswith("◀") else ("red" if not t.ok else "")
        table.add_row(executor_cell(t), str(t.workers), str(t.chunksize or "-"),
                      human_seconds(t.seconds) if t.seconds is not None else "-",
                      human_seconds(t.spread) if t.ok and len(t.repeats) > 1 else "-",
                      f"{t.speedup:.2f}x" if t.speedup else "-", note, style=style)
    return table


def facts_table(report: Report) -> Table:
    target, cls, data = report.target, report.classification, report.data
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("target", f"{target.name}()  {target.file}:{target.line}  (found by {target.located_by})")
    if loop_text(report):
        table.add_row("loop", loop_text(report))
    table.add_row("calls", f"{target.calls} × {human_seconds(target.per_call_seconds)} median "
                           f"(± {human_seconds(target.per_call_spread_seconds)})")
    table.add_row("verdict", f"{cls.kind}: {cls.explanation}")
    table.add_row("data", f"{human_bytes(data.arg_bytes)} in, {human_bytes(data.result_bytes)} out per call; "
                          f"working set {human_bytes(data.working_set_bytes)} fits in {data.fits_in}")
    if data.items_measured and data.items_measured < data.items:
        table.add_row("sample", f"trials used {data.items_measured} of {data.items} recorded calls (budget)")
    if report.overheads:
        table.add_row("overheads", overheads_line(report.overheads))
    for executor, fit in report.scaling.items():
        table.add_row("scaling", scaling_line(executor, fit))
    if report.dask:
        table.add_row("dask", dask_line(report.dask))
    return table


def dask_line(dask: dict[str, Any]) -> str:
    where = "a local cluster" if dask["scheduler"] == "local" else f"the scheduler at {dask['scheduler']}"
    projection = dask.get("projection")
    if not projection:
        return f"{where}: {dask.get('note', 'nothing measured')}"
    measured = (f"{where} with {dask['workers']} workers: start-up {human_seconds(dask['startup_s'])}, "
                f"shut-down {human_seconds(dask['shutdown_s'])}, {human_seconds(dask['per_task_overhead_s'])} "
                "per task")
    target = f"target {human_seconds(projection['target_seconds'])} ({projection['target_source']})"
    return f"{measured}; {target}: {projection['note']}"


def overheads_line(overheads: dict[str, float]) -> str:
    starts = [f"{k[len('start_'):-len('_s')]} {human_seconds(v)}" for k, v in overheads.items()
              if k.startswith("start_")]
    parts = []
    if starts:
        parts.append("pool start-up " + ", ".join(starts))
    if "process_task_s" in overheads:
        parts.append(f"per task: process {human_seconds(overheads['process_task_s'])}")
    if "thread_task_s" in overheads:
        parts.append(f"thread {human_seconds(overheads['thread_task_s'])}")
    if overheads.get("pickle_bytes_per_s"):
        parts.append(f"pickling {human_bytes(overheads['pickle_bytes_per_s'])}/s")
    return "; ".join(parts)


def scaling_line(executor: str, fit: dict[str, float]) -> str:
    text = (f"{executor}: Amdahl serial fraction {fit['amdahl_serial_fraction']:.2f}, "
            f"USL contention {fit['usl_contention']:.3f}")
    if fit.get("holdout_error") is not None:
        text += f"; predicting the largest worker count from the others was off by {fit['holdout_error']:.0%}"
    return text


def breakdown_line(report: Report) -> str:
    rec = report.recommendation
    for trial, parts in zip(report.trials, report.breakdown):
        if parts and is_choice(trial, rec):
            shown = ", ".join(f"{name} {human_seconds(seconds)}" for name, seconds in parts.items() if seconds > 0)
            return (f"Where the time goes ({trial.label}{facts.measured_calls_note(report)}, modelled from measured "
                    f"overheads): {shown}.")
    return ""


def render(report: Report, console: Console) -> None:
    rec = report.recommendation
    console.print(facts_table(report))
    console.print(trials_table(report))
    for w in report.warnings:
        console.print(f"[yellow]warning[/yellow] [bold]{w.code}[/bold]: {w.message}")
    if report.verification:
        from ..verify import verification_line

        console.print(f"[bold]verified[/bold]: {verification_line(report)}")
    if report.what_if:
        console.print(f"[bold]what-if[/bold]: {facts.what_if_line(report)}")
    title = "stay serial" if rec.executor == "serial" else f"use {rec.executor}"
    where = breakdown_line(report)
    body = Group(Text(rec.reason + (f"\n{where}" if where else "")), Text(""), Syntax(report.code, "python", theme="ansi_dark", word_wrap=True))
    console.print(Panel(body, title=f"paradvise: {title}", border_style="green", expand=False))


def render_machine(machine: Machine, console: Console) -> None:
    from .machine_words import describe_machine

    table = Table(show_header=False, title="This machine", title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for label, value in describe_machine(machine):
        table.add_row(label, value)
    console.print(table)
