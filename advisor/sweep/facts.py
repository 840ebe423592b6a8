"""What the probes found before the trials (``Facts``), and the planner's view of the loop from it.

The sweep (``runner.Sweep``) builds its plan from ``Facts.workload``: the recorded
durations, the probed overheads and the usable CPUs, in the units of the serial trial.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Optional

from ..analyse import space
from ..analyse.classify import GIL_FREE_SPEEDUP, WAITING_CPU_RATIO
from .subject import Subject

if TYPE_CHECKING:
    from .runner import SweepOptions


def scaled_walls(walls: list[float], serial_s: float) -> tuple[float, ...]:
    """Per-item durations from the real calls, scaled to the serial trial's total.

    The recorder's clocks add a little to each real call; the serial trial does not.
    """
    total = sum(walls)
    if not walls or total <= 0:
        return ()
    return tuple(w * serial_s / total for w in walls)


def loop_walls_like(subject: Subject, loop_walls: tuple[float, ...], serial_s: float) -> tuple[float, ...]:
    """The whole loop's recorded durations in the units of ``scaled_walls`` (the serial trial's
    clock), when the trials map a subset of it and every one of its calls was recorded."""
    measured = sum(subject.walls)
    if len(loop_walls) != subject.total_items or len(subject.items) >= len(loop_walls) or measured <= 0:
        return ()
    return tuple(w * serial_s / measured for w in loop_walls)


@dataclass(frozen=True)
class Facts:
    """What the probes found before the trials; it shapes the plan."""

    cpu_ratio: float
    gil: Optional[dict[str, float]]
    overheads: dict[str, float]
    blas: dict[str, Any] = field(default_factory=dict)  # see probes.blas_pool
    item_bytes: int = 0  # median pickled size of one item's arguments

    def workload(self, subject: Subject, serial_s: float, options: SweepOptions,
                 loop_walls: tuple[float, ...] = ()) -> space.Workload:
        n = len(subject.items)
        speedup = (self.gil or {}).get("speedup", 1.0)
        return space.Workload(
            items=n, per_call_s=serial_s / max(n, 1), serial_s=serial_s,
            usable_cpus=options.usable_cpus, waiting=self.cpu_ratio < WAITING_CPU_RATIO,
            gil_free=speedup >= GIL_FREE_SPEEDUP, is_coroutine=subject.is_coroutine,
            in_event_loop=subject.in_event_loop,
            process_start_s=self.overheads.get("process_start_s", 0.05),
            process_task_s=self.overheads.get("process_task_s", 1e-4),
            thread_task_s=self.overheads.get("thread_task_s", 2e-5),
            dask_workers=options.dask_workers if options.dask else 0,
            walls=scaled_walls(subject.walls, serial_s), item_bytes=self.item_bytes, l2_bytes=options.l2_bytes,
            what_if_cpus=options.what_if_cpus, total_items=subject.total_items,
            loop_walls=loop_walls_like(subject, loop_walls, serial_s))
