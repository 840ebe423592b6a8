"""Small measurements beside the trials: overheads, the GIL probe, sizes, side effects.

Each probe is a plain function meant to run inside ``isolate.run_isolated``.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import pickle
import statistics
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any, Callable, Optional, Sequence

# Enough no-op tasks that the per-task cost is well above timer resolution.
DISPATCH_TASKS = 2000
# The GIL probe runs enough calls to last at least this long, so thread start-up is noise.
GIL_PROBE_SECONDS = 0.1
# Size statistics are taken over at most this many items (pickling all of them can be slow),
SIZE_SAMPLE = 500
# and over at most this many pickled bytes: forty 8 MB arrays took 0.6 s to pickle and
# unpickle for the throughput probe alone, a fifth of a 3 s budget, where 16 MB tells the
# same rate (pickle's speed per byte does not depend on how many bytes there are).
SIZE_SAMPLE_BYTES = 16 * 2**20


def _noop(x: Any) -> Any:
    return x


def start_costs(workers: int, methods: list[str]) -> dict[str, float]:
    """Seconds to start a ``workers``-process Pool and get a first answer, per start method."""
    out = {}
    for method in methods:
        started = time.perf_counter()
        with multiprocessing.get_context(method).Pool(workers) as pool:
            pool.map(_noop, range(workers), 1)
        out[f"start_{method}_s"] = time.perf_counter() - started
    return out


def interpreter_start_s() -> float:
    """Seconds to start and stop a bare interpreter (no site, no user environment)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-I", "-S", "-c", "pass"], check=False, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def fork_s() -> float:
    """Seconds to fork this process, have the child exit, and reap it."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return time.perf_counter() - started


def dispatch_overheads(workers: int, start_method: str, with_processes: bool) -> dict[str, float]:
    """Pool start-up and per-task hand-over cost on this machine, for a no-op task."""
    out: dict[str, float] = {}
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        list(pool.map(_noop, range(workers)))
        started = time.perf_counter()
        list(pool.map(_noop, range(DISPATCH_TASKS)))
        out["thread_task_s"] = (time.perf_counter() - started) / DISPATCH_TASKS
    if not with_processes:
        return out
    context = multiprocessing.get_context(start_method)
    started = time.perf_counter()
    with context.Pool(workers) as pool:
        pool.map(_noop, range(workers), 1)
        out["process_start_s"] = time.perf_counter() - started
        began = time.perf_counter()
        pool.map(_noop, range(DISPATCH_TASKS), 1)
        out["process_task_s"] = (time.perf_counter() - began) / DISPATCH_TASKS
    return out


def probe_items(items: Sequence[Any], durations: Sequence[float]) -> tuple[list[Any], list[float]]:
    """The first items whose recorded durations add up to the probe length (at least 2),
    with those durations."""
    chosen: list[Any] = []
    times: list[float] = []
    total = 0.0
    for item, seconds in zip(items, durations):
        chosen.append(item)
        times.append(seconds)
        total += seconds
        if total >= GIL_PROBE_SECONDS and len(chosen) >= 2:
            break
    return chosen, times


# Calls whose CPU time is at least this share of their wall time are CPU work: for them
# the GIL probe counts the CPU the two threads used, not only the wall clock (see gil_probe).
CPU_WORK_RATIO = 0.5


def gil_probe(fn: Callable[[Any], Any], items: Sequence[Any],
              durations: Sequence[float] = ()) -> dict[str, float]:
    """Do the calls finish faster on two threads than on one? (1.0: the GIL serializes them.)

    The wall clocks alone can claim the impossible: a function that caches its results
    runs the threaded pass from the cache the sequential pass filled ("89.50x"), and
    uneven halves leave one thread idle. So the items are split into halves of equal
    recorded time, and for CPU work the speedup is also bounded by how much faster the
    process used CPU time with two threads than with one: a thread holding the GIL adds
    no CPU. Two threads can never be more than 2x as fast as one.
    """
    halves = balanced_halves(items, durations)
    started, cpu_started = time.perf_counter(), time.process_time()
    for x in items:
        fn(x)
    sequential, sequential_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    threads = [threading.Thread(target=lambda part=part: [fn(x) for x in part]) for part in halves]
    started, cpu_started = time.perf_counter(), time.process_time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel, parallel_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    wall_speedup = sequential / parallel if parallel > 0 else 1.0
    speedup = min(2.0, wall_speedup)
    cpu_rate = 0.0
    if sequential > 0 and parallel > 0 and sequential_cpu >= CPU_WORK_RATIO * sequential:
        cpu_rate = (parallel_cpu / parallel) / (sequential_cpu / sequential)
        speedup = min(speedup, cpu_rate)
    return {"threads": 2, "sequential_s": sequential, "parallel_s": parallel, "wall_speedup": wall_speedup,
            "cpu_rate_ratio": cpu_rate, "speedup": speedup, "calls": len(items)}


# The GIL probe is skipped where two threads could not be faster than this even if all
# the time not spent in Python bytecode ran in parallel: below GIL_FREE_SPEEDUP (1.4,
# where the verdict and the plan would count the calls as releasing the GIL), with room
# for the sampled split's error.
GIL_BOUND_SKIP = 1.25


def gil_bound(cpu_ratio: float, cpu_split: dict[str, float]) -> Optional[dict[str, float]]:
    """The most two threads could speed the calls up, from their sampled CPU split (see
    measure/cpu_split.py), when that is too little for the GIL probe to find anything.

    Python bytecode holds the GIL; native code and waiting may not. With a share h of the
    calls' wall time in bytecode, two threads take at least h + (1 - h) / 2 of one
    thread's time (Amdahl), a speedup of at most 2 / (1 + h). None where the split is
    unknown, the bound is not low enough, or this Python runs without a GIL.
    """
    python = cpu_split.get("python_percent")
    native = cpu_split.get("native_percent")
    gil_check = getattr(sys, "_is_gil_enabled", None)
    if python is None or native is None or python + native <= 0 or (gil_check is not None and not gil_check()):
        return None
    held = min(1.0, cpu_ratio) * python / (python + native)
    bound = 2.0 / (1.0 + held)
    if bound > GIL_BOUND_SKIP:
        return None
    return {"threads": 2, "bound": round(bound, 4), "gil_held_share": round(held, 4)}


# The wake-up probe: a second thread sleeps this long, again and again, while the calls run.
WAKE_SLEEP_S = 0.0002
WAKE_REFERENCE_S = 0.05  # each reference phase (GIL held by Python code, GIL released)


def gil_free_share(fn: Callable[[Any], Any], items: Sequence[Any]) -> dict[str, float]:
    """The share of the calls' time spent with the GIL released, measured with one CPU or more.

    Two threads cannot show it on one CPU: they share it whatever the GIL does. A thread
    that wakes from a short sleep needs the GIL to go on; while Python code holds it, the
    waker waits for the switch interval (5 ms) and wakes about 200 times a second, while
    native code that has released it lets the waker in at once, thousands of times a
    second. So the waker's rate during the calls, between its rates while this thread
    runs Python code and while it sleeps (the GIL released), gives the share released.
    """
    def rate_during(work: Callable[[], None]) -> float:
        stop, woken = threading.Event(), [0]

        def waker() -> None:
            while not stop.is_set():
                time.sleep(WAKE_SLEEP_S)
                woken[0] += 1

        thread = threading.Thread(target=waker, daemon=True)
        thread.start()
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        stop.set()
        thread.join()
        return woken[0] / max(elapsed, 1e-9)

    def python_code() -> None:
        end = time.perf_counter() + WAKE_REFERENCE_S
        while time.perf_counter() < end:
            sum(i * i for i in range(200))

    held = rate_during(python_code)
    released = rate_during(lambda: time.sleep(WAKE_REFERENCE_S))
    during = rate_during(lambda: [fn(x) for x in items])
    share = (during - held) / (released - held) if released > held else 0.0
    return {"wake_rate_held": held, "wake_rate_released": released, "wake_rate": during,
            "free_share": min(1.0, max(0.0, share)), "calls": len(items)}


def balanced_halves(items: Sequence[Any], durations: Sequence[float] = ()) -> list[list[Any]]:
    """Two lists of the items with recorded durations as equal as can be (longest first,
    each to the lighter half); alternate items when there are no durations."""
    if len(durations) != len(items):
        return [list(items[0::2]), list(items[1::2])]
    halves: list[list[Any]] = [[], []]
    loads = [0.0, 0.0]
    for index in sorted(range(len(items)), key=lambda i: -durations[i]):
        lighter = 0 if loads[0] <= loads[1] else 1
        halves[lighter].append(items[index])
        loads[lighter] += durations[index]
    return halves


def pickled_sample(values: Sequence[Any]) -> list[bytes]:
    """Pickles of up to ``SIZE_SAMPLE`` values spread over ``values``, stopping once they hold
    ``SIZE_SAMPLE_BYTES``. Raises what pickle raises."""
    step = max(1, len(values) // SIZE_SAMPLE)
    blobs: list[bytes] = []
    total = 0
    for value in values[::step]:
        blobs.append(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        total += len(blobs[-1])
        if total >= SIZE_SAMPLE_BYTES:
            break
    return blobs


def pickled_sizes(values: Sequence[Any]) -> int:
    """Median pickled size in bytes (0 when the values cannot be pickled)."""
    try:
        sizes = [len(blob) for blob in pickled_sample(values)]
    except Exception:  # noqa: BLE001 - unpicklable values have no transfer size
        return 0
    return int(statistics.median(sizes)) if sizes else 0


def pickle_throughput(values: Sequence[Any]) -> float:
    """Bytes per second to pickle and unpickle ``values`` (what a process pool does per item)."""
    try:
        started = time.perf_counter()
        blobs = pickled_sample(values)
        for blob in blobs:
            pickle.loads(blob)
        seconds = time.perf_counter() - started
    except Exception:  # noqa: BLE001 - unpicklable values have no throughput
        return 0.0
    size = sum(len(b) for b in blobs)
    return size / seconds if seconds > 0 and size else 0.0


def transfer_seconds(values: Sequence[Any], most: int = 3) -> float:
    """Median seconds to pickle and unpickle one of ``values`` (up to ``most``, spread over
    them): what a process pool spends sending one back. 0 when they cannot be pickled."""
    step = max(1, len(values) // max(1, most))
    times = []
    try:
        for value in list(values[::step])[:most]:
            started = time.perf_counter()
            pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            times.append(time.perf_counter() - started)
    except Exception:  # noqa: BLE001 - unpicklable values cannot be sent at all
        return 0.0
    return statistics.median(times) if times else 0.0


def peak_allocation(fn: Callable[[Any], Any], item: Any) -> int:
    """Bytes allocated at the peak of one call (numpy reports its buffers to tracemalloc)."""
    tracemalloc.start()
    try:
        fn(item)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


# -- side effects on files --------------------------------------------------------
def folder_listing(folders: Sequence[str]) -> dict[str, tuple[int, int]]:
    """name -> (size, mtime_ns) for the files directly in ``folders``."""
    listing = {}
    for folder in dict.fromkeys(folders):
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            listing[entry.path] = (info.st_size, info.st_mtime_ns)
    return listing


def changed_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def blas_pool() -> dict[str, Any]:
    """The BLAS the script has loaded, the most threaded first, with its thread count, or {}.

    One thread is kept too: on one CPU OpenBLAS starts one, and on more it will start one per
    CPU in every worker (the what-if limits it there); the sweep's own BLAS rules look at
    ``num_threads``."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return {}
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    if not pools:
        return {}
    pool = max(pools, key=lambda p: p.get("num_threads") or 1)
    return {"internal_api": str(pool.get("internal_api")), "num_threads": int(pool.get("num_threads") or 1)}
