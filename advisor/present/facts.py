"""The facts every document report shows, as plain (label, value) text rows.

Markdown and HTML lay the same facts out differently; computing them once here keeps
the two reports saying the same thing in the same words.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from ..model import Recommendation, Report, Trial
from ..units import human_bytes, human_seconds
from .advice_words import advice_phrase

# Evidence keys the classifier writes, with the words a reader knows them by and how
# to show their value; keys added later fall back to a guess from their suffix.
EVIDENCE_LABELS = {
    "per_call_seconds": ("time per call", "seconds"),
    "cpu_time_over_wall_time": ("CPU time / wall time", "percent"),
    "two_thread_speedup": ("two threads vs one (speedup)", "times"),
    "process_task_overhead_seconds": ("cost of handing one task to a process", "seconds"),
    "native_share": ("share of time in native code", "percent"),
    "working_set_bytes": ("working set", "bytes"),
    "fits_in": ("smallest cache that holds it", "text"),
}

TRIAL_COLUMNS = ("executor", "workers", "chunk", "time (median)", "± spread", "speedup", "result")
CHOICE_NOTE = "◀ advice"


def headline(rec: Recommendation) -> str:
    """The verdict as a title: what to do, in as few words as the numbers allow."""
    return advice_phrase(rec.executor, rec.workers, rec.chunksize, rec.start_method, rec.blas_threads,
                         rec.expected_speedup)


def shown_path(report: Report) -> str:
    """The target's file relative to where the script ran, so it reads well in a comment."""
    cwd = report.script.get("cwd")
    path = Path(report.target.file)
    if cwd and path.is_relative_to(cwd):
        return str(path.relative_to(cwd))
    return str(path)


def what_if_line(report: Report) -> str:
    """``On 16 CPUs: processes, 16 workers, chunksize 4: predicted 11.2x (9.8-12.5x), 0.12 s; the limit is ...``"""
    w = report.what_if
    if not w:
        return ""
    if w["executor"] == "serial":
        return f"On {w['cpus']} CPUs (predicted from {w.get('measured_on_cpus', '?')} here): {w['limit']}"
    chunk = f", chunksize {w['chunksize']}" if w.get("chunksize") and w["chunksize"] > 1 else ""
    method = f", start method {w['start_method']}" if w.get("start_method") not in (None, "fork") else ""
    method += f", BLAS {w['blas_threads']} thread(s) per worker" if w.get("blas_threads") else ""
    return (f"On {w['cpus']} CPUs (predicted from {w.get('measured_on_cpus', '?')} here): {w['executor']}, "
            f"{w['workers']} workers{chunk}{method}: predicted {w['predicted_speedup']:.2f}x "
            f"({w['low']:.2f}-{w['high']:.2f}x), {human_seconds(w['predicted_seconds'])} for the whole loop; "
            f"{w['limit']}")


def loop_text(report: Report) -> str:
    """Where the loop is and what else was weighed: ``loop at x.py:30; candidates: f 94%, g 3%``."""
    t = report.target
    parts = []
    if t.call_site:
        path, _, line = t.call_site.rpartition(":")
        cwd = report.script.get("cwd")
        shown = Path(path).relative_to(cwd) if cwd and Path(path).is_relative_to(cwd) else Path(path)
        parts.append(f"called at {shown}:{line}")
    if t.user_pool:
        pool = t.user_pool
        parts.append(f"mapped there by the script's own {pool['method']} ({pool['workers']} workers)")
    if len(t.candidates) > 1:
        parts.append("candidates: " + ", ".join(f"{c['name']} {c['share']:.0%}" for c in t.candidates))
    return "; ".join(parts)


