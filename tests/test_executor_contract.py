"""One contract for every executor in the registry (advisor/executors/), run as the sweep runs it.

Each executor's map is ``run(fn, items, workers, chunksize, start_method) -> results``, got from
``backend_for(executor, is_coroutine, dask_address)`` as the sweep gets it. Every executor
available on this interpreter (a new one is tested by being registered) must:

- give the same results, in the same order, as the serial loop;
- honour a chunksize (the items of one chunk run one after another on one worker);
- capture exceptions per item the same way (``CatchErrors``: a ``RaisedOutcome`` in place);
- map ``StarCall`` items (argument tuples and keywords) like serial;
- handle an empty item list, a single item, and more workers than items;
- leave no child process behind when it returns;
- write code (``--emit``, the report's ``code``) that, run as a program of its own, returns
  serial's results: plain, chunked, over argument tuples, with BLAS limited.

Each map runs in a forked child (``isolate.run_isolated``), as every trial of the sweep
does: pools, loky and Dask leave threads and state behind in the process that used them,
and a later fork of that process (the next trial, or another test) must not inherit them.
Dask is held to the same contract on two cases only: a LocalCluster takes seconds to start.
"""
from __future__ import annotations

import asyncio
import inspect
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

import psutil
import pytest

from advisor import executors
from advisor.executors import serial as serial_executor
from advisor.sweep.isolate import run_isolated
from advisor.sweep.items import RaisedOutcome, mappable

SYNC_EXECUTORS = [n for n, e in executors.REGISTRY.items() if e.run is not None]
ASYNC_EXECUTORS = [n for n, e in executors.REGISTRY.items() if e.run_async is not None]
# Executors that hand items to workers in chunks when given a chunksize.
CHUNKING = {n for n, e in executors.REGISTRY.items() if e.chunks}
# Per-process helpers that multiprocessing and loky start once and keep for the life of the
# process (they hold no work and exit with it); anything else left running is a leak.
HELPERS = ("resource_tracker", "forkserver", "semaphore_tracker")
LEFTOVER_GRACE_S = 3.0
HANG_GUARD_S = 120.0  # a hang guard, not a benchmark


# -- what is mapped (module level, so process pools can pickle it by reference) ------------
def square(x: int) -> int:
    return x * x


async def asquare(x: int) -> int:
    await asyncio.sleep(0)
    return x * x


def fragile(x: int) -> int:
    if x % 3 == 1:
        raise ValueError(f"bad item {x}")
    return x * x


async def afragile(x: int) -> int:
    await asyncio.sleep(0)
    return fragile(x)


def where(x: int) -> tuple[int, int, int]:
    """The item and the worker that ran it (process and thread)."""
    time.sleep(0.002)  # long enough that one worker does not take every chunk
    return x, os.getpid(), threading.get_ident()


async def awhere(x: int) -> tuple[int, int, int]:
    await asyncio.sleep(0)
    return where(x)


def add(a: int, b: int = 0, *, scale: int = 1) -> int:
    return (a + b) * scale


async def aadd(a: int, b: int = 0, *, scale: int = 1) -> int:
    await asyncio.sleep(0)
    return add(a, b, scale=scale)


# -- the backends ----------------------------------------------------------------------------
def unavailable(executor: str) -> Optional[str]:
    if not executors.get(executor).available():
        return f"{executor} is not available on this Python (not installed, or too old)"
    return None


