"""What-if for another machine: the advice and its speedup for N usable CPUs, from this one.

The prediction is built from parts, each measured here (pure functions over a Measurement):

- compute: the real per-item durations (the recorded calls, in loop order), handed out in
  chunks to the first free worker as ``Pool.map`` does, so uneven items show as imbalance;
  at most N workers run at once, more share the CPUs;
- start-up of each worker per start method, hand-over per chunk, and pickling each item's
  arguments and result in the parent (the pickling throughput measured here);
- for threads, the share of each call that holds the GIL, from the two-thread probe:
  that part runs one thread at a time however many CPUs there are.

The model is checked against the trials measured here before it predicts anything: each
executor's predictions are scaled by the median ratio of its measured times to what the
model says of the same configurations on this machine, and the band comes from the
spread of those ratios and of the trials' own repeats, never narrower than the error the
what-if showed when checked (``MIN_RELATIVE_BAND``). Contention that grows with the
worker count (memory bandwidth, a shared cache) is only known up to the workers measured
here; past them the band says so rather than guessing a curve.
"""
from __future__ import annotations

import math
import statistics
from typing import Any, Optional

from ..model import Caches, Measurement, Trial
from . import space
from .recommend import WORTHWHILE_SPEEDUP, eligible
from .space import simulate_map

# Pool.map's greedy hand-out is simulated (space.simulate_map) over at most this many
# items; longer loops are simulated in groups of neighbouring items, which changes nothing
# that matters: with that many items, imbalance comes from trends and the chunk size.
SIMULATED_ITEMS = 20_000
# Executors the model can predict: the others (joblib's auto-batching, Dask's scheduler,
# subinterpreters) keep their measured times, and are not predicted for another machine.
MODELLED = ("processes", "threads")
# The band is never narrower than the error the what-if showed in its own check, as an 80%
# band: over the bench's 29 workloads, one CPU predicting two, 80% of the predicted
# speedups were within 10% of the measured ones (bench/predict.py; results in
# bench/results/*-predict-from-1). This machine's repeats alone, the band before, held the
# measured speedup in 11 of 29. Predicting further (2 CPUs to 16) is unchecked, and likely
# less accurate than this.
MIN_RELATIVE_BAND = 0.10


