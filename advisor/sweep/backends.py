"""Executors with one shape: ``run(fn, items, workers, chunksize, start_method) -> results``.

Each backend maps ``fn`` over ``items`` the way the contract says a user would
(CONTRACT.md, "What a recommendation means"), so a trial's wall time is what the
user would pay, pool start-up included. Results come back in input order.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import multiprocessing
import multiprocessing.pool
import signal
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional

from ..errors import WorkerDied

# How often a process pool's workers are checked for having died (Pool itself never notices).
WORKER_CHECK_SECONDS = 0.02


def run_serial(fn: Callable[[Any], Any], items: list[Any], workers: int = 1,
               chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    return [fn(x) for x in items]


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class ChunkCall:
    fn: Callable[[Any], Any]

    def __call__(self, chunk: list[Any]) -> list[Any]:
        return [self.fn(x) for x in chunk]


def run_threads(fn: Callable[[Any], Any], items: list[Any], workers: int,
                chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        if chunksize and chunksize > 1:
            parts = pool.map(ChunkCall(fn), _chunks(items, chunksize))
            return [r for part in parts for r in part]
        return list(pool.map(fn, items))


def run_processes(fn: Callable[[Any], Any], items: list[Any], workers: int,
                  chunksize: Optional[int] = None, start_method: Optional[str] = "fork") -> list[Any]:
    context = multiprocessing.get_context(start_method)
    with context.Pool(workers) as pool:
        pending = pool.map_async(fn, items, chunksize)
        wait_watching_workers(pool, pending)
        return pending.get()


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


def run_asyncio_to_thread(fn: Callable[[Any], Any], items: list[Any], workers: int,
                          chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """A blocking function called from async code, moved off the loop with asyncio.to_thread."""
    return run_asyncio(lambda x: asyncio.to_thread(fn, x), items, workers)


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
    try:
        return list(joblib.Parallel(n_jobs=workers, backend="loky", batch_size=batch)(
            joblib.delayed(fn)(x) for x in items))
    finally:
        _stop_loky_workers()


def _stop_loky_workers() -> None:
    """Leave no worker processes behind, as a ``with Pool`` block does (a few ms).

    loky keeps its workers for the next ``Parallel`` call (a user's program pays their
    start-up once); a map here is the only one in its process, so they are stopped.
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def joblib_available() -> bool:
    try:
        import joblib  # noqa: F401
    except ImportError:
        return False
    return True


# Connecting to an existing scheduler gives up after this long (distributed's own default is 30 s).
DASK_CONNECT_TIMEOUT_S = 10.0
# Phases of the last Dask map in this process, in seconds: "startup_s" (import, cluster
# start-up or connection, until the workers are up), "map_s" (submit to last result) and
# "compute_s" (the tasks' own run time on the workers, summed: the rest of map_s is dispatch).
# A trial child runs exactly one map, so it reads back its own.
DASK_PHASES: dict[str, float] = {}


def run_dask(fn: Callable[[Any], Any], items: list[Any], workers: int, chunksize: Optional[int] = None,
             start_method: Optional[str] = None, address: str = "local") -> list[Any]:
    """``client.map`` + ``client.gather`` on a fresh LocalCluster or on the scheduler at ``address``."""
    started = time.perf_counter()
    with dask_client(address, workers) as client:
        ready = time.perf_counter()
        DASK_PHASES["startup_s"] = ready - started
        results = _dask_map(client, fn, items, chunksize)
        DASK_PHASES["map_s"] = time.perf_counter() - ready
    return results


@contextmanager
def dask_client(address: str, workers: int) -> Iterator[Any]:
    """A connected client; a local cluster is closed with it, workers and nannies included."""
    from distributed import Client, LocalCluster

    if address != "local":
        _ship_advisor_by_value()
        with Client(address, timeout=DASK_CONNECT_TIMEOUT_S) as client:
            yield client
        return
    with _main_without_path():
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


