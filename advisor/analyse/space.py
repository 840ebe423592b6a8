"""Which configurations are worth measuring, most promising first (pure functions).

The sweep measures; this module only decides what to try given what is already known
(per-call cost, whether the calls wait or hold the GIL, this machine's measured
overheads), and predicts a rough time for each so the budget goes to likely winners.
Each executor proposes its own candidates and their prior times (advisor/executors/);
this module orders them and searches around the best.
"""
from __future__ import annotations

import math
from dataclasses import replace

from ..executors import REGISTRY
from .workload import (  # noqa: F401  (the planner's vocabulary, used through this module)
    Config,
    Workload,
    chunk_candidates,
    l2_chunk_cap,
    simulate_map,
    waiting_upper,
    worker_levels,
)


def plan(load: Workload, executors: list[str], start_method: str = "fork") -> list[Config]:
    """Configurations to measure (serial excluded), ordered by predicted time.

    Each executor's most promising configuration comes before any executor's second one:
    the predictions are rough (a busy machine, a GIL probe that misjudged), so every
    executor gets measured at least once before the budget can run out. Dask comes first:
    it is planned only when the user named a cluster (--dask), the default budget grows to fit its trials, and by predicted time (a cluster start-up
    each) it would always come last and be the first thing the budget cuts.
    """
    load = replace(load, start_method=start_method)
    configs = [c for name in executors if name in REGISTRY for c in REGISTRY[name].configs(load)]
    ordered = sorted(configs, key=lambda c: predict_seconds(load, c))
    leaders = list({c.executor: c for c in reversed(ordered)}.values())
    def key(c: Config) -> tuple[bool, float]:
        return REGISTRY[c.executor].family != "cluster", predict_seconds(load, c)

    leaders.sort(key=key)
    rest = [c for c in ordered if c not in leaders]
    return leaders + sorted(rest, key=key)


def predict_seconds(load: Workload, config: Config) -> float:
    """A rough a-priori time for ordering trials; never reported as a result."""
    predict = REGISTRY[config.executor].predict
    return load.serial_s if predict is None else predict(load, config)


def refine(best: Config, measured: set[Config], load: Workload) -> list[Config]:
    """Neighbours of the best configuration so far: the search's second, finer pass.

    Worker counts between the coarse levels (x0.75, x1.5) and, for pools that take
    chunks, half and double the chunk size; only ones not measured yet.
    """
    if best.executor == "serial":
        return []
    family = REGISTRY[best.executor].family
    if family == "cluster":  # a cluster's size is given: only the batching can change
        return [c for c in _chunk_neighbours(best, load) if c not in measured]
    if load.waiting or best.executor == "asyncio":
        upper = waiting_upper(load)
    elif best.executor == "threads" and load.gil_free:
        upper = 4 * max(2, load.usable_cpus)  # as thread_configs: past the cores
    else:
        upper = max(2, load.usable_cpus)
    workers = {min(upper, max(2, round(best.workers * f))) for f in (0.75, 1.5)}
    # Neighbours keep the best's BLAS limit: the limit is part of what made it best.
    out = [Config(best.executor, w, best.chunksize, best.start_method, best.blas_threads) for w in sorted(workers)]
    if family == "processes" and best.chunksize:
        out += _chunk_neighbours(best, load)
    return [c for c in dict.fromkeys(out) if c not in measured]


def _chunk_neighbours(best: Config, load: Workload) -> list[Config]:
    """Half and double the best chunk size (a chunk of 1 is written as None for Dask)."""
    if not best.chunksize:
        return []
    most = min(max(1, math.ceil(load.items / best.workers)), l2_chunk_cap(load))
    sizes = sorted({max(1, min(most, best.chunksize // 2)), min(most, best.chunksize * 2)})
    none_for_one = REGISTRY[best.executor].family == "cluster"
    return [Config(best.executor, best.workers, None if none_for_one and c == 1 else c, best.start_method,
                   best.blas_threads)
            for c in sizes]
