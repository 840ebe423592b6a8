"""Measurement -> Report: the one place a report is assembled, for ``paradvise profile``,
its partial reports on interrupt, and ``@advise``.

Each stage is pure and lives in its own room: ``analyse`` classifies, recommends, fits,
breaks the time down and predicts the what-if; ``present.code`` writes the code.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Optional

from .analyse.breakdown import all_breakdowns
from .analyse.classify import classify, fits_in
from .analyse.dask_projection import summary as dask_summary
from .analyse.model_fit import fit_all
from .analyse.recommend import recommend, with_user_pool
from .analyse.what_if import what_if
from .measure.locate import Located
from .measure.target import with_speedups
from .model import (
    SCHEMA_VERSION,
    Classification,
    DataProfile,
    Machine,
    Measurement,
    Recommendation,
    Report,
    Target,
    Trial,
    Warning,
)
from .present.advice_words import body_sentence
from .present.code import emit, with_body_function
from .version import __version__

# Loops shorter than this gain nothing worth the change from any parallel scheme.
TOO_SHORT_S = 0.02


def build_report(machine: Machine, path: Path, located: Located, m: Measurement,
                 main_guard: bool, loop_s: float, dask_target_s: Optional[float] = None,
                 cpus: Optional[int] = None) -> Report:
    # The split of the target's CPU time: scalene's, from a locate run under it (--scalene),
    # else sampled while the measuring run recorded the calls.
    profile = dict(located.profile) or dict(m.cpu_split)
    target = Target(
        name=located.function.name, file=str(path), line=located.function.line, calls=m.items,
        per_call_seconds=m.typical_call_seconds, is_coroutine=located.function.is_coroutine,
        located_by=located.located_by, profile=profile,
        per_call_spread_seconds=m.per_call["mad"], script_seconds=located.script_seconds,
        call_site=located.call_site, candidates=list(located.candidates), kind=located.function.kind,
        is_generator=located.function.is_generator, user_pool=located.user_pool,
        loop_body=located.loop_body.to_json() if located.loop_body else None)
    classification = classify(m, machine.caches, profile)
    recommendation = recommend(m.trials, classification, m.exclusions, m.typical_call_seconds,
                               m.items, m.items_measured)
    recommendation = with_user_pool(recommendation, m.trials, located.user_pool, m.items, m.items_measured,
                                    classification.kind == "io-bound")
    data = DataProfile(arg_bytes=m.arg_bytes, result_bytes=m.result_bytes,
                       working_set_bytes=m.working_set_bytes, fits_in=fits_in(m.working_set_bytes, machine.caches),
                       items=m.items, items_measured=m.items_measured, measured_from=m.measured_from,
                       call_style=m.call_style)
    if m.other_threads and recommendation.executor in ("threads", "asyncio"):
        recommendation = replace(recommendation, reason=recommendation.reason + (
            f" Unverified: the script's own thread(s) ({', '.join(m.other_threads[:2])}) did not run "
            "beside the trials; --verify measures the advice in the script."))
    if located.loop_body:
        recommendation = replace(recommendation, reason=body_sentence(located.loop_body, path) + " "
                                 + recommendation.reason)
    warnings = list(m.warnings) + advice_warnings(machine, m, recommendation, classification, main_guard, loop_s)
    code = emit(recommendation, str(path), target.name, m.call_style, m.dask.get("scheduler"),
                target.is_coroutine, target.kind, target.is_generator)
    if located.loop_body:
        code = with_body_function(code, located.loop_body, path)
    return Report(
        schema_version=SCHEMA_VERSION, tool={"name": "paradvise", "version": __version__},
        machine=machine, target=target, classification=classification, data=data, trials=m.trials,
        recommendation=recommendation, warnings=warnings,
        code=code,
        script={"path": str(path), "cwd": os.getcwd()},
        overheads=dict(m.overheads), scaling=fit_all(m.trials, machine.usable_cpus),
        breakdown=all_breakdowns(m, classification.kind, machine.usable_cpus),
        dask=dask_summary(m.dask.get("scheduler"), m.dask.get("runs", []), m.typical_call_seconds,
                          m.items_measured or m.items, m.items, dask_target_s),
        timings={"script_s": located.script_seconds, "loop_s": loop_s, "sweep_s": m.sweep_seconds,
                 "per_call_median_s": m.per_call["median"], "per_call_serial_s": m.typical_call_seconds},
        what_if=what_if(m, classification.kind, cpus, machine.usable_cpus, machine.caches,
                        classification.evidence.get("two_thread_speedup"), target.is_coroutine) if cpus else {},
    )


def advice_warnings(machine: Machine, m: Measurement, rec: Recommendation, cls: Classification,
                    main_guard: bool, loop_s: float) -> list[Warning]:
    out = []
    if rec.executor == "serial" and loop_s < TOO_SHORT_S:
        out.append(Warning("too-short-to-parallelize", (
            f"The whole loop takes {loop_s * 1e3:.1f} ms; no parallel scheme can save more than that.")))
    if rec.executor == "processes" and not main_guard:
        out.append(Warning("missing-main-guard", (
            "The script has no `if __name__ == \"__main__\":` guard; with the spawn or forkserver start "
            "methods (the default from Python 3.14) worker processes would re-run the whole script.")))
    blas_warning = blas_oversubscription(m, rec, machine.usable_cpus)
    if blas_warning is not None:
        out.append(blas_warning)
    if m.late:
        out.append(Warning("unstable-measurements", (
            "The target was called fewer times than in the previous run, so the sweep ran after the "
            "script's loop had ended; resources the script tears down may have been gone.")))
    return out


def blas_oversubscription(m: Measurement, rec: Recommendation, cpus: int) -> Optional[Warning]:
    """Several workers over a multithreaded BLAS: say what limiting it measured, and what the code does."""
    threads = int(m.blas.get("num_threads") or 1)
    if threads <= 1 or rec.executor not in ("threads", "processes", "joblib") or rec.workers <= 1:
        return None
    name = m.blas.get("internal_api", "BLAS")
    text = (f"{name} runs {threads} threads per call; {rec.workers} workers calling it at once run up to "
            f"{threads * rec.workers} threads on {cpus} CPUs.")
    limited = [t for t in m.trials if t.blas_threads and t.ok and t.seconds and t.executor == rec.executor]
    plain = {(t.executor, t.workers, t.chunksize): t for t in m.trials if not t.blas_threads and t.ok and t.seconds}
    for trial in limited:
        twin = plain.get((trial.executor, trial.workers, trial.chunksize))
        if twin is not None:
            text += (f" With BLAS limited to {trial.blas_threads} thread per worker, {twin.label} measured "
                     f"{trial.seconds:.3g} s against {twin.seconds:.3g} s unlimited.")
            break
    if rec.blas_threads:
        text += " The code below limits it (threadpoolctl.threadpool_limits)."
    else:
        text += " Limiting it did not measure faster here, so the code leaves it alone."
    return Warning("blas-oversubscription", text)


def interrupted_report(machine: Machine, path: Path, located: Located, so_far: list[Trial],
                       events: dict[str, Any], main_guard: bool) -> Optional[Report]:
    """A report of the trials (``so_far``) measured before an interrupt, from the measuring
    child's events (``events``): None before the serial one."""
    if not any(t.executor == "serial" and t.ok for t in so_far):
        return None
    facts = events.get("facts", {})
    sizes = facts.get("sizes", {})
    per_call = located.loop_seconds / max(1, located.calls)
    trials = with_speedups(so_far)
    note = Warning("unstable-measurements", (
        f"Interrupted after {len(trials)} configuration(s): this partial report covers only what was "
        "measured before the interrupt."))
    m = Measurement(
        items=located.calls, items_measured=int(facts.get("items_measured", located.calls)),
        call_style=facts.get("call_style", "single"),
        per_call={"median": per_call, "mean": per_call, "p10": per_call, "p90": per_call, "max": per_call,
                  "mad": 0.0, "total": located.loop_seconds},
        cpu_ratio=float(facts.get("cpu_ratio", 1.0)), thread_cpu_ratio=float(facts.get("cpu_ratio", 1.0)),
        gil_probe=facts.get("gil_probe"), arg_bytes=int(sizes.get("arg_bytes", 0)),
        result_bytes=int(sizes.get("result_bytes", 0)), peak_alloc_bytes=int(sizes.get("peak_alloc_bytes", 0)),
        working_set_bytes=int(sizes.get("arg_bytes", 0)) + int(sizes.get("peak_alloc_bytes", 0)),
        overheads=facts.get("overheads", {}), trials=trials,
        warnings=[Warning.from_json(w) for w in events.get("warnings", [])] + [note],
        exclusions=events.get("exclusions", {}))
    return build_report(machine, path, located, m, main_guard, located.loop_seconds)
