"""Loops that are already parallel: ``Pool.map``, ``Executor.map`` and their kin are loops too.

A script that maps its function with ``multiprocessing.Pool(8).map(work, items, chunksize=1)``
runs ``work`` in worker processes, where the count pass's counters cannot see it. In the
host process (never in paradvise's own) these methods are wrapped:

- while counting (``watch_maps``), the map runs as the script asked, and is noted: the
  function it maps, the pool's kind, workers and chunk size, the items and the time it
  took. A process pool's calls are added to that function's counter, with the map's line
  as their call site, so ``locate`` sees the loop.
- while recording (``serial_maps``), the map calls the function in this process, one item
  after another, so the recorder sees every call's arguments and result; the sweep then
  times the script's own configuration beside the others.
"""
from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Optional

# Attribute a counting wrapper carries: the display name of the function it counts.
COUNTED_NAME = "__paradvise_name__"


@dataclass(frozen=True)
class UserPool:
    """How the script mapped its function, as it wrote it."""

    function: str  # display name of the mapped function ("" when it is not the script's own)
    executor: str  # "processes" or "threads"
    workers: int
    chunksize: Optional[int]  # as the pool used it (Pool.map's default is computed from the items)
    method: str  # "Pool.map", "ProcessPoolExecutor.map", ...
    items: int
    seconds: float
    site: str  # "file:line" of the map call

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def label(self) -> str:
        chunk = f", chunksize {self.chunksize}" if self.chunksize else ""
        return f"{self.method.split('.')[0]}({self.workers}){chunk}"


def _pool_chunksize(items: int, workers: int, given: Optional[int]) -> int:
    """The chunk size ``multiprocessing.Pool.map`` uses when given none (its own rule)."""
    if given:
        return given
    chunks, extra = divmod(items, 4 * max(1, workers))
    return max(1, chunks + (1 if extra else 0))


def _caller_site() -> str:
    frame = sys._getframe(2)
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _methods() -> list[tuple[Any, str, str, str]]:
    """(class, method, executor, shape) for each map paradvise knows. Shapes: "list"
    (``Pool.map``), "iter" (``Pool.imap``), "star" (``Pool.starmap``), "executor"
    (``Executor.map(fn, *iterables)``, which returns an iterator)."""
    import concurrent.futures
    import multiprocessing.pool

    pool = multiprocessing.pool.Pool
    return [(pool, "map", "processes", "list"), (pool, "imap", "processes", "iter"),
            (pool, "imap_unordered", "processes", "iter"), (pool, "starmap", "processes", "star"),
            (concurrent.futures.ProcessPoolExecutor, "map", "processes", "executor"),
            (concurrent.futures.ThreadPoolExecutor, "map", "threads", "executor")]


def _workers(pool: Any) -> int:
    return int(getattr(pool, "_processes", None) or getattr(pool, "_max_workers", None) or 1)


def _calls(fn: Any, shape: str, iterable: Iterable[Any], more: tuple[Any, ...]) -> list[Any]:
    """The map's calls, in this process, in order."""
    if shape == "star":
        return [fn(*item) for item in iterable]
    if shape == "executor" and more:
        return [fn(*items) for items in zip(iterable, *more)]
    return [fn(item) for item in iterable]


def watch_maps(note: Callable[[UserPool, Any], None]) -> None:
    """Count pass: let each map run as written, then ``note(user_pool, mapped_function)``."""
    for cls, name, executor, shape in _methods():
        original = cls.__dict__.get(name)
        if original is None:
            continue

        def watched(self: Any, fn: Any, iterable: Iterable[Any], *more: Any, _original: Any = original,
                    _label: str = f"{cls.__name__}.{name}", _executor: str = executor, _shape: str = shape,
                    **kwargs: Any) -> Any:
            items = list(iterable)
            site = _caller_site()
            started = time.perf_counter()
            out = _original(self, fn, items, *more, **kwargs)
            if _shape in ("iter", "executor"):
                out = list(out)
            seconds = time.perf_counter() - started
            given = kwargs.get("chunksize", more[0] if more and _shape != "executor" else None)
            workers = _workers(self)
            chunk = _pool_chunksize(len(items), workers, given) if _shape != "executor" else (given or 1)
            note(UserPool(getattr(fn, COUNTED_NAME, ""), _executor, workers, chunk, _label, len(items),
                          seconds, site), fn)
            return iter(out) if _shape in ("iter", "executor") else out

        setattr(cls, name, watched)


def serial_maps(active: Callable[[], bool]) -> None:
    """Recording pass: while ``active()`` (the loop is being recorded), each map calls its
    function here, item by item, as a serial loop would. Afterwards, and so in the sweep's
    probes and trials, the pools are the real ones again."""
    for cls, name, _executor, shape in _methods():
        original = cls.__dict__.get(name)
        if original is None:
            continue

        def in_process(self: Any, fn: Any, iterable: Iterable[Any], *more: Any, _shape: str = shape,
                       _original: Any = original, **kwargs: Any) -> Any:
            if not active():
                return _original(self, fn, iterable, *more, **kwargs)
            results = _calls(fn, _shape, iterable, more if _shape == "executor" else ())
            return iter(results) if _shape in ("iter", "executor") else results

        setattr(cls, name, in_process)


def add_to_counter(counter: Any, pool: UserPool, parent: str) -> None:
    """Count the map's calls at the map: a process pool's ran where the counter could not see them."""
    with counter._lock:
        if pool.executor == "processes":
            counter.calls += pool.items
            counter.total_s += pool.seconds
        counter.parents = {parent: pool.items}  # a pool's threads run it with nothing counted around it
        counter.sites = {pool.site: pool.items}
