"""What the parent and the measuring child say to each other: typed, frozen, JSON on disk.

The parent (``pipeline``, ``locate``) writes a ``RunSpec``; the child
(``measuring_child``) reads it, runs the script as it says and writes a ``RunResult``. One
type for each means a field is named once, with its type and its default, rather
than as a string key in each of the places that read or write it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..model import Measurement, _JsonMixin


@dataclass(frozen=True)
class RunSpec(_JsonMixin):
    """One run of the user's script in a measuring child."""

    mode: str  # "count": count every function's calls; "capture": record the target's and measure
    script: str
    argv: list[str]
    out: str = ""  # where the child writes its result (set by child_process.run_host)
    wanted: Optional[str] = None  # --function, when given
    python: str = ""  # count under scalene: the interpreter the script's own child Pythons run
    # capture only:
    function: str = ""
    is_coroutine: bool = False
    expected_calls: int = 0
    budget_s: float = 0.0
    # No --budget: the child sets the budget again from the loop it records (at most budget_s;
    # see sweep/allowance.recorded_budget).
    budget_from_loop: bool = False
    timeout_s: float = 0.0
    usable_cpus: int = 1
    executors: list[str] = field(default_factory=list)
    start_method: str = "fork"
    l2_bytes: int = 0
    folders: list[str] = field(default_factory=list)
    progress: Optional[str] = None  # a JSONL file the child appends progress events to
    main_guard: bool = True
    dask: Optional[str] = None
    dask_workers: int = 0
    sample_every: int = 1
    user_pool: Optional[dict[str, Any]] = None
    what_if_cpus: int = 0
    # loop_body.LoopBody each: make these loops' bodies functions (the capture: the one measured)
    loop_bodies: list[dict[str, Any]] = field(default_factory=list)
    # count only: speculate.Guess, the loop to record as well (the capture fields above
    # then say how to measure it)
    speculate: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class RunResult(_JsonMixin):
    """What a measuring child wrote back at its end (all defaults: it wrote nothing)."""

    script_error: Optional[str] = None  # the user's script raised: its message
    host_error: Optional[str] = None  # paradvise itself failed in the child: the traceback
    wall_s: Optional[float] = None  # the script's whole run, as the child timed it
    # count mode: each function's calls and times (see measuring_child.mode_count)
    functions: Optional[dict[str, dict[str, Any]]] = None
    import_s: float = 0.0
    counting_s: float = 0.0  # what the counters added to the run
    user_pools: list[dict[str, Any]] = field(default_factory=list)
    # capture mode
    measurement: Optional[Measurement] = None
    calls: int = 0  # calls of the target the script made (count mode: of the guess, when measured)
