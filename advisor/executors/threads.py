"""Threads: ``ThreadPoolExecutor(workers).map(f, items)``; a chunksize > 1 hands items over in
lists of that many (CONTRACT.md). One interpreter: the calls share the GIL and memory."""
from __future__ import annotations

import concurrent.futures
import math
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..analyse.workload import (
    AMORTIZE_FACTOR,
    CHUNKS_PER_WORKER_DEFAULT,
    Config,
    waiting_upper,
    worker_levels,
)
from .base import (
    ChunkCall,
    Code,
    CodeSpec,
    Executor,
    WarmPools,
    chunked_body,
    chunks_of,
    flatten,
    plain_fn,
    with_pool,
)

if TYPE_CHECKING:
    from ..analyse.workload import Workload


def run(fn: Callable[[Any], Any], items: list[Any], workers: int,
        chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        return map_on(pool, fn, items, chunksize)


def map_on(pool: concurrent.futures.Executor, fn: Callable[[Any], Any], items: list[Any],
           chunksize: Optional[int]) -> list[Any]:
    if chunksize and chunksize > 1:
        return flatten(pool.map(ChunkCall(fn), chunks_of(items, chunksize)))
    return list(pool.map(fn, items))


def configs(load: "Workload") -> list[Config]:
    if load.is_coroutine:
        return []
    if load.waiting:
        levels = worker_levels(waiting_upper(load))
    elif load.gil_free:
        # Beyond the cores too: native code that waits on memory or page faults (numpy
        # temporaries) kept getting faster up to 8 threads on 2 cores.
        levels = worker_levels(load.usable_cpus) + [2 * load.usable_cpus, 4 * load.usable_cpus]
    else:  # GIL-bound: one honest data point that threads do not help
        levels = [max(2, load.usable_cpus)]
    out = [Config("threads", w) for w in sorted(set(levels))]
    if load.per_call_s < AMORTIZE_FACTOR * load.thread_task_s and load.items > 1:
        w = max(2, load.usable_cpus)
        out.append(Config("threads", w, math.ceil(load.items / (CHUNKS_PER_WORKER_DEFAULT * w))))
    return out


def predict(load: "Workload", config: Config) -> float:
    """Waiting calls overlap; native calls that release the GIL share the cores; the rest take turns."""
    if load.waiting:
        parallel = min(config.workers, load.items)
    else:
        parallel = min(config.workers, load.usable_cpus) if load.gil_free else 1
    return load.serial_s / max(1, parallel) + load.items * load.thread_task_s / max(1, config.chunksize or 1)


def code(spec: CodeSpec) -> Code:
    open_line, extra = with_pool(spec, f"ThreadPoolExecutor(max_workers={spec.workers}) as pool")
    imports = ("from concurrent.futures import ThreadPoolExecutor", *extra)
    if spec.chunked:
        body = chunked_body(spec, open_line, "pool.map(run_chunk, chunks)")
        return Code(f"def {spec.helper}(items):\n{body}", imports)
    return Code(f"def {spec.helper}(items):\n{open_line}\n        return list(pool.map({plain_fn(spec)}, items))\n",
                imports)


def _open(workers: int, start_method: Optional[str], name: str) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix=f"paradvise-{name}")


def _close(pool: concurrent.futures.ThreadPoolExecutor) -> None:
    pool.shutdown(wait=True, cancel_futures=True)


def start_up_s(overheads: dict[str, float], config: Config) -> Optional[float]:
    """Starting a thread costs about as much as handing it a task (thread_task_s): one each."""
    task = overheads.get("thread_task_s")
    return None if task is None else config.workers * task


EXECUTOR = Executor("threads", "threads", run, code, configs=configs, predict=predict, start_up_s=start_up_s,
                    preload=("concurrent.futures.thread",), default=True, simplicity=2, colour="#1f77b4",
                    chunks=True, warm=WarmPools(_open, map_on, _close))
