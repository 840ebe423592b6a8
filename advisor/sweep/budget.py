"""The sweep's arithmetic: clocks, subsets, repeats and projections (pure, no processes).

Kept apart from ``runner.Sweep`` so the rules that spend the budget can be read, and
tested, on their own.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import replace
from typing import Optional

from ..analyse import space
from ..measure.capture import RUN_LENGTH, Call
from ..model import Trial

# Repeat each configuration this many times and keep the median (fewer when the budget is short).
REPEATS = 3
# Quick trials get more repeats: short timings are noisier.
QUICK_TRIAL_S = 0.05
QUICK_REPEATS = 5
# One serial pass may use at most this share of the budget; longer loops are measured on
# an evenly spaced subset of the items so that every configuration gets its repeats.
# Serial runs three times or more (repeats, then the closing side-by-side run), and each
# parallel configuration a fraction of that, so a fourteenth leaves most of the budget to them.
SERIAL_BUDGET_SHARE = 0.07
# Work that waits is measured on more of its items: a subset caps how many can be in
# flight at once, and for waiting work the best worker count grows with that number.
WAITING_SERIAL_BUDGET_SHARE = 0.35
MIN_SUBSET = 8
# Trials on a subset are projected to the whole loop (Sweep.project). A pool's fixed costs
# (start-up, the first hand-over, waiting for the last chunk) do not grow with the items,
# so scaling a subset's time in proportion overstates them: on a 100,000-item subset of
# 1,800,000 sub-microsecond calls a process pool measured 0.78x serial, on all of them 1.18x.
# The finalists run again on about an eighth of the subset (see second_size); the two
# sizes give each its fixed cost. That cost is most of a short run's time and its noise
# (pool start-up jitter) is multiplied by total / subset in the projection, so the short
# run is cheap and repeated: twice per round.
PROJECTION_FRACTION = 0.125


class Clock:
    def __init__(self, budget_s: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + budget_s

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def per_call_stats(calls: list[Call]) -> dict[str, float]:
    walls = sorted(c.wall for c in calls)
    median = statistics.median(walls)
    return {
        "median": median,
        "mean": statistics.fmean(walls),
        "p10": walls[int(0.1 * (len(walls) - 1))],
        "p90": walls[int(0.9 * (len(walls) - 1))],
        "max": walls[-1],
        "mad": statistics.median(abs(w - median) for w in walls),
        "total": sum(walls),
    }


def subset_indices(n: int, serial_s: float, budget_s: float, waiting: bool = False,
                   usable_cpus: int = 1) -> list[int]:
    """Items spread evenly over the loop so that one serial pass fits its share of the budget.

    They come in runs of up to ``RUN_LENGTH`` neighbours, evenly spaced: the spread
    follows any trend along the loop (items sorted by size), and the runs keep the memory
    layout the user's loop has (see ``Recorder.sample_run``).

    Never fewer than one item per usable CPU: a pool is capped at the items it maps over,
    and on 16 CPUs a 10-item subset of 24 could not try 16 processes, which were the best
    (0.120 s against 0.189 s for the 8 it recommended).
    """
    allowed = (WAITING_SERIAL_BUDGET_SHARE if waiting else SERIAL_BUDGET_SHARE) * budget_s
    least = max(MIN_SUBSET, usable_cpus)
    if serial_s <= allowed or n <= least:
        return list(range(n))
    keep = max(least, int(n * allowed / serial_s))
    return spread_indices(n, keep)


def second_size(n: int, workers: int, chunksize: Optional[int]) -> int:
    """How many items to time a configuration on again, to tell its fixed cost from the rest.

    ``n`` less whole rounds of chunks (one chunk per worker), about seven eighths of it.
    The last, partial round then looks the same at both sizes, so the difference is steady
    work alone; with a chunk of a third of the items, a plain eighth would hand one worker
    a whole chunk and the other a part, and its waiting would pass for fixed cost.
    0 when there is not one whole round to take away.
    """
    per_round = max(1, workers) * max(1, chunksize or 1)
    rounds = int((1 - PROJECTION_FRACTION) * n / per_round)
    return n - rounds * per_round if rounds >= 1 else 0


def spread_indices(n: int, m: int) -> list[int]:
    """``m`` of ``range(n)`` (or a few fewer), in runs of up to ``RUN_LENGTH`` neighbours
    spread evenly over it, with at least ``RUN_LENGTH`` runs: for the subset
    (``subset_indices``) and for the shorter list a projection times (``Sweep.project``)."""
    if m >= n:
        return list(range(n))
    run = max(1, min(RUN_LENGTH, m // RUN_LENGTH))
    runs = -(-m // run)
    starts = [round(i * (n - run) / (runs - 1)) for i in range(runs)] if runs > 1 else [0]
    return sorted({start + j for start in starts for j in range(run) if start + j < n})[:m]


def fixed_cost(fewer: int, fewer_s: float, items: int, items_s: float) -> float:
    """The part of a map's time that does not grow with the items, from two sizes.

    A straight line through (fewer, fewer_s) and (items, items_s), where it meets zero
    items; kept between 0 (time in proportion) and ``fewer_s`` (noise cannot make more
    items take less time)."""
    if items <= fewer:
        return 0.0
    at_zero = (items * fewer_s - fewer * items_s) / (items - fewer)
    return min(max(0.0, at_zero), fewer_s, items_s)


def projected_seconds(items_s: float, fixed_s: float, items: int, total: float) -> float:
    """The time for ``total`` items (or items' worth of work): the fixed part once, the rest in proportion."""
    return fixed_s + (items_s - fixed_s) * total / max(1, items)


def with_more_runs(trial: Trial, more: list[float]) -> Trial:
    """``trial`` with ``more`` timed runs added to its repeats, median and spread."""
    repeats = [*trial.repeats, *more]
    return replace(trial, repeats=repeats, seconds=statistics.median(repeats), spread=mad(repeats))


def config_of(trial: Trial) -> space.Config:
    return space.Config(trial.executor, trial.workers, trial.chunksize, trial.start_method, trial.blas_threads)


def repeats_for(estimate_s: float, left_s: float, configs_left: int) -> int:
    reps = QUICK_REPEATS if estimate_s < QUICK_TRIAL_S else REPEATS
    while reps > 1 and estimate_s * reps * max(1, configs_left) > left_s:
        reps -= 1
    return reps


def mad(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    median = statistics.median(values)
    return statistics.median(abs(v - median) for v in values)