@dataclass(frozen=True)
class Backend:
    executor: str
    is_coroutine: bool

    @property
    def run(self) -> Callable[..., list[Any]]:
        return executors.backend_for(self.executor, self.is_coroutine, "local")

    def fn(self, plain: Callable[..., Any], coroutine: Callable[..., Any]) -> Callable[..., Any]:
        return coroutine if self.is_coroutine else plain

    def serial(self, fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
        """What the user's own loop gives: the reference every backend must match."""
        if self.is_coroutine:
            return serial_executor.run_async(fn, items)
        return [fn(x) for x in items]


CASES = [Backend(e, False) for e in SYNC_EXECUTORS] + [Backend(e, True) for e in ASYNC_EXECUTORS]


def case_id(backend: Backend) -> str:
    return f"{'async-' if backend.is_coroutine else ''}{backend.executor}"


def _skip_unavailable(backend: Backend) -> Backend:
    why = unavailable(backend.executor)
    if why:
        pytest.skip(why)
    return backend


@pytest.fixture(params=CASES, ids=case_id)
def backend(request: pytest.FixtureRequest) -> Backend:
    """Every backend, Dask included."""
    return _skip_unavailable(request.param)


@pytest.fixture(params=[c for c in CASES if c.executor != "dask"], ids=case_id)
def quick_backend(request: pytest.FixtureRequest) -> Backend:
    """Every backend but Dask (a LocalCluster per case would take minutes in all)."""
    return _skip_unavailable(request.param)


# -- leftovers ---------------------------------------------------------------------------------
def _workers_of_this_process() -> dict[int, str]:
    out = {}
    for proc in psutil.Process().children(recursive=True):
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            line = " ".join(proc.cmdline())
        except psutil.NoSuchProcess:
            continue
        if not any(helper in line for helper in HELPERS):
            out[proc.pid] = line
    return out


def _left_behind(before: dict[int, str]) -> dict[int, str]:
    """Worker processes started since ``before`` that are still running after a short grace."""
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = {p: line for p, line in _workers_of_this_process().items() if p not in before}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {p: line for p, line in _workers_of_this_process().items() if p not in before}
    return left


def run_checked(backend: Backend, fn: Callable[[Any], Any], items: list[Any], workers: int,
                chunksize: Optional[int] = None, spy: Optional[Callable[[], list[Any]]] = None) -> Any:
    """Map with ``backend`` in a forked child; check there that no worker process outlives the map.

    Returns the results, or (results, what ``spy`` saw) when a spy is given: ``spy()`` is
    installed in the child before the map and returns a list it fills in.
    """
    def body() -> dict[str, Any]:
        seen = spy() if spy is not None else None
        before = _workers_of_this_process()
        results = backend.run(fn, items, workers, chunksize, None)
        return {"results": results, "left": _left_behind(before), "seen": seen}

    outcome = run_isolated(body, HANG_GUARD_S)
    assert outcome.ok, f"{case_id(backend)}: {outcome.error}"
    assert not outcome.value["left"], f"{case_id(backend)} left processes behind: {outcome.value['left']}"
    if spy is not None:
        return outcome.value["results"], outcome.value["seen"]
    return outcome.value["results"]


# -- the interface ----------------------------------------------------------------------------
def test_every_backend_has_the_same_shape() -> None:
    shape = ["fn", "items", "workers", "chunksize", "start_method"]
    runs = [(n, run) for n, e in executors.REGISTRY.items() for run in (e.run, e.run_async) if run is not None]
    assert {n for n, _ in runs} == set(executors.REGISTRY), "every executor maps something"
    for executor, run in runs:
        parameters = list(inspect.signature(run).parameters)
        assert parameters[:5] == shape, (executor, parameters)
        assert all(p.default is not p.empty for p in list(inspect.signature(run).parameters.values())[3:]), \
            f"{executor}: only fn, items and workers may be required"
    for backend in CASES:
        assert executors.available(backend.executor, backend.is_coroutine)
        assert callable(backend.run)
    with pytest.raises(KeyError):
        executors.backend_for("threads", True)  # coroutines are mapped by serial and asyncio only


# -- the contract -------------------------------------------------------------------------------
def test_same_results_in_the_same_order_as_serial(backend: Backend) -> None:
    fn = backend.fn(square, asquare)
    items = list(range(23))
    assert run_checked(backend, fn, items, 2) == backend.serial(fn, items) == [x * x for x in items]


def test_exceptions_are_captured_per_item_like_serial(backend: Backend) -> None:
    fn = mappable(backend.fn(fragile, afragile), "single", backend.is_coroutine, catch=True)
    items = list(range(10))
    results = run_checked(backend, fn, items, 2, chunksize=3)  # a bad item does not lose its chunk
    assert results == backend.serial(fn, items)
    assert results[1] == RaisedOutcome("ValueError", "bad item 1")
    assert [i for i, r in enumerate(results) if isinstance(r, RaisedOutcome)] == [1, 4, 7]
    assert results[9] == 81


def test_star_calls_are_mapped_like_serial(quick_backend: Backend) -> None:
    fn = mappable(quick_backend.fn(add, aadd), "star", quick_backend.is_coroutine, catch=False)
    items = [((i,), {}) for i in range(3)] + [((i, i), {"scale": 2}) for i in range(4)]
    assert run_checked(quick_backend, fn, items, 2) == quick_backend.serial(fn, items)


def test_a_chunksize_is_honoured(quick_backend: Backend) -> None:
    fn = quick_backend.fn(where, awhere)
    items, chunksize = list(range(12)), 4
    if quick_backend.executor == "interpreters":  # pragma: no cover - Python 3.14+ only
        pytest.xfail("InterpreterPoolExecutor.map ignores chunksize (it is a ThreadPoolExecutor), "
                     "and run_interpreters passes it straight through")
    batch_sizes = None
    if quick_backend.executor == "joblib":
        results, batch_sizes = run_checked(quick_backend, fn, items, 2, chunksize, spy=_spy_on_joblib_batch_size)
    else:
        results = run_checked(quick_backend, fn, items, 2, chunksize)
    assert [r[0] for r in results] == items
    if batch_sizes is not None:
        # The contract's joblib is Parallel(batch_size=chunksize); joblib itself splits the first
        # and the last batches so that every worker has work, so chunks are not checked item by item.
        assert batch_sizes == [chunksize]
    elif quick_backend.executor in CHUNKING:
        for start in range(0, len(items), chunksize):
            ran_on = {r[1:] for r in results[start:start + chunksize]}
            assert len(ran_on) == 1, f"chunk {start // chunksize} ran on {len(ran_on)} workers"


def _spy_on_joblib_batch_size() -> list[Any]:
    """In a trial child: record the batch_size every joblib.Parallel is made with."""
    import joblib

    seen: list[Any] = []

    class Parallel(joblib.Parallel):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            seen.append(kwargs.get("batch_size"))
            super().__init__(*args, **kwargs)

    joblib.Parallel = Parallel
    return seen


def test_a_fork_of_a_process_that_used_it_can_use_it(quick_backend: Backend) -> None:
    """A trial is a fork of the user's process, which may have used the same pool kind already
    (a script that called joblib before its loop): the fork must still map, not hang."""
    fn = quick_backend.fn(square, asquare)

    def parent() -> list[Any]:
        if quick_backend.executor == "joblib":  # as a user calls it: loky keeps its workers
            import joblib

            joblib.Parallel(n_jobs=2)(joblib.delayed(fn)(x) for x in [1, 2, 3])
        else:
            quick_backend.run(fn, [1, 2, 3], 2, None, None)
        child = run_isolated(lambda: quick_backend.run(fn, [4, 5, 6], 2, None, None), HANG_GUARD_S / 4)
        assert child.ok, child.error
        return child.value  # type: ignore[no-any-return]

    outcome = run_isolated(parent, HANG_GUARD_S)
    assert outcome.ok, f"{case_id(quick_backend)}: {outcome.error}"
    assert outcome.value == [16, 25, 36]


def test_an_empty_item_list(quick_backend: Backend) -> None:
    assert run_checked(quick_backend, quick_backend.fn(square, asquare), [], 2) == []


def test_a_single_item(quick_backend: Backend) -> None:
    assert run_checked(quick_backend, quick_backend.fn(square, asquare), [7], 2) == [49]


def test_more_workers_than_items(quick_backend: Backend) -> None:
    fn = quick_backend.fn(square, asquare)
    assert run_checked(quick_backend, fn, [3, 1, 2], 5) == [9, 1, 4]
    assert run_checked(quick_backend, fn, [3, 1, 2], 5, chunksize=2) == [9, 1, 4]


# -- the code it writes -------------------------------------------------------------------------
TARGETS = '''\
import asyncio


def square(x):
    return x * x


def add(a, b=0):
    return a + b


async def asquare(x):
    await asyncio.sleep(0)
    return x * x
'''
# Runs the emitted module's map over items and prints the results (an async map is awaited),
# under a main guard as the emitted code asks: spawned workers (Dask's) import the main module.
DRIVER = '''\
import asyncio, inspect, json, sys
import emitted

if __name__ == "__main__":
    out = getattr(emitted, sys.argv[1])(json.loads(sys.argv[2]))
    print(json.dumps(asyncio.run(out) if inspect.iscoroutine(out) else list(out)))
'''
CODE_CASES = [(n, False) for n in SYNC_EXECUTORS] + [(n, True) for n in ASYNC_EXECUTORS]


def _emitted_results(tmp_path: Any, code: str, helper: str, items: list[Any]) -> list[Any]:
    import json
    import subprocess
    import sys

    (tmp_path / "targets.py").write_text(TARGETS)
    (tmp_path / "emitted.py").write_text(code)
    (tmp_path / "driver.py").write_text(DRIVER)
    proc = subprocess.run([sys.executable, "driver.py", helper, json.dumps(items)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, f"the emitted code failed:\n{code}\n{proc.stderr[-2000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("executor,is_coroutine", CODE_CASES,
                         ids=[f"{'async-' if c else ''}{n}" for n, c in CODE_CASES])
def test_the_emitted_code_returns_serial_results(tmp_path: Any, executor: str, is_coroutine: bool) -> None:
    """The report's code for each executor, run as the user would run it: plain and chunked items."""
    from advisor.model import Recommendation
    from advisor.present.code import emit

    if unavailable(executor):
        pytest.skip(unavailable(executor))
    name = "asquare" if is_coroutine else "square"
    items = list(range(23))
    chunkings = [None] if executor == "dask" else [None, 4]  # a LocalCluster per case takes seconds
    for chunksize in chunkings:
        rec = Recommendation(executor, 2, chunksize, "fork" if executor == "processes" else None, 1.5, "measured")
        code = emit(rec, "targets.py", name, is_coroutine=is_coroutine)
        assert _emitted_results(tmp_path, code, f"map_{name}", items) == [x * x for x in items], code


@pytest.mark.parametrize("executor", [n for n in SYNC_EXECUTORS if n != "dask"])
def test_emitted_code_over_argument_tuples_with_blas_limited(tmp_path: Any, executor: str) -> None:
    """``f(*args)`` items (the loop calls ``add(a, b)``), and the BLAS limit a plan may carry."""
    from advisor.model import Recommendation
    from advisor.present.code import emit

    if unavailable(executor):
        pytest.skip(unavailable(executor))
    rec = Recommendation(executor, 2, 3, "fork" if executor == "processes" else None, 1.5, "measured",
                         blas_threads=1 if executor in ("threads", "processes") else None)
    code = emit(rec, "targets.py", "add", call_style="star")
    items = [[i, 10 * i] for i in range(8)]
    assert _emitted_results(tmp_path, code, "map_add", items) == [11 * i for i in range(8)], code
