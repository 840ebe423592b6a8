"""``paradvise profile``: locate, capture and sweep, then analyse into a ``Report``.

The measuring stages run the script in child processes (see ``launch`` and ``host``);
everything after ``Measurement`` is pure analysis.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional

from . import executors
from .errors import HostFailed, Interrupted, NothingToMeasure, ScriptFailed, UsageError
from .machine import detect_machine
from .measure import loop_body
from .measure.boundary import RunSpec
from .measure.capture import SAMPLE_BELOW_CALL_S, SAMPLE_FROM_CALLS
from .measure.child_process import new_workdir, run_host
from .measure.locate import Counted, Located, locate, located_from, script_failure, starts_pools, with_nested
from .measure.speculate import guess_target
from .measure.user_script import (
    NESTED,
    TOP_LEVEL,
    FunctionDef,
    check_syntax,
    read_script,
    require_function,
    top_level_functions,
)
from .model import Machine, Measurement, Report, Trial
from .report_builder import build_report, interrupted_report
from .sweep.allowance import default_timeout, sweep_budget
from .sweep.budget import SERIAL_BUDGET_SHARE

# The first run of the script has no known duration; bound it generously.
FIRST_RUN_TIMEOUT_S = 600.0
# Later runs of the script: this many times the first run, plus the sweep, plus slack.
RERUN_FACTOR = 3.0
RERUN_SLACK_S = 15.0
SAMPLE_AT_LEAST = 1000
# Recording a call in full costs ~5 us, more than the sweep gains from a subset this large.
SAMPLE_AT_MOST = 200_000
DEFAULT_EXECUTORS = executors.names(defaults_only=True)
SUPPORTED_EXECUTORS = executors.names(installed_only=True)
# Checking that a --dask scheduler answers gives up after this long (distributed's default is 30 s).
DASK_CHECK_TIMEOUT_S = 10.0
@dataclass(frozen=True)
class ProfileOptions:
    script: str
    args: list[str] = field(default_factory=list)
    function: Optional[str] = None
    budget_s: Optional[float] = None
    timeout_s: Optional[float] = None
    executors: tuple[str, ...] = DEFAULT_EXECUTORS
    dask: Optional[str] = None  # "local" or a scheduler address
    target_seconds: Optional[float] = None  # for the Dask cluster-size projection
    cpus: Optional[int] = None  # --cpus: add the what-if for a machine with this many usable CPUs
    scalene: bool = False  # --scalene: locate under scalene, for its CPU split of every function


@dataclass
class SoFar:
    """What the host has reported while measuring (for a partial report on interrupt)."""

    trials: list[Trial] = field(default_factory=list)
    events: dict[str, Any] = field(default_factory=dict)


@dataclass
class Progress:
    """Hooks for the terminal: stage names and each trial as it is measured."""

    stage: Callable[[str], None] = lambda text: None
    trial: Callable[[Trial], None] = lambda trial: None
    so_far: SoFar = field(default_factory=SoFar)


def run_profile(options: ProfileOptions, progress: Optional[Progress] = None) -> Report:
    progress = progress or Progress()
    path, source = read_script(options.script)
    tree = check_syntax(path, source)
    functions = top_level_functions(tree)
    if options.function and ":" not in options.function:  # a user's module's is checked once it is imported
        require_function(tree, options.function, path)
    argv = [options.script, *options.args]
    machine = detect_machine()
    dask_workers = dask_cluster_workers(options.dask, machine.usable_cpus) if "dask" in options.executors else 0
    workdir = new_workdir()
    guard = has_main_guard(tree)
    try:
        progress.stage("Locating the loop (call tree, scalene)" if options.scalene else "Locating the loop (call tree)")
        speculation = speculation_spec(path, argv, tree, source, functions, options, machine, guard, workdir,
                                       dask_workers)
        script_runs = 1  # the count run, a second with loop bodies made functions, the capture runs
        try:
            located = found = locate_speculating(path, argv, functions, options, workdir, speculation, progress,
                                                 machine, guard)
        except NothingToMeasure as nothing:
            if options.function:
                raise
            located = found = locate_in_loop_bodies(path, argv, functions, tree, source, workdir, nothing)
            script_runs += 1
        if not options.function and located.loop_body is None:
            located = with_loop_body(found, tree, source, path)
        calls, loop_s = located.calls, located.loop_seconds
        budget = options.budget_s or sweep_budget(loop_s, machine.usable_cpus, dask_workers, options.cpus)
        timeout = options.timeout_s or default_timeout(loop_s, dask_workers)
        if located.measured is not None and located.function.name == found.function.name:
            measurement = located.measured  # the count run recorded and measured this loop
        else:  # a capture run (two, where the first failed with the loop's body made a function)
            progress.stage(f"Measuring {located.function.name} ({calls} calls) within {budget:.0f} s")
            measured_as = located
            located, measurement = _capture_or_function(path, argv, located, found, calls, budget, timeout, machine,
                                                        options, guard, workdir, progress, dask_workers)
            script_runs += 1 if located is measured_as else 2
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    report = build_report(machine, path, located, measurement, guard, loop_s, dask_target_s=options.target_seconds,
                          cpus=options.cpus)
    # What the sweep was allowed, next to what it took (timings.sweep_s): the budget is a
    # ceiling that one trial in progress may overrun by at most its timeout. Without
    # --budget, the measuring run set it again from the loop it recorded.
    return replace(report, timings={**report.timings, "budget_s": measurement.budget_s or budget,
                                    "trial_timeout_s": timeout, "script_runs": script_runs})


def _capture_or_function(path: Path, argv: list[str], located: Located, found: Located, calls: int, budget: float,
                         timeout: float, machine: Machine, options: ProfileOptions, guard: bool, workdir: Path,
                         progress: Progress, dask_workers: int) -> tuple[Located, Measurement]:
    """The capture run; where it fails with the loop's body made a function, the function as written."""
    try:
        return located, _capture(path, argv, located, calls, budget, timeout, machine, options, guard, workdir,
                                 progress, dask_workers)
    except (ScriptFailed, HostFailed):
        if located.loop_body is None:
            raise
    # The script failed with its loop's body made a function (a name the body reads
    # that loop_body.find misjudged): measure the function it calls, as written.
    progress.so_far.trials.clear()
    progress.so_far.events.clear()
    progress.stage(f"Measuring {found.function.name} ({calls} calls) within {budget:.0f} s")
    return found, _capture(path, argv, found, calls, budget, timeout, machine, options, guard, workdir, progress,
                           dask_workers)