def target_rows(report: Report) -> list[tuple[str, str]]:
    t = report.target
    rows = [("function", f"{t.name}() at {shown_path(report)}:{t.line} (found by {t.located_by})"),
            ("calls", (f"{t.calls} × {human_seconds(t.per_call_seconds)} median "
                       f"(± {human_seconds(t.per_call_spread_seconds)})"))]
    if loop_text(report):
        rows.insert(1, ("loop", loop_text(report)))
    if t.script_seconds:
        rows.append(("script run time", human_seconds(t.script_seconds)))
    return rows


def _value(value: Any, how: str) -> str:
    if value is None:
        return "not measured"
    if how == "seconds":
        return human_seconds(float(value))
    if how == "bytes":
        return human_bytes(float(value))
    if how == "percent":
        return f"{float(value) * 100:.0f}%"
    if how == "times":
        return f"{float(value):.2f}x"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _guess(key: str) -> tuple[str, str]:
    for suffix, how in (("_seconds", "seconds"), ("_bytes", "bytes")):
        if key.endswith(suffix):
            return key.removesuffix(suffix).replace("_", " "), how
    return key.replace("_", " "), "text"


def evidence_rows(report: Report) -> list[tuple[str, str]]:
    rows = []
    for key, value in report.classification.evidence.items():
        label, how = EVIDENCE_LABELS.get(key) or _guess(key)
        rows.append((label, _value(value, how)))
    return rows


def cache_summary(report: Report) -> str:
    c = report.machine.caches
    parts = []
    for name, size, shared in (("L1d", c.l1d_bytes, c.l1d_shared_by), ("L2", c.l2_bytes, c.l2_shared_by),
                               ("L3", c.l3_bytes, c.l3_shared_by)):
        parts.append(f"{name} {human_bytes(size)}" + (f" (shared by {shared} CPUs)" if shared > 1 else ""))
    return ", ".join(parts)


def machine_rows(report: Report) -> list[tuple[str, str]]:
    m = report.machine
    gil = "GIL enabled" if m.python.gil_enabled else "GIL disabled (free-threaded)"
    rows = [("CPU", m.cpu_model or "unknown"),
            ("cores", f"{m.logical_cpus} logical, {m.physical_cores} physical"),
            ("usable CPUs", f"{m.usable_cpus} ({m.usable_cpus_reason})" if m.usable_cpus_reason
             else str(m.usable_cpus)),
            ("caches per core", cache_summary(report)),
            ("memory", human_bytes(m.memory_bytes)),
            ("Python", f"{m.python.implementation} {m.python.version}, {gil}")]
    if m.start_methods:
        rows.append(("start methods", ", ".join(m.start_methods)))
    return rows


def data_rows(report: Report) -> list[tuple[str, str]]:
    d = report.data
    rows = [("arguments per call (pickled)", human_bytes(d.arg_bytes)),
            ("result per call (pickled)", human_bytes(d.result_bytes)),
            ("working set", f"{human_bytes(d.working_set_bytes)}, fits in {d.fits_in}"),
            ("per-core caches", cache_summary(report))]
    if d.items_measured and d.items_measured < d.items:
        rows.append(("sample", f"trials used {d.items_measured} of {d.items} recorded calls (budget)"))
    if d.measured_from == "loop start":
        rows.append(("trials ran from", "the process as the loop began (forked at the first call)"))
    return rows


def is_choice(trial: Trial, rec: Recommendation) -> bool:
    # Start method and BLAS limit too: the same pool under fork and under spawn, or with
    # BLAS limited and not, are different configurations.
    return (trial.ok and trial.executor == rec.executor and trial.workers == rec.workers
            and (trial.chunksize or 1) == (rec.chunksize or 1) and trial.start_method == rec.start_method
            and trial.blas_threads == rec.blas_threads)


def executor_cell(trial: Trial) -> str:
    """The executor column: with the start method and BLAS limit that make one pool two rows."""
    extras = [trial.start_method] if trial.start_method not in (None, "fork") else []
    if trial.blas_threads:
        extras.append(f"BLAS {trial.blas_threads}")
    return f"{trial.executor} ({', '.join(extras)})" if extras else trial.executor


