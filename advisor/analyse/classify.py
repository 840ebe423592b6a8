"""Why is the target slow? A verdict from measured numbers (pure functions)."""
from __future__ import annotations

from typing import Any, Optional

from ..model import Caches, Classification, Measurement
from ..units import human_seconds as _us

# Process CPU time below half the wall time means the calls mostly wait (I/O, sleep, locks).
WAITING_CPU_RATIO = 0.5
# Two threads finishing the same calls at least 1.4x faster than one thread means the
# calls release the GIL (ideal is 2.0; 1.4 leaves room for noise and shared caches).
GIL_FREE_SPEEDUP = 1.4
# A call cheaper than twice the cost of handing one task to a worker process is
# dominated by that hand-over: parallelism only helps with large chunks, if at all.
OVERHEAD_FACTOR = 2.0
# Native code (C, numpy, hashlib) is at least half of the function's profiled time.
NATIVE_SHARE = 0.5


def fits_in(working_set: int, caches: Caches) -> str:
    """The smallest cache level that holds ``working_set`` bytes for one core."""
    if working_set <= caches.l1d_bytes:
        return "L1d"
    if working_set <= caches.l2_bytes:
        return "L2"
    if working_set <= caches.l3_bytes:
        return "L3"
    return "RAM"


def native_share(profile: dict[str, float]) -> Optional[float]:
    python, native = profile.get("python_percent"), profile.get("native_percent")
    if python is None or native is None or python + native <= 0:
        return None
    return native / (python + native)


def classify(m: Measurement, caches: Caches, profile: dict[str, float]) -> Classification:
    per_call = m.typical_call_seconds
    task_cost = m.overheads.get("process_task_s", 0.0)
    gil_speedup = (m.gil_probe or {}).get("speedup")
    # The sweep's own thread trials are more data than the short probe: when a thread pool
    # measured clearly faster than serial, the calls do not hold the GIL, whatever the probe said.
    # No more than its worker count, though: n threads cannot do the same work more than n
    # times as fast as one, so a larger figure (a cache warmed by serial's run) is not evidence.
    swept = max((min(t.speedup or 0.0, float(t.workers)) for t in m.trials if t.executor == "threads" and t.ok),
                default=0.0)
    if swept >= GIL_FREE_SPEEDUP and (gil_speedup is None or swept > gil_speedup):
        gil_speedup = swept
    share = native_share(profile)
    level = fits_in(m.working_set_bytes, caches)
    evidence: dict[str, Any] = {
        "per_call_seconds": per_call,
        "cpu_time_over_wall_time": round(m.cpu_ratio, 3),
        "two_thread_speedup": gil_speedup,
        "process_task_overhead_seconds": task_cost or None,
        "native_share": None if share is None else round(share, 3),
        "working_set_bytes": m.working_set_bytes,
        "fits_in": level,
    }
    kind, why = _verdict(m, per_call, task_cost, gil_speedup, share, level)
    return Classification(kind=kind, evidence=evidence, explanation=why)


def _verdict(m: Measurement, per_call: float, task_cost: float, gil_speedup: Optional[float],
             share: Optional[float], level: str) -> tuple[str, str]:
    if m.cpu_ratio < WAITING_CPU_RATIO:
        return "io-bound", (
            f"the calls use the CPU for only {m.cpu_ratio:.0%} of their wall time; the rest is waiting"
        )
    if task_cost and per_call < OVERHEAD_FACTOR * task_cost:
        return "overhead-bound", (
            f"each call takes {_us(per_call)}, while handing one task to a worker process "
            f"costs {_us(task_cost)} on this machine"
        )
    threads_help = gil_speedup is not None and gil_speedup >= GIL_FREE_SPEEDUP
    if level in ("L3", "RAM") and (share or 0) >= NATIVE_SHARE and not threads_help:
        return "memory-bound", (
            f"native code streams a {level}-sized working set and two threads ran only "
            f"{gil_speedup or 1:.2f}x faster than one: memory bandwidth, not the GIL, limits it"
        )
    if threads_help:
        return "gil-releasing", (
            f"threads ran the calls {gil_speedup:.2f}x as fast as one thread: the work releases the GIL"
        )
    bound = (m.gil_probe or {}).get("bound")
    if gil_speedup:
        probe = f"two threads ran them {gil_speedup:.2f}x as fast as one"
    elif bound:
        held = (m.gil_probe or {}).get("gil_held_share", 0.0)
        probe = (f"Python bytecode, which holds the GIL, ran {held:.0%} of their time, so two threads could "
                 f"run them at most {bound:.2f}x as fast as one")
    else:
        probe = "no thread probe"
    return "cpu-bound", (f"the calls keep a CPU busy {m.cpu_ratio:.0%} of the time and {probe}: "
                         "the GIL serializes threads")