def speculation_spec(path: Path, argv: list[str], tree: ast.Module, source: str, functions: dict[str, FunctionDef],
                     options: ProfileOptions, machine: Machine, main_guard: bool, workdir: Path,
                     dask_workers: int) -> Optional[RunSpec]:
    """The count run's spec for recording the loop the script's text shows too (speculate.py),
    or None: with --function or --scalene, a script that starts pools of its own, no such loop."""
    if options.function or options.scalene or starts_pools(path):
        return None
    guess = guess_target(tree, source, functions)
    if guess is None:
        return None
    spec = sweep_spec("count", path, argv, machine, options, main_guard, workdir, dask_workers)
    return replace(spec, budget_s=options.budget_s or 0.0, timeout_s=options.timeout_s or 0.0,
                   speculate=guess.to_json())


def locate_speculating(path: Path, argv: list[str], functions: dict[str, FunctionDef], options: ProfileOptions,
                       workdir: Path, speculation: Optional[RunSpec], progress: Progress, machine: Machine,
                       main_guard: bool) -> Located:
    """``locate``, passing on the progress of a sweep the count run makes (``speculation``).
    Interrupted in that sweep, the partial report rests on the counts the child sent first."""
    tick = progress_reader(Path(speculation.progress or ""), progress) if speculation else (lambda: None)
    try:
        return locate(path, argv, functions, options.function, FIRST_RUN_TIMEOUT_S, workdir, options.scalene,
                      speculation=speculation, on_tick=tick)
    except Interrupted as interrupted:
        tick()
        counted = progress.so_far.events.get("counted")
        if counted:
            try:
                located = located_from(Counted(counted["wall_s"], counted["functions"], counted["import_s"],
                                               counted["counting_s"]), path, with_nested(path, functions), None)
                interrupted.partial = interrupted_report(machine, path, located, progress.so_far.trials,
                                                 progress.so_far.events, main_guard)
            except NothingToMeasure:
                pass
        raise