def ranked_trials(report: Report) -> list[Trial]:
    """Fastest first, failures last: the order a reader compares them in."""
    return sorted(report.trials, key=lambda t: (not t.ok, t.seconds if t.seconds is not None else 0.0))


def projection_note(trial: Trial) -> str:
    """For a trial projected from the subset to the whole loop: what it projects to."""
    if trial.projected_seconds is None:
        return ""
    fixed = f", {human_seconds(trial.fixed_seconds)} of it fixed" if trial.fixed_seconds else ""
    return f"all items: {human_seconds(trial.projected_seconds)}{fixed}"


def _result(trial: Trial, rec: Recommendation) -> str:
    if not trial.ok:
        return "error: " + " ".join((trial.error or "failed").split())
    if trial.results_match is False:
        return "ok, but results differ from serial"
    text = f"ok {CHOICE_NOTE}" if is_choice(trial, rec) else "ok"
    projection = projection_note(trial)
    return f"{text} ({projection})" if projection else text


def trial_cells(trial: Trial, rec: Recommendation) -> tuple[str, ...]:
    """One table row; spread is only meaningful when the trial was repeated."""
    seconds: Optional[float] = trial.seconds
    return (executor_cell(trial), str(trial.workers), str(trial.chunksize or "-"),
            human_seconds(seconds) if seconds is not None else "-",
            human_seconds(trial.spread) if trial.ok and len(trial.repeats) > 1 else "-",
            f"{trial.speedup:.2f}x" if trial.speedup else "-", _result(trial, rec))


def footer(report: Report) -> str:
    return (f"{report.tool.get('name', 'paradvise')} {report.tool.get('version', '')}".strip()
            + f", report schema {report.schema_version}")


# --- overheads, scaling fits and the time breakdown -------------------------------------------

SCALING_COLUMNS = ("executor", "workers measured", "serial fraction (Amdahl)", "contention (USL)",
                   "coherency (USL)", "predicted speedup", "prediction error")
NO_HOLDOUT = "needs 3+ worker counts"
# The parts of a trial's time, in the order they are stacked, with the words a reader knows.
BREAKDOWN_PARTS = (("startup", "start-up"), ("dispatch", "dispatch"), ("transfer", "transfer"),
                   ("compute", "compute"), ("imbalance", "imbalance"))
BREAKDOWN_COLUMNS = ("configuration", *(label for _, label in BREAKDOWN_PARTS), "measured")
BREAKDOWN_LIMIT = 12  # fastest trials shown: more bars than this stop reading as a comparison


def _percent(fraction: float) -> str:
    if fraction == 0:
        return "0%"
    return f"{fraction * 100:.2f}%" if fraction < 0.01 else f"{fraction * 100:.1f}%"


def overhead_rows(report: Report) -> list[tuple[str, str]]:
    """This machine's measured costs of going parallel; empty for reports that predate them."""
    o = report.overheads
    rows = []
    starts = [(k.removeprefix("start_").removesuffix("_s"), v) for k, v in o.items()
              if k.startswith("start_") and k.endswith("_s")]
    pool = f"pool start-up ({int(o['probe_workers'])} workers)" if o.get("probe_workers") else "pool start-up"
    if starts:
        rows.append((pool, ", ".join(f"{method} {human_seconds(v)}" for method, v in starts)))
    elif "process_start_s" in o:
        rows.append((pool, human_seconds(o["process_start_s"])))
    if "process_task_s" in o:
        rows.append(("handing one task to a process", human_seconds(o["process_task_s"])))
    if "thread_task_s" in o:
        rows.append(("handing one task to a thread", human_seconds(o["thread_task_s"])))
    if o.get("pickle_bytes_per_s"):
        rows.append(("pickling throughput", f"{human_bytes(o['pickle_bytes_per_s'])}/s"))
    return rows


def scaling_predict_to(report: Report) -> int:
    return max(1, report.machine.usable_cpus)


