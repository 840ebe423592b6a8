"""The bench's configurations: the grid it times exhaustively, how each runs (as CONTRACT.md
defines it), and the library defaults a user would reach for without advice."""
from __future__ import annotations

import asyncio
import concurrent.futures
import math
import multiprocessing
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from settings import (
    ASYNC_WORKERS,
    FIXED_CHUNKS,
    HAVE_JOBLIB,
    PROCESS_WORKERS,
    QUICK_ASYNC_WORKERS,
    QUICK_THREAD_WORKERS,
    THREAD_WORKERS,
)

# ---------------------------------------------------------------- configurations

@dataclass(frozen=True)
class Config:
    executor: str  # serial, threads, processes, asyncio or joblib (CONTRACT.md names)
    workers: int = 1
    chunksize: Optional[int] = None
    start_method: Optional[str] = None
    blas_threads: Optional[int] = None  # native BLAS limited to this many threads (threadpoolctl)

    def label(self) -> str:
        blas = f" BLAS{self.blas_threads}" if self.blas_threads else ""
        if self.executor == "serial":
            return "serial"
        if self.executor == "processes":
            method = "" if self.start_method in (None, "fork") else f" {self.start_method}"
            return f"processes {self.workers}w c{self.chunksize or 1}{method}{blas}"
        if self.executor in ("threads", "joblib") and self.chunksize and self.chunksize > 1:
            return f"{self.executor} {self.workers}w c{self.chunksize}{blas}"
        return f"{self.executor} {self.workers}w{blas}"


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class _ChunkCall:
    """Map ``fn`` over one list of items (threads with chunksize > 1, per CONTRACT.md)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, chunk: list[Any]) -> list[Any]:
        return [self.fn(x) for x in chunk]


def run_config(config: Config, fn: Callable[[Any], Any], items: list[Any], is_coroutine: bool) -> Any:
    """Map ``fn`` over ``items`` the way CONTRACT.md says a user would, pool start-up included
    (with BLAS limited as the emitted code limits it, when the configuration says so)."""
    if config.blas_threads:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=config.blas_threads, user_api="blas"):
            return _run_config(config, fn, items, is_coroutine)
    return _run_config(config, fn, items, is_coroutine)


def _run_config(config: Config, fn: Callable[[Any], Any], items: list[Any], is_coroutine: bool) -> Any:
    ex, w, c = config.executor, config.workers, config.chunksize
    if is_coroutine:
        return asyncio.run(_run_async(ex, fn, items, w))
    if ex == "serial":
        return [fn(x) for x in items]
    if ex == "threads":
        with concurrent.futures.ThreadPoolExecutor(w) as pool:
            if c and c > 1:
                return [r for part in pool.map(_ChunkCall(fn), _chunks(items, c)) for r in part]
            return list(pool.map(fn, items))
    if ex == "processes":
        with multiprocessing.get_context(config.start_method or "fork").Pool(w) as pool:
            return pool.map(fn, items, c)
    if ex == "joblib" and HAVE_JOBLIB:
        import joblib
        return joblib.Parallel(n_jobs=w, backend="loky", batch_size=c or "auto")(
            joblib.delayed(fn)(x) for x in items)
    raise ValueError(f"cannot run {config.label()}")


async def _run_async(executor: str, fn: Callable[[Any], Any], items: list[Any], workers: int) -> list[Any]:
    if executor == "serial":  # the user's own loop: await one call after another
        return [await fn(x) for x in items]
    gate = asyncio.Semaphore(workers)

    async def one(x: Any) -> Any:
        async with gate:
            return await fn(x)

    return list(await asyncio.gather(*(one(x) for x in items)))


# What a user writes without advice. Each is timed with its pool's shutdown included.
def _default_pool(fn, items):
    with multiprocessing.Pool() as pool:
        return pool.map(fn, items)


def _default_thread_executor(fn, items):
    with concurrent.futures.ThreadPoolExecutor() as pool:
        return list(pool.map(fn, items))


def _default_process_executor(fn, items):
    with concurrent.futures.ProcessPoolExecutor() as pool:
        return list(pool.map(fn, items))


def _default_joblib(fn, items):
    import joblib
    return joblib.Parallel(n_jobs=-1)(joblib.delayed(fn)(x) for x in items)


def _default_gather(fn, items):
    async def everything():
        return await asyncio.gather(*(fn(x) for x in items))
    return asyncio.run(everything())


SYNC_DEFAULTS: dict[str, Callable[[Callable, list], Any]] = {
    "Pool()": _default_pool,
    "ThreadPoolExecutor()": _default_thread_executor,
    "ProcessPoolExecutor()": _default_process_executor,
}
if HAVE_JOBLIB:
    SYNC_DEFAULTS["joblib(n_jobs=-1)"] = _default_joblib
ASYNC_DEFAULTS = {"gather() unbounded": _default_gather}


def grid(n: int, cpus: int, waiting: bool, is_coroutine: bool, quick: bool, blas: bool = False) -> list[Config]:
    """Every configuration to time, serial first (it sets the timeout and the first 'best')."""
    configs = [Config("serial")]
    if is_coroutine:
        levels = QUICK_ASYNC_WORKERS if quick else ASYNC_WORKERS
        return configs + [Config("asyncio", w) for w in sorted({min(w, n) for w in levels}) if w > 1]
    levels = QUICK_THREAD_WORKERS if quick else THREAD_WORKERS
    configs += [Config("threads", w) for w in sorted({min(w, n) for w in levels}) if w > 1]
    # CPU-bound work gains nothing from more processes than CPUs; keep 2 x CPUs as the
    # one data point that shows it, and go further only for work that waits.
    workers = [w for w in PROCESS_WORKERS if waiting or w <= 2 * cpus]
    if quick:
        workers = [workers[0], workers[-1]] if len(workers) > 1 else workers
    for w in sorted({min(w, n) for w in workers}):
        if w < 2:
            continue
        most = math.ceil(n / w)  # bigger chunks leave workers idle by construction
        fixed = () if quick else FIXED_CHUNKS
        chunks = {c for c in (*fixed, 1, math.ceil(n / (4 * w)), most) if c <= most}
        configs += [Config("processes", w, c, "fork") for c in sorted(chunks)]
    if blas:  # a multithreaded BLAS is loaded: every parallel configuration again with it on one thread
        configs += [replace(c, blas_threads=1) for c in configs if c.executor != "serial"]
    return configs


def multithreaded_blas_loaded() -> bool:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return False
    return any(p.get("user_api") == "blas" and (p.get("num_threads") or 1) > 1 for p in threadpool_info())


def _same_key(c: Config) -> tuple:
    """What makes two configurations the same run (threads ignore start methods, etc.)."""
    if c.executor == "serial":
        return ("serial",)
    if c.executor == "processes":
        return ("processes", c.workers, c.chunksize or 1, c.start_method or "fork", c.blas_threads)
    return (c.executor, c.workers, c.chunksize or 1, c.blas_threads)
