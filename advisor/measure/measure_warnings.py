"""What the measurement found that the advice must respect, as warnings and exclusions.

State the target changes (module globals, its arguments), arguments pickle cannot send,
calls that raised, files and processes touched while the loop was recorded, executors
that failed or differed from serial, shaky timings and a machine busy with other work.
Each becomes a warning with its stable code (CONTRACT.md), and those that make an
executor wrong become exclusions: it is never recommended, however fast it ran.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Optional

from ..model import Trial, Warning
from ..sweep.runner import Sweep
from .capture import Recorder

if TYPE_CHECKING:
    from .target import UnpicklableTarget

# Spread above this share of the median makes a timing unstable (pyperf's rule of thumb).
UNSTABLE_SPREAD = 0.10


def state_warnings(sweep: Sweep, recorder: Recorder, name: str,
                   unpicklable: Optional[UnpicklableTarget] = None) -> list[Warning]:
    out = [Warning("unpicklable-target", unpicklable.message)] if unpicklable else []
    if sweep.mutated_globals:
        names = ", ".join(sweep.mutated_globals)
        out.append(Warning("global-state-mutation", (
            f"{name} changes module state ({names}); in worker processes those changes are made "
            "to copies and are lost, so process pools are not recommended.")))
    if sweep.reset_globals:
        names = ", ".join(sweep.reset_globals)
        out.append(Warning("global-state-mutation", (
            f"{name} changes module state ({names}), but a call run again leaves it as it was (it sets it "
            "afresh, as a generator reseeded per call): no call's result depends on the calls before it, "
            "and worker processes' results matched serial's. After a process pool, though, this process's "
            f"{names} is not what the serial loop leaves behind.")))
    if sweep.mutated_args:
        out.append(Warning("global-state-mutation", (
            f"{name} modifies its arguments in place; worker processes modify copies, "
            "so the caller would not see the changes.")))
    if recorder.pickle_error:
        out.append(Warning("unpicklable-target", (
            f"The arguments of {name} cannot be pickled ({recorder.pickle_error}); "
            "process pools cannot send them to workers.")))
    errors = sum(1 for c in recorder.calls if c.error)
    if errors:
        sample = next(c.error for c in recorder.calls if c.error)
        out.append(Warning("target-error", (
            f"{errors} of {len(recorder.calls)} recorded calls raised (for example {sample}); "
            "exceptions are compared across configurations like results.")))
    return out


# Other programs using this much CPU (in CPUs' worth) while the sweep ran make its parallel
# timings pessimistic: a worker waits for a CPU that serial never needed.
BUSY_CPUS = 0.5


def machine_load() -> tuple[float, float, float]:
    """(wall clock, CPU seconds all programs used, CPU seconds this process and its waited-for
    children used): two readings give the CPU others took in between."""
    import os

    import psutil

    times = psutil.cpu_times()
    busy = sum(getattr(times, f, 0.0) for f in ("user", "nice", "system", "irq", "softirq", "steal"))
    own = os.times()
    return time.monotonic(), busy, own.user + own.system + own.children_user + own.children_system


def busy_machine_warnings(before: tuple[float, float, float], after: tuple[float, float, float],
                          usable_cpus: int) -> list[Warning]:
    """``busy-machine`` when other programs took a CPU's worth of time or more during the sweep."""
    wall = after[0] - before[0]
    others = ((after[1] - before[1]) - (after[2] - before[2])) / max(wall, 1e-9)
    if wall <= 0 or others < BUSY_CPUS:
        return []
    return [Warning("busy-machine", (
        f"Other programs used about {others:.1f} of this machine's CPUs while paradvise measured "
        f"({usable_cpus} usable): parallel configurations had fewer CPUs than they will on a quiet "
        "machine, so their speedups here are low and close calls may go the other way. Run again when "
        "the machine is quieter to confirm."))]


