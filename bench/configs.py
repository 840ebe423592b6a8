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

from advisor import executors

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


def run_config(config: Config, fn: Callable[[Any], Any], items: list[Any], is_coroutine: bool) -> Any:
    """Map ``fn`` over ``items`` the way CONTRACT.md says a user would, pool start-up included
    (with BLAS limited as the emitted code limits it, when the configuration says so): with
    paradvise's own executor modules, which implement that contract under their own test suite."""
    if config.executor == "joblib" and not HAVE_JOBLIB:
        raise ValueError(f"cannot run {config.label()}")
    run = executors.backend_for(config.executor, is_coroutine)
    with executors.blas_limit(config.blas_threads):
        return run(fn, items, config.workers, config.chunksize, config.start_method or "fork")


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
