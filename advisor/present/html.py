"""The HTML report: one self-contained file to keep, mail or print.

Everything is inline (CSS, SVG plots) and nothing is fetched from the network, so the
file reads the same offline, years later, or behind a firewall. It shows the same facts
as the Markdown report (``facts``) plus the plots (``plots``).
"""
from __future__ import annotations

from html import escape
from typing import Iterable, Optional, Sequence

from ..model import Report
from . import facts, plots

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
        --good: #1a7f37; --good-bg: #dafbe1; --bad: #cf222e; --warn: #9a6700; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--fg); background: #fff; max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; margin: 0 0 .75rem; }
h2 { font-size: 1.25rem; margin: 2.25rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
.reason { font-size: 1.1rem; margin: 0; padding: .6rem 1rem; border-left: 4px solid var(--good);
          background: var(--soft); }
.explanation { margin: 0 0 1rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1.25rem; margin: 0; }
dl.facts dt { font-weight: 600; color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; margin: 1rem 0; }
th, td { text-align: left; padding: .4rem .7rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
.num { text-align: right; white-space: nowrap; }
th.num { white-space: normal; }  /* long headers wrap; the numbers under them do not */
tr.choice td { background: var(--good-bg); font-weight: 600; }
tr.failed td { color: var(--bad); }
ul.warnings { list-style: none; padding: 0; }
ul.warnings li { background: var(--warn-bg); border-left: 4px solid var(--warn); padding: .5rem .9rem;
                 margin: .5rem 0; }
figure.plot { margin: 1.5rem 0; break-inside: avoid; }
figure.plot svg { display: block; width: 100%; max-width: 44rem; height: auto; }
figcaption, .note { color: var(--muted); font-size: .9rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 1rem;
      overflow-x: auto; font-size: .875rem; line-height: 1.45; }
footer { margin-top: 3rem; color: var(--muted); font-size: .8rem; }
@media print {
  body { max-width: none; margin: 0; padding: 0; font-size: 10.5pt; }
  h2 { break-after: avoid; }
  tr, figure.plot, pre, ul.warnings li { break-inside: avoid; }
  pre { white-space: pre-wrap; overflow: visible; }
  figure.plot svg { max-width: 16cm; }
  /* Browsers drop backgrounds when printing; keep the two that carry meaning. */
  tr.choice td, ul.warnings li { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>" for label, value in rows)
    return f'<dl class="facts">{items}</dl>'


def _table(header: Sequence[str], rows: Iterable[tuple[Sequence[str], str]], numeric: Sequence[int] = ()) -> str:
    """``rows`` are (cells, css class of the row)."""
    def cell(tag: str, i: int, text: str) -> str:
        return f'<{tag} class="num">{escape(text)}</{tag}>' if i in numeric else f"<{tag}>{escape(text)}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(f'<tr class="{css}">' + "".join(cell("td", i, c) for i, c in enumerate(cells)) + "</tr>"
                   for cells, css in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(name: str, svg: Optional[str], caption: str, missing: str) -> str:
    if svg is None:
        return f'<p class="note" id="plot-{name}">{escape(missing)}</p>'
    return f'<figure class="plot" id="plot-{name}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _verdict(report: Report) -> str:
    rec = report.recommendation
    runner = f'<p class="note">Runner-up: {escape(rec.runner_up)}.</p>' if rec.runner_up else ""
    what_if = f'<p class="note">What-if: {escape(facts.what_if_line(report))}</p>' if report.what_if else ""
    return (f"<header><h1>paradvise: {escape(facts.headline(rec))}</h1>"
            f'<p class="reason">{escape(rec.reason)}</p>{runner}{what_if}</header>')


def _warnings(report: Report) -> str:
    if not report.warnings:
        return ""
    items = "".join(f"<li><strong>{escape(w.code)}</strong>: {escape(w.message)}</li>" for w in report.warnings)
    return _section("Warnings", f'<ul class="warnings">{items}</ul>')


def _classification(report: Report) -> str:
    cls = report.classification
    why = f": {escape(cls.explanation)}." if cls.explanation else "."
    text = f'<p class="explanation"><strong>{escape(cls.kind)}</strong>{why}</p>'
    rows = ((row, "") for row in facts.evidence_rows(report))
    return _section(f"Why: {cls.kind}", text, _table(("evidence", "measured"), rows, numeric=(1,)))


def _trials(report: Report) -> str:
    rec, usable = report.recommendation, report.machine.usable_cpus
    rows = [(facts.trial_cells(t, rec), "choice" if facts.is_choice(t, rec) else ("" if t.ok else "failed"))
            for t in facts.ranked_trials(report)]
    speedup = _figure("speedup", plots.speedup_plot(report),
                      f"Speedup against the serial loop by worker count, best chunk size per count. Dashed "
                      f"curves are the Universal Scalability Law fitted to each executor's points, in its "
                      f"colour, carried to the {usable} CPUs this process may use (the vertical line); the "
                      f"thin grey line is ideal linear scaling; the ring marks the advice.",
                      "No configuration finished with a speedup, so there is no speedup plot.")
    chunks = _figure("chunks", plots.chunk_plot(report),
                     "Whole-run time of process pools by chunk size (items handed to a worker at once), "
                     "one line per worker count; lower is better.",
                     "Process pools were measured with only one chunk size (or not at all), "
                     "so there is no chunk-size plot.")
    note = f'<p class="note">{escape(facts.trials_note(report))}</p>'
    return _section("Measured configurations", speedup,
                    _table(facts.TRIAL_COLUMNS, rows, numeric=(1, 2, 3, 4, 5)), note, chunks)


def _breakdown(report: Report) -> str:
    pairs = facts.breakdown_trials(report)
    if not pairs:
        return ""
    rec = report.recommendation
    caption = ("Where the time goes, fastest configuration on top and the advice in bold; the number after "
               "each bar is its measured time. " + facts.breakdown_note(report, len(pairs)))
    figure = _figure("breakdown", plots.breakdown_plot(report), caption, "")
    rows = [(facts.breakdown_cells(t, parts, rec), "choice" if facts.is_choice(t, rec) else "")
            for t, parts in pairs]
    numeric = tuple(range(1, len(facts.BREAKDOWN_COLUMNS)))
    return _section("Where the time goes", figure, _table(facts.BREAKDOWN_COLUMNS, rows, numeric=numeric))


def _scaling(report: Report) -> str:
    overheads, fits = facts.overhead_rows(report), facts.scaling_rows(report)
    if not overheads and not fits:
        return ""
    parts = []
    if overheads:
        parts.append('<p class="note">Measured on this machine:</p>' + _dl(overheads))
    if fits:
        # The last column may hold words ("needs 3+ worker counts"): left-aligned, so it can wrap.
        parts.append(_table(facts.SCALING_COLUMNS, ((row, "") for row in fits), numeric=(2, 3, 4, 5)))
        parts.append(f'<p class="note">{escape(facts.SCALING_NOTE)}</p>')
    return _section("Overheads and scaling", *parts)


def _data(report: Report) -> str:
    caches = _figure("caches", plots.cache_plot(report),
                     f"Working set of one call against this machine's per-core caches (log scale): "
                     f"it fits in {report.data.fits_in}.", "")
    return _section("Data against the caches", _dl(facts.data_rows(report)), caches)


def render(report: Report) -> str:
    title = f"paradvise: {report.target.name}() - {facts.headline(report.recommendation)}"
    body = "".join((
        _verdict(report), _warnings(report),
        _section("Target", _dl(facts.target_rows(report))), _classification(report),
        _trials(report), _breakdown(report), _scaling(report), _data(report),
        _section("Machine", _dl(facts.machine_rows(report))),
        _section("Code", f'<pre><code class="language-python">{escape(report.code)}</code></pre>'),
        f"<footer>{escape(facts.footer(report))}</footer>"))
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>{body}</main>\n"
            f"</body>\n</html>\n")
