"""The executors, one module each; this registry is the only list of them.

Adding an executor: write its module (an ``EXECUTOR`` built from ``base.Executor``) and add
it to ``_MODULES``. The planner, the sweep, the reports, ``--emit``, ``@advise`` and the
bench all read it from here, and tests/test_executor_contract.py runs it, emitted code too.
"""
from __future__ import annotations

import functools
import importlib
from typing import Any, Callable, Optional

from . import asyncio_gather, dask_cluster, interpreters, joblib_loky, processes, serial, threads
from .base import Code, CodeSpec, Executor, WarmPools, blas_limit, timed

__all__ = ["REGISTRY", "Code", "CodeSpec", "Executor", "WarmPools", "get", "names", "backend_for", "available",
           "preload", "warm_names", "blas_limit", "timed"]

_MODULES = (serial, threads, processes, asyncio_gather, joblib_loky, interpreters, dask_cluster)
REGISTRY: dict[str, Executor] = {m.EXECUTOR.name: m.EXECUTOR for m in _MODULES}


def get(name: str) -> Executor:
    return REGISTRY[name]


def names(*, defaults_only: bool = False, installed_only: bool = False) -> tuple[str, ...]:
    return tuple(n for n, e in REGISTRY.items()
                 if (e.default or not defaults_only) and (e.available() or not installed_only))


def warm_names() -> tuple[str, ...]:
    """What ``@advise``'s ``f.map`` can run on: serial, and every executor with a warm pool."""
    return tuple(n for n, e in REGISTRY.items() if e.family == "serial" or e.warm is not None)


def backend_for(name: str, is_coroutine: bool, dask_address: Optional[str] = None) -> Callable[..., list[Any]]:
    """The map a trial runs: ``run(fn, items, workers, chunksize, start_method) -> results``."""
    executor = REGISTRY.get(name)
    run = None if executor is None else (executor.run_async if is_coroutine else executor.run)
    if run is None:
        raise KeyError(name)
    if executor.family == "cluster":  # it runs on a cluster: the one the user named, or a local one
        return functools.partial(run, address=dask_address or "local")
    return run


def start_up_s(config: Any, overheads: dict[str, float]) -> Optional[float]:
    """A configuration's pool start-up as its executor bounds it from the probes; None where
    the executor gives none (``config``: anything with the fields of analyse.space.Config)."""
    executor = REGISTRY.get(config.executor)
    return executor.start_up_s(overheads, config) if executor and executor.start_up_s else None


def available(name: str, is_coroutine: bool) -> bool:
    executor = REGISTRY.get(name)
    return executor is not None and (executor.run_async if is_coroutine else executor.run) is not None


def preload(executors: list[str]) -> None:
    """Import what the executors to be measured will need, before any trial is timed.

    A user's program pays for these imports once, at start-up, not inside the map; a trial
    forked from a process that never imported them would pay ~50 ms (more for joblib and
    distributed) inside its timed region.
    """
    for name in executors:
        for module in REGISTRY[name].preload if name in REGISTRY else ():
            try:
                importlib.import_module(module)
            except ImportError:  # the trial itself will report the missing package
                pass
