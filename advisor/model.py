"""The plain data that flows from measurement to presentation.

Everything here is a frozen dataclass with ``to_json`` / ``from_json``. The JSON
layout is the public contract (../shared/CONTRACT.md, schema_version 1): renaming or
removing a field there needs SCHEMA_VERSION bumped; adding fields does not.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Optional

from .present.advice_words import config_label

SCHEMA_VERSION = 1

CLASSIFICATION_KINDS = ("cpu-bound", "gil-releasing", "io-bound", "memory-bound", "overhead-bound")
CACHE_LEVELS = ("L1d", "L2", "L3", "RAM")


def _to_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _to_plain(v) for k, v in value.items()}
    return value


def _from_plain(tp: Any, value: Any) -> Any:
    """Rebuild a value of annotated type ``tp`` from parsed JSON (tolerates extra keys)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _from_plain(inner[0], value)
    if origin in (list, tuple):
        (inner,) = typing.get_args(tp)[:1]
        items = [_from_plain(inner, v) for v in value]
        return tuple(items) if origin is tuple else items
    if dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        known = {f.name for f in dataclasses.fields(tp)}
        return tp(**{k: _from_plain(hints[k], v) for k, v in value.items() if k in known})  # type: ignore[operator]
    return value


class _JsonMixin:
    def to_json(self) -> dict[str, Any]:
        return _to_plain(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Any:
        return _from_plain(cls, data)


@dataclass(frozen=True)
class Caches(_JsonMixin):
    """Per-core cache sizes; ``*_shared_by`` is how many logical CPUs share one instance."""

    l1d_bytes: int
    l2_bytes: int
    l3_bytes: int
    l1d_shared_by: int = 1
    l2_shared_by: int = 1
    l3_shared_by: int = 1
    line_bytes: int = 64
    source: str = "sysfs"


@dataclass(frozen=True)
class PythonInfo(_JsonMixin):
    version: str
    implementation: str
    gil_enabled: bool
    free_threaded_build: bool
    executable: str = ""


@dataclass(frozen=True)
class Machine(_JsonMixin):
    logical_cpus: int
    physical_cores: int
    usable_cpus: int
    usable_cpus_reason: str
    caches: Caches
    memory_bytes: int
    cpu_model: str
    python: PythonInfo
    start_methods: list[str]
    default_start_method: str = ""
    thread_pools: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Target(_JsonMixin):
    name: str
    file: str
    line: int
    calls: int
    per_call_seconds: float
    is_coroutine: bool
    located_by: str = "scalene"
    # Share of the script's run time spent in the function, and scalene's split of it.
    profile: dict[str, float] = field(default_factory=dict)
    per_call_spread_seconds: float = 0.0
    script_seconds: float = 0.0
    call_site: str = ""  # "file:line" of the loop that calls the target
    candidates: list[dict[str, Any]] = field(default_factory=list)  # {name, share, calls}: what locate weighed
    kind: str = "def"  # script.FunctionDef.kind: def, nested, lambda, method
    is_generator: bool = False  # its calls are consumed: the loop's unit is list(target(x))
    # The pool the script maps it with, as written: {executor, workers, chunksize, method, items, seconds, site}.
    user_pool: Optional[dict[str, Any]] = None
    # The loop's body made a function and measured in place of the function it calls, whose
    # result it drops (measure/loop_body.LoopBody: name, calls, loop_line, scope, nested).
    loop_body: Optional[dict[str, Any]] = None


@dataclass(frozen=True)
class Classification(_JsonMixin):
    kind: str
    evidence: dict[str, Any]
    explanation: str = ""


@dataclass(frozen=True)
class DataProfile(_JsonMixin):
    arg_bytes: int
    result_bytes: int
    working_set_bytes: int
    fits_in: str
    items: int = 0
    items_measured: int = 0
    # "loop start": trials forked from the process as it was at the first call (see
    # loop_fork.py); "last call": from the process at the loop's last call.
    measured_from: str = "last call"
    # How the loop calls the target: "single" f(x), or "star" f(*args, **kwargs) (items
    # are argument tuples); the code and the rewrite map it the same way.
    call_style: str = "single"


@dataclass(frozen=True)
class Trial(_JsonMixin):
    executor: str
    workers: int
    chunksize: Optional[int]
    start_method: Optional[str]
    seconds: Optional[float]
    speedup: Optional[float]
    ok: bool
    error: Optional[str] = None
    repeats: list[float] = field(default_factory=list)
    spread: float = 0.0  # median absolute deviation of ``repeats``, in seconds
    results_match: Optional[bool] = None
    blas_threads: Optional[int] = None  # native BLAS pools limited to this many threads; None: as found
    # When trials ran on a subset of the items: the part of ``seconds`` that does not grow
    # with the items (pool start-up, the first hand-over, the last stragglers), measured
    # from a second size, and the time projected from both for all the items.
    fixed_seconds: Optional[float] = None
    projected_seconds: Optional[float] = None
    # On a subset, not projected: whole loop / subset for this configuration, from the
    # recorded durations of every call (analyse/workload.loop_factor), a pool's once-per-map
    # part counted once (measure/target.once_per_map_s); None: by call count.
    loop_factor: Optional[float] = None

    @property
    def label(self) -> str:
        return config_label(self.executor, self.workers, self.chunksize, self.start_method, self.blas_threads)


@dataclass(frozen=True)
class Recommendation(_JsonMixin):
    executor: str
    workers: int
    chunksize: Optional[int]
    start_method: Optional[str]
    expected_speedup: float
    reason: str
    runner_up: Optional[str] = None
    blas_threads: Optional[int] = None  # limit BLAS to this many threads per worker (threadpoolctl)


@dataclass(frozen=True)
class Warning(_JsonMixin):  # noqa: A001 - the contract calls these "warnings"
    code: str
    message: str


@dataclass(frozen=True)
class Report(_JsonMixin):
    schema_version: int
    tool: dict[str, str]
    machine: Machine
    target: Target
    classification: Classification
    data: DataProfile
    trials: list[Trial]
    recommendation: Recommendation
    warnings: list[Warning]
    code: str
    script: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    # This machine's measured costs: pool start-up per start method, per-task dispatch,
    # pickling throughput (seconds, bytes per second).
    overheads: dict[str, float] = field(default_factory=dict)
    # Per executor: Amdahl and USL fits of speedup against workers, predictions, hold-out error.
    scaling: dict[str, Any] = field(default_factory=dict)
    # Per trial (same order as ``trials``): modelled seconds of start-up, dispatch,
    # transfer, compute and imbalance; None for failed trials.
    breakdown: list[Optional[dict[str, float]]] = field(default_factory=list)
    # With --dask: the scheduler, start-up and per-task overhead measured on the Dask trials,
    # and the projected cluster size for --target-seconds (analyse/dask_projection.py).
    dask: dict[str, Any] = field(default_factory=dict)
    # With --verify: the original and the rewritten script timed end to end (verify.py):
    # original_seconds, emitted_seconds, rounds, realized_speedup, predicted_speedup, same_output.
    verification: dict[str, Any] = field(default_factory=dict)
    # With --cpus N: the advice predicted for a machine with N usable CPUs (analyse/what_if.py).
    what_if: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Report":
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ValueError(f"report has schema_version {version!r}; this paradvise reads {SCHEMA_VERSION}")
        return _from_plain(cls, data)


@dataclass(frozen=True)
class Measurement(_JsonMixin):
    """What the host process measured, before any analysis (plain numbers only)."""

    items: int
    items_measured: int
    call_style: str  # "single": f(x); "star": f(*args, **kwargs)
    per_call: dict[str, float]  # median, mean, p10, p90, mad, total (seconds, from the real calls)
    cpu_ratio: float  # process CPU time / wall time during the real calls
    thread_cpu_ratio: float  # calling thread's CPU time / wall time
    gil_probe: Optional[dict[str, float]]  # threads, sequential_s, parallel_s, speedup
    arg_bytes: int
    result_bytes: int
    peak_alloc_bytes: int
    working_set_bytes: int
    overheads: dict[str, float]  # measured pool start-up and per-task dispatch costs
    trials: list[Trial]
    warnings: list[Warning]
    exclusions: dict[str, str]  # executor -> why it must not be recommended
    errors: int = 0  # recorded calls that raised
    late: bool = False  # True when the sweep ran after the script's loop had ended
    measured_from: str = "last call"  # or "loop start" (see DataProfile)
    # The BLAS the script had loaded: {"internal_api", "num_threads"}; {} if none (probes.blas_pool).
    blas: dict[str, Any] = field(default_factory=dict)
    sweep_seconds: float = 0.0
    budget_s: float = 0.0  # what the sweep was allowed (0: not said)
    # With --dask: {"scheduler": "local" or an address, "runs": per Dask trial its
    # workers, chunksize, median seconds and phase times (startup_s, map_s)}.
    dask: dict[str, Any] = field(default_factory=dict)
    # The measured items' recorded durations in loop order (at most ITEM_SAMPLE of them,
    # evenly spaced): the what-if (analyse/what_if.py) hands them out to simulated workers.
    item_seconds: list[float] = field(default_factory=list)
    # The script's other threads alive when the loop began; the trials ran without them.
    other_threads: list[str] = field(default_factory=list)
    # The calls' CPU time split into python / native / system percent, sampled while they
    # were recorded (measure/cpu_split.py); {} where it was not.
    cpu_split: dict[str, float] = field(default_factory=dict)

    @property
    def typical_call_seconds(self) -> float:
        """Mean time of one call in the serial trial (no recording overhead), else the recorded median."""
        return self.per_call.get("serial_mean") or self.per_call["median"]