def dask_cluster_workers(address: Optional[str], usable_cpus: int) -> int:
    """Workers the Dask trials run on: this machine's usable CPUs, or an existing cluster's threads.

    An address is checked here, before the script runs, so a wrong one fails at once.
    """
    if not address:
        return 0
    if address == "local":
        return usable_cpus
    try:
        from distributed import Client

        with Client(address, timeout=DASK_CHECK_TIMEOUT_S) as client:
            threads = sum(client.nthreads().values())
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the address's fault
        raise UsageError(f"Cannot reach the Dask scheduler at {address}: {exc}") from None
    if threads < 1:
        raise UsageError(f"The Dask scheduler at {address} has no workers.")
    return threads











def with_loop_body(located: Located, tree: ast.Module, source: str, path: Path) -> Located:
    """Measure the loop's body instead of the located function where its result is dropped
    and the body has the shape ``loop_body.find`` accepts. Only where every call of it comes
    from that one loop in the script: then the body runs once per call located."""
    fn = located.function
    site_file, _, site_line = located.call_site.rpartition(":")
    if (fn.is_coroutine or fn.is_generator or located.user_pool or located.call_sites != 1
            or not site_line.isdigit() or Path(site_file).resolve() != path.resolve()):
        return located
    body = loop_body.find(tree, source, fn.name, int(site_line))
    if body is None:
        return located
    return replace(located, function=body_definition(body, path), loop_body=body)


def locate_in_loop_bodies(path: Path, argv: list[str], functions: dict[str, FunctionDef], tree: ast.Module,
                          source: str, workdir: Path, nothing: NothingToMeasure) -> Located:
    """Where no function of the script's own is called repeatedly (its loop calls library
    functions: ``out.append(zlib.compress(b))``), count again with each loop body of the
    shape loop_body.py accepts made a function, and take the one that dominates. ``nothing``
    is raised again where none does, or where the script fails that way."""
    bodies = loop_body.candidates(tree, source)
    if not bodies:
        raise nothing
    made = {b.name: body_definition(b, path) for b in bodies}
    try:
        found = locate(path, argv, {**functions, **made}, None, FIRST_RUN_TIMEOUT_S, workdir, loop_bodies=bodies)
    except (NothingToMeasure, ScriptFailed):
        raise nothing from None
    body = next((b for b in bodies if b.name == found.function.name), None)
    return found if body is None else replace(found, function=made[body.name], loop_body=body)


def body_definition(body: loop_body.LoopBody, path: Path) -> FunctionDef:
    return FunctionDef(body.name, body.loop_line, False, kind=NESTED if body.nested else TOP_LEVEL,
                       first_line=body.loop_line, file=str(path))


