"""The sweep: measure serial and parallel configurations on the recorded calls.

Runs inside the host process, at the target's last real call, so the script's own
environment is alive. Every measurement runs in a forked child (``isolate``); the
parent only plans, keeps time and compares results.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import statistics
import time
import types
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..analyse import space
from ..analyse.classify import GIL_FREE_SPEEDUP, WAITING_CPU_RATIO
from ..capture import Call
from ..model import Trial, Warning
from .. import state
from . import backends, items as items_mod, probes
from .isolate import Outcome, run_isolated

# Repeat each configuration this many times and keep the median (fewer when the budget is short).
REPEATS = 3
# Quick trials get more repeats: short timings are noisier.
QUICK_TRIAL_S = 0.05
QUICK_REPEATS = 5
# One serial pass may use at most this share of the budget; longer loops are measured on
# an evenly spaced subset of the items so that every configuration gets its repeats.
# Serial runs three times or more (repeats, then the closing side-by-side run), and each
# parallel configuration a fraction of that, so a fourteenth leaves most of the budget to them.
SERIAL_BUDGET_SHARE = 0.07
# Work that waits is measured on more of its items: a subset caps how many can be in
# flight at once, and for waiting work the best worker count grows with that number.
WAITING_SERIAL_BUDGET_SHARE = 0.35
MIN_SUBSET = 8
# A first timing this many times the best so far is not repeated: noise of that size
# would make every measurement meaningless.
CLEARLY_SLOWER = 1.5
# Predicted trial times are rough: skip a configuration only when its prediction times
# this margin does not fit the remaining budget.
PREDICTION_MARGIN = 1.5


@dataclass(frozen=True)
class SweepOptions:
    budget_s: float
    trial_timeout_s: float
    executors: list[str]
    usable_cpus: int
    start_method: str = "fork"
    folders: list[str] = field(default_factory=list)
    # Start methods to time; spawn and forkserver re-import the script in each worker,
    # so they are tried on the best process configuration only when it has a main guard.
    start_methods: tuple[str, ...] = ("fork", "forkserver", "spawn")
    main_guard: bool = True
    # "local" (a fresh LocalCluster per trial) or a scheduler address; None: no Dask trials.
    dask: Optional[str] = None
    # Workers the Dask trials use: the usable CPUs for a local cluster, the existing
    # cluster's threads for a scheduler address.
    dask_workers: int = 0
    # Time the best thread and process configurations again with BLAS on one thread, when
    # the script has a multithreaded BLAS loaded (see Sweep.blas_variants).
    blas_variants: bool = True
    l2_bytes: int = 0  # per-core L2, to cap chunk sizes for large items (0: unknown)


@dataclass
class Subject:
    """The target as the sweep sees it: where it lives and what to map it over."""

    module: types.ModuleType
    name: str
    original: Callable[..., Any]
    is_coroutine: bool
    style: str
    items: list[Any]
    catch: bool
    restore: dict[str, bytes] = field(default_factory=dict)  # globals as they were at loop start
    recorded: Optional[list[Any]] = None  # what the real calls returned, when it could be kept
    walls: list[float] = field(default_factory=list)  # recorded wall time of each item's real call
    in_event_loop: bool = False  # a plain function the script called from inside an event loop

    def prepare_child(self) -> Callable[[Any], Any]:
        """In a trial child: put the loop-start state back and return the function to map."""
        for name, blob in self.restore.items():
            self.module.__dict__[name] = pickle.loads(blob)
        # Bind the unwrapped function under its own name so pools pickle it by reference
        # (a nested function, "main.score", has no module-level name to bind).
        if self.name.isidentifier():
            setattr(self.module, self.name, self.original)
        if self.is_coroutine or self.in_event_loop:
            asyncio.events._set_running_loop(None)  # the script's loop belongs to the parent
        return items_mod.mappable(self.original, self.style, self.is_coroutine, self.catch)


class Clock:
    def __init__(self, budget_s: float) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + budget_s

    def left(self) -> float:
        return self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def per_call_stats(calls: list[Call]) -> dict[str, float]:
    walls = sorted(c.wall for c in calls)
    median = statistics.median(walls)
    return {
        "median": median,
        "mean": statistics.fmean(walls),
        "p10": walls[int(0.1 * (len(walls) - 1))],
        "p90": walls[int(0.9 * (len(walls) - 1))],
        "max": walls[-1],
        "mad": statistics.median(abs(w - median) for w in walls),
        "total": sum(walls),
    }


def subset_indices(n: int, serial_s: float, budget_s: float, waiting: bool = False) -> list[int]:
    """Evenly spaced items so that one serial pass fits its share of the budget."""
    allowed = (WAITING_SERIAL_BUDGET_SHARE if waiting else SERIAL_BUDGET_SHARE) * budget_s
    if serial_s <= allowed or n <= MIN_SUBSET:
        return list(range(n))
    keep = max(MIN_SUBSET, int(n * allowed / serial_s))
    step = n / keep
    return sorted({int(i * step) for i in range(keep)})


def repeats_for(estimate_s: float, left_s: float, configs_left: int) -> int:
    reps = QUICK_REPEATS if estimate_s < QUICK_TRIAL_S else REPEATS
    while reps > 1 and estimate_s * reps * max(1, configs_left) > left_s:
        reps -= 1
    return reps


def _pickled_or_none(value: Any) -> Optional[bytes]:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - unpicklable arguments: mutation cannot be checked
        return None


def mad(values: list[float]) -> float:
    if len(values) < 2:
        return 0.0
    median = statistics.median(values)
    return statistics.median(abs(v - median) for v in values)


class Sweep:
    def __init__(self, subject: Subject, calls: list[Call], options: SweepOptions,
                 clock: Optional["Clock"] = None) -> None:
        self.subject, self.calls, self.options = subject, calls, options
        self.warnings: list[Warning] = []
        self.exclusions: dict[str, str] = {}
        self.trials: list[Trial] = []
        self.reference: Optional[list[Any]] = None
        # Found by the first serial run, where only the target runs (so it is to blame).
        self.mutated_globals: list[str] = []
        self.mutated_args = False
        self.nondeterministic = False
        self.results_unpicklable: Optional[str] = None  # results could not be compared across processes
        # Per Dask trial: its configuration and median phase times (see backends.DASK_PHASES).
        self.dask_runs: list[dict[str, Any]] = []
        self.clock = clock or Clock(options.budget_s)

    # -- one configuration ---------------------------------------------------------
    def _body(self, config: space.Config, first: bool, inspect_state: bool) -> Callable[[], dict[str, Any]]:
        subject, options = self.subject, self.options

        def body() -> dict[str, Any]:
            fn = subject.prepare_child()
            run = backends.backend_for(config.executor, subject.is_coroutine, options.dask)
            if inspect_state:
                before_globals = state.globals_digest(subject.module.__dict__)
                before_files = probes.folder_listing(options.folders)
                before_items = _pickled_or_none(subject.items)
            with backends.blas_limit(config.blas_threads):
                seconds, results = backends.timed(
                    lambda: run(fn, subject.items, config.workers, config.chunksize, config.start_method))
            out: dict[str, Any] = {"seconds": seconds, "results": results if first else None,
                                   "phases": dict(backends.DASK_PHASES)}
            if inspect_state:
                out["globals"] = state.changed_globals(before_globals, state.globals_digest(subject.module.__dict__))
                out["files"] = probes.changed_files(before_files, probes.folder_listing(options.folders))
                out["args_changed"] = before_items is not None and state.arguments_changed(
                    subject.items, before_items)
            return out

        return body

    def measure(self, config: space.Config, estimate_s: float, configs_left: int) -> Trial:
        reps = repeats_for(estimate_s, self.clock.left(), configs_left)
        seconds: list[float] = []
        phases: list[dict[str, float]] = []
        results_match: Optional[bool] = None
        for rep in range(reps):
            first = rep == 0
            inspect = first and config.executor == "serial"
            outcome = run_isolated(self._body(config, first, inspect), self.options.trial_timeout_s)
            if not outcome.ok:
                return self._failed(config, outcome, seconds)
            value = outcome.value
            seconds.append(value["seconds"])
            phases.append(value.get("phases") or {})
            if first:
                results_match = self._check(config, value)
                if self._clearly_slower(value["seconds"]):
                    break  # repeats cannot make it a contender; spend the budget elsewhere
        median = statistics.median(seconds)
        if config.executor == "dask":
            self._note_dask_run(config, seconds, phases)
        return Trial(config.executor, config.workers, config.chunksize, config.start_method,
                     median, None, True, None, seconds, mad(seconds), results_match, config.blas_threads)

    def _note_dask_run(self, config: space.Config, seconds: list[float], phases: list[dict[str, float]]) -> None:
        run: dict[str, Any] = {"workers": config.workers, "chunksize": config.chunksize,
                               "seconds": statistics.median(seconds)}
        for phase in ("startup_s", "map_s", "compute_s"):
            values = [p[phase] for p in phases if phase in p]
            if values:
                run[phase] = statistics.median(values)
        self.dask_runs.append(run)

    def _clearly_slower(self, seconds: float) -> bool:
        best = min((t.seconds for t in self.trials if t.ok and t.seconds), default=None)
        return best is not None and seconds > CLEARLY_SLOWER * best

    def _failed(self, config: space.Config, outcome: Outcome, seconds: list[float]) -> Trial:
        error = (outcome.error or "failed").splitlines()[0]
        return Trial(config.executor, config.workers, config.chunksize, config.start_method,
                     None, None, False, error, seconds, blas_threads=config.blas_threads)

    def _check(self, config: space.Config, value: dict[str, Any]) -> Optional[bool]:
        results = value["results"]
        if value.get("results_error"):
            self.results_unpicklable = value["results_error"]
        if config.executor == "serial":
            self.reference = results
            self._note_side_effects(value)
            self.mutated_globals = value.get("globals", [])
            self.mutated_args = bool(value.get("args_changed"))
            recorded = self.subject.recorded
            if recorded is not None and results is not None and items_mod.count_differences(recorded, results):
                self.nondeterministic = True
            return True
        if self.reference is None or self.nondeterministic or results is None:
            return None
        return items_mod.count_differences(self.reference, results) == 0

    def _note_side_effects(self, value: dict[str, Any]) -> None:
        if value.get("files"):
            shown = ", ".join(value["files"][:3])
            self.warnings.append(Warning("side-effect-io", (
                f"Replaying the target changed files ({shown}); paradvise runs it many times, "
                "so such writes repeat in every trial.")))

    # -- the whole sweep -------------------------------------------------------------
    def run(self, facts: "Facts", on_trial: Callable[[Trial], None]) -> list[Trial]:
        serial_estimate = sum(c.wall for c in self.calls) * len(self.subject.items) / max(1, len(self.calls))
        serial = self.measure(space.Config("serial", 1), serial_estimate, 4)
        self.trials.append(serial)
        on_trial(serial)
        if not serial.ok or serial.seconds is None:
            return self.trials
        load = facts.workload(self.subject, serial.seconds, self.options)
        planned = space.plan(load, self.options.executors, self.options.start_method)
        for index, config in enumerate(planned):
            estimate = space.predict_seconds(load, config)
            if estimate * PREDICTION_MARGIN > self.clock.left():
                continue
            trial = self.measure(config, estimate, len(planned) - index)
            self.trials.append(trial)
            on_trial(trial)
        for config in self.refinements(load):
            estimate = self.best_seconds_of(config.executor) or space.predict_seconds(load, config)
            if estimate * PREDICTION_MARGIN <= self.clock.left():
                trial = self.measure(config, estimate, 1)
                self.trials.append(trial)
                on_trial(trial)
        for config in self.other_start_methods():
            estimate = (self.best_process_seconds() or 0.0) + facts.overheads.get(f"start_{config.start_method}_s", 0.5)
            if estimate * PREDICTION_MARGIN <= self.clock.left():
                trial = self.measure(config, estimate, 1)
                self.trials.append(trial)
                on_trial(trial)
        for config, estimate in self.blas_variants(facts):
            if estimate * PREDICTION_MARGIN <= self.clock.left():
                trial = self.measure(config, estimate, 1)
                self.trials.append(trial)
                on_trial(trial)
        self.confirm()
        return self.trials

    def confirm(self) -> None:
        """Time serial and the fastest configuration once more, back to back.

        Serial was measured first and the leader later; if the machine's load drifted in
        between, a last pair of runs side by side puts both under the same conditions.
        """
        done = [i for i, t in enumerate(self.trials) if t.ok and t.seconds and t.results_match is not False]
        serial = next((i for i in done if self.trials[i].executor == "serial"), None)
        others = [i for i in done if self.trials[i].executor != "serial"]
        if serial is None or not others:
            return
        leader = min(others, key=lambda i: self.trials[i].seconds or 0.0)
        cost = (self.trials[serial].seconds or 0.0) + (self.trials[leader].seconds or 0.0)
        if cost * PREDICTION_MARGIN > self.clock.left():
            return
        for index in (serial, leader):
            t = self.trials[index]
            config = space.Config(t.executor, t.workers, t.chunksize, t.start_method, t.blas_threads)
            outcome = run_isolated(self._body(config, False, False), self.options.trial_timeout_s)
            if outcome.ok:
                repeats = [*t.repeats, outcome.value["seconds"]]
                self.trials[index] = replace(t, repeats=repeats, seconds=statistics.median(repeats),
                                             spread=mad(repeats))

    def best_seconds_of(self, executor: str) -> Optional[float]:
        times = [t.seconds for t in self.trials if t.executor == executor and t.ok and t.seconds]
        return min(times) if times else None

    def best_process_seconds(self) -> Optional[float]:
        return self.best_seconds_of("processes")

    def refinements(self, load: space.Workload) -> list[space.Config]:
        """Configurations next to the best one so far that the coarse pass skipped."""
        done = [t for t in self.trials if t.ok and t.seconds and t.results_match is not False]
        if not done:
            return []
        best = min(done, key=lambda t: t.seconds or 0.0)
        measured = {space.Config(t.executor, t.workers, t.chunksize, t.start_method, t.blas_threads)
                    for t in self.trials}
        return space.refine(space.Config(best.executor, best.workers, best.chunksize, best.start_method),
                            measured, load)

    def blas_variants(self, facts: "Facts") -> list[tuple[space.Config, float]]:
        """The fastest thread and fork-process configurations again, with BLAS on one thread.

        Several workers that each call a BLAS running one thread per core oversubscribe the
        CPUs; whether limiting BLAS helps depends on the calls, so it is measured.
        """
        if not self.options.blas_variants or (facts.blas.get("num_threads") or 1) <= 1:
            return []
        out = []
        for executor in ("threads", "processes"):
            done = [t for t in self.trials if t.executor == executor and t.ok and t.seconds and t.workers > 1
                    and t.results_match is not False and (t.start_method or "fork") == "fork"]
            if done:
                best = min(done, key=lambda t: t.seconds or 0.0)
                config = space.Config(best.executor, best.workers, best.chunksize, best.start_method, 1)
                out.append((config, best.seconds or 0.0))
        return out

    def other_start_methods(self) -> list[space.Config]:
        """The fastest process configuration again, under the other start methods."""
        if not self.options.main_guard or self.subject.is_coroutine:
            return []
        done = [t for t in self.trials if t.executor == "processes" and t.ok and t.results_match is not False]
        if not done:
            return []
        best = min(done, key=lambda t: t.seconds or 0.0)
        return [space.Config("processes", best.workers, best.chunksize, method)
                for method in self.options.start_methods if method != best.start_method
                and method in multiprocessing.get_all_start_methods()]


def scaled_walls(walls: list[float], serial_s: float) -> tuple[float, ...]:
    """Per-item durations from the real calls, scaled to the serial trial's total.

    The recorder's clocks add a little to each real call; the serial trial does not.
    """
    total = sum(walls)
    if not walls or total <= 0:
        return ()
    return tuple(w * serial_s / total for w in walls)


@dataclass(frozen=True)
class Facts:
    """What the probes found before the trials; it shapes the plan."""

    cpu_ratio: float
    gil: Optional[dict[str, float]]
    overheads: dict[str, float]
    blas: dict[str, Any] = field(default_factory=dict)  # see probes.multithreaded_blas
    item_bytes: int = 0  # median pickled size of one item's arguments

    def workload(self, subject: Subject, serial_s: float, options: SweepOptions) -> space.Workload:
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
            walls=scaled_walls(subject.walls, serial_s), item_bytes=self.item_bytes, l2_bytes=options.l2_bytes)
