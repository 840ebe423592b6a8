"""What every executor module gives (see ``Executor``), and the small pieces they share.

An executor is one way of mapping a function over items: serial, a thread pool, a process
pool, asyncio, joblib's loky, Dask, subinterpreters. Its module is the only place that
builds that kind of pool or writes the code that builds one; the rest of paradvise asks
the registry (``advisor.executors``) and reads the traits below.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

if TYPE_CHECKING:
    from ..analyse.workload import Config, Workload

# A map: ``run(fn, items, workers, chunksize, start_method) -> results`` in input order,
# pool start-up included (what the user would pay, CONTRACT.md "What a recommendation means").
Run = Callable[..., list[Any]]


@dataclass(frozen=True)
class CodeSpec:
    """What the code for one recommendation needs to say."""

    fn: str  # the expression naming the function mapped: "score", "Encoder.encode"
    helper: str  # the name of the function the code defines: "map_score"
    workers: int
    chunksize: Optional[int] = None
    start_method: Optional[str] = None
    star: bool = False  # items are argument tuples: fn(*x)
    is_coroutine: bool = False  # fn is ``async def``
    dask_address: Optional[str] = None  # "local"/None: a LocalCluster like the trials
    blas_threads: Optional[int] = None  # native BLAS limited to this many threads per worker

    def call(self, x: str = "x") -> str:
        return f"{self.fn}(*{x})" if self.star else f"{self.fn}({x})"

    @property
    def chunked(self) -> bool:
        return bool(self.chunksize and self.chunksize > 1)


@dataclass(frozen=True)
class Code:
    """Source for ``spec.helper(items)`` and the import lines it needs (first in a file)."""

    text: str
    imports: tuple[str, ...] = ()
    is_async: bool = False  # the helper is ``async def``: awaited, or run with asyncio.run


@dataclass(frozen=True)
class WarmPools:
    """How ``@advise`` keeps a pool of this kind open between calls (advisor/api/pools.py)."""

    open: Callable[[int, Optional[str], str], Any]  # (workers, start_method, name) -> pool
    map: Callable[[Any, Callable[[Any], Any], list[Any], Optional[int]], list[Any]]
    close: Callable[[Any], None]


def never(_load: "Workload") -> "list[Config]":
    return []


def always() -> bool:
    return True


@dataclass(frozen=True)
class Executor:
    """One executor: how to run it, what it costs, how to write it, and what it is like.

    ``family`` says what it shares with its workers, which is what the planner, the
    what-if model and the checks need to know: "serial" (nothing), "threads" (one
    interpreter: the GIL and memory), "processes" (its own interpreter per worker: items
    and results are pickled, start-up is paid per worker), "cluster" (Dask: a scheduler
    between them).
    """

    name: str
    family: str
    run: Optional[Run]  # maps a plain function (None: cannot)
    code: Callable[[CodeSpec], Code]
    run_async: Optional[Run] = None  # maps a coroutine function (None: cannot)
    available: Callable[[], bool] = always
    configs: Callable[["Workload"], "list[Config]"] = never  # what is worth measuring, best first
    predict: Optional[Callable[["Workload", "Config"], float]] = None  # a prior, for ordering only
    preload: tuple[str, ...] = ()  # modules a program imports once, before its loop
    default: bool = False  # measured unless the user names the executors
    simplicity: int = 9  # ties go to the simpler (lower) one
    colour: str = "#333333"  # in the report's plots
    needs_main_guard: bool = False  # its workers may import the user's script
    pickles_by_reference: bool = False  # needs a function pickle can find by module and name
    # Forked workers inherit the parent's module state: a closure stored in a module-level
    # variable reaches them through a module-level trampoline (the fork start method only).
    forked_trampoline: bool = False
    chunks: bool = False  # hands items over in chunks when given a chunksize
    warm: Optional[WarmPools] = None  # @advise can keep one open
    # The most the pool's start-up and hand-overs can cost, from the probes' overheads
    # ({"start_fork_s", "thread_task_s", ...}) and the configuration; None where the probes
    # measured nothing that bounds it (see sweep/rounds.fixed_cost_bound).
    start_up_s: Optional[Callable[[dict[str, float], "Config"], Optional[float]]] = None


def chunks_of(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


@dataclass(frozen=True)
class ChunkCall:
    """Map ``fn`` over one list of items (a chunk handed to one worker)."""

    fn: Callable[[Any], Any]

    def __call__(self, chunk: list[Any]) -> list[Any]:
        return [self.fn(x) for x in chunk]


def flatten(parts: Any) -> list[Any]:
    return [r for part in parts for r in part]


def timed(run: Callable[[], list[Any]]) -> tuple[float, list[Any]]:
    started = time.perf_counter()
    results = run()
    return time.perf_counter() - started, results


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


BLAS_IMPORT = "from threadpoolctl import threadpool_limits"


def with_pool(spec: CodeSpec, pool: str, indent: str = "    ") -> tuple[str, tuple[str, ...]]:
    """The ``with`` line that opens ``pool`` (``"... as pool:"``), BLAS-limited when the spec says.

    A fork pool's workers start inside the ``with``, so they inherit the limit; measured
    faster than leaving BLAS one thread per core in each worker.
    """
    if not spec.blas_threads:
        return f"{indent}with {pool}:", ()
    limit = f'threadpool_limits(limits={spec.blas_threads}, user_api="blas")'
    comment = (f"{indent}# BLAS limited to {spec.blas_threads} thread per worker (measured faster than one per "
               f"core each):\n{indent}# workers x BLAS threads would otherwise oversubscribe the CPUs.\n")
    return f"{comment}{indent}with {limit}, {pool}:", (BLAS_IMPORT,)


def chunked_body(spec: CodeSpec, open_line: str, map_parts: str, indent: str = "    ") -> str:
    """A helper body that hands items over in lists of ``spec.chunksize``; ``map_parts`` maps
    ``run_chunk`` over ``chunks`` inside the pool's ``with`` (an expression giving the parts)."""
    return (f"{indent}def run_chunk(chunk):\n"
            f"{indent}    return [{spec.call()} for x in chunk]\n\n"
            f"{indent}items = list(items)\n"
            f"{indent}chunks = [items[i:i + {spec.chunksize}] for i in range(0, len(items), {spec.chunksize})]\n"
            f"{open_line}\n"
            f"{indent}    parts = {map_parts}\n"
            f"{indent}return [result for part in parts for result in part]\n")


def plain_fn(spec: CodeSpec) -> str:
    """What a pool's ``map`` is given: the function, or a lambda that unpacks argument tuples."""
    return f"lambda x: {spec.call()}" if spec.star else spec.fn
