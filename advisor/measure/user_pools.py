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
- ``ProcessPoolExecutor.submit`` in a loop and ``joblib.Parallel`` run their calls in this
  process in both passes (``run_here``), and are noted the same way.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
import time
from dataclasses import asdict, dataclass, replace
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
    # The calls ran here, one by one, not in the pool (submit, joblib: see run_here), so the
    # counters saw them already and ``seconds`` is their serial time.
    ran_here: bool = False

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


def _site_outside(folder: str) -> str:
    """``file:line`` of the nearest caller whose code is not in ``folder`` (nor here)."""
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_filename.startswith(folder):
        frame = frame.f_back
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


def run_here(note: Optional[Callable[[UserPool, Any], None]], active: Callable[[], bool]) -> None:
    """``ProcessPoolExecutor.submit``, ``Pool.apply_async`` and ``joblib.Parallel`` run their
    calls here, one by one, while ``active()``: in the count pass (``note`` given) and while
    the loop is recorded.

    Their workers are other processes that the counters and the recorder cannot see, and
    loky's would need the counting wrapper pickled by value (it holds a lock). A submit
    returns a finished future; the script's loop over them goes on as written.
    """
    import concurrent.futures

    executor_cls = concurrent.futures.ProcessPoolExecutor
    original_submit = executor_cls.submit

    def submit(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not active():
            return original_submit(self, fn, *args, **kwargs)
        site, started = _caller_site(), time.perf_counter()
        future: Any = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - the future carries it, as the pool's would
            future.set_exception(exc)
        if note is not None:
            note(UserPool(getattr(fn, COUNTED_NAME, ""), "processes", _workers(self), 1, "ProcessPoolExecutor.submit",
                          1, time.perf_counter() - started, site, ran_here=True), fn)
        return future

    executor_cls.submit = submit  # type: ignore[method-assign]
    _patch_apply_async(note, active)
    sys.meta_path.insert(0, _PatchOnImport("joblib.parallel", lambda module: _patch_joblib(module, note, active)))


class FinishedResult:
    """What ``Pool.apply_async`` returns when its call ran here: ``multiprocessing.pool.AsyncResult``'s
    interface, already finished."""

    def __init__(self, ok: bool, value: Any) -> None:
        self._ok, self._value = ok, value

    def ready(self) -> bool:
        return True

    def successful(self) -> bool:
        return self._ok

    def wait(self, timeout: Optional[float] = None) -> None:
        return None

    def get(self, timeout: Optional[float] = None) -> Any:
        if not self._ok:
            raise self._value
        return self._value


def _patch_apply_async(note: Optional[Callable[[UserPool, Any], None]], active: Callable[[], bool]) -> None:
    """``Pool.apply_async`` (and ``Pool.apply``, which calls it) run the call here, as ``submit`` does."""
    import multiprocessing.pool

    pool_cls = multiprocessing.pool.Pool
    original = pool_cls.apply_async
    library = os.path.dirname(multiprocessing.pool.__file__)  # Pool.apply calls apply_async from there

    def apply_async(self: Any, func: Any, args: tuple[Any, ...] = (), kwds: Optional[dict[str, Any]] = None,
                    callback: Any = None, error_callback: Any = None) -> Any:
        if not active() or isinstance(self, multiprocessing.pool.ThreadPool):
            return original(self, func, args, kwds or {}, callback, error_callback)
        site, started = _site_outside(library), time.perf_counter()
        try:
            result = FinishedResult(True, func(*args, **(kwds or {})))
        except BaseException as exc:  # noqa: BLE001 - the result carries it, as the pool's would
            result = FinishedResult(False, exc)
        if note is not None:
            note(UserPool(getattr(func, COUNTED_NAME, ""), "processes", _workers(self), 1, "Pool.apply_async",
                          1, time.perf_counter() - started, site, ran_here=True), func)
        if result.successful() and callback is not None:
            callback(result.get())
        elif not result.successful() and error_callback is not None:
            error_callback(result._value)
        return result

    pool_cls.apply_async = apply_async  # type: ignore[method-assign]


def _patch_joblib(module: Any, note: Optional[Callable[[UserPool, Any], None]], active: Callable[[], bool]) -> None:
    parallel = module.Parallel
    original_call = parallel.__call__

    def call(self: Any, iterable: Iterable[Any]) -> Any:
        if not active():
            return original_call(self, iterable)
        site, started = _caller_site(), time.perf_counter()
        tasks = list(iterable)
        results = [fn(*args, **kwargs) for fn, args, kwargs in tasks]
        if note is not None and tasks:
            batch = self.batch_size if isinstance(self.batch_size, int) else None
            workers = int(module.effective_n_jobs(self.n_jobs))
            note(UserPool(getattr(tasks[0][0], COUNTED_NAME, ""), "joblib", workers, batch, "joblib.Parallel",
                          len(tasks), time.perf_counter() - started, site, ran_here=True), tasks[0][0])
        return results if getattr(self, "return_as", "list") == "list" else iter(results)

    parallel.__call__ = call


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Calls ``patch(module)`` right after the module ``name`` is first imported."""

    def __init__(self, name: str, patch: Callable[[Any], None]) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return None
        loader, patch = spec.loader, self.patch

        class Patching(importlib.abc.Loader):
            def create_module(self, spec: Any) -> Any:
                return loader.create_module(spec)

            def exec_module(self, module: Any) -> None:
                loader.exec_module(module)
                patch(module)

        spec.loader = Patching()
        return spec


def merged(pools: list[UserPool]) -> list[UserPool]:
    """One entry per pool call site and function: a loop of submits is one loop."""
    out: dict[tuple[str, str, str], UserPool] = {}
    for pool in pools:
        key = (pool.function, pool.method, pool.site)
        known = out.get(key)
        out[key] = pool if known is None else replace(known, items=known.items + pool.items,
                                                      seconds=known.seconds + pool.seconds)
    return list(out.values())


def add_to_counter(counter: Any, pool: UserPool, parent: str) -> None:
    """Count the map's calls at the map: a process pool's ran where the counter could not see them."""
    with counter._lock:
        if pool.ran_here:  # counted already, with the right parent; only the site is the pool's code
            # The counter saw the calls come from this module's stand-ins (run_here): the
            # script's sites are the pool's, added up over the loops that ran here.
            sites = {s: n for s, n in counter.sites.items() if not s.startswith(__file__)}
            sites[pool.site] = sites.get(pool.site, 0) + pool.items
            counter.sites = sites
            return
        if pool.executor == "processes":
            counter.calls += pool.items
            counter.total_s += pool.seconds
        counter.parents = {parent: pool.items}  # a pool's threads run it with nothing counted around it
        counter.sites = {pool.site: pool.items}
