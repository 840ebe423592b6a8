#!/usr/bin/env python3
"""Benchmark: how close does paradvise's advice come to the best configuration?

For each workload (every script in samples/ plus bench/workloads/) this, in one run:

  a. runs ``paradvise profile W --json`` and times it (the price of the advice);
  b. imports W under a name other than ``__main__`` and rebuilds the items its main loop
     maps the hot function over (``items()``/``HOT`` in bench/workloads, an adapter
     for each sample);
  c. times an exhaustive grid of serial / threads / processes (or asyncio for coroutine
     targets) configurations on those items, each in fresh pools;
  d. times the recommended configuration exactly as CONTRACT.md defines it;
  e. times the library defaults a user would reach for without advice;
  f. times serial, the recommendation and the grid's fastest few again, in fresh rounds
     side by side, and takes regret from those (see ``confirm``);

Each workload is benched in a fresh interpreter and each timing in a forked child of it,
so no workload sees another's heap or imports and no trial sees another's pools.
Then it prints and saves a table of regret = time(recommended) / time(best) and of each
default's ratio to the best. This is a benchmark, not a test: numbers are noisy,
especially on a busy machine, and nothing here asserts.

    .venv/bin/python bench/run.py [--only NAME[,NAME...]] [--repeats N] [--quick] [--scale N]
"""
from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime
import hashlib
import importlib.util
import json
import math
import multiprocessing
import os
import platform
import select
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

# joblib is optional: its default is measured only where it is installed. It is imported
# only where used, as importing it (and numpy with it) takes ~0.2 s.
HAVE_JOBLIB = importlib.util.find_spec("joblib") is not None

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLES = ROOT / "samples"
WORKLOADS = BENCH / "workloads"
REAL = BENCH / "real"  # real public code, each file citing its source (see bench/real/README.md)
RESULTS = BENCH / "results"

# The grid (CONTRACT: processes use fork; threads and asyncio are capped at the item count).
THREAD_WORKERS = (2, 4, 8, 16, 32, 64)
PROCESS_WORKERS = (2, 4, 8, 16)
FIXED_CHUNKS = (1, 2, 4, 8, 16)
ASYNC_WORKERS = (2, 4, 8, 16, 32, 64)
QUICK_THREAD_WORKERS = (2, 8, 64)
QUICK_ASYNC_WORKERS = (4, 16, 64)

# Work whose CPU time is under this share of its wall time is "waiting" (I/O, sleeps):
# for it, process pools larger than 2 x CPUs are worth measuring too.
WAITING_CPU_SHARE = 0.5
# One timing may take at most this many times the serial loop (at least MIN_TIMEOUT_S):
# a configuration that slow cannot be the best, and some (600k single-item tasks to a
# process pool) would otherwise run for minutes.
TIMEOUT_FACTOR = 10
MIN_TIMEOUT_S = 5.0
SERIAL_TIMEOUT_S = 300.0
# A configuration whose first run takes this many times the best median so far is not
# repeated: it cannot win, and its ratio is already clear to one significant digit.
HOPELESS_FACTOR = 3.0
PARADVISE_TIMEOUT_S = 900
# The confirmation rounds (see confirm): the grid's configurations within this factor of
# its fastest median, at most this many, go into them with serial and the recommendation.
CONFIRM_MARGIN = 1.5
CONFIRM_MAX = 4
CONFIRM_ROUNDS = 5
# Every workload takes a first argument: run with that many times its items. The samples'
# own size (1) gives 0.2-0.9 s loops, short enough for the test suite; advice on loops
# that short is dominated by fixed costs (two interpreter starts, scalene's start-up,
# the probes: about 2 s together), so the bench measures loops nearer what people ask
# about, and says which scale it used.
DEFAULT_SCALE = 3


# ---------------------------------------------------------------- configurations

@dataclass(frozen=True)
class Config:
    executor: str  # serial, threads, processes, asyncio or joblib (CONTRACT.md names)
    workers: int = 1
    chunksize: Optional[int] = None
    start_method: Optional[str] = None
    blas_threads: Optional[int] = None  # native BLAS limited to this many threads (threadpoolctl)

    def label(self) -> str:
        blas = f" BLAS{self.blas_threads}" if self.blas_threads else ""
        if self.executor == "serial":
            return "serial"
        if self.executor == "processes":
            method = "" if self.start_method in (None, "fork") else f" {self.start_method}"
            return f"processes {self.workers}w c{self.chunksize or 1}{method}{blas}"
        if self.executor in ("threads", "joblib") and self.chunksize and self.chunksize > 1:
            return f"{self.executor} {self.workers}w c{self.chunksize}{blas}"
        return f"{self.executor} {self.workers}w{blas}"


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


