"""How long the sweep may take and one trial may run, by default: a few times the loop.

Used twice for one ``paradvise profile``: by the pipeline, from the locate run's loop time,
to bound the measuring run; and by the measuring child, from the loop it has just recorded
with only the target wrapped (see ``recorded_budget``). The locate run's time includes its
counters on every nested function and scalene's sampling, which made loops of many small
method calls look 1.3-1.9x longer than they are, and budgets, and so advice cost, with them.
"""
from __future__ import annotations

import math
from typing import Optional

from ..executors import dask_cluster

# The default sweep budget scales with the loop being advised on: a few times its
# serial time, so advice costs a small multiple of one run, within sensible bounds.
# Longer loops are swept on a subset of their items (budget.subset_indices). The advice
# costs the goal of 5x the loop when the sweep gets what the rest leaves: the script runs
# twice (locate, then capture: 2x; once where the count run records the loop itself, see
# measure/speculate.py), and the interpreters, the report and the process
# start-ups add about 0.6 s (0.4x of a 1.5 s loop), which leaves 2.5 loop-times. Four
# (at least 3 s) cost a median 7.3x the loop over the bench's 28 workloads (bench/results,
# run 0754), three (at least 2 s) 6.6x over 29 (run 0929) and, with scalene's start-up
# still in the first run, 5.9x (run 1503); loops under half a second lost most from the
# shorter budget, so the floor stays.
BUDGET_PER_LOOP_SECOND = 2.5
MIN_DEFAULT_BUDGET_S = 2.0
MAX_DEFAULT_BUDGET_S = 120.0
# One trial may take a few times the serial loop (a badly chunked pool can be slower).
TIMEOUT_PER_LOOP_SECOND = 4.0
MIN_DEFAULT_TIMEOUT_S = 5.0
# With --dask and no --budget, the default budget grows by this many Dask trials (the
# planner's two batchings), each a cluster start-up on top of the loop.
DASK_TRIALS_IN_DEFAULT_BUDGET = 2
# Pool families the what-if predicts (analyse/what_if.MODELLED), each needing one trial here.
WHAT_IF_FAMILIES = 2


def default_budget(loop_s: float, usable_cpus: int = 2) -> float:
    """A few times the loop, more where there are more worker counts to try.

    The sweep's coarse pass doubles the workers up to the CPUs, so each doubling past two
    CPUs adds a level per executor: on 16 CPUs the 2-CPU budget left most configurations
    with one run, or none (bench on 16 CPUs: 3 s for http_fetch measured serial and one
    pool). Half the budget again per doubling past 4 CPUs; 2 and 4 CPUs are unchanged.
    """
    levels = max(1.0, math.log2(max(1, usable_cpus)) / 2)
    return min(MAX_DEFAULT_BUDGET_S, levels * max(MIN_DEFAULT_BUDGET_S, BUDGET_PER_LOOP_SECOND * loop_s))


def what_if_trial_s(loop_s: float, usable_cpus: int, cpus: Optional[int]) -> float:
    """Budget for the pool trials the what-if rests on where no pool can win (one CPU): a
    pool of two there takes about one serial pass, and threads and processes each need
    one. Without them a loop of six 0.24 s calls got a thread trial but no process pool,
    and no prediction of the pool that gives 1.9x on two CPUs."""
    return WHAT_IF_FAMILIES * loop_s if cpus and cpus >= 2 and usable_cpus < 2 else 0.0


def dask_trial_s(loop_s: float, dask_workers: int) -> float:
    """A rough time for one Dask trial (0 without Dask): cluster start-up and shut-down, plus the loop."""
    if not dask_workers:
        return 0.0
    return dask_cluster.startup_estimate_s(dask_workers) + loop_s


def sweep_budget(loop_s: float, usable_cpus: int, dask_workers: int = 0, what_if_cpus: Optional[int] = None) -> float:
    """The default budget of a sweep over a loop of ``loop_s``: its trials, Dask's and the what-if's."""
    return (default_budget(loop_s, usable_cpus) + DASK_TRIALS_IN_DEFAULT_BUDGET * dask_trial_s(loop_s, dask_workers)
            + what_if_trial_s(loop_s, usable_cpus, what_if_cpus))


def default_timeout(loop_s: float, dask_workers: int = 0) -> float:
    return max(MIN_DEFAULT_TIMEOUT_S, TIMEOUT_PER_LOOP_SECOND * loop_s, 2 * dask_trial_s(loop_s, dask_workers))


def recorded_budget(ceiling_s: float, recorded_loop_s: float, usable_cpus: int, dask_workers: int = 0,
                    what_if_cpus: Optional[int] = None) -> float:
    """The default budget again, from the loop as the measuring run recorded it.

    Never more than ``ceiling_s``, the pipeline's budget from the locate run: the parent's
    time limit for the measuring run was set from it.
    """
    if recorded_loop_s <= 0:
        return ceiling_s
    return min(ceiling_s, sweep_budget(recorded_loop_s, usable_cpus, dask_workers, what_if_cpus))