def sample_every(calls: int, loop_s: float, budget_s: float) -> int:
    """Record every n-th call in full, when the calls are so many and so short that recording
    each (about 5 us) would cost more than the sweep can use: it measures a subset anyway."""
    if calls < SAMPLE_FROM_CALLS or loop_s / calls > SAMPLE_BELOW_CALL_S:
        return 1
    keep = max(SAMPLE_AT_LEAST, int(calls * SERIAL_BUDGET_SHARE * budget_s / max(loop_s, 1e-9)))
    keep = min(keep, SAMPLE_AT_MOST)
    return max(1, calls // keep)


def rerun_timeout(script_s: float, sweep_s: float) -> float:
    return RERUN_FACTOR * script_s + sweep_s + RERUN_SLACK_S


def sweep_spec(mode: str, path: Path, argv: list[str], machine: Machine, options: ProfileOptions, main_guard: bool,
               workdir: Path, dask_workers: int, user_pool: Optional[dict[str, Any]] = None) -> RunSpec:
    """What a measuring run needs to know to sweep, whatever it measures."""
    return RunSpec(
        mode, str(path), argv, budget_from_loop=options.budget_s is None, usable_cpus=machine.usable_cpus,
        executors=swept_executors(options.executors, user_pool), start_method="fork",
        l2_bytes=machine.caches.l2_bytes, folders=sorted({os.getcwd(), str(path.parent)}),
        progress=str(workdir / "progress.jsonl"), main_guard=main_guard, dask=options.dask if dask_workers else None,
        dask_workers=dask_workers, user_pool=user_pool, what_if_cpus=options.cpus or 0)


def progress_reader(progress_file: Path, progress: Progress) -> Callable[[], None]:
    """A tick that passes on the measuring child's new events: stages, trials, the rest kept."""
    seen = [0]

    def tick() -> None:
        lines = _read_lines(progress_file)
        for line in lines[seen[0]:]:
            event = json.loads(line)
            if "stage" in event:
                progress.stage(event["stage"])
            if "trial" in event:
                trial = Trial.from_json(event["trial"])
                progress.so_far.trials.append(trial)
                progress.trial(trial)
            progress.so_far.events.update({k: v for k, v in event.items() if k not in ("trial", "stage")})
        seen[0] = len(lines)

    return tick


def _capture(path: Path, argv: list[str], located: Located, calls: int, budget: float, timeout: float,
             machine: Machine, options: ProfileOptions, main_guard: bool, workdir: Path,
             progress: Progress, dask_workers: int = 0) -> Measurement:
    spec = replace(
        sweep_spec("capture", path, argv, machine, options, main_guard, workdir, dask_workers, located.user_pool),
        function=located.function.name, is_coroutine=located.function.is_coroutine, expected_calls=calls,
        budget_s=budget, timeout_s=timeout,
        sample_every=1 if located.function.is_coroutine else sample_every(calls, located.loop_seconds, budget),
        loop_bodies=[located.loop_body.to_json()] if located.loop_body else [])
    tick = progress_reader(Path(spec.progress or ""), progress)
    try:
        finished = run_host(spec, rerun_timeout(located.script_seconds, budget + timeout), workdir, tick)
    except Interrupted as interrupted:
        tick()
        interrupted.partial = interrupted_report(machine, path, located, progress.so_far.trials,
                                                 progress.so_far.events, main_guard)
        raise
    tick()
    result = finished.result
    if result.measurement is not None:
        return result.measurement
    if finished.returncode is None:
        raise ScriptFailed(f"{path.name} did not finish within the time limit while being measured.")
    if result.host_error:
        raise HostFailed(f"paradvise failed while measuring: {result.host_error.strip().splitlines()[-1]}",
                         result.host_error)
    raise script_failure(finished, path)


def swept_executors(asked: tuple[str, ...], user_pool: Optional[dict[str, Any]]) -> list[str]:
    """The executors the sweep measures: those asked for, and the one the script uses itself."""
    out = [e for e in asked if e != "serial"]
    mine = (user_pool or {}).get("executor")
    if mine and mine not in out and mine in SUPPORTED_EXECUTORS:
        out.append(mine)
    return out


def _read_lines(path: Path) -> list[str]:
    try:
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []


def has_main_guard(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and "__name__" in ast.unparse(node.test):
            return True
    return False


def choose_executors(names: Optional[list[str]], dask: Optional[str]) -> tuple[str, ...]:
    """--executors as given, or the defaults plus dask when --dask names a cluster."""
    if names is None:
        return DEFAULT_EXECUTORS + (("dask",) if dask else ())
    if "dask" in names and not dask:
        raise UsageError("Measuring dask needs a cluster: add --dask local or --dask tcp://HOST:PORT.")
    return require_executors(names)


def require_executors(names: list[str]) -> tuple[str, ...]:
    known = executors.names()
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(f"Unknown executor(s): {', '.join(unknown)}; choose from {', '.join(known)}.")
    missing = [n for n in names if n not in SUPPORTED_EXECUTORS]
    if missing:
        raise UsageError(f"This Python cannot measure {', '.join(missing)} (not installed, or too old); "
                         f"choose from {', '.join(SUPPORTED_EXECUTORS)}.")
    return tuple(names)


def load_report(path: str) -> Report:
    try:
        data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"No such file: {path}") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path} is not a paradvise JSON report ({exc}).") from None
    try:
        return Report.from_json(data)
    except (ValueError, TypeError, KeyError) as exc:
        raise UsageError(f"{path} is not a paradvise JSON report ({exc}).") from None