def scaling_rows(report: Report) -> list[tuple[str, ...]]:
    """One row per executor with a fit: the fitted parameters and how well the fit predicts."""
    usable = scaling_predict_to(report)
    rows = []
    for executor, fit in sorted(report.scaling.items()):
        if not isinstance(fit, dict):
            continue
        measured = ", ".join(str(w) for w in sorted(int(w) for w in fit.get("measured", {})))
        predicted = fit.get("predicted", {}).get(str(usable))
        error = fit.get("holdout_error")
        rows.append((executor, measured or "-",
                     _percent(fit["amdahl_serial_fraction"]) if "amdahl_serial_fraction" in fit else "-",
                     _percent(fit["usl_contention"]) if "usl_contention" in fit else "-",
                     _percent(fit["usl_coherency"]) if "usl_coherency" in fit else "-",
                     f"{predicted:.2f}x at {usable}w" if predicted is not None else "-",
                     f"{error:.0%}" if error is not None else NO_HOLDOUT))
    return rows


SCALING_NOTE = ("Amdahl's law and the Universal Scalability Law fitted to each executor's best speedup per "
                "worker count. Serial fraction: the share of the work that does not run in parallel. "
                "Contention: time lost queueing for shared resources; coherency: time lost keeping workers "
                "in step, which makes speedup fall again past a peak. Prediction error: the fit made without "
                "the largest worker count, predicting it.")


def breakdown_trials(report: Report, limit: int = BREAKDOWN_LIMIT) -> list[tuple[Trial, dict[str, float]]]:
    """(trial, seconds per part) for the fastest successful trials, fastest first.

    ``report.breakdown`` runs alongside ``report.trials``; a report without one, or with one
    that does not line up, has nothing to show.
    """
    if len(report.breakdown) != len(report.trials):
        return []
    pairs = [(t, parts) for t, parts in zip(report.trials, report.breakdown, strict=True)
             if parts and t.ok and t.seconds is not None]
    pairs.sort(key=lambda pair: pair[0].seconds or 0.0)
    return pairs[:limit]


def breakdown_label(trial: Trial, rec: Recommendation) -> str:
    return trial.label + (f" {CHOICE_NOTE}" if is_choice(trial, rec) else "")


def breakdown_cells(trial: Trial, parts: dict[str, float], rec: Recommendation) -> tuple[str, ...]:
    def shown(seconds: float) -> str:
        return human_seconds(seconds) if seconds >= 1e-9 else "-"  # float dust is not a part

    return (breakdown_label(trial, rec), *(shown(parts.get(key, 0.0)) for key, _ in BREAKDOWN_PARTS),
            human_seconds(trial.seconds or 0.0))


def measured_calls_note(report: Report) -> str:
    """``, on the 8 calls measured of 24`` when the trials (and so the breakdown) ran on a subset."""
    data = report.data
    if data.items_measured and data.items > data.items_measured:
        return f", on the {data.items_measured} calls measured of {data.items}"
    return ""


def trials_note(report: Report) -> str:
    """What the trials table's times are for: all the recorded calls, or the subset the trials ran on."""
    data = report.data
    if data.items_measured and data.items > data.items_measured:
        scope = (f"the {data.items_measured} of the loop's {data.items} calls the trials ran on (the headline "
                 "scales them to the whole loop)")
    else:
        scope = "all recorded calls"
    return (f"Times are whole wall-clock times of mapping the function over {scope}, worker start-up "
            "included; speedup is against the serial loop.")


def breakdown_note(report: Report, shown: int) -> str:
    total = sum(1 for parts in report.breakdown if parts)
    which = f"the {shown} fastest of {total} configurations" if shown < total else "every configuration that finished"
    return (f"Modelled from this machine's measured overheads (pool start-up, per-task dispatch, pickling "
            f"throughput) and the serial time, for {which}{measured_calls_note(report)}; whatever the model does not explain is counted as "
            f"imbalance (waiting for the slowest worker).")
