"""Subinterpreters: ``concurrent.futures.InterpreterPoolExecutor`` (Python 3.14+), one
interpreter per worker, each with its own GIL; items and results are pickled."""
from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..analyse.workload import Config, chunk_candidates, worker_levels
from . import processes
from .base import Code, CodeSpec, Executor, plain_fn

if TYPE_CHECKING:
    from ..analyse.workload import Workload


def available() -> bool:
    return hasattr(concurrent.futures, "InterpreterPoolExecutor")


def run(fn: Callable[[Any], Any], items: list[Any], workers: int,
        chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    executor = concurrent.futures.InterpreterPoolExecutor  # type: ignore[attr-defined]
    with executor(workers) as pool:
        return list(pool.map(fn, items, chunksize=chunksize or 1))


def configs(load: "Workload") -> list[Config]:
    """Own GIL each: scales like processes, starts faster."""
    if load.is_coroutine:
        return []
    return [Config("interpreters", w, c) for w in worker_levels(max(2, load.usable_cpus))
            for c in chunk_candidates(load, w)[:1]]


def code(spec: CodeSpec) -> Code:
    text = (f"def {spec.helper}(items):\n"
            "    # One subinterpreter per worker, each with its own GIL (Python 3.14+).\n"
            f"    with InterpreterPoolExecutor(max_workers={spec.workers}) as pool:\n"
            f"        return list(pool.map({plain_fn(spec)}, items, chunksize={spec.chunksize or 1}))\n")
    return Code(text, ("from concurrent.futures import InterpreterPoolExecutor",))


EXECUTOR = Executor("interpreters", "processes", run, code, available=available, configs=configs,
                    predict=processes.predict, simplicity=5, colour="#8c564b", pickles_by_reference=True,
                    chunks=True)
