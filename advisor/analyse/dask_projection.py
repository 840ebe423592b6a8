"""Dask: the per-task overhead measured on the Dask trials, and the cluster size a target needs.

Model of mapping N items over W single-threaded workers (pure functions):

    T(W) = fixed + N * per_task + N * per_item / W

``fixed`` is what the trials paid to start and stop the cluster (or to connect to it);
``per_task`` is the scheduler's and client's cost per task, which does not shrink with
more workers because one scheduler process hands out every task; ``per_item`` is one
call's serial time on this machine.
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Optional

# Without --target-seconds, aim at finishing in this share of the serial time (10x faster).
DEFAULT_TARGET_SHARE = 0.1
# Relative slack for floating-point rounding, so that a target exactly on a boundary is met.
ROUNDING = 1e-9


def tasks_of(items: int, chunksize: Optional[int]) -> int:
    return max(1, math.ceil(items / max(1, chunksize or 1)))


def shutdown_seconds(run: dict[str, Any]) -> float:
    """What the trial paid after the last result: closing the client (and the cluster)."""
    return max(0.0, run["seconds"] - run["startup_s"] - run["map_s"])


def per_task_overhead(runs: list[dict[str, Any]], per_item_s: float, items: int) -> Optional[float]:
    """Seconds per task beyond the compute, pooled over the runs (weighted by their task counts).

    A run's map phase is its compute spread over ``min(workers, tasks)`` workers plus
    ``tasks * per_task``; what the compute does not explain is put down to dispatch. The
    compute is the tasks' own time on the workers when the run measured it ("compute_s"),
    else ``items * per_item``.
    """
    timed = [r for r in runs if "map_s" in r]
    if not timed or items < 1:
        return None
    excess = tasks = 0.0
    for run in timed:
        n_tasks = tasks_of(items, run.get("chunksize"))
        compute = run.get("compute_s", items * per_item_s) / max(1, min(run["workers"], n_tasks))
        excess += run["map_s"] - compute
        tasks += n_tasks
    return max(0.0, excess / tasks)


def projected_seconds(workers: int, items: int, per_item_s: float, per_task_s: float, fixed_s: float) -> float:
    return fixed_s + items * per_task_s + items * per_item_s / max(1, workers)


def workers_needed(target_s: float, items: int, per_item_s: float, per_task_s: float,
                   fixed_s: float) -> Optional[int]:
    """The fewest workers with ``T(W) <= target_s``; None when no cluster size gets there.

    Each worker needs at least one item, so the time cannot drop below
    ``fixed + N * per_task + per_item`` however many workers there are.
    """
    room = target_s - fixed_s - items * per_task_s
    if items < 1 or room <= 0 or room < per_item_s * (1 - ROUNDING):
        return None
    return min(items, max(1, math.ceil(items * per_item_s / room * (1 - ROUNDING))))


def project(target_s: float, items: int, per_item_s: float, per_task_s: float, fixed_s: float,
            fixed_label: str = "start and stop the cluster") -> dict[str, Any]:
    """The projection for the report: workers needed with and without the cluster's start-up."""
    needed = workers_needed(target_s, items, per_item_s, per_task_s, fixed_s)
    warm = workers_needed(target_s, items, per_item_s, per_task_s, 0.0)
    floor = fixed_s + items * per_task_s + per_item_s
    out: dict[str, Any] = {
        "target_seconds": round(target_s, 6), "items": items, "workers_needed": needed,
        "projected_seconds": (round(projected_seconds(needed, items, per_item_s, per_task_s, fixed_s), 6)
                              if needed else None),
        "workers_needed_running_cluster": warm, "floor_seconds": round(floor, 6),
    }
    out["note"] = _note(out, per_item_s, per_task_s, fixed_s, fixed_label)
    return out


def _note(p: dict[str, Any], per_item_s: float, per_task_s: float, fixed_s: float, fixed_label: str) -> str:
    n, target = p["items"], p["target_seconds"]
    costs = (f"{fixed_s:.3g} s to {fixed_label}, {n} tasks x {per_task_s * 1e3:.3g} ms dispatch, "
             f"{n} calls x {per_item_s * 1e3:.3g} ms compute")
    if p["workers_needed"]:
        text = (f"About {p['workers_needed']} single-threaded workers would map all {n} calls in "
                f"{target:.3g} s ({costs} spread over the workers).")
    else:
        text = (f"No cluster size maps all {n} calls in {target:.3g} s: {costs}; even one call per worker "
                f"takes at least {p['floor_seconds']:.3g} s.")
        if p["workers_needed_running_cluster"]:
            text += (f" On a cluster that is already running, {p['workers_needed_running_cluster']} workers "
                     "would.")
    return text + " Assumes workers as fast as this machine's cores and the measured per-task overhead."


def summary(scheduler: Optional[str], runs: list[dict[str, Any]], per_item_s: float, items_measured: int,
            items: int, target_s: Optional[float]) -> dict[str, Any]:
    """``report.dask``: what the Dask trials measured and the cluster size a target needs."""
    if not scheduler:
        return {}
    timed = [r for r in runs if "startup_s" in r and "map_s" in r]
    out: dict[str, Any] = {"scheduler": scheduler, "trials": len(runs)}
    per_task = per_task_overhead(timed, per_item_s, items_measured)
    if per_task is None:
        out["projection"] = None
        out["note"] = ("No Dask trial finished (see the trials; a larger --budget leaves room for them), "
                       "so nothing could be projected.")
        return out
    startup = statistics.median(r["startup_s"] for r in timed)
    shutdown = statistics.median(shutdown_seconds(r) for r in timed)
    target = target_s or DEFAULT_TARGET_SHARE * per_item_s * items
    out.update({
        "workers": max(r["workers"] for r in timed), "startup_s": round(startup, 6),
        "shutdown_s": round(shutdown, 6), "per_task_overhead_s": round(per_task, 9),
        "per_item_s": round(per_item_s, 9),
        "projection": {**project(target, items, per_item_s, per_task, startup + shutdown,
                                 "start and stop the cluster" if scheduler == "local" else "connect"),
                       "target_source": "--target-seconds" if target_s else "1/10 of the serial time"},
    })
    return out


def run_for(runs: list[dict[str, Any]], workers: int, chunksize: Optional[int]) -> Optional[dict[str, Any]]:
    """The measured phases of the Dask trial with this configuration, if any."""
    return next((r for r in runs if r["workers"] == workers and r.get("chunksize") == chunksize
                 and "startup_s" in r and "map_s" in r), None)