def durations_for(sample: list[float], n: int) -> list[float]:
    """``n`` per-item durations in loop order, drawn evenly from the recorded ``sample``."""
    if not sample or n <= 0:
        return []
    if n == len(sample):
        return list(sample)
    return [sample[i * len(sample) // n] for i in range(n)]


def makespan(sample: list[float], n: int, workers: int, chunksize: int) -> float:
    """When the last of ``n`` items (durations drawn from ``sample``) ends, handed out in
    chunks to whichever of ``workers`` is free first."""
    group = max(1, math.ceil(n / SIMULATED_ITEMS))
    items = durations_for(sample, math.ceil(n / group))
    walls = tuple(d * group for d in items)  # each stands for ``group`` neighbours
    return simulate_map(walls, max(1, workers), max(1, round(chunksize / group)), 0.0)


def parts(executor: str, workers: int, chunksize: Optional[int], start_method: Optional[str],
          m: Measurement, cpus: int, n: int, gil_share: float) -> dict[str, float]:
    """Modelled seconds per part for mapping ``n`` items on ``cpus`` CPUs (before calibration)."""
    sample = m_item_seconds(m)
    total = statistics.fmean(sample) * n
    if executor == "serial":
        return {"compute": total}
    c = max(1, chunksize or 1)
    chunks = math.ceil(n / c)
    running = min(workers, cpus)
    share_cpus = workers / running  # more workers than CPUs: each runs on a share of one
    if executor == "threads":
        # The GIL-holding part of every call runs one thread at a time; the rest spreads.
        spread = makespan([d * (1 - gil_share) for d in sample], n, workers, c) * share_cpus
        return {"dispatch": chunks * m.overheads.get("thread_task_s", 0.0), "gil": gil_share * total,
                "compute": spread}
    method = start_method or "fork"
    start = m.overheads.get(f"start_{method}_s", m.overheads.get("process_start_s", 0.0))
    per_worker_start = start / max(2, int(m.overheads.get("probe_workers", 2)))
    throughput = m.overheads.get("pickle_bytes_per_s") or 0.0
    return {
        "startup": per_worker_start * workers,
        "dispatch": chunks * m.overheads.get("process_task_s", 0.0),
        "transfer": n * (m.arg_bytes + m.result_bytes) / throughput if throughput else 0.0,
        "compute": makespan(sample, n, workers, c) * share_cpus,
    }


def m_item_seconds(m: Measurement) -> list[float]:
    """The recorded per-item durations, scaled to the serial trial's mean (no recording overhead)."""
    sample = list(m.item_seconds) or [m.typical_call_seconds]
    mean = statistics.fmean(sample)
    scale = m.typical_call_seconds / mean if mean > 0 else 1.0
    return [s * scale for s in sample]


def gil_share_of(gil_speedup: Optional[float], kind: str, free_share: Optional[float] = None) -> float:
    """The share of each call that holds the GIL: two threads at speedup S give 2 (1 - 1/S)
    parallel; on one CPU the wake-up probe measures the released share itself."""
    if kind == "io-bound":
        return 0.0
    if gil_speedup:
        return min(1.0, max(0.0, 1.0 - 2.0 * (1.0 - 1.0 / gil_speedup)))
    if free_share is not None:
        return 1.0 - free_share
    return 1.0  # unmeasured: assume the GIL is held, as pure Python does


def calibration(trials: list[Trial], executor: str, m: Measurement, here: int,
                gil_share: float) -> tuple[float, float, float, int]:
    """(median, lowest, highest) ratio of measured time to the model's, and how many trials."""
    ratios: list[float] = []
    spreads: list[float] = []
    n = m.items_measured or m.items
    for t in trials:
        if t.executor != executor or not t.ok or not t.seconds:
            continue
        modelled = sum(parts(executor, t.workers, t.chunksize, t.start_method, m, here, n, gil_share).values())
        if modelled > 0:
            ratios.append(t.seconds / modelled)
            spreads.append(t.spread / t.seconds if t.seconds else 0.0)
    if not ratios:
        return 1.0, 1.0, 1.0, 0
    noise = max(MIN_RELATIVE_BAND, statistics.median(spreads))
    mid = statistics.median(ratios)
    return mid, min(ratios) * (1 - noise), max(ratios) * (1 + noise), len(ratios)


def candidates(executor: str, m: Measurement, cpus: int, kind: str) -> list[tuple[int, Optional[int]]]:
    """(workers, chunksize) to consider on ``cpus`` CPUs, as the sweep's planner would choose
    them there: worker counts by doubling up to the CPUs, chunk sizes from the hand-over
    cost and the per-item durations (space.chunk_candidates)."""
    sample = m_item_seconds(m)
    n = m.items
    load = space.Workload(
        items=n, per_call_s=statistics.fmean(sample), serial_s=statistics.fmean(sample) * n, usable_cpus=cpus,
        waiting=kind == "io-bound", gil_free=kind == "gil-releasing",
        process_start_s=m.overheads.get("process_start_s", 0.05),
        process_task_s=m.overheads.get("process_task_s", 1e-4),
        thread_task_s=m.overheads.get("thread_task_s", 2e-5),
        walls=tuple(durations_for(sample, n)) if n <= SIMULATED_ITEMS else (),
        item_bytes=m.arg_bytes, l2_bytes=0)
    levels = space.worker_levels(min(cpus, max(2, n)))
    if executor == "threads":
        return [(w, None) for w in levels]
    return [(w, c) for w in levels for c in space.chunk_candidates(load, w)]


def what_if(m: Measurement, kind: str, cpus: int, here: int, caches: Caches,
            gil_speedup: Optional[float], is_coroutine: bool = False) -> dict[str, Any]:
    """The ``what_if`` section of the report (CONTRACT.md) for a machine with ``cpus`` usable CPUs."""
    serial = next((t for t in m.trials if t.executor == "serial" and t.ok and t.seconds), None)
    n = m.items
    gil_share = gil_share_of(gil_speedup, kind, (m.gil_probe or {}).get("free_share"))
    serial_s = sum(parts("serial", 1, None, None, m, cpus, n, gil_share).values())
    if serial is not None:
        serial_s *= calibration(m.trials, "serial", m, here, gil_share)[0]
    base = {"cpus": cpus, "measured_on_cpus": here}
    if kind == "io-bound" or is_coroutine:
        return base | _waiting(m, serial_s)
    best: Optional[dict[str, Any]] = None
    for executor in MODELLED:
        if executor not in m.exclusions and _measured(m.trials, executor, m.exclusions):
            mid, low, high, count = calibration(m.trials, executor, m, here, gil_share)
            method = _start_method(m.trials) if executor == "processes" else None
            for workers, chunksize in candidates(executor, m, cpus, kind):
                modelled = parts(executor, workers, chunksize, method, m, cpus, n, gil_share)
                seconds = sum(modelled.values()) * mid
                if best is None or seconds < best["predicted_seconds"]:
                    best = {"executor": executor, "workers": workers, "chunksize": chunksize,
                            "start_method": method, "predicted_seconds": seconds,
                            "predicted_speedup": serial_s / seconds, "low": serial_s / (seconds / mid * high),
                            "high": serial_s / (seconds / mid * low), "parts": modelled, "calibrated_by": count}
    if best is None or best["predicted_speedup"] < WORTHWHILE_SPEEDUP:
        why = (f"the best modelled option, {_label(best)}, is predicted at {best['predicted_speedup']:.2f}x, "
               f"under the {WORTHWHILE_SPEEDUP:.2f}x worth a change" if best else
               "no parallel executor that can run this target was measured here, so none can be predicted")
        return base | {"executor": "serial", "workers": 1, "chunksize": None, "start_method": None,
                       "predicted_seconds": serial_s, "predicted_speedup": 1.0, "low": 1.0, "high": 1.0,
                       "limit": f"stay serial: {why}."}
    limit = _limit(best, m, cpus, here, caches, gil_share)
    out = {k: best[k] for k in ("executor", "workers", "chunksize", "start_method", "predicted_seconds",
                                "predicted_speedup", "low", "high")}
    blas = blas_limit(m, best["workers"], cpus)
    if blas:
        name = m.blas.get("internal_api", "BLAS")
        limit = (f"BLAS limited to {blas} thread(s) per worker: {name} starts a thread per CPU in each "
                 f"worker, and {best['workers']} workers would oversubscribe {cpus} CPUs; ") + limit
    return (base | {k: (round(v, 6) if isinstance(v, float) else v) for k, v in out.items()}
            | {"blas_threads": blas, "limit": limit})


def blas_limit(m: Measurement, workers: int, cpus: int) -> Optional[int]:
    """BLAS threads per worker for the prediction: a multithreaded BLAS (OpenBLAS, MKL) starts
    one thread per usable CPU in every process, so on N CPUs ``workers`` pools of them
    oversubscribe unless limited; measured here on one CPU it shows one thread, so the
    library's presence, not its thread count here, decides."""
    if not m.blas or workers <= 1:
        return None
    return max(1, cpus // workers)


def _measured(trials: list[Trial], executor: str, exclusions: dict[str, str]) -> bool:
    return any(t.executor == executor and t.ok and t.seconds and eligible(t, exclusions) for t in trials)


def _start_method(trials: list[Trial]) -> str:
    done = [t for t in trials if t.executor == "processes" and t.ok and t.seconds]
    return min(done, key=lambda t: t.seconds or 0.0).start_method or "fork" if done else "fork"


def _waiting(m: Measurement, serial_s: float) -> dict[str, Any]:
    """Waiting work: the best measured here stays best, whatever the CPUs."""
    done = [t for t in m.trials if t.ok and t.seconds and t.executor != "serial" and eligible(t, m.exclusions)]
    best = min(done, key=lambda t: t.seconds or 0.0) if done else None
    limit = ("the calls mostly wait (on a service, a disk, a network), so the time depends on what they wait "
             "for, not on the CPUs: the configuration measured here is kept")
    if best is None:
        return {"executor": "serial", "workers": 1, "chunksize": None, "start_method": None,
                "predicted_seconds": serial_s, "predicted_speedup": 1.0, "low": 1.0, "high": 1.0, "limit": limit}
    factor = m.items / max(1, m.items_measured or m.items)
    speedup = (serial_s / (best.seconds * factor)) if best.seconds else 1.0
    noise = max(MIN_RELATIVE_BAND, best.spread / best.seconds if best.seconds else 0.0)
    return {"executor": best.executor, "workers": best.workers, "chunksize": best.chunksize,
            "start_method": best.start_method, "predicted_seconds": round(best.seconds * factor, 6),
            "predicted_speedup": round(speedup, 4), "low": round(speedup * (1 - noise), 4),
            "high": round(speedup * (1 + noise), 4), "limit": limit}


def _label(best: Optional[dict[str, Any]]) -> str:
    if not best:
        return "none"
    chunk = f", chunksize {best['chunksize']}" if best.get("chunksize") and best["chunksize"] > 1 else ""
    return f"{best['executor']}, {best['workers']} workers{chunk}"


def _limit(best: dict[str, Any], m: Measurement, cpus: int, here: int, caches: Caches, gil_share: float) -> str:
    """What stops the predicted configuration from being ``workers`` times faster, in words."""
    modelled: dict[str, float] = best["parts"]
    total = sum(modelled.values()) or 1e-12
    running = min(best["workers"], cpus)
    work = statistics.fmean(m_item_seconds(m)) * m.items
    if best["executor"] == "threads":
        work *= 1 - gil_share
    costs = {
        "startup": f"starting {best['workers']} worker processes",
        "dispatch": "handing out the chunks",
        "transfer": "pickling each item's arguments and result in the parent",
        "gil": "the part of each call that holds the GIL, which runs one thread at a time",
    }
    shares = {k: v / total for k, v in modelled.items() if k in costs}
    shares["imbalance"] = max(0.0, modelled.get("compute", 0.0) - work / running) / total
    costs["imbalance"] = "waiting for the slowest worker (uneven items or chunks)"
    part, share = max(shares.items(), key=lambda kv: kv[1]) if shares else ("", 0.0)
    words = [f"the limit is {costs[part]}, {share:.0%} of the predicted time" if share >= 0.02
             else "the work spreads evenly; the overheads are under 2% of the predicted time"]
    if cpus > here:
        workers = f"{here} worker{'s' if here > 1 else ''}"
        words.append(f"contention past {workers} (memory bandwidth, shared caches) was not measurable here, "
                     "so the band assumes it stays as measured")
    per_worker = m.working_set_bytes
    if per_worker > caches.l2_bytes:
        words.append(f"each call's working set ({per_worker / 2**20:.1f} MiB) exceeds a core's L2 "
                     f"({caches.l2_bytes / 2**20:.1f} MiB): memory bandwidth may cap the speedup below this")
    return "; ".join(words) + "."
