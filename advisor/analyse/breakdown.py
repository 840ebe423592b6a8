"""Where a trial's time goes: start-up, dispatch, transfer, compute and imbalance.

A model built from this machine's measured overheads (pool start-up per start method,
per-task hand-over, pickling throughput) and the serial time; whatever the model does
not explain is put down to imbalance (stragglers, waiting for the slowest worker).
Pure functions over a Measurement.
"""
from __future__ import annotations

import math
from typing import Optional

from ..executors import REGISTRY
from ..model import Measurement, Trial
from .dask_projection import per_task_overhead, run_for, shutdown_seconds, tasks_of

PARTS = ("startup", "dispatch", "transfer", "compute", "imbalance")


def _family(trial: Trial) -> str:
    """What the workers share (executors/base.Executor.family): what each part costs depends on it."""
    return REGISTRY[trial.executor].family if trial.executor in REGISTRY else "serial"


def _parallelism(trial: Trial, kind: str, usable: int, items: int) -> float:
    if trial.executor == "serial":
        return 1.0
    if kind == "io-bound" or trial.executor == "asyncio":
        return float(min(trial.workers, items))
    if trial.executor == "threads" and kind not in ("gil-releasing", "memory-bound"):
        return 1.0  # the GIL lets one thread run Python code at a time
    return float(min(trial.workers, usable))


def _dask_parts(trial: Trial, m: Measurement, items: int) -> tuple[float, float]:
    """Start-up plus shut-down, and dispatch, from the phases the Dask trial itself measured."""
    runs = m.dask.get("runs", [])
    run = run_for(runs, trial.workers, trial.chunksize)
    if run is None:
        return 0.0, 0.0
    per_task = per_task_overhead(runs, m.typical_call_seconds, items) or 0.0
    return run["startup_s"] + shutdown_seconds(run), tasks_of(items, trial.chunksize) * per_task


def _startup(trial: Trial, m: Measurement) -> float:
    if _family(trial) == "cluster":
        return _dask_parts(trial, m, m.items_measured or m.items)[0]
    if _family(trial) == "processes":
        method = trial.start_method or "fork"
        probe = m.overheads.get(f"start_{method}_s", m.overheads.get("process_start_s", 0.0))
        probe_workers = max(2, int(m.overheads.get("probe_workers", 2)))
        return probe * trial.workers / probe_workers
    return 0.0


def _dispatch(trial: Trial, m: Measurement, items: int) -> float:
    if trial.executor == "serial":
        return 0.0
    if _family(trial) == "cluster":
        return _dask_parts(trial, m, items)[1]
    chunks = math.ceil(items / max(1, trial.chunksize or 1))
    per_task = m.overheads.get("process_task_s" if _family(trial) == "processes" else "thread_task_s", 0.0)
    return chunks * per_task


def _transfer(trial: Trial, m: Measurement, items: int) -> float:
    throughput = m.overheads.get("pickle_bytes_per_s")
    if _family(trial) != "processes" or not throughput:
        return 0.0
    return items * (m.arg_bytes + m.result_bytes) / throughput


def breakdown(trial: Trial, m: Measurement, kind: str, usable: int) -> Optional[dict[str, float]]:
    """Seconds per part for one successful trial (None for a failed one)."""
    if not trial.ok or trial.seconds is None:
        return None
    serial = next((t.seconds for t in m.trials if t.executor == "serial" and t.ok), None)
    if serial is None:
        return None
    items = m.items_measured or m.items
    parts = {
        "startup": _startup(trial, m),
        "dispatch": _dispatch(trial, m, items),
        "transfer": _transfer(trial, m, items),
        "compute": serial / _parallelism(trial, kind, usable, items),
    }
    explained = sum(parts.values())
    if explained > trial.seconds:  # the model over-explains: scale it to the measured time
        parts = {k: v * trial.seconds / explained for k, v in parts.items()}
    parts["imbalance"] = max(0.0, trial.seconds - sum(parts.values()))
    return {k: round(v, 6) for k, v in parts.items()}


def all_breakdowns(m: Measurement, kind: str, usable: int) -> list[Optional[dict[str, float]]]:
    return [breakdown(t, m, kind, usable) for t in m.trials]
