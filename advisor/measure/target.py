"""From recorded calls to a ``Measurement``: probes first, then the sweep.

Called by the host process at the target's last real call (see ``measuring_child.py``).
"""
from __future__ import annotations

import multiprocessing
import pickle
import time
import types
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from .. import executors
from ..analyse.classify import WAITING_CPU_RATIO
from ..analyse.what_if import durations_for
from ..analyse.workload import loop_factor
from ..model import Measurement, Trial, Warning
from ..sweep import items as items_mod
from ..sweep import probes
from ..sweep.budget import Clock, config_of, per_call_stats, subset_indices
from ..sweep.isolate import run_isolated
from ..sweep.runner import Facts, Sweep, SweepOptions
from ..sweep.subject import Subject
from .capture import Recorder
from .measure_warnings import (
    busy_machine_warnings,
    exclusions_for,
    machine_load,
    other_thread_warnings,
    result_warnings,
    side_effect_warnings,
    stability_warnings,
    state_warnings,
)

# A start method's pool start-up probe may take this many times fork's, at least
# START_PROBE_MIN_S (see start_up_costs).
START_PROBE_FACTOR = 30
START_PROBE_MIN_S = 0.5


def build_subject(recorder: Recorder, module: types.ModuleType, name: str, is_coroutine: bool,
                  budget_s: float, usable_cpus: int = 1) -> tuple[Subject, int]:
    calls = recorder.calls
    style = items_mod.call_style(calls)
    everything = items_mod.items_from_calls(calls, style)
    waiting = cpu_over_wall(recorder) < WAITING_CPU_RATIO
    keep = subset_indices(len(everything), sum(c.wall for c in calls), budget_s, waiting, usable_cpus)
    catch = any(c.error for c in calls)
    recorded = [_outcome_of(calls[i], catch) for i in keep]
    subject = Subject(module=module, name=name, original=recorder.original, is_coroutine=is_coroutine,
                      style=style, items=[everything[i] for i in keep], catch=catch,
                      walls=[calls[i].wall for i in keep], in_event_loop=recorder.in_event_loop,
                      restore=dict(recorder.state_at_start), recorded=recorded,
                      is_generator=recorder.is_generator)
    return subject, len(everything)


def _outcome_of(call: Any, catch: bool) -> Any:
    if call.error is None:
        return call.result
    type_name, _, message = call.error.partition(": ")
    return items_mod.RaisedOutcome(type_name, message)


def _probe(work: Callable[[], Any], timeout: float) -> Any:
    outcome = run_isolated(work, timeout)
    return outcome.value if outcome.ok else None


# tracemalloc's cost is per allocation. Calls whose peak matters (large buffers, compared
# with the caches) make few allocations and run near their own speed under it; calls of
# allocation-heavy pure Python run 10-25x slower (a 34 ms call took 0.82 s, a quarter of
# a 3 s budget) and their peak is small. So the probe gets a few times the call's own
# time; past that, the peak is left unknown and the working set is the arguments and results.
PEAK_PROBE_SLOWDOWN = 3.0
PEAK_PROBE_MIN_S = 0.05


