"""The Markdown report: made to be pasted as a GitHub comment or kept next to a PR.

Verdict and reason first, then the facts behind them, the measured configurations, where
the time goes, the overheads and scaling fits, the machine and the runnable code (warnings
right under the verdict). Only plain GitHub-flavoured Markdown: tables, a quote,
a fenced code block.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..model import Report
from . import facts


def _cell(text: str) -> str:
    # A pipe would end the cell and a newline the row; GitHub accepts an escaped pipe.
    return " ".join(text.split()).replace("|", "\\|")


def table(header: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[int] = ()) -> str:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def bullets(rows: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"- **{label}**: {' '.join(value.split())}" for label, value in rows)


def _fence(code: str) -> str:
    # A line of only backticks inside the code would close a fence of that length early;
    # a fence longer than any such line keeps the block whole.
    longest = max((len(m.group(1)) for m in re.finditer(r"^ {0,3}(`{3,})\s*$", code, re.M)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}python\n{code.rstrip()}\n{ticks}"


def _verdict(report: Report) -> list[str]:
    rec = report.recommendation
    lines = [f"## paradvise: {facts.headline(rec)}", "", f"> {' '.join(rec.reason.split())}"]
    if rec.runner_up:
        lines += ["", f"Runner-up: {rec.runner_up}."]
    if report.verification:
        from ..verify import verification_line

        lines += ["", f"Verified: {verification_line(report)}."]
    if report.what_if:
        lines += ["", f"What-if: {facts.what_if_line(report)}"]
    return lines


def _section(title: str, body: str) -> list[str]:
    return ["", f"### {title}", "", body]


def _classification(report: Report) -> list[str]:
    cls = report.classification
    body = f"**{cls.kind}**" + (f": {cls.explanation}." if cls.explanation else ".")
    return _section("Why: " + cls.kind, body + "\n\n" + table(("evidence", "measured"), facts.evidence_rows(report)))


def _trials(report: Report) -> list[str]:
    rec = report.recommendation
    rows = [facts.trial_cells(t, rec) for t in facts.ranked_trials(report)]
    note = facts.trials_note(report)
    return _section("Measured configurations", table(facts.TRIAL_COLUMNS, rows, right=(1, 2, 3, 4, 5)) + "\n\n" + note)


def _breakdown(report: Report) -> list[str]:
    pairs = facts.breakdown_trials(report)
    if not pairs:
        return []
    rec = report.recommendation
    rows = [facts.breakdown_cells(t, parts, rec) for t, parts in pairs]
    body = table(facts.BREAKDOWN_COLUMNS, rows, right=tuple(range(1, len(facts.BREAKDOWN_COLUMNS))))
    return _section("Where the time goes", body + "\n\n" + facts.breakdown_note(report, len(pairs)))


def _scaling(report: Report) -> list[str]:
    overheads, fits = facts.overhead_rows(report), facts.scaling_rows(report)
    if not overheads and not fits:
        return []
    parts = []
    if overheads:
        parts.append("Measured on this machine:\n\n" + bullets(overheads))
    if fits:
        parts.append(table(facts.SCALING_COLUMNS, fits, right=(2, 3, 4, 5, 6)) + "\n\n" + facts.SCALING_NOTE)
    return _section("Overheads and scaling", "\n\n".join(parts))


def _warnings(report: Report) -> list[str]:
    if not report.warnings:
        return []
    items = "\n".join(f"- **{w.code}**: {' '.join(w.message.split())}" for w in report.warnings)
    return _section("Warnings", items)


def render(report: Report) -> str:
    lines = _verdict(report)
    lines += _warnings(report)  # right under the verdict: they say when not to trust it
    lines += _section("Target", bullets(facts.target_rows(report)))
    lines += _classification(report)
    lines += _section("Data against the caches", bullets(facts.data_rows(report)))
    lines += _trials(report)
    lines += _breakdown(report)
    lines += _scaling(report)
    lines += _section("Machine", bullets(facts.machine_rows(report)))
    lines += _section("Code", _fence(report.code))
    lines += ["", f"<sub>{facts.footer(report)}</sub>"]
    return "\n".join(lines) + "\n"