class _ChunkCall:
    """Map ``fn`` over one list of items (threads with chunksize > 1, per CONTRACT.md)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        self.fn = fn

    def __call__(self, chunk: list[Any]) -> list[Any]:
        return [self.fn(x) for x in chunk]


def run_config(config: Config, fn: Callable[[Any], Any], items: list[Any], is_coroutine: bool) -> Any:
    """Map ``fn`` over ``items`` the way CONTRACT.md says a user would, pool start-up included
    (with BLAS limited as the emitted code limits it, when the configuration says so)."""
    if config.blas_threads:
        from threadpoolctl import threadpool_limits
        with threadpool_limits(limits=config.blas_threads, user_api="blas"):
            return _run_config(config, fn, items, is_coroutine)
    return _run_config(config, fn, items, is_coroutine)


def _run_config(config: Config, fn: Callable[[Any], Any], items: list[Any], is_coroutine: bool) -> Any:
    ex, w, c = config.executor, config.workers, config.chunksize
    if is_coroutine:
        return asyncio.run(_run_async(ex, fn, items, w))
    if ex == "serial":
        return [fn(x) for x in items]
    if ex == "threads":
        with concurrent.futures.ThreadPoolExecutor(w) as pool:
            if c and c > 1:
                return [r for part in pool.map(_ChunkCall(fn), _chunks(items, c)) for r in part]
            return list(pool.map(fn, items))
    if ex == "processes":
        with multiprocessing.get_context(config.start_method or "fork").Pool(w) as pool:
            return pool.map(fn, items, c)
    if ex == "joblib" and HAVE_JOBLIB:
        import joblib
        return joblib.Parallel(n_jobs=w, backend="loky", batch_size=c or "auto")(
            joblib.delayed(fn)(x) for x in items)
    raise ValueError(f"cannot run {config.label()}")


async def _run_async(executor: str, fn: Callable[[Any], Any], items: list[Any], workers: int) -> list[Any]:
    if executor == "serial":  # the user's own loop: await one call after another
        return [await fn(x) for x in items]
    gate = asyncio.Semaphore(workers)

    async def one(x: Any) -> Any:
        async with gate:
            return await fn(x)

    return list(await asyncio.gather(*(one(x) for x in items)))


# What a user writes without advice. Each is timed with its pool's shutdown included.
def _default_pool(fn, items):
    with multiprocessing.Pool() as pool:
        return pool.map(fn, items)


def _default_thread_executor(fn, items):
    with concurrent.futures.ThreadPoolExecutor() as pool:
        return list(pool.map(fn, items))


def _default_process_executor(fn, items):
    with concurrent.futures.ProcessPoolExecutor() as pool:
        return list(pool.map(fn, items))


def _default_joblib(fn, items):
    import joblib
    return joblib.Parallel(n_jobs=-1)(joblib.delayed(fn)(x) for x in items)


def _default_gather(fn, items):
    async def everything():
        return await asyncio.gather(*(fn(x) for x in items))
    return asyncio.run(everything())


SYNC_DEFAULTS: dict[str, Callable[[Callable, list], Any]] = {
    "Pool()": _default_pool,
    "ThreadPoolExecutor()": _default_thread_executor,
    "ProcessPoolExecutor()": _default_process_executor,
}
if HAVE_JOBLIB:
    SYNC_DEFAULTS["joblib(n_jobs=-1)"] = _default_joblib
ASYNC_DEFAULTS = {"gather() unbounded": _default_gather}


def grid(n: int, cpus: int, waiting: bool, is_coroutine: bool, quick: bool, blas: bool = False) -> list[Config]:
    """Every configuration to time, serial first (it sets the timeout and the first 'best')."""
    configs = [Config("serial")]
    if is_coroutine:
        levels = QUICK_ASYNC_WORKERS if quick else ASYNC_WORKERS
        return configs + [Config("asyncio", w) for w in sorted({min(w, n) for w in levels}) if w > 1]
    levels = QUICK_THREAD_WORKERS if quick else THREAD_WORKERS
    configs += [Config("threads", w) for w in sorted({min(w, n) for w in levels}) if w > 1]
    # CPU-bound work gains nothing from more processes than CPUs; keep 2 x CPUs as the
    # one data point that shows it, and go further only for work that waits.
    workers = [w for w in PROCESS_WORKERS if waiting or w <= 2 * cpus]
    if quick:
        workers = [workers[0], workers[-1]] if len(workers) > 1 else workers
    for w in sorted({min(w, n) for w in workers}):
        if w < 2:
            continue
        most = math.ceil(n / w)  # bigger chunks leave workers idle by construction
        fixed = () if quick else FIXED_CHUNKS
        chunks = {c for c in (*fixed, 1, math.ceil(n / (4 * w)), most) if c <= most}
        configs += [Config("processes", w, c, "fork") for c in sorted(chunks)]
    if blas:  # a multithreaded BLAS is loaded: every parallel configuration again with it on one thread
        configs += [replace(c, blas_threads=1) for c in configs if c.executor != "serial"]
    return configs


def multithreaded_blas_loaded() -> bool:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return False
    return any(p.get("user_api") == "blas" and (p.get("num_threads") or 1) > 1 for p in threadpool_info())


# ---------------------------------------------------------------- timing in a child

@dataclass
class Timing:
    seconds: Optional[float] = None  # None: failed or timed out
    cpu_seconds: Optional[float] = None
    timed_out: bool = False
    error: Optional[str] = None
    outcome: Optional[str] = None  # digest of the results and of the module's state afterwards


# The workload's module, set once per (fresh) bench process: its state after a run is
# part of what a configuration must get right (see outcome_digest).
WORKLOAD_MODULE: Any = None
STATE_TYPES = (dict, list, set, tuple, int, float, str, bytes, bool)


def outcome_digest(results: Any) -> str:
    """A digest of what a run produced: its results and the module-level data it left.

    A configuration is only a candidate for "best" when it matches serial here: process
    pools that update module globals in workers (samples/global_state) finish fast but
    leave the parent's globals untouched, which is a wrong answer, not a faster one.
    Dicts and sets compare regardless of order, as == does: threads insert keys in a
    different order, which is not a different answer.
    Objects of the module's own classes count too, by their attributes: a global instance
    that the loop's calls update (a task table, counters) is state the script can read
    after the loop, and worker processes update only their copies of it.
    """
    state = {}
    if WORKLOAD_MODULE is not None:
        state = {k: v for k, v in vars(WORKLOAD_MODULE).items()
                 if not k.startswith("_") and (type(v) in STATE_TYPES or _own_object(v))}
    return hashlib.sha256(repr(_canonical((results, state))).encode()).hexdigest()


def _own_object(value: Any) -> bool:
    """An instance of a class the workload's module defines (not a class, function or module)."""
    cls = type(value)
    return (WORKLOAD_MODULE is not None and cls.__module__ == WORKLOAD_MODULE.__name__
            and hasattr(value, "__dict__"))


def _canonical(value: Any, seen: Optional[set[int]] = None) -> Any:
    seen = set() if seen is None else seen
    if _own_object(value):
        if id(value) in seen:  # linked objects refer to each other: a cycle is a reference, not more data
            return ("ref", type(value).__qualname__)
        seen.add(id(value))
        return ("object", type(value).__qualname__, _canonical(vars(value), seen))
    if isinstance(value, float):
        # To 9 significant digits, about paradvise's own tolerance (equality.FLOAT_REL_TOL):
        # BLAS on one thread sums in another order than on two, and a last-bit difference
        # is not a wrong answer (it had marked every BLAS-limited configuration wrong).
        return format(value, ".9g")
    if isinstance(value, dict):
        return ("dict", sorted((repr(_canonical(k, seen)), _canonical(v, seen)) for k, v in value.items()))
    if isinstance(value, (set, frozenset)):
        return ("set", sorted(repr(_canonical(v, seen)) for v in value))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_canonical(v, seen) for v in value])
    return repr(value)