def run_probes(subject: Subject, recorder: Recorder, options: SweepOptions,
               process_dispatch: bool = False) -> tuple[Facts, dict[str, int]]:
    """``process_dispatch``: time a process pool's start-up and hand-over even without
    process trials (joblib measured in their place needs them to plan)."""
    calls = recorder.calls
    cpu_ratio = cpu_over_wall(recorder)
    timeout = probe_timeout(options)
    want_processes = "processes" in options.executors
    workers = max(2, options.usable_cpus)
    dispatch = want_processes or process_dispatch
    overheads = _probe(lambda: probes.dispatch_overheads(workers, options.start_method, dispatch),
                       timeout) or {}
    overheads["probe_workers"] = float(workers)
    if want_processes:
        # Pickling in this process would leave its allocator warmed by the buffers it
        # frees (see loop_fork.py); in a forked probe it leaves no trace.
        overheads["pickle_bytes_per_s"] = _probe(lambda: probes.pickle_throughput(subject.items), timeout) or 0.0
        overheads.update(start_up_costs(workers, options, overheads.get("process_start_s"), timeout))
    gil = None
    if not subject.is_coroutine:
        sample, durations = probes.probe_items(subject.items, subject.walls)
        # Where the calls' own CPU split rules threads out (probes.gil_bound), the probe
        # could find nothing; the what-if needs the probe's own figures.
        gil = None if options.what_if_cpus else probes.gil_bound(cpu_ratio, recorder.cpu_split)
        if gil is None and options.usable_cpus >= 2:
            gil = _probe(lambda: probes.gil_probe(subject.prepare_child(), sample, durations), timeout)
        elif gil is None and options.what_if_cpus >= 2:  # one CPU: only the wake-up probe can tell
            gil = _probe(lambda: probes.gil_free_share(subject.prepare_child(), sample), timeout)
    median = _median_index(subject.walls) if subject.items else None
    peak = 0
    if not subject.is_coroutine and median is not None:
        peak_timeout = min(timeout, max(PEAK_PROBE_MIN_S, PEAK_PROBE_SLOWDOWN * subject.walls[median]))
        peak = _probe(lambda: probes.peak_allocation(subject.prepare_child(), subject.items[median]),
                      peak_timeout) or 0
    results = [c.result for c in calls if c.error is None]
    if want_processes:  # the last chunk's results are sent after its work: a cost paid once per map
        overheads["result_transfer_s"] = _probe(lambda: probes.transfer_seconds(results), timeout) or 0.0
    sizes = _probe(lambda: {"arg_bytes": probes.pickled_sizes(subject.items),
                            "result_bytes": probes.pickled_sizes(results)}, timeout) or {
        "arg_bytes": 0, "result_bytes": 0}
    sizes["peak_alloc_bytes"] = int(peak)
    return Facts(cpu_ratio, gil, overheads, probes.blas_pool(), int(sizes["arg_bytes"])), sizes


def start_up_costs(workers: int, options: SweepOptions, fork_start_s: Optional[float],
                   timeout: float) -> dict[str, float]:
    """Pool start-up per start method, each in its own probe, fork first.

    On Python 3.12 (3.12.1 here, 3.12.3 on a 16-core machine) a forkserver or spawn pool
    started in a forked child of the host was seen never to answer its first map, and the
    one probe for all methods then timed out, spending a quarter of a short budget on
    nothing. So each method gets a limit in proportion to fork's start-up (spawn took 10x
    it where it worked), the first that does not answer ends the probing, and the sweep
    tries no start method that has no measured start-up (see Sweep.other_start_methods).
    """
    out: dict[str, float] = {}
    order = sorted(options.start_methods, key=lambda m: m != "fork")
    others: Optional[bool] = None  # asked once, before the first method other than fork
    for method in [m for m in order if m in multiprocessing.get_all_start_methods()]:
        if method != "fork":
            others = others_can_start_sooner(options, timeout) if others is None else others
            if not others:
                break
        limit = timeout if not fork_start_s else min(
            timeout, max(START_PROBE_MIN_S, START_PROBE_FACTOR * fork_start_s))
        cost = _probe(lambda m=method: probes.start_costs(workers, [m]), limit)
        if not cost:
            break
        out.update(cost)
    return out


def others_can_start_sooner(options: SweepOptions, timeout: float) -> bool:
    """Whether a spawn or forkserver pool could start sooner than a fork pool.

    The sweep tries another start method only where its start-up is shorter than fork's
    (Sweep.other_start_methods), and only for a script with a main guard. The pools are
    the same but for how each worker begins: a fork of this process, or a fresh
    interpreter. Where one fork takes less than a bare interpreter's start (0.5 ms against
    6 ms here), no spawn or forkserver pool can start sooner, and their probes (80-90 ms
    each) have nothing to find; a process of many gigabytes forks slowly enough to lose.
    """
    if not options.main_guard:
        return False
    costs = _probe(lambda: (probes.fork_s(), probes.interpreter_start_s()), timeout)
    return costs is None or costs[0] >= costs[1]


def probe_timeout(options: SweepOptions) -> float:
    return min(options.trial_timeout_s, max(1.0, options.budget_s / 4))


# Executors that send the target to their workers with the standard pickle, by reference.
PICKLING_EXECUTORS = tuple(n for n, e in executors.REGISTRY.items() if e.pickles_by_reference)


