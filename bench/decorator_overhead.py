"""What ``@advise`` costs and what its cached plan delivers, side by side.

    .venv/bin/python bench/decorator_overhead.py [--repeats N] [--items N] [--processes N] [--json PATH]

1. Direct-call overhead: ns per call of a bare function, the same function under
   ``@advise``, and two common wrapper shapes for reference (a ``functools.wraps``
   closure and a class with ``__call__``). Batches are interleaved and each figure is
   the median over repeats. Goal: ``@advise`` within 1000 ns of bare.
2. ``f.map`` from the tuning cache against hand-written code with the same configuration.
   A first fresh interpreter tunes (and fills a temporary cache); then each of a few more
   finds the plan in the cache and times (medians of repeats, then over the processes):
     - the serial loop ``[f(x) for x in items]``;
     - ``f.map`` on its first call in the process (cache lookup, machine fingerprint,
       pool start-up) and on later calls (warm pool);
     - hand-written code for the plan: a fresh pool per call (what the contract times)
       and one pool created once outside the timing (warm, like ``f.map``).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from advisor.api import advise  # noqa: E402

CALLS_PER_BATCH = 200_000
# Per-item work for the map comparison: a few milliseconds of pure-Python CPU.
WORK_N = 25_000


def bare(x: int) -> int:
    return x + 1


def advised_twin(x: int) -> int:
    return x + 1


advised = advise(advised_twin)


def _closure_wrapper(fn: Callable[[int], int]) -> Callable[[int], int]:
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


class _CallableWrapper:
    def __init__(self, fn: Callable[[int], int]) -> None:
        self.fn = fn

    def __call__(self, x: int) -> int:
        return self.fn(x)


def count_primes(n: int) -> int:
    found = 0
    for k in range(2, n):
        for d in range(2, int(k ** 0.5) + 1):
            if k % d == 0:
                break
        else:
            found += 1
    return found


work = advise(count_primes)


def direct_call_overhead(repeats: int) -> dict[str, float]:
    candidates = {"bare function": bare, "@advise": advised,
                  "functools.wraps closure (reference)": _closure_wrapper(bare),
                  "class with __call__ (reference)": _CallableWrapper(bare)}
    timers = {name: timeit.Timer("f(1)", globals={"f": fn}) for name, fn in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):  # interleaved, so drift in machine load hits every candidate alike
        for name, timer in timers.items():
            samples[name].append(timer.timeit(CALLS_PER_BATCH) / CALLS_PER_BATCH * 1e9)
    return {name: statistics.median(values) for name, values in samples.items()}


def _time_once(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _hand_written(plan: dict[str, Any], items: list[int]) -> tuple[Callable[[], Any], Callable[[], Any], Any]:
    """(fresh-pool run, warm-pool run, the warm pool) for the plan's configuration."""
    executor, workers, chunksize = plan["executor"], plan["workers"], plan["chunksize"]
    if executor == "serial":
        loop = lambda: [count_primes(x) for x in items]  # noqa: E731
        return loop, loop, None
    if executor == "threads":
        from concurrent.futures import ThreadPoolExecutor

        def fresh() -> Any:
            with ThreadPoolExecutor(workers) as pool:
                return list(pool.map(count_primes, items))

        warm_pool = ThreadPoolExecutor(workers)
        return fresh, lambda: list(warm_pool.map(count_primes, items)), warm_pool
    import multiprocessing

    context = multiprocessing.get_context(plan["start_method"] or "fork")

    def fresh_pool() -> Any:
        with context.Pool(workers) as pool:
            return pool.map(count_primes, items, chunksize)

    pool = context.Pool(workers)
    return fresh_pool, lambda: pool.map(count_primes, items, chunksize), pool


def phase_tune(items: list[int]) -> dict[str, Any]:
    started = time.perf_counter()
    work.map(items)
    return {"tuning_s": time.perf_counter() - started, "plan": work.plan.stored(), "source": work.plan.source}