def other_thread_warnings(names: list[str]) -> list[Warning]:
    """When the script ran threads of its own beside the loop: the trials may not hold in it.

    Reported as ``unstable-measurements``, the contract's code for measurements that may
    not hold where the advice will run."""
    if not names:
        return []
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    return [Warning("unstable-measurements", (
        f"The script had {len(names)} other thread(s) running when the loop began ({shown}). Each trial "
        "ran in a forked copy of the script, where only the loop's thread exists, so thread and asyncio "
        "trials did not share the GIL (or a server's backlog) with them as they would in the script. "
        "Check the advice in the script itself with --verify."))]


def side_effect_warnings(recorder: Recorder, name: str) -> list[Warning]:
    """``side-effect-io`` from what the audit hook saw while the loop was recorded."""
    if not recorder.side_effects:
        return []
    parts = []
    for kind, entry in recorder.side_effects.items():
        examples = ", ".join(entry["examples"])
        more = f", {entry['count']} in all" if entry["count"] > len(entry["examples"]) else ""
        parts.append(f"{kind} ({examples}{more})")
    return [Warning("side-effect-io", (
        f"While the loop was recorded, {name} made changes outside the program: {'; '.join(parts)}. "
        "paradvise replays the calls in every trial, so these happen again each time."))]


def exclusions_for(sweep: Sweep, recorder: Recorder, name: str,
                   unpicklable: Optional[UnpicklableTarget] = None) -> dict[str, str]:
    """Executors ruled out for correctness, each with the reason shown to the user."""
    out = dict.fromkeys(unpicklable.excluded, unpicklable.reason) if unpicklable else {}
    if sweep.mutated_globals or sweep.mutated_args:
        why = f"{name} mutates shared state that worker processes would not send back"
        # Dask's workers are separate processes too.
        out.update({"processes": why, **({"dask": why} if sweep.options.dask else {})})
    elif recorder.pickle_error:
        out["processes"] = "the arguments cannot be pickled"
    for executor, unsafe in sweep.unsafe.items():
        out.setdefault(executor, f"{executor} {unsafe_summary(unsafe)}")
    return out


def unsafe_summary(unsafe: Any) -> str:
    """``failed or differed in 3 trial(s), first: threads 2w: AttributeError: ...``"""
    return f"failed or returned other results than serial in {unsafe.trials} trial(s) (first: {unsafe.first})"


def stability_warnings(trials: list[Trial]) -> list[Warning]:
    shaky = [t for t in trials if t.ok and t.seconds and len(t.repeats) > 1
             and (t.spread / t.seconds >= UNSTABLE_SPREAD
                  or max(abs(r - t.seconds) for r in t.repeats) >= 0.5 * t.seconds)]
    if not shaky:
        return []
    labels = ", ".join(t.label for t in shaky[:4])
    return [Warning("unstable-measurements", (
        f"Timings varied by 10% or more between repeats for {labels}; the machine may be busy. "
        "Treat close results as ties and consider a longer --budget."))]


def result_warnings(trials: list[Trial], sweep: Sweep) -> list[Warning]:
    if sweep.results_unpicklable:
        return [Warning("unpicklable-target", (
            f"The results cannot be pickled ({sweep.results_unpicklable}): process pools cannot send them "
            "back, and paradvise could not compare results between configurations."))]
    if sweep.nondeterministic:
        return [Warning("nondeterministic-results", (
            "Replaying the recorded calls serially gave different results from the real run, "
            "so parallel results could not be checked against serial ones."))]
    if not sweep.unsafe:
        return []
    parts = [f"{executor}: {u.trials} trial(s) failed or differed"
             + (f", {u.results_differ} result(s) unlike serial's" if u.results_differ else "")
             + f" (first: {u.first})" for executor, u in sweep.unsafe.items()]
    return [Warning("results-differ", (
        f"Some parallel runs raised errors serial did not, or returned other results: {'; '.join(parts)}. "
        "No configuration of those executors is recommended, however fast one run was."))]