@dataclass(frozen=True)
class UnpicklableTarget:
    """The target itself cannot be pickled: which executors that rules out, and why."""

    message: str  # the ``unpicklable-target`` warning
    reason: str  # why each of ``excluded`` is ruled out
    excluded: tuple[str, ...]
    joblib_instead: bool = False  # processes were asked for; joblib is measured in their place
    trampoline: bool = False  # fork process pools run it through items.REGISTRY instead


def target_pickle_error(subject: Subject, timeout: float) -> Optional[str]:
    """Why pickle cannot send the target to a worker process; None when it can (or cannot tell).

    Checked in a forked child as a trial sees the target: unwrapped and bound under its own
    name (``Subject.prepare_child``), which a module-level function needs to pickle by reference.
    """
    def check() -> str:
        subject.prepare_child()
        try:
            pickle.dumps(subject.original, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - any failure means workers could not get it
            return f"{type(exc).__name__}: {exc}".splitlines()[0]
        return ""

    outcome = run_isolated(check, timeout)
    return (outcome.value or None) if outcome.ok else None


def describe_unpicklable(fn: Any, name: str, error: str) -> str:
    """What the target is, as in "score is a closure defined inside main()"."""
    qualname = getattr(fn, "__qualname__", "") or ""
    local = name.rpartition(".")[2]
    is_lambda = getattr(fn, "__name__", "") == "<lambda>"
    if ".<locals>." in qualname:
        outer = qualname.rpartition(".<locals>.")[0].replace(".<locals>", "")
        what = "a lambda" if is_lambda else ("a closure" if getattr(fn, "__closure__", None) else "a function")
        return f"{local} is {what} defined inside {outer}()"
    if is_lambda:
        return f"{local} is a lambda"
    return f"{name} cannot be pickled ({error})"


def unpicklable_target(subject: Subject, options: SweepOptions, fallback: bool) -> Optional[UnpicklableTarget]:
    """Check the target up front; None when pickle can send it to worker processes.

    ``fallback``: measure joblib (loky sends the target with cloudpickle) in place of the
    process pools when those were asked for and joblib is installed.
    """
    error = target_pickle_error(subject, probe_timeout(options))
    if error is None:
        return None
    what = describe_unpicklable(subject.original, subject.name, error)
    if "processes" in options.executors and options.start_method == "fork" and (
            "fork" in multiprocessing.get_all_start_methods()):
        skipped = "; subinterpreters are skipped" if "interpreters" in options.executors else ""
        message = (f"{what}; pickle cannot send it to worker processes, so process pools run it through a "
                   "module-level function their workers inherit when forked (the fork start method only; "
                   f"spawn and forkserver cannot){skipped}.")
        return UnpicklableTarget(message, f"{what}, which pickle cannot send to worker processes",
                                 tuple(e for e in ("interpreters",) if e in options.executors), trampoline=True)
    excluded = tuple(e for e in PICKLING_EXECUTORS if e in options.executors or e == "processes")
    instead = fallback and "processes" in options.executors and executors.get("joblib").available()
    skipped = "process pools and subinterpreters are skipped" if "interpreters" in options.executors \
        else "process pools are skipped"
    if instead:
        message = (f"{what}; pickle cannot send it to worker processes, so {skipped} and joblib, which "
                   "sends it with cloudpickle (as Dask does), is measured instead.")
    else:
        message = (f"{what}; pickle cannot send it to worker processes, so {skipped}; joblib and Dask send it "
                   "with cloudpickle.")
    return UnpicklableTarget(message, f"{what}, which pickle cannot send to worker processes", excluded, instead)


def without_pickling(options: SweepOptions, problem: Optional[UnpicklableTarget]) -> SweepOptions:
    """The sweep's executors, less those the target cannot be pickled for (joblib in their place)."""
    if problem is None:
        return options
    executors = [e for e in options.executors if e not in problem.excluded]
    if problem.joblib_instead and "joblib" not in executors:
        executors.append("joblib")
    return replace(options, executors=executors)


def cpu_over_wall(recorder: Recorder) -> float:
    """CPU time over wall time of the calls, not counting time spent waiting for a CPU.

    On a busy machine a CPU-bound call is often runnable but not running; that wait is
    the machine's, not the call's, so it is taken out of the wall time.
    """
    wall = sum(c.wall for c in recorder.calls) or 1e-9
    all_calls_wall = max(recorder.wall_total, wall)  # more than ``wall`` when only a sample was recorded
    share_in_calls = min(1.0, all_calls_wall / recorder.span_s) if recorder.span_s > 0 else 1.0
    # The span's run-queue wait and children's CPU belong to all the calls; the sampled
    # calls' part of them is in proportion to their wall time.
    share_sampled = share_in_calls * wall / all_calls_wall
    waiting_for_cpu = recorder.runqueue_wait_s * share_sampled
    cpu = sum(c.process_cpu for c in recorder.calls) + recorder.children_cpu_s * share_sampled
    return min(1.0, cpu / max(wall - waiting_for_cpu, 1e-9))


def _median_index(walls: list[float]) -> int:
    """Index of the item whose real call took the median time."""
    order = sorted(range(len(walls)), key=lambda i: walls[i])
    return order[len(order) // 2]


def measure_target(recorder: Recorder, module: types.ModuleType, name: str, is_coroutine: bool,
                   options: SweepOptions, on_trial: Callable[[Trial], None] = lambda t: None,
                   on_event: Callable[[dict[str, Any]], None] = lambda e: None,
                   cloudpickle_fallback: bool = False) -> Measurement:
    """Probe, then sweep. ``on_trial`` and ``on_event`` report progress as it happens, so an
    interrupted run can still write a partial report of what was measured.

    A target pickle cannot send to worker processes (a closure, a lambda) is found first:
    the executors that need that are not measured, and with ``cloudpickle_fallback``
    joblib is measured in place of the process pools.
    """
    started = time.monotonic()
    load_before = machine_load()
    executors.preload(options.executors)
    clock = Clock(options.budget_s)  # the probes count against the budget too
    subject, recorded_items = build_subject(recorder, module, name, is_coroutine, options.budget_s,
                                            options.usable_cpus)
    total_items = max(recorded_items, recorder.seen)  # recorder.seen counts calls not recorded in full
    subject.total_items = total_items
    # Only where every call was recorded in full: a call only counted is timed with one
    # clock, not three, so for sub-microsecond calls its time is not comparable.
    if recorder.seen == len(recorder.calls):
        subject.total_wall = sum(c.wall for c in recorder.calls)
    problem = unpicklable_target(subject, options, cloudpickle_fallback)
    if problem is not None:
        options = without_pickling(options, problem)
        if problem.trampoline:
            subject.by_registry = True
            options = replace(options, start_methods=("fork",))
        on_event({"exclusions": dict.fromkeys(problem.excluded, problem.reason),
                  "warnings": [Warning("unpicklable-target", problem.message).to_json()]})
    facts, sizes = run_probes(subject, recorder, options, process_dispatch=bool(problem and problem.joblib_instead))
    on_event({"facts": {"cpu_ratio": facts.cpu_ratio, "gil_probe": facts.gil, "overheads": facts.overheads,
                        "sizes": sizes, "call_style": subject.style, "items_measured": len(subject.items)}})
    sweep = Sweep(subject, recorder.calls, options, clock)

    def trial_done(trial: Trial) -> None:
        on_trial(trial)
        if trial.executor == "serial":  # the serial run is where state changes are found
            on_event({"exclusions": exclusions_for(sweep, recorder, name, problem),
                      "warnings": [w.to_json() for w in state_warnings(sweep, recorder, name, problem)]})

    sweep.run(facts, trial_done)
    sweep.project(ruled_out=exclusions_for(sweep, recorder, name, problem))
    trials = with_speedups(with_loop_factors(sweep.trials, recorder, subject, options.usable_cpus, facts.overheads))
    seen = side_effect_warnings(recorder, name)
    # What the audit hook saw in the real calls says more than a listing of folders after a replay.
    found = [w for w in sweep.warnings if not (seen and w.code == "side-effect-io")]
    warnings = state_warnings(sweep, recorder, name, problem) + seen + found + stability_warnings(trials)
    warnings += result_warnings(trials, sweep)
    warnings += busy_machine_warnings(load_before, machine_load(), options.usable_cpus)
    warnings += other_thread_warnings(recorder.other_threads)
    thread_wall = sum(c.wall for c in recorder.calls) or 1e-9
    per_call = per_call_stats(recorder.calls)
    per_call["total"] = max(per_call["total"], recorder.wall_total)  # every call, not only the recorded
    serial = next((t for t in trials if t.executor == "serial" and t.ok and t.seconds), None)
    if serial is not None and serial.seconds and subject.items:
        # The recorder's clocks add a little to each call; the serial trial has no such cost.
        per_call["serial_mean"] = serial.seconds / len(subject.items)
    return Measurement(
        items=total_items, items_measured=len(subject.items), call_style=subject.style,
        per_call=per_call, cpu_ratio=facts.cpu_ratio,
        thread_cpu_ratio=sum(c.thread_cpu for c in recorder.calls) / thread_wall,
        gil_probe=facts.gil, arg_bytes=sizes["arg_bytes"], result_bytes=sizes["result_bytes"],
        peak_alloc_bytes=sizes["peak_alloc_bytes"],
        working_set_bytes=sizes["arg_bytes"] + max(sizes["peak_alloc_bytes"], sizes["result_bytes"]),
        overheads=facts.overheads, trials=trials, warnings=warnings, blas=facts.blas,
        exclusions=exclusions_for(sweep, recorder, name, problem),
        errors=max(recorder.errors_total, sum(1 for c in recorder.calls if c.error)), sweep_seconds=time.monotonic() - started,
        budget_s=options.budget_s,
        dask={"scheduler": options.dask, "runs": sweep.dask_runs} if options.dask else {},
        item_seconds=[round(w, 9) for w in durations_for(subject.walls, min(len(subject.walls), ITEM_SAMPLE))],
        other_threads=list(recorder.other_threads), cpu_split=dict(recorder.cpu_split))


# Per-item durations kept for the what-if: enough for its simulated hand-out to see the
# spread and any trend along the loop, few enough to travel in the report's measurement.
ITEM_SAMPLE = 4096


def with_loop_factors(trials: list[Trial], recorder: Recorder, subject: Subject, cpus: int,
                      overheads: Optional[dict[str, float]] = None) -> list[Trial]:
    """Each trial's whole loop / subset factor (workload.loop_factor), where the trials ran
    on a subset, were not projected, and every call was recorded in full. Not for calls
    that wait: their rounds in flight decide (recommend.rounds_factor).

    A pool's part that is paid once per map, however long the loop (its start-up, the
    wait for its last chunk's results: ``once_per_map_s``), is not scaled with the rest."""
    if (len(subject.items) >= subject.total_items or recorder.seen != len(recorder.calls)
            or cpu_over_wall(recorder) < WAITING_CPU_RATIO or any(t.projected_seconds for t in trials)):
        return trials
    loop_walls = [c.wall for c in recorder.calls]
    out = []
    for t in trials:
        if t.ok and t.seconds:
            factor = loop_factor(t.executor, t.workers, t.chunksize, loop_walls, subject.walls, cpus)
            once = once_per_map_s(t, overheads or {}, subject.walls, cpus)
            t = replace(t, loop_factor=round((once + (t.seconds - once) * factor) / t.seconds, 6))
        out.append(t)
    return out


def once_per_map_s(trial: Trial, overheads: dict[str, float], walls: list[float], cpus: int) -> float:
    """The probed start-up of ``trial``'s pool and, where it sends results back by pickle, the
    transfer of its last chunk's; never more than the trial's time less its work shared out
    over the workers (what the trial cannot have spent on anything else)."""
    once = executors.start_up_s(config_of(trial), overheads) or 0.0
    if trial.executor == "processes":
        once += max(1, trial.chunksize or 1) * overheads.get("result_transfer_s", 0.0)
    room = (trial.seconds or 0.0) - sum(walls) / max(1, min(trial.workers, cpus))
    return max(0.0, min(once, room))


def with_speedups(trials: list[Trial]) -> list[Trial]:
    serial = next((t for t in trials if t.executor == "serial" and t.ok), None)
    if serial is None or not serial.seconds:
        return trials
    out = []
    for t in trials:
        speedup = round(serial.seconds / t.seconds, 4) if t.ok and t.seconds else None
        out.append(Trial(**{**t.__dict__, "speedup": speedup}))
    return out
