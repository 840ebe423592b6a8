"""Which configurations are worth measuring, most promising first (pure functions).

The sweep measures; this module only decides what to try given what is already known
(per-call cost, whether the calls wait or hold the GIL, this machine's measured
overheads), and predicts a rough time for each so the budget goes to likely winners.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Optional

# A chunk should cost at least this many times the per-task dispatch overhead, so that
# dispatch is at most ~5% of the work it carries (chunk >= overhead / (0.05 * per_item)).
AMORTIZE_FACTOR = 20
# For uneven work, more chunks than workers lets a free worker pick up the slack;
# Pool.map's own default is 4 chunks per worker.
CHUNKS_PER_WORKER_DEFAULT = 4
CHUNKS_PER_WORKER_BALANCED = 16
# loky starts its workers by spawning fresh interpreters: several times a fork's cost.
LOKY_START_FACTOR = 5
# A Dask LocalCluster: import, scheduler and a nanny plus a spawned worker per worker,
# then closing them all. Measured here: about 2 s for two workers on a 2-CPU machine;
# only used to order and budget trials, never reported.
DASK_START_S = 1.5
DASK_START_PER_WORKER_S = 0.25
# Dask's documentation puts the scheduler's cost at about 1 ms per task; the measured
# round trip on a LocalCluster is a few ms. Also only a prior for planning.
DASK_TASK_S = 2e-3
# With per-item durations known, this many simulated-best chunk sizes are measured.
MAX_CHUNK_CANDIDATES = 3
# Waiting (I/O) work can use many more threads than cores; beyond this it rarely pays.
MAX_WAITING_WORKERS = 128


@dataclass(frozen=True)
class Config:
    executor: str
    workers: int
    chunksize: Optional[int] = None
    start_method: Optional[str] = None
    blas_threads: Optional[int] = None  # limit native BLAS pools to this many threads (None: leave them)


@dataclass(frozen=True)
class Workload:
    """What the planner knows before trying any parallel configuration."""

    items: int
    per_call_s: float
    serial_s: float
    usable_cpus: int
    waiting: bool  # the calls mostly wait (I/O, sleep): CPU time well below wall time
    gil_free: bool  # two threads ran the calls faster than one (the GIL is released)
    is_coroutine: bool = False
    in_event_loop: bool = False  # a plain function called from async code: asyncio.to_thread applies
    process_start_s: float = 0.05
    process_task_s: float = 1e-4
    thread_task_s: float = 2e-5
    dask_workers: int = 0  # workers a Dask trial runs on; 0: no Dask trials
    # Each item's own serial duration, in order (from the real calls): lets the planner
    # simulate how a pool would hand out chunks, so uneven items are not guessed at.
    walls: tuple[float, ...] = ()
    item_bytes: int = 0  # one item's arguments, pickled (0: unknown)
    l2_bytes: int = 0  # per-core L2 (0: unknown)
    # --cpus N: the what-if (analyse/what_if.py) predicts N CPUs from trials measured here;
    # on one CPU no pool can win, but one must be measured for the prediction to rest on.
    what_if_cpus: int = 0


def worker_levels(upper: int) -> list[int]:
    """2, 4, 8, ... up to ``upper``, with ``upper`` itself included."""
    levels, w = [], 2
    while w < upper:
        levels.append(w)
        w *= 2
    if upper >= 2:
        levels.append(upper)
    return levels


def chunk_candidates(load: Workload, workers: int) -> list[int]:
    n = load.items
    most = max(1, math.ceil(n / workers))
    amortized = math.ceil(AMORTIZE_FACTOR * load.process_task_s / max(load.per_call_s, 1e-9))
    default = math.ceil(n / (CHUNKS_PER_WORKER_DEFAULT * workers))
    balanced = math.ceil(n / (CHUNKS_PER_WORKER_BALANCED * workers))
    picks = {min(max(1, c), most) for c in (amortized, default, balanced)}
    # A chunk arrives in a worker as one pickle and is unpickled whole before its first
    # item runs: when items are large, keep a chunk within the per-core L2 so the worker
    # does not stream it from memory twice (once unpickling, once computing).
    cap = l2_chunk_cap(load)
    most = min(most, cap)
    picks = {min(c, cap) for c in picks}
    if len(load.walls) == n and n:
        # With the real per-item durations, simulate every power of two as well and keep
        # the ones the simulation likes best: uneven items need the right chunk size.
        powers = {min(most, 2 ** k) for k in range(int(math.log2(most)) + 1)}
        ranked = sorted(picks | powers, key=lambda c: (
            round(simulate_map(load.walls, workers, c, load.process_task_s), 9), c))
        picks = set(ranked[:MAX_CHUNK_CANDIDATES])
    return sorted(picks)


def l2_chunk_cap(load: Workload) -> int:
    """The most items whose arguments fit in the per-core L2.

    No cap when either size is unknown, or when one item alone is larger than L2: it
    streams from memory whatever the chunk size, and bigger chunks still save hand-overs
    (1.5 MB log chunks ran fastest 8 to a chunk).
    """
    if load.item_bytes <= 0 or load.l2_bytes <= 0 or load.item_bytes > load.l2_bytes:
        return max(1, load.items)
    return max(1, load.l2_bytes // load.item_bytes)


def simulate_map(walls: tuple[float, ...], workers: int, chunksize: int, per_task: float) -> float:
    """Makespan of a pool map: chunks, in order, each to the first worker that is free."""
    free_at = [0.0] * max(1, workers)
    for start in range(0, len(walls), max(1, chunksize)):
        earliest = heapq.heappop(free_at)
        heapq.heappush(free_at, earliest + per_task + sum(walls[start:start + chunksize]))
    return max(free_at)


def _waiting_upper(load: Workload) -> int:
    return max(2, min(load.items, MAX_WAITING_WORKERS))


def thread_configs(load: Workload) -> list[Config]:
    if load.waiting:
        levels = worker_levels(_waiting_upper(load))
    elif load.gil_free:
        # Beyond the cores too: native code that waits on memory or page faults (numpy
        # temporaries) kept getting faster up to 8 threads on 2 cores.
        levels = worker_levels(load.usable_cpus) + [2 * load.usable_cpus, 4 * load.usable_cpus]
    else:  # GIL-bound: one honest data point that threads do not help
        levels = [max(2, load.usable_cpus)]
    configs = [Config("threads", w) for w in sorted(set(levels))]
    if load.per_call_s < AMORTIZE_FACTOR * load.thread_task_s and load.items > 1:
        w = max(2, load.usable_cpus)
        configs.append(Config("threads", w, math.ceil(load.items / (CHUNKS_PER_WORKER_DEFAULT * w))))
    return configs


def process_configs(load: Workload, start_method: str) -> list[Config]:
    if load.usable_cpus < 2 and not load.waiting:
        if load.what_if_cpus >= 2 and load.items >= 2:
            return [Config("processes", 2, chunk_candidates(load, 2)[0], start_method)]
        return []
    upper = min(_waiting_upper(load), 8 * load.usable_cpus) if load.waiting else load.usable_cpus
    configs = []
    for w in worker_levels(min(upper, max(2, load.items))):
        configs += [Config("processes", w, c, start_method) for c in chunk_candidates(load, w)]
    return configs


def joblib_configs(load: Workload) -> list[Config]:
    """loky keeps workers alive between calls; one or two batch sizes at the full worker count."""
    if load.usable_cpus < 2 and not load.waiting:
        return []
    w = min(max(2, load.usable_cpus), max(2, load.items))
    batches = {None, chunk_candidates(load, w)[0]}
    return [Config("joblib", w, b if b and b > 1 else None) for b in batches]


def dask_configs(load: Workload) -> list[Config]:
    """One task per item (plain ``client.map``) and items batched so dispatch is amortized.

    The worker count is fixed: the usable CPUs for a local cluster, an existing cluster's size.
    """
    if load.dask_workers < 1:
        return []
    w = min(load.dask_workers, max(1, load.items))
    amortized = math.ceil(AMORTIZE_FACTOR * DASK_TASK_S / max(load.per_call_s, 1e-9))
    default = math.ceil(load.items / (CHUNKS_PER_WORKER_DEFAULT * w))
    most = max(1, math.ceil(load.items / w))
    chunks = sorted({1, min(most, max(amortized, default))})
    return [Config("dask", w, c if c > 1 else None) for c in chunks]


def asyncio_configs(load: Workload) -> list[Config]:
    return [Config("asyncio", w) for w in worker_levels(_waiting_upper(load))]


def plan(load: Workload, executors: list[str], start_method: str = "fork") -> list[Config]:
    """Configurations to measure (serial excluded), ordered by predicted time.

    Each executor's most promising configuration comes before any executor's second one:
    the predictions are rough (a busy machine, a GIL probe that misjudged), so every
    executor gets measured at least once before the budget can run out. Dask comes first: it is planned only when the user named a cluster (--dask), the
    default budget grows to fit its trials, and by predicted time (a cluster start-up
    each) it would always come last and be the first thing the budget cuts.
    """
    configs: list[Config] = []
    if load.is_coroutine:
        if "asyncio" in executors:
            configs += asyncio_configs(load)
    else:
        if "threads" in executors:
            configs += thread_configs(load)
        if "asyncio" in executors and load.in_event_loop:
            configs += asyncio_configs(load)  # gather over asyncio.to_thread calls
        if "processes" in executors:
            configs += process_configs(load, start_method)
        if "joblib" in executors:
            configs += joblib_configs(load)
        if "interpreters" in executors:  # own GIL each: scales like processes, starts faster
            configs += [Config("interpreters", w, c) for w in worker_levels(max(2, load.usable_cpus))
                        for c in chunk_candidates(load, w)[:1]]
        if "dask" in executors:
            configs += dask_configs(load)
    ordered = sorted(configs, key=lambda c: predict_seconds(load, c))
    leaders = list({c.executor: c for c in reversed(ordered)}.values())
    leaders.sort(key=lambda c: (c.executor != "dask", predict_seconds(load, c)))
    rest = [c for c in ordered if c not in leaders]
    return leaders + sorted(rest, key=lambda c: (c.executor != "dask", predict_seconds(load, c)))


def predict_seconds(load: Workload, config: Config) -> float:
    """A rough a-priori time for ordering trials; never reported as a result."""
    w = config.workers
    if config.executor in ("threads", "asyncio"):
        if load.waiting or config.executor == "asyncio":
            parallel = min(w, load.items)
        else:
            parallel = min(w, load.usable_cpus) if load.gil_free else 1
        return load.serial_s / parallel + load.items * load.thread_task_s / max(1, config.chunksize or 1)
    if config.executor in ("processes", "joblib", "interpreters"):
        parallel = min(w, load.items) if load.waiting else min(w, load.usable_cpus)
        start = load.process_start_s * w / 2 * (LOKY_START_FACTOR if config.executor == "joblib" else 1)
        if len(load.walls) == load.items and load.items:
            return start + simulate_map(load.walls, parallel, config.chunksize or 1, load.process_task_s)
        chunks = math.ceil(load.items / (config.chunksize or 1))
        return start + load.serial_s / parallel + chunks * load.process_task_s
    if config.executor == "dask":
        chunks = math.ceil(load.items / (config.chunksize or 1))
        start = DASK_START_S + DASK_START_PER_WORKER_S * w
        return start + load.serial_s / max(1, min(w, load.items)) + chunks * DASK_TASK_S
    return load.serial_s


def refine(best: Config, measured: set[Config], load: Workload) -> list[Config]:
    """Neighbours of the best configuration so far: the search's second, finer pass.

    Worker counts between the coarse levels (x0.75, x1.5) and, for pools that take
    chunks, half and double the chunk size; only ones not measured yet.
    """
    if best.executor == "serial":
        return []
    if best.executor == "dask":  # a cluster's size is given: only the batching can change
        return [c for c in _chunk_neighbours(best, load) if c not in measured]
    if load.waiting or best.executor == "asyncio":
        upper = _waiting_upper(load)
    elif best.executor == "threads" and load.gil_free:
        upper = 4 * max(2, load.usable_cpus)  # as thread_configs: past the cores
    else:
        upper = max(2, load.usable_cpus)
    workers = {min(upper, max(2, round(best.workers * f))) for f in (0.75, 1.5)}
    # Neighbours keep the best's BLAS limit: the limit is part of what made it best.
    out = [Config(best.executor, w, best.chunksize, best.start_method, best.blas_threads) for w in sorted(workers)]
    if best.executor in ("processes", "joblib") and best.chunksize:
        out += _chunk_neighbours(best, load)
    return [c for c in dict.fromkeys(out) if c not in measured]


def _chunk_neighbours(best: Config, load: Workload) -> list[Config]:
    """Half and double the best chunk size (a chunk of 1 is written as None for Dask)."""
    if not best.chunksize:
        return []
    most = min(max(1, math.ceil(load.items / best.workers)), l2_chunk_cap(load))
    sizes = sorted({max(1, min(most, best.chunksize // 2)), min(most, best.chunksize * 2)})
    none_for_one = best.executor == "dask"
    return [Config(best.executor, best.workers, None if none_for_one and c == 1 else c, best.start_method,
                   best.blas_threads)
            for c in sizes]