@contextmanager
def _main_without_path() -> Iterator[None]:
    """Hide the script from Dask's spawned workers while they start.

    multiprocessing's spawn re-runs ``__main__.__file__`` in every new worker, which for a
    script without a main guard would run its whole loop again there. The target is sent
    by value (cloudpickle), so the workers do not need the script.
    """
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def _ship_advisor_by_value() -> None:
    """A remote cluster may not have paradvise installed: send its small wrappers by value."""
    import cloudpickle

    from . import items as items_mod

    for module in (sys.modules[__name__], items_mod):
        cloudpickle.register_pickle_by_value(module)


@dataclass(frozen=True)
class _TimedCall:
    """The call's result and its run time on the worker, to tell compute from dispatch."""

    fn: Callable[[Any], Any]

    def __call__(self, item: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        result = self.fn(item)
        return result, time.perf_counter() - started


def _dask_map(client: Any, fn: Callable[[Any], Any], items: list[Any], chunksize: Optional[int]) -> list[Any]:
    chunked = bool(chunksize and chunksize > 1)
    call, parts = (ChunkCall(fn), _chunks(items, chunksize or 1)) if chunked else (fn, items)
    pairs = client.gather(client.map(_TimedCall(call), parts, pure=False))
    DASK_PHASES["compute_s"] = sum(seconds for _, seconds in pairs)
    results = [result for result, _ in pairs]
    return [r for part in results for r in part] if chunked else results


def interpreters_available() -> bool:
    """``concurrent.futures.InterpreterPoolExecutor`` exists from Python 3.14 on."""
    return hasattr(concurrent.futures, "InterpreterPoolExecutor")


def run_interpreters(fn: Callable[[Any], Any], items: list[Any], workers: int,
                     chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """One subinterpreter per worker, each with its own GIL (items and results are pickled)."""
    executor = concurrent.futures.InterpreterPoolExecutor  # type: ignore[attr-defined]
    with executor(workers) as pool:
        return list(pool.map(fn, items, chunksize=chunksize or 1))


BACKENDS: dict[str, Callable[..., list[Any]]] = {
    "serial": run_serial,
    "asyncio": run_asyncio_to_thread,
    "interpreters": run_interpreters,
    "threads": run_threads,
    "processes": run_processes,
    "joblib": run_joblib,
    "dask": run_dask,
}
ASYNC_BACKENDS: dict[str, Callable[..., list[Any]]] = {
    "serial": run_async_serial,
    "asyncio": run_asyncio,
}


def backend_for(executor: str, is_coroutine: bool, dask_address: Optional[str] = None) -> Callable[..., list[Any]]:
    table = ASYNC_BACKENDS if is_coroutine else BACKENDS
    if executor not in table:
        raise KeyError(executor)
    if executor == "dask":
        return functools.partial(run_dask, address=dask_address or "local")
    return table[executor]


def timed(run: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = run()
    return time.perf_counter() - started, results


def available(executor: str, is_coroutine: bool) -> bool:
    return executor in (ASYNC_BACKENDS if is_coroutine else BACKENDS)


# Modules each executor imports on first use. A user's program pays for these imports
# once, at start-up, not inside the map; a trial forked from a host that never imported
# them would pay ~50 ms (more for joblib and distributed) inside its timed region.
PRELOAD = {
    "processes": ("multiprocessing.popen_fork", "multiprocessing.queues", "multiprocessing.synchronize",
                  "multiprocessing.popen_spawn_posix", "multiprocessing.popen_forkserver"),
    "threads": ("concurrent.futures.thread",),
    "asyncio": ("concurrent.futures.thread",),
    "joblib": ("joblib",),
    "dask": ("distributed",),
}


def preload(executors: list[str]) -> None:
    """Import what the executors to be measured will need, before any trial is timed."""
    import importlib

    for executor in executors:
        for name in PRELOAD.get(executor, ()):
            try:
                importlib.import_module(name)
            except ImportError:  # the trial itself will report the missing package
                pass


@contextmanager
def blas_limit(threads: Optional[int]) -> Iterator[None]:
    """Limit native BLAS thread pools to ``threads`` while mapping (no limit for None).

    Set before a fork pool starts, the limit is inherited by its workers: each worker then
    runs its BLAS calls on that many threads instead of one per core, so workers x BLAS
    threads no longer oversubscribe the CPUs.
    """
    if not threads:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        yield
