"""What the planner knows about a loop (``Workload``), what it can try (``Config``), and the
pure arithmetic of pools that every executor's planning shares: worker levels, chunk sizes,
and a simulated map over the real per-item durations.
"""
from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass
from typing import Optional

# A chunk should cost at least this many times the per-task dispatch overhead, so that
# dispatch is at most ~5% of the work it carries (chunk >= overhead / (0.05 * per_item)).
AMORTIZE_FACTOR = 20
# For uneven work, more chunks than workers lets a free worker pick up the slack;
# Pool.map's own default is 4 chunks per worker.
CHUNKS_PER_WORKER_DEFAULT = 4
CHUNKS_PER_WORKER_BALANCED = 16
# With per-item durations known, this many simulated-best chunk sizes are measured.
MAX_CHUNK_CANDIDATES = 3
# Waiting (I/O) work can use many more threads than cores; beyond this it rarely pays.
MAX_WAITING_WORKERS = 128
# Two medians closer than this fraction of the faster are a tie (recommend._tie_margin):
# a modelled gain smaller than it could not be told from noise by the trials.
TIE_FRACTION = 0.03


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
    start_method: str = "fork"  # what process pools are planned with
    # The whole loop's calls, when the trials map a subset of them (0: ``items`` are all).
    total_items: int = 0
    # Every call's duration over the whole loop, in the units of ``walls``, when the trials
    # map a subset and every call was recorded: a subset holds a loop's long items in other
    # proportions, and how a pool waits on them shows only over the whole loop.
    loop_walls: tuple[float, ...] = ()


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
    default = pool_default_chunk(n, workers)
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
        # Pool.map's own chunk stays among them. The simulation charges each hand-over the
        # probe's per-task cost, timed with idle CPUs; with every CPU busy computing, a
        # hand-over also waits for the parent to get one, so the simulation favours small
        # chunks more than the machine does (4,500 calls of 0.27 ms: chunks of 563 ran 8%
        # faster than the simulation's 30). Measuring the default checks it either way.
        kept = [c for c in ranked if c != min(default, most)][:MAX_CHUNK_CANDIDATES - 1]
        picks = {*kept, min(max(1, default), most)}
    return sorted(picks)


def pool_default_chunk(items: int, workers: int) -> int:
    """The chunk ``multiprocessing.Pool.map`` picks when given none: four chunks per worker.

    It is a share of the items, not a size: on a subset of the loop it makes as many
    chunks as on the whole loop (see rounds.ClosingRounds.project and recommend)."""
    chunk, extra = divmod(max(0, items), max(1, workers) * CHUNKS_PER_WORKER_DEFAULT)
    return max(1, chunk + (1 if extra else 0))


def is_pool_default(executor: str, workers: int, chunksize: Optional[int], items: int) -> bool:
    """Whether a process pool's chunk over ``items`` is Pool.map's default for them."""
    return executor == "processes" and items > 0 and (chunksize or 1) == pool_default_chunk(items, workers)


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


def waiting_upper(load: Workload) -> int:
    """The most workers worth trying for calls that wait: one per call of the whole loop.

    The loop's count, not the subset's: on a 78-call subset of 90 waiting calls, 78
    workers do the subset in one round of waits and the loop in two; 90 do both in one.
    """
    return max(2, min(max(load.items, load.total_items), MAX_WAITING_WORKERS))


def shared_makespan(walls: list[float], workers: int, chunksize: int, cpus: int) -> float:
    """Makespan of a pool map, chunks in order to the first free worker, where the workers
    may outnumber the CPUs: then the OS shares the CPUs evenly, and each of ``running``
    busy workers goes at ``cpus / running`` of one CPU's speed. With three long items left
    at the end of a loop, four workers on two CPUs run all three at once and end in 1.5
    items' time, where two workers take two.
    """
    if workers <= max(1, cpus):  # each busy worker has a CPU of its own: the plain hand-out
        return simulate_map(tuple(walls), workers, chunksize, 0.0)
    step = max(1, chunksize)
    chunks = [sum(walls[i:i + step]) for i in range(0, len(walls), step)]
    busy = chunks[:max(1, workers)]
    queue = deque(chunks[len(busy):])
    now = 0.0
    while busy:
        least = min(busy)
        now += least / min(1.0, max(1, cpus) / len(busy))
        left = [w - least for w in busy]
        busy = [w for w in left if w > 1e-12]
        for _ in range(len(left) - len(busy)):  # each worker that finished takes the next chunk
            if queue:
                busy.append(queue.popleft())
    return now


def oversubscribed_workers(load: Workload) -> Optional[int]:
    """Twice as many process workers as CPUs, where the loop's own durations say that sharing
    the CPUs among more workers ends it sooner by more than it costs; else None.

    With a few long items at the end of a loop, each waits for a free worker behind the
    others; with more workers than CPUs they start at once and share the CPUs
    (``shared_makespan``). Worth a trial when the modelled gain exceeds both the extra
    workers' measured start-up and the share of a run that two timings cannot tell apart
    (``TIE_FRACTION``, as the recommendation compares them).
    """
    cpus = load.usable_cpus
    if load.waiting or cpus < 2 or not load.loop_walls or len(load.loop_walls) <= cpus:
        return None
    more = 2 * cpus
    own = shared_makespan(list(load.loop_walls), cpus, 1, cpus)
    shared = shared_makespan(list(load.loop_walls), more, 1, cpus)
    cost = load.process_start_s * (more - cpus) / 2  # as processes.predict charges start-up
    return more if own - shared > max(cost, TIE_FRACTION * own) else None


def loop_factor(executor: str, workers: int, chunksize: Optional[int], loop_walls: list[float],
                measured_walls: list[float], cpus: int) -> float:
    """How much longer the whole loop takes than the measured subset under one configuration.

    By recorded time for most: the subset's share of the loop's time, not of its calls.
    For a process pool on work that keeps CPUs busy, by its modelled hand-out of the
    recorded durations (``shared_makespan``): a subset of uneven items holds its long ones
    in other proportions than the loop, and waits on them in another order.
    """
    measured = sum(measured_walls)
    by_time = sum(loop_walls) / measured if measured > 0 else 1.0
    if executor != "processes" or not loop_walls or not measured_walls:
        return by_time
    part = shared_makespan(measured_walls, workers, chunksize or 1, cpus)
    whole = shared_makespan(loop_walls, workers, chunksize or 1, cpus)
    return whole / part if part > 0 else by_time
