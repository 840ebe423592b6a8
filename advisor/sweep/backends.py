"""Executors with one shape: ``run(fn, items, workers, chunksize, start_method) -> results``.

Each backend maps ``fn`` over ``items`` the way the contract says a user would
(CONTRACT.md, "What a recommendation means"), so a trial's wall time is what the
user would pay, pool start-up included. Results come back in input order.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import multiprocessing.pool
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

# How often a process pool's workers are checked for having died (Pool itself never notices).
WORKER_CHECK_SECONDS = 0.02


class WorkerDied(RuntimeError):
    pass


def run_serial(fn: Callable[[Any], Any], items: list[Any], workers: int = 1,
               chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    return [fn(x) for x in items]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class _ChunkCall:
    fn: Callable[[Any], Any]

    def __call__(self, chunk: list[Any]) -> list[Any]:
        return [self.fn(x) for x in chunk]


def run_threads(fn: Callable[[Any], Any], items: list[Any], workers: int,
                chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        if chunksize and chunksize > 1:
            parts = pool.map(_ChunkCall(fn), _chunks(items, chunksize))
            return [r for part in parts for r in part]
        return list(pool.map(fn, items))


def run_processes(fn: Callable[[Any], Any], items: list[Any], workers: int,
                  chunksize: Optional[int] = None, start_method: Optional[str] = "fork") -> list[Any]:
    context = multiprocessing.get_context(start_method)
    with context.Pool(workers) as pool:
        pending = pool.map_async(fn, items, chunksize)
        _wait_watching_workers(pool, pending)
        return pending.get()


def _wait_watching_workers(pool: multiprocessing.pool.Pool, pending: multiprocessing.pool.MapResult) -> None:
    """Wait for ``pending``; raise if a worker dies, since Pool would wait for ever."""
    workers = list(pool._pool)  # type: ignore[attr-defined]  # the only handle on them
    while not pending.ready():
        pending.wait(WORKER_CHECK_SECONDS)
        # Workers never exit during a map, so any exit (even status 0, as after
        # sys.exit() in the target) means its task is lost and the map would never end.
        for proc in workers + list(pool._pool):  # type: ignore[attr-defined]
            code = proc.exitcode
            if code is not None:
                raise WorkerDied(_describe_exitcode(code))


def _describe_exitcode(code: int) -> str:
    if code < 0:
        try:
            return f"a worker process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"a worker process was killed by signal {-code}"
    return f"a worker process exited with status {code}"


def run_asyncio(fn: Callable[[Any], Any], items: list[Any], workers: int,
                chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """``asyncio.gather`` over all items with at most ``workers`` awaiting at once."""

    async def bounded() -> list[Any]:
        gate = asyncio.Semaphore(workers)

        async def one(x: Any) -> Any:
            async with gate:
                return await fn(x)

        return list(await asyncio.gather(*(one(x) for x in items)))

    return asyncio.run(bounded())


def run_async_serial(fn: Callable[[Any], Any], items: list[Any], workers: int = 1,
                     chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """The user's own loop for a coroutine target: await one call after another."""

    async def sequential() -> list[Any]:
        return [await fn(x) for x in items]

    return asyncio.run(sequential())


def run_joblib(fn: Callable[[Any], Any], items: list[Any], workers: int,
               chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """joblib with its loky backend: cloudpickle, so closures and lambdas can run too."""
    import joblib

    batch = chunksize if chunksize and chunksize > 1 else "auto"
    return list(joblib.Parallel(n_jobs=workers, backend="loky", batch_size=batch)(
        joblib.delayed(fn)(x) for x in items))


def joblib_available() -> bool:
    try:
        import joblib  # noqa: F401
    except ImportError:
        return False
    return True


BACKENDS: dict[str, Callable[..., list[Any]]] = {
    "serial": run_serial,
    "threads": run_threads,
    "processes": run_processes,
    "joblib": run_joblib,
}
ASYNC_BACKENDS: dict[str, Callable[..., list[Any]]] = {
    "serial": run_async_serial,
    "asyncio": run_asyncio,
}


def backend_for(executor: str, is_coroutine: bool) -> Callable[..., list[Any]]:
    table = ASYNC_BACKENDS if is_coroutine else BACKENDS
    if executor not in table:
        raise KeyError(executor)
    return table[executor]


def timed(run: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = run()
    return time.perf_counter() - started, results


def available(executor: str, is_coroutine: bool) -> bool:
    return executor in (ASYNC_BACKENDS if is_coroutine else BACKENDS)
