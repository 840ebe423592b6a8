"""Warm pools for ``@advise``: one per (executor, workers, start method) of a function.

``f.map(items)`` runs the tuned plan on them, so pool start-up is paid once per process,
not once per call. Every pool is closed at interpreter exit.
"""
from __future__ import annotations

import atexit
import os
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional

from .. import executors
from ..errors import WorkerDied

if TYPE_CHECKING:
    from .decorator import Plan

@dataclass(frozen=True)
class ArgsCall:
    """``fn(*item)``: what ``f.starmap`` maps over argument tuples (picklable when ``fn`` is)."""

    fn: Callable[..., Any]

    def __call__(self, item: tuple[Any, ...]) -> Any:
        return self.fn(*item)


class RunnerSet:
    """One warm pool per (executor, workers, start method) of one function; closed at exit.

    ``star``: items are argument tuples, mapped as ``fn(*item)`` (``f.starmap``).
    """

    def __init__(self, fn: Callable[..., Any], warn: Callable[[str, str], None], star: bool = False) -> None:
        self.target = fn  # what workers must be able to load by reference
        fn = ArgsCall(fn) if star else fn
        self.fn, self.warn = fn, warn  # warn(tag, message): once per tag, as the decorator does
        self.pools: dict[tuple[str, int, Optional[str]], Any] = {}
        self.pid = os.getpid()
        self.by_reference: Optional[bool] = None
        self._lock = threading.Lock()
        _LIVE.add(self)

    def run(self, plan: Plan, items: list[Any]) -> list[Any]:
        if plan.executor == "serial" or not items or (executors.get(plan.executor).pickles_by_reference and not self._picklable()):
            return [self.fn(x) for x in items]
        pool = self._pool(plan)
        try:
            return _warm(plan).map(pool, self.fn, items, plan.chunksize)
        except (WorkerDied, KeyboardInterrupt):
            self._drop(plan)  # a pool that lost a worker or was interrupted is not reused
            raise

    def _picklable(self) -> bool:
        """Workers get the function by reference (module and name); a plan from the cache may
        meet a function that is not reachable that way here (renamed, nested): run it serially."""
        if self.by_reference is None:
            import pickle

            try:
                self.by_reference = pickle.loads(pickle.dumps(self.target)) is self.target
            except Exception:  # noqa: BLE001 - any failure means workers could not load it
                self.by_reference = False
            if not self.by_reference:
                self.warn(f"pickle:{self.target.__qualname__}", (
                    f"{self.target.__qualname__} cannot be sent to worker processes by name; it runs serially."))
        return self.by_reference

    def _pool(self, plan: Plan) -> Any:
        if os.getpid() != self.pid:  # forked since: the parent's pools are not ours
            self.pools, self.pid = {}, os.getpid()
        config = (plan.executor, plan.workers, plan.start_method)
        with self._lock:
            pool = self.pools.get(config)
            if pool is None:
                pool = self.pools[config] = _warm(plan).open(plan.workers, plan.start_method,
                                                             self.target.__name__)
        return pool

    def _drop(self, plan: Plan) -> None:
        pool = self.pools.pop((plan.executor, plan.workers, plan.start_method), None)
        if pool is not None:
            _warm(plan).close(pool)

    def close(self) -> None:
        if os.getpid() != self.pid:
            return
        pools, self.pools = self.pools, {}
        for (executor, _, _), pool in pools.items():
            executors.get(executor).warm.close(pool)  # type: ignore[union-attr]


def _warm(plan: Plan) -> executors.WarmPools:
    warm = executors.get(plan.executor).warm
    if warm is None:
        raise KeyError(f"{plan.executor} keeps no warm pool")
    return warm


_LIVE: "weakref.WeakSet[RunnerSet]" = weakref.WeakSet()


def shutdown_pools() -> None:
    """Close every warm pool this process started (also run at interpreter exit)."""
    for runners in list(_LIVE):
        runners.close()


atexit.register(shutdown_pools)