def phase_measure(items: list[int], repeats: int) -> dict[str, Any]:
    from advisor.api.decorator import _size_class

    started = time.perf_counter()
    work.__paradvise__._from_cache(_size_class(len(items)))  # what the first f.map looks up
    lookup = time.perf_counter() - started
    started = time.perf_counter()
    expected = work.map(items)
    first = time.perf_counter() - started
    plan = work.plan.stored()
    assert work.plan.source == "cache", work.plan
    fresh, warm, pool = _hand_written(plan, items)
    warm()  # start-up paid before timing, as f.map's pool was by its first call
    runs = {
        "serial loop": lambda: [count_primes(x) for x in items],
        "f.map, warm (cached plan)": lambda: work.map(items),
        "hand-written, fresh pool per call": fresh,
        "hand-written, warm pool": warm,
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so changes in machine load hit every row alike
        for name, run in runs.items():
            samples[name].append(_time_once(run))
    rows = {"cache lookup in a fresh process (machine + function fingerprints, SQLite read)": lookup,
            "f.map, first call in process (pool start-up + the map)": first}
    rows.update({name: statistics.median(values) for name, values in samples.items()})
    assert work.map(items) == expected == [count_primes(x) for x in items]
    if pool is not None and hasattr(pool, "terminate"):
        pool.terminate()
    elif pool is not None:
        pool.shutdown()
    return {"plan": plan, "seconds": rows}


def _child(phase: str, args: argparse.Namespace, cache_dir: str) -> dict[str, Any]:
    env = {**os.environ, "PARADVISE_CACHE_DIR": cache_dir}
    env.pop("PARADVISE", None)
    command = [sys.executable, __file__, "--phase", phase, "--items", str(args.items),
               "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--items", type=int, default=64)
    parser.add_argument("--processes", type=int, default=3, help="fresh interpreters that read the cache")
    parser.add_argument("--json", dest="json_path")
    parser.add_argument("--phase", choices=["tune", "measure"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    items = [WORK_N + 13 * i for i in range(args.items)]
    if args.phase == "tune":
        print(json.dumps(phase_tune(items)))
        return
    if args.phase == "measure":
        print(json.dumps(phase_measure(items, args.repeats)))
        return

    calls = direct_call_overhead(max(args.repeats, 9))
    print(f"Direct calls, median of {max(args.repeats, 9)} x {CALLS_PER_BATCH} calls:")
    for name, ns in calls.items():
        print(f"  {name:40s} {ns:8.1f} ns/call   ({ns - calls['bare function']:+.1f} ns vs bare)")
    with tempfile.TemporaryDirectory(prefix="paradvise-bench-") as cache_dir:
        tuned = _child("tune", args, cache_dir)
        runs = [_child("measure", args, cache_dir) for _ in range(args.processes)]
    # One first call per fresh process: the median over processes tames a busy machine.
    measured = {"plan": runs[0]["plan"],
                "seconds": {name: statistics.median(run["seconds"][name] for run in runs)
                            for name in runs[0]["seconds"]}}
    plan = measured["plan"]
    print(f"\nf.map over {args.items} items (~{WORK_N} primes test each); tuning took {tuned['tuning_s']:.2f} s "
          f"and chose {plan['executor']} {plan['workers']}w chunk {plan['chunksize']}; "
          f"median of {args.repeats} repeats in each of {args.processes} fresh processes:")
    serial = measured["seconds"]["serial loop"]
    for name, seconds in sorted(measured["seconds"].items(), key=lambda row: "first" in row[0] or "lookup" in row[0]):
        ratio = "" if "lookup" in name else f"   {serial / seconds:5.2f}x vs serial"
        print(f"  {name:78s} {seconds * 1e3:9.1f} ms{ratio}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"direct_call_ns": calls, "tune": tuned, "map": measured,
                                                    "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
