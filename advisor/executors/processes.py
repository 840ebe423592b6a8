"""Processes: ``multiprocessing.get_context(start_method).Pool(workers).map(f, items, chunksize)``.

Each worker is its own interpreter: items and results are pickled, the function is sent by
reference (module and name), and start-up is paid per worker.
"""
from __future__ import annotations

import math
import multiprocessing
import multiprocessing.pool
import signal
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..analyse.workload import (
    Config,
    chunk_candidates,
    oversubscribed_workers,
    shared_makespan,
    simulate_map,
    waiting_upper,
    worker_levels,
)
from ..errors import WorkerDied
from .base import Code, CodeSpec, Executor, WarmPools, with_pool

if TYPE_CHECKING:
    from ..analyse.workload import Workload

# How often a process pool's workers are checked for having died (Pool itself never notices).
WORKER_CHECK_SECONDS = 0.02


def run(fn: Callable[[Any], Any], items: list[Any], workers: int,
        chunksize: Optional[int] = None, start_method: Optional[str] = "fork") -> list[Any]:
    context = multiprocessing.get_context(start_method)
    with context.Pool(workers) as pool:
        return map_on(pool, fn, items, chunksize)


def map_on(pool: multiprocessing.pool.Pool, fn: Callable[[Any], Any], items: list[Any],
           chunksize: Optional[int]) -> list[Any]:
    pending = pool.map_async(fn, items, chunksize)
    wait_watching_workers(pool, pending)
    return pending.get()  # type: ignore[no-any-return]


def wait_watching_workers(pool: multiprocessing.pool.Pool, pending: multiprocessing.pool.MapResult) -> None:
    """Wait for ``pending``; raise if a worker dies, since Pool would wait for ever."""
    workers = list(pool._pool)  # type: ignore[attr-defined]  # the only handle on them
    while not pending.ready():
        pending.wait(WORKER_CHECK_SECONDS)
        # Workers never exit during a map, so any exit (even status 0, as after
        # sys.exit() in the target) means its task is lost and the map would never end.
        for proc in workers + list(pool._pool):  # type: ignore[attr-defined]
            code = proc.exitcode
            if code is not None:
                raise WorkerDied(describe_exitcode(code))


def describe_exitcode(code: int) -> str:
    if code < 0:
        try:
            return f"a worker process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"a worker process was killed by signal {-code}"
    return f"a worker process exited with status {code}"


def configs(load: "Workload") -> list[Config]:
    if load.is_coroutine:
        return []
    start_method = load.start_method
    if load.usable_cpus < 2 and not load.waiting:
        if load.what_if_cpus >= 2 and load.items >= 2:
            return [Config("processes", 2, chunk_candidates(load, 2)[0], start_method)]
        return []
    upper = min(waiting_upper(load), 8 * load.usable_cpus) if load.waiting else load.usable_cpus
    out = []
    for w in worker_levels(min(upper, max(2, load.items))):
        out += [Config("processes", w, c, start_method) for c in chunk_candidates(load, w)]
    more = oversubscribed_workers(load)
    if more:  # long items would queue behind each other: one item per hand-out lets them share the CPUs
        out.append(Config("processes", more, 1, start_method))
    return out


def predict(load: "Workload", config: Config, start_factor: float = 1.0) -> float:
    """Start-up per worker (half of them, on average, start before the first chunk is handed
    out), then the map: simulated over the real per-item durations when they are known."""
    w = config.workers
    parallel = min(w, load.items) if load.waiting else min(w, load.usable_cpus)
    start = load.process_start_s * w / 2 * start_factor
    if w > load.usable_cpus and not load.waiting and load.loop_walls and load.walls:
        # More workers than CPUs pay off only over the loop's own durations (see
        # oversubscribed_workers): its modelled makespan, in the subset's proportion.
        whole = shared_makespan(list(load.loop_walls), w, config.chunksize or 1, load.usable_cpus)
        return start + whole * sum(load.walls) / sum(load.loop_walls)
    if len(load.walls) == load.items and load.items:
        return start + simulate_map(load.walls, parallel, config.chunksize or 1, load.process_task_s)
    chunks = math.ceil(load.items / (config.chunksize or 1))
    return start + load.serial_s / max(1, parallel) + chunks * load.process_task_s


def code(spec: CodeSpec) -> Code:
    open_line, extra = with_pool(spec, f"context.Pool(processes={spec.workers}) as pool")
    method = "starmap" if spec.star else "map"
    text = (f"def {spec.helper}(items):\n"
            "    # The script's main guard matters: worker processes may import it.\n"
            f'    context = multiprocessing.get_context("{spec.start_method or "fork"}")\n'
            f"{open_line}\n"
            f"        return pool.{method}({spec.fn}, items, chunksize={spec.chunksize or 1})\n")
    return Code(text, ("import multiprocessing", *extra))


def _open(workers: int, start_method: Optional[str], name: str) -> multiprocessing.pool.Pool:
    return multiprocessing.get_context(start_method or "fork").Pool(workers)


def _close(pool: multiprocessing.pool.Pool) -> None:
    pool.terminate()  # idle workers are simply stopped
    pool.join()


def start_up_s(overheads: dict[str, float], config: Config) -> Optional[float]:
    """The probed pool start-up for the configuration's start method, and a first task per worker."""
    start = overheads.get(f"start_{config.start_method or 'fork'}_s")
    return None if start is None else start + config.workers * overheads.get("process_task_s", 0.0)


EXECUTOR = Executor("processes", "processes", run, code, configs=configs, predict=predict, start_up_s=start_up_s,
                    preload=("multiprocessing.popen_fork", "multiprocessing.queues", "multiprocessing.synchronize",
                             "multiprocessing.popen_spawn_posix", "multiprocessing.popen_forkserver"),
                    default=True, simplicity=4, colour="#ff7f0e", needs_main_guard=True,
                    pickles_by_reference=True, forked_trampoline=True, chunks=True,
                    warm=WarmPools(_open, map_on, _close))