def time_in_child(run: Callable[[], Any], timeout_s: float) -> Timing:
    """Time ``run()`` in a forked child, killing it (and its pool) after ``timeout_s``.

    A fork per timing keeps every trial fresh (pools, module globals the target
    mutates, the asyncio loop) and lets a hopeless configuration be stopped mid-map.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its own process group, so its pool workers die with it
        os.close(read_end)
        os.setpgid(0, 0)
        try:
            before, started = os.times(), time.perf_counter()
            results = run()
            seconds, after = time.perf_counter() - started, os.times()
            cpu = sum(after[:4]) - sum(before[:4])  # own and waited-for children's CPU
            payload = {"seconds": seconds, "cpu": cpu, "outcome": outcome_digest(results)}
        except BaseException as exc:  # noqa: BLE001 - reported, never raised in the parent
            payload = {"error": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
        os.write(write_end, json.dumps(payload).encode())
        os._exit(0)
    os.close(write_end)
    try:
        os.setpgid(pid, pid)  # also here, so a kill right after fork reaches the group
    except OSError:
        pass
    try:
        data = _read_with_deadline(read_end, timeout_s)
    finally:
        os.close(read_end)
        # Always, not only on timeout: joblib's loky workers outlive the map by design,
        # and nothing a trial started should linger into the next one.
        _kill_group(pid)
        os.waitpid(pid, 0)
    if data is None:
        return Timing(timed_out=True, error=f"timed out after {timeout_s:.1f} s")
    if not data:
        return Timing(error="the child died without a result")
    payload = json.loads(data)
    if "error" in payload:
        return Timing(error=payload["error"])
    return Timing(payload["seconds"], payload["cpu"], outcome=payload["outcome"])


def _read_with_deadline(fd: int, timeout_s: float) -> Optional[bytes]:
    deadline = time.monotonic() + timeout_s
    chunks = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@dataclass
class Measured:
    label: str
    config: Optional[dict]
    runs: list[float] = field(default_factory=list)
    median: Optional[float] = None  # of the runs; None when none finished
    timed_out: bool = False
    error: Optional[str] = None
    cpu_share: Optional[float] = None  # CPU seconds / wall seconds of the first run
    own_median: Optional[float] = None  # recommended only: before pooling with the grid's runs
    pooled_with_grid: bool = False  # the median is over this and the identical grid entry's runs
    outcome: Optional[str] = None  # digest of the first run's results and module state
    wrong: bool = False  # its outcome differs from the serial loop's

    def lower_bound(self) -> Optional[float]:
        """The time to rank by: the median, or the timeout when it did not finish."""
        if self.median is not None:
            return self.median
        return self.runs[0] if self.timed_out and self.runs else None


@dataclass
class Entry:
    """One thing to time: a grid point, the recommendation, or a library default."""

    label: str
    config: Optional[Config]
    run: Callable[[], Any]
    always_repeat: bool = False  # serial and the recommendation: never cut short as hopeless


def measure_in_rounds(entries: list[Entry], repeats: int, timeout_s: float,
                      seeded: Optional[dict[int, Timing]] = None) -> list[Measured]:
    """Time every entry once per round, ``repeats`` rounds, and keep each one's median.

    Rounds rather than one entry's repeats back to back: this machine is shared, and a
    burst of load from elsewhere then slows one run of many configurations instead of
    every run of one family (which made, say, all thread configurations look bad).
    ``seeded`` gives first-round timings already taken (the serial loop's).
    """
    results = [Measured(e.label, asdict(e.config) if e.config else None) for e in entries]
    finished = [False] * len(entries)
    for index, timing in (seeded or {}).items():
        finished[index] = _record(results[index], timing, timeout_s, first=True)
    for rep in range(repeats):
        if rep:
            log(f"   round {rep + 1}/{repeats}")
        best = min((statistics.median(m.runs) for m in results if m.runs and not m.timed_out), default=None)
        for index, (entry, result) in enumerate(zip(entries, results)):
            if finished[index] or len(result.runs) > rep:
                continue
            if (rep and not entry.always_repeat and best is not None
                    and result.runs[0] > HOPELESS_FACTOR * best):
                finished[index] = True  # cannot win, and one run already shows its ratio
                continue
            finished[index] = _record(result, time_in_child(entry.run, timeout_s), timeout_s, first=rep == 0)
    reference = results[0].outcome if results else None  # entry 0 is the serial loop
    for result in results:
        result.wrong = reference is not None and result.outcome is not None and result.outcome != reference
        if result.runs and (not result.timed_out or len(result.runs) > 1):
            # With a timeout among finished runs, the timeout counts as that run's time.
            result.median = statistics.median(result.runs)
    return results


def _record(result: Measured, timing: Timing, timeout_s: float, first: bool) -> bool:
    """Add one timing; True when the entry is finished (timed out or failed)."""
    if timing.timed_out:
        result.timed_out, result.error = True, timing.error
        result.runs.append(timeout_s)  # a lower bound, kept for ratios
        return True
    if timing.seconds is None:
        result.error = timing.error
        return True
    result.runs.append(timing.seconds)
    if first:
        result.cpu_share = timing.cpu_seconds / max(timing.seconds, 1e-9)
        result.outcome = timing.outcome
    return False


# ---------------------------------------------------------------- workloads

@dataclass
class Workload:
    name: str  # e.g. samples/cpu_bound, workloads/tiny_events
    path: Path


@dataclass
class Prepared:
    hot: str
    items: list[Any]
    teardown: Optional[Callable[[], None]] = None
    # One iteration of the loop as the script makes it, when that is not ``HOT(item)``: a
    # method on the script's instance, several arguments, a generator consumed (bench/real).
    call: Optional[Callable[[Any], Any]] = None
    # Objects main() keeps alive during its loop. They matter: with a 4 MB array still
    # referenced, glibc keeps mmap-ing each 4 MB temporary, and numpy_arrays' loop runs
    # ~5x slower than when that array has been freed (the mmap threshold then rises).
    keep: Any = None


def discover(only: Optional[str]) -> list[Workload]:
    found = [Workload(f"samples/{p.stem}", p) for p in sorted(SAMPLES.glob("*.py"))]
    found += [Workload(f"workloads/{p.stem}", p) for p in sorted(WORKLOADS.glob("*.py"))]
    # Only the scripts: a real script's own helper modules say no HOT.
    found += [Workload(f"real/{p.stem}", p) for p in sorted(REAL.glob("*.py")) if "\nHOT = " in p.read_text()]
    wanted = [part for part in (only or "").split(",") if part]
    if not wanted:
        return found
    # In the order asked for: with --time-limit, the first named are the ones that run.
    ordered = {w.name: w for part in wanted for w in found if part in w.name}
    return list(ordered.values())


def load_module(path: Path) -> Any:
    """Import a script by path under its own name (not __main__, so its main() does not run).

    Its folder goes on sys.path so that pool workers unpickle the hot function by module
    name: forked ones find it in sys.modules, spawned ones import the file (running its
    top-level code, as a spawned worker of the user's own script would). Each workload is
    benched in its own process, so two workloads' names never meet.
    """
    name = path.stem
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if HAVE_JOBLIB:
        # loky's workers are fresh interpreters that cannot import this module by its
        # made-up name; pickle its functions by value, as cloudpickle does for a script's
        # own __main__ functions when the user calls joblib from the script.
        import cloudpickle
        cloudpickle.register_pickle_by_value(module)
    return module


def as_script(module: Any) -> None:
    """In a trial child: make the workload the __main__ module, as it is in the user's run.

    Spawned pool workers (start method spawn or forkserver, loky's) re-import the main
    module as __mp_main__; without this they would import bench/run.py instead, paying
    its imports rather than the script's.
    """
    sys.modules["__main__"] = module


# Adapters for samples/: each rebuilds the items exactly as the sample's main() does.
def _cpu_bound(m, scale):
    chunk, base = 15_000, 1_000_000
    return Prepared("count_primes", [(base + i * chunk, base + (i + 1) * chunk) for i in range(24 * scale)])


def _global_state(m, scale):
    return Prepared("score_record", [(f"rec-{i:03d}", 200_000 + 2_000 * i) for i in range(24 * scale)])


def _hashing(m, scale):
    import random
    rng = random.Random(2024)
    return Prepared("pack_blob", [rng.randbytes(2_000_000).translate(m.TABLE) for _ in range(24 * scale)])


def _numpy_arrays(m, scale):
    noise = m.np.random.default_rng(12345).standard_normal(500_000)
    return Prepared("signal_energy", [noise * (1.0 + 0.05 * i) for i in range(24 * scale)], keep=noise)


def _blas_calls(m, scale):
    return Prepared("fit_segment", list(range(40 * scale)))


def _subprocess_calls(m, scale):
    return Prepared("count_words", [m.make_document(i) for i in range(20 * scale)])


def _tiny_calls(m, scale):
    prefixes = ["ab", " cd_x", "ef  ", "gh_y", "ij "]
    return Prepared("normalize", [f"{prefixes[i % 5]}_{i % 50_000:05d}" for i in range(600_000 * scale)])


def _uneven_tasks(m, scale):
    small, large = 1_500, 22_000
    jobs = [(100_000 + i * small, small) for i in range(30 * scale)]
    return Prepared("collatz_job", jobs + [(500_000 + i * large, large) for i in range(3 * scale)])


def _async_fetch(m, scale):
    return Prepared("fetch_reading", list(range(1, 30 * scale + 1)))  # asyncio.sleep: no server needed


def _http_fetch(m, scale):
    # main() builds its server inline; do the same with the sample's own handler class,
    # in this process, so every forked trial (and its pool workers) can reach it.
    # The sample's own server class: its listen backlog (128, not socketserver's 5) decides
    # whether 48 concurrent requests are served or their connections wait a 1 s SYN retry.
    server = m.APIServer(("127.0.0.1", 0), m.SlowJSONHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]

    def stop():
        server.shutdown()
        server.server_close()

    return Prepared("fetch_item", [f"http://127.0.0.1:{port}/items/{i}" for i in range(30 * scale)], stop)


SAMPLE_ADAPTERS: dict[str, Callable[[Any, int], Prepared]] = {
    "async_fetch": _async_fetch, "blas_calls": _blas_calls, "cpu_bound": _cpu_bound, "global_state": _global_state,
    "hashing": _hashing, "http_fetch": _http_fetch, "numpy_arrays": _numpy_arrays,
    "subprocess_calls": _subprocess_calls, "tiny_calls": _tiny_calls, "uneven_tasks": _uneven_tasks,
}


def prepare(workload: Workload, scale: int) -> tuple[Any, Prepared]:
    """Import the workload and build its items; raise LookupError to skip it with a reason."""
    module = load_module(workload.path)
    if hasattr(module, "items") and hasattr(module, "HOT"):
        return module, Prepared(module.HOT, module.items(scale), getattr(module, "teardown", None),
                                call=getattr(module, "bench_call", None))
    adapter = SAMPLE_ADAPTERS.get(workload.path.stem)
    if adapter is None:
        raise LookupError("no items()/HOT and no adapter in bench/run.py SAMPLE_ADAPTERS")
    return module, adapter(module, scale)


# ---------------------------------------------------------------- paradvise

@dataclass
class Advice:
    wall_s: float
    returncode: Optional[int]
    report: Optional[dict]
    error: Optional[str] = None

    def config(self) -> Optional[Config]:
        if not self.report:
            return None
        rec = self.report["recommendation"]
        return Config(rec["executor"], rec["workers"], rec.get("chunksize"), rec.get("start_method"),
                      rec.get("blas_threads"))


def advise(path: Path, scale: int) -> Advice:
    """Run ``paradvise profile`` as a user would and time its whole wall clock."""
    with tempfile.TemporaryDirectory(prefix="paradvise-bench-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "advisor", "profile", str(path), "--json", str(out), "--quiet",
               "--", str(scale)]
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=PARADVISE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return Advice(time.perf_counter() - started, None, None, f"timed out after {PARADVISE_TIMEOUT_S} s")
        wall = time.perf_counter() - started
        report = json.loads(out.read_text()) if out.exists() else None
        error = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Advice(wall, proc.returncode, report, error)


def machine_facts() -> dict:
    proc = subprocess.run([sys.executable, "-m", "advisor", "machine", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": proc.stderr.strip()[-500:]}


# ---------------------------------------------------------------- one workload

def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Workloads the bench cannot rebuild outside their script, and why (checked before profiling).
UNBENCHABLE = {
    "closure_scoring": "its target is a closure made inside main(), which nothing outside the script can call",
}


def bench_workload(workload: Workload, cpus: int, repeats: int, quick: bool, scale: int) -> dict:
    row: dict[str, Any] = {"workload": workload.name, "path": str(workload.path.relative_to(ROOT))}
    if workload.path.stem in UNBENCHABLE:
        row["skipped"] = UNBENCHABLE[workload.path.stem]
        log(f"== {workload.name}: skipped: {row['skipped']}")
        return row
    log(f"== {workload.name}: paradvise profile ...")
    advice = advise(workload.path, scale)
    row["advice"] = asdict(advice)
    log(f"   paradvise took {advice.wall_s:.1f} s -> "
        f"{advice.config().label() if advice.config() else 'no advice: ' + str(advice.error)}")
    global WORKLOAD_MODULE
    try:
        module, prepared = prepare(workload, scale)
        WORKLOAD_MODULE = module
    except Exception as exc:  # noqa: BLE001 - a workload we cannot rebuild is skipped, with the reason
        row["skipped"] = f"{type(exc).__name__}: {exc}"
        log(f"   skipped: {row['skipped']}")
        return row
    try:
        row.update(_time_everything(module, prepared, advice, cpus, repeats, quick))
    finally:
        if prepared.teardown:
            prepared.teardown()
    return row


def _time_everything(module: Any, prepared: Prepared, advice: Advice, cpus: int,
                     repeats: int, quick: bool) -> dict:
    fn = prepared.call or getattr(module, prepared.hot)
    items, is_coroutine = prepared.items, asyncio.iscoroutinefunction(fn)
    out: dict[str, Any] = {"hot": prepared.hot, "items": len(items), "is_coroutine": is_coroutine}
    if advice.report:
        out["target_ok"] = target_matches(advice.report["target"]["name"], prepared.hot)
    if advice.report and not out["target_ok"]:
        out["target_mismatch"] = advice.report["target"]["name"]
    elif advice.report and advice.report["target"]["calls"] != len(items):
        # The adapter no longer rebuilds what main() does (the sample changed?): say so.
        out["items_mismatch"] = f"paradvise saw {advice.report['target']['calls']} calls, bench built {len(items)} items"
        log(f"   warning: {out['items_mismatch']}")

    def runner(config: Config) -> Callable[[], Any]:
        def run() -> Any:
            as_script(module)
            return run_config(config, fn, items, is_coroutine)
        return run

    # The serial loop's first run sets the per-trial timeout and says whether the work waits.
    first = time_in_child(runner(Config("serial")), SERIAL_TIMEOUT_S)
    if first.seconds is None:
        out["skipped"] = f"the serial loop failed: {first.error}"
        return out
    timeout_s = max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * first.seconds)
    cpu_share = first.cpu_seconds / max(first.seconds, 1e-9)
    waiting = cpu_share < WAITING_CPU_SHARE
    blas = multithreaded_blas_loaded()
    configs = grid(len(items), cpus, waiting, is_coroutine, quick, blas)
    log(f"   {len(items)} items, serial {first.seconds:.3f} s, CPU share {cpu_share:.2f}, "
        f"{len(configs)} grid points")

    # Serial always gets its repeats: advice cost and a "stay serial" regret rest on it.
    entries = [Entry(c.label(), c, runner(c), always_repeat=c.executor == "serial") for c in configs]
    rec = advice.config()
    rec_index = None
    if rec is not None and _timeable(rec, is_coroutine):
        rec_index = len(entries)
        entries.append(Entry(f"recommended {rec.label()}", rec, runner(rec), always_repeat=True))
    defaults = ASYNC_DEFAULTS if is_coroutine else SYNC_DEFAULTS
    default_index = len(entries)
    entries += [Entry(f"default {name}", None, lambda d=default: as_script(module) or d(fn, items))
                for name, default in defaults.items()]

    results = measure_in_rounds(entries, repeats, timeout_s, seeded={0: first})
    for result in results:
        log(f"   {_show(result)}")
    grid_results = results[:len(configs)]
    if rec is not None:
        if rec_index is None:
            timed = Measured(rec.label(), asdict(rec), error=f"{rec.executor} cannot be timed here")
        else:
            timed = results[rec_index]
            timed.label = rec.label()
            _pool_with_grid(rec, timed, grid_results)
        out["recommended"] = asdict(timed)
    serial = grid_results[0]
    out.update(serial_s=serial.median, cpu_share=cpu_share, waiting=waiting, timeout_s=timeout_s)
    out["grid"] = [asdict(m) for m in grid_results]
    out["defaults"] = {name: asdict(m) for name, m in zip(defaults, results[default_index:])}
    finalists = confirmation_entries(entries[:len(configs)], grid_results,
                                     entries[rec_index] if rec_index is not None else None)
    log(f"   confirmation: {len(finalists)} configurations, {CONFIRM_ROUNDS} rounds")
    confirmed = measure_in_rounds(finalists, CONFIRM_ROUNDS, timeout_s)
    for result in confirmed:
        log(f"   {_show(result)}")
    out["confirm"] = [asdict(m) for m in confirmed]
    return out


def confirmation_entries(grid_entries: list[Entry], grid_results: list[Measured],
                         rec: Optional[Entry]) -> list[Entry]:
    """Serial, the grid's fastest few and the recommendation, to time again (see ``confirm``).

    The best of some twenty configurations, each a median of three noisy runs, is biased
    low: the one whose runs happened to be lucky wins, and regret against it overstates
    the advice's distance from the best (the winner's curse). Choosing the finalists on
    the grid's runs and timing them again on fresh ones separates choosing from measuring.
    """
    ranked = sorted((i for i, m in enumerate(grid_results) if i and m.median is not None
                     and not m.timed_out and not m.wrong), key=lambda i: grid_results[i].median)
    fastest = min([grid_results[0].median or math.inf] + [grid_results[i].median for i in ranked])
    chosen = [0] + [i for i in ranked if grid_results[i].median <= CONFIRM_MARGIN * fastest][:CONFIRM_MAX]
    finalists = [replace(grid_entries[i], always_repeat=True) for i in chosen]
    if rec is not None and rec.config is not None and not any(
            _same_key(rec.config) == _same_key(e.config) for e in finalists if e.config):
        finalists.append(rec)
    return finalists


def target_matches(advised: str, hot: str) -> bool:
    """Whether the report's target is the loop's function: ``helpers:score`` is ``score``
    imported from the script's helper module."""
    return advised == hot or advised.rpartition(":")[2] == hot


def _timeable(rec: Config, is_coroutine: bool) -> bool:
    runnable = ("serial", "asyncio") if is_coroutine else ("serial", "threads", "processes")
    return rec.executor in runnable or (rec.executor == "joblib" and HAVE_JOBLIB and not is_coroutine)


def _same_key(c: Config) -> tuple:
    """What makes two configurations the same run (threads ignore start methods, etc.)."""
    if c.executor == "serial":
        return ("serial",)
    if c.executor == "processes":
        return ("processes", c.workers, c.chunksize or 1, c.start_method or "fork", c.blas_threads)
    return (c.executor, c.workers, c.chunksize or 1, c.blas_threads)


def _pool_with_grid(rec: Config, timed: Measured, grid_results: list[Measured]) -> None:
    """When the grid timed the recommended configuration too, pool both sets of runs.

    Otherwise noise alone would make regret > 1 whenever paradvise picked the grid's best
    (best = min over both). The recommendation's own median stays in ``own_median``.
    """
    timed.own_median = timed.median
    for m in grid_results:
        if m.config and _same_key(Config(**m.config)) == _same_key(rec):
            if m.median is not None and timed.median is not None and not (m.timed_out or timed.timed_out):
                pooled = statistics.median(m.runs + timed.runs)
                m.median = timed.median = pooled
                timed.pooled_with_grid = m.pooled_with_grid = True
            return


def _show(m: Measured) -> str:
    if m.median is not None:
        return (f"{m.label:<28} {m.median:8.3f} s  ({len(m.runs)} run{'s' if len(m.runs) > 1 else ''})"
                + ("  wrong: results or module state differ from serial" if m.wrong else ""))
    return f"{m.label:<28} {'-':>8}    {m.error}"


# ---------------------------------------------------------------- scoring and report

def score(row: dict) -> None:
    """Add best, regret and default ratios to a timed row (in place)."""
    if "grid" not in row:
        return
    # The best configuration is the fastest one that gets the serial loop's answer.
    finished = [m for m in row["grid"] if m["median"] is not None and not m.get("wrong")]
    best = min(finished, key=lambda m: m["median"])
    rec = row.get("recommended")
    best_s = best["median"]
    if rec and rec.get("wrong"):
        row["wrong_advice"] = True  # no regret: a wrong answer is not a slower one (see summarize)
    elif rec and rec["median"] is not None:
        best_s = min(best_s, rec["median"])
        row["regret"] = rec["median"] / best_s
    elif rec and rec["timed_out"]:  # the advice hung or crawled: its timeout bounds the regret
        row["regret"], row["regret_lower_bound"] = rec["runs"][0] / best_s, True
    row["best"] = {"label": best["label"], "seconds": best["median"], "overall_seconds": best_s}
    confirmed = None if row.get("wrong_advice") else confirm(row)
    if confirmed:
        row["first_pass_regret"] = row.get("regret")
        row["regret"], row["regret_lower_bound"] = confirmed["regret"], False
        row["best"] = confirmed["best"]
        row["recommended_confirmed_s"] = confirmed["recommended_seconds"]
        best_s = confirmed["best"]["overall_seconds"]
    row["default_ratios"] = {}
    for name, m in row["defaults"].items():
        bound = Measured(**m).lower_bound()
        row["default_ratios"][name] = None if bound is None else {
            "ratio": bound / best_s, "lower_bound": m["median"] is None, "wrong": bool(m.get("wrong"))}
    row["advice_cost"] = row["advice"]["wall_s"] / row["serial_s"]


def confirm(row: dict) -> Optional[dict]:
    """Regret and best from the confirmation rounds, when the recommendation was in them.

    Every finalist was timed in the same fresh rounds, so none was chosen on the runs
    that measure it (see ``confirmation_entries``); the recommendation is the entry with
    its configuration, whether it came from the grid or was added.
    """
    rec = row.get("recommended")
    if not row.get("confirm") or not rec or not rec.get("config"):
        return None
    finished = [m for m in row["confirm"] if m["median"] is not None and not m.get("wrong")]
    rec_key = _same_key(Config(**rec["config"]))
    mine = next((m for m in row["confirm"] if m.get("config") and _same_key(Config(**m["config"])) == rec_key), None)
    if not finished or mine is None or mine["median"] is None or mine.get("wrong"):
        return None
    best = min(finished, key=lambda m: m["median"])
    label = best["label"].removeprefix("recommended ")
    return {"regret": mine["median"] / best["median"], "recommended_seconds": mine["median"],
            "best": {"label": label, "seconds": best["median"], "overall_seconds": best["median"]}}


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def summarize(rows: list[dict], default_names: list[str]) -> list[str]:
    lines = []
    regrets = [(r["regret"], r["workload"]) for r in rows if "regret" in r]
    if regrets:
        worst = max(regrets)
        bounded = [r["workload"] for r in rows if r.get("regret_lower_bound")]
        note = f" (lower bounds: the advice timed out on {', '.join(bounded)})" if bounded else ""
        above = [name for v, name in regrets if v > 1.2]
        lines.append(f"regret: geometric mean {geomean([v for v, _ in regrets]):.2f}, "
                     f"worst {worst[0]:.2f} ({worst[1]}), {len(regrets)} workloads, "
                     f"{len(above)} above 1.2{': ' + ', '.join(above) if above else ''}{note}")
        first = [(r["first_pass_regret"], r["workload"]) for r in rows if r.get("first_pass_regret")]
        if first:
            worst_first = max(first)
            lines.append(f"regret from the grid's own runs, before the confirmation rounds (biased up: the "
                         f"best of many noisy medians is a lucky one): geometric mean "
                         f"{geomean([v for v, _ in first]):.2f}, worst {worst_first[0]:.2f} ({worst_first[1]})")
    for name in default_names:
        ratios = [(r["default_ratios"][name]["ratio"], r["workload"], r["default_ratios"][name]["lower_bound"])
                  for r in rows if r.get("default_ratios", {}).get(name)
                  and not r["default_ratios"][name].get("wrong")]
        wrong = [r["workload"] for r in rows if (r.get("default_ratios", {}).get(name) or {}).get("wrong")]
        if ratios:
            worst = max(ratios)
            bound = " (a lower bound: some runs timed out)" if any(b for _, _, b in ratios) else ""
            wrong_note = f"; wrong answers (not counted) on {', '.join(wrong)}" if wrong else ""
            lines.append(f"default {name}: geometric mean {geomean([v for v, _, _ in ratios]):.2f}, "
                         f"worst {'>' if worst[2] else ''}{worst[0]:.2f} ({worst[1]}){bound}{wrong_note}")
    targeted = [r for r in rows if "target_ok" in r]
    if targeted:
        missed = [r["workload"] for r in targeted if not r["target_ok"]]
        lines.append(f"target is the loop's function in {len(targeted) - len(missed)} of {len(targeted)}"
                     + (f" (not in {', '.join(missed)})" if missed else ""))
    within = [r for r in rows if "regret" in r]
    if within:
        for group in ("real/", ""):
            chosen = [r for r in within if r["workload"].startswith(group)]
            if chosen:
                ok = sum(1 for r in chosen if r["regret"] <= 1.2)
                pool = [r for r in chosen if (r.get("default_ratios", {}).get("Pool()") or {}).get("ratio", 9) <= 1.2]
                lines.append(f"within 1.2x of the best{' (real code)' if group else ' (all)'}: advice {ok} of "
                             f"{len(chosen)}, Pool() {len(pool)} of {len(chosen)}")
    wrong = [r["workload"] for r in rows if r.get("wrong_advice")]
    if wrong:
        lines.append(f"WRONG ADVICE (results or module state differ from the serial loop's) for "
                     f"{len(wrong)}: {', '.join(wrong)}")
    failed = [r["workload"] for r in rows if "advice" in r and r["advice"].get("returncode") != 0]
    if failed:
        lines.append(f"no advice (paradvise failed) for {len(failed)}: {', '.join(failed)}")
    skipped = [r["workload"] for r in rows if r.get("skipped")]
    if skipped:
        lines.append(f"skipped {len(skipped)}: {', '.join(skipped)}")
    # A failed run's wall time is not the price of advice: count successful runs only.
    costs = [r["advice_cost"] for r in rows if "advice_cost" in r and r["advice"]["returncode"] == 0]
    if costs:
        lines.append(f"advice cost (paradvise wall time / serial loop): median {statistics.median(costs):.1f}x, "
                     f"max {max(costs):.1f}x")
    if not HAVE_JOBLIB:
        lines.append("joblib is not installed: its default was not measured")
    return lines


def table(rows: list[dict], default_names: list[str]) -> list[str]:
    head = ["workload", "recommended", "best", "regret", *default_names, "advice cost"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "grid" not in r:
            out.append(f"| {r['workload']} | skipped: {r.get('skipped', '?')} |" + " |" * (len(head) - 2))
            continue
        rec = r.get("recommended")
        rec_s = r.get("recommended_confirmed_s") or (rec or {}).get("median")
        rec_cell = f"no advice: {r['advice']['error']}" if not rec else rec["label"] + (
            f" ({rec_s:.3f} s)" if rec_s is not None else f" ({rec['error']})")
        if rec and rec.get("wrong"):
            rec_cell += " (wrong results)"
        if r.get("target_mismatch"):
            rec_cell += f" [advised on {r['target_mismatch']}(), not {r['hot']}()]"
        if r.get("items_mismatch"):
            rec_cell += f" [{r['items_mismatch']}]"
        best = f"{r['best']['label']} ({r['best']['seconds']:.3f} s)"
        regret = f"{'>' if r.get('regret_lower_bound') else ''}{r['regret']:.2f}" if "regret" in r else "-"
        defaults = []
        for name in default_names:
            d = r["default_ratios"].get(name)
            defaults.append("-" if not d else f"{'>' if d['lower_bound'] else ''}{d['ratio']:.2f}"
                            + (" (wrong)" if d.get("wrong") else ""))
        out.append(f"| {r['workload']} | {rec_cell} | {best} | {regret} | " + " | ".join(defaults)
                   + f" | {r['advice_cost']:.1f}x |")
    return out


def details(rows: list[dict]) -> list[str]:
    """What paradvise measured next to what the grid found, one line per workload."""
    out = []
    for r in rows:
        report = (r.get("advice") or {}).get("report")
        if not report:
            err = (r.get("advice") or {}).get("error")
            out.append(f"- {r['workload']}: no report ({err})")
            continue
        tried = ", ".join(
            f"{_trial_label(t)} {t['seconds']:.3f}s" if t.get("seconds") is not None else f"{_trial_label(t)} failed"
            for t in sorted(report["trials"], key=lambda t: t.get("seconds") or math.inf))
        kind = report["classification"]["kind"]
        best = f"; best {r['best']['label']} {r['best']['seconds']:.3f}s" if "best" in r else ""
        serial = f", serial here {r['serial_s']:.3f}s" if "serial_s" in r else ""
        again = ", ".join(f"{m['label'].removeprefix('recommended ')} {m['median']:.3f}s"
                          for m in sorted(r.get("confirm") or [], key=lambda m: m["median"] or math.inf)
                          if m["median"] is not None)
        again = f"; confirmation rounds: {again}" if again else ""
        out.append(f"- {r['workload']}: {kind}; paradvise tried {tried}{best}{serial}{again}")
    return out


def _trial_label(t: dict) -> str:
    return Config(t["executor"], t["workers"], t.get("chunksize"), t.get("start_method"), t.get("blas_threads")).label()


def write_results(rows: list[dict], summary: list[str], lines: list[str], facts: dict,
                  args: argparse.Namespace, started: datetime.datetime, elapsed: float) -> Path:
    RESULTS.mkdir(exist_ok=True)
    host = socket.gethostname() or f"{os.cpu_count()}cpu"
    stem = f"{host}-{os.cpu_count()}cpu-{started:%Y-%m-%d-%H%M}{'-quick' if args.quick else ''}"
    md = RESULTS / f"{stem}.md"
    caches = facts.get("caches", {})
    md.write_text("\n".join([
        f"# paradvise benchmark, {started.isoformat(timespec='seconds')}",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}` — took {elapsed / 60:.1f} min; "
        f"every workload ran with {args.scale}x its items (its first argument).",
        f"Machine: {facts.get('cpu_model', platform.processor())}, {facts.get('logical_cpus')} logical / "
        f"{facts.get('physical_cores')} physical / {facts.get('usable_cpus')} usable CPUs, "
        f"L2 {caches.get('l2_bytes')} B, L3 {caches.get('l3_bytes')} B, "
        f"Python {platform.python_version()}, {platform.platform()}.",
        "",
        "Regret = time(recommended) / time(best). The grid's fastest configurations (within "
        f"{CONFIRM_MARGIN}x of its best median, at most {CONFIRM_MAX}), serial and the "
        f"recommendation are timed again in {CONFIRM_ROUNDS} fresh rounds side by side, and "
        "regret, best and the times shown come from those rounds: the best of the grid's own "
        "medians is biased low by picking the luckiest of many (the summary gives that figure "
        "too). Defaults are the ratio of their time to that best (`>`: timed out, a lower "
        "bound); advice cost = paradvise's wall time / the serial loop's time. Only "
        "configurations whose results and module state match the serial loop's can be the "
        "best; `(wrong)` marks a default that did not.",
        "",
        *lines,
        "",
        "## Summary",
        "",
        *[f"- {s}" for s in summary],
        "",
        "## What paradvise measured",
        "",
        *details(rows),
        "",
    ]))
    md.with_suffix(".json").write_text(json.dumps({
        "timestamp": started.isoformat(timespec="seconds"), "elapsed_s": elapsed,
        "argv": sys.argv, "quick": args.quick, "repeats": args.repeats, "scale": args.scale,
        "machine": facts, "summary": summary, "rows": rows,
    }, indent=1, default=str))
    return md


def bench_in_subprocess(workload: Workload, cpus: int, args: argparse.Namespace) -> dict:
    """Bench one workload in a fresh interpreter, as its script would run.

    A process that has already run other workloads has a different heap (allocator
    thresholds, arenas) and different imports, and that alone changed timings up to 5x.
    """
    with tempfile.TemporaryDirectory(prefix="paradvise-bench-") as tmp:
        out = Path(tmp) / "row.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", workload.name, "--row", str(out),
               "--cpus", str(cpus), "--repeats", str(args.repeats), "--scale", str(args.scale)] + (
                   ["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, cwd=ROOT)
        if out.exists():
            return json.loads(out.read_text())
        return {"workload": workload.name, "skipped": f"the bench process exited with status {proc.returncode}"}


def bench_one(args: argparse.Namespace) -> int:
    """The --one mode: bench one workload in this (fresh) process and write its row."""
    workload = next(w for w in discover(None) if w.name == args.one)
    try:
        row = bench_workload(workload, args.cpus, args.repeats, args.quick, args.scale)
    except Exception:  # noqa: BLE001 - reported in the table, not raised
        row = {"workload": workload.name, "skipped": traceback.format_exc().strip().splitlines()[-1]}
        log(f"   failed: {row['skipped']}")
    Path(args.row).write_text(json.dumps(row, default=str))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run only workloads whose name contains this (comma-separated: any of these)")
    parser.add_argument("--repeats", type=int, help="timings per configuration (median kept); default 3, 1 with --quick")
    parser.add_argument("--quick", action="store_true", help="fewer grid points (and 1 repeat unless --repeats)")
    parser.add_argument("--time-limit", type=float, metavar="MIN",
                        help="start no workload that would likely end past MIN minutes (at the mean time per "
                             "workload so far); the rest are listed as not run. For a machine lent for minutes")
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE,
                        help=f"run each workload with SCALE times its items (its first argument; default "
                             f"{DEFAULT_SCALE}, for serial loops of about 1-2 s; 1 is the samples' own size)")
    # Internal: bench one workload in a fresh process (see bench_in_subprocess).
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--cpus", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.one:
        return bench_one(args)
    started, clock = datetime.datetime.now().astimezone(), time.perf_counter()
    workloads = discover(args.only)
    if not workloads:
        parser.error(f"no workload matches {args.only!r}")
    facts = machine_facts()
    cpus = facts.get("usable_cpus") or os.cpu_count() or 1
    rows = []
    for workload in workloads:
        elapsed = time.perf_counter() - clock
        benched = sum(1 for r in rows if not str(r.get("skipped", "")).startswith("not run"))
        per_workload = elapsed / benched if benched else 0.0
        if args.time_limit and elapsed + per_workload > 60 * args.time_limit:
            rows.append({"workload": workload.name, "skipped": f"not run: --time-limit {args.time_limit:g} min"})
            continue
        row = bench_in_subprocess(workload, cpus, args)
        score(row)
        rows.append(row)
    sync_names = list(SYNC_DEFAULTS) if any(not r.get("is_coroutine", True) for r in rows) else []
    async_names = list(ASYNC_DEFAULTS) if any(r.get("is_coroutine") for r in rows) else []
    default_names = sync_names + async_names
    lines = table(rows, default_names)
    summary = summarize(rows, default_names)
    print("\n".join(lines + [""] + summary))
    path = write_results(rows, summary, lines, facts, args, started, time.perf_counter() - clock)
    print(f"\nwritten: {path.relative_to(ROOT)} and {path.with_suffix('.json').name} "
          f"({(time.perf_counter() - clock) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
