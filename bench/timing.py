"""Timing in a forked child, in rounds side by side, with each run's results and module state
digested so that a configuration giving another answer is never "the best"."""
from __future__ import annotations

import hashlib
import json
import os
import select
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

from configs import Config
from settings import HOPELESS_FACTOR, log

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
