"""The process that runs the user's script: ``python -m advisor.measure.measuring_child SPEC.json``.

The paradvise command never runs user code itself; it starts this host with a JSON
spec and reads back a JSON result. Modes:

- ``count``:    run the script with every function wrapped; count and time their calls (counting.py).
- ``capture``:  run the script with the target wrapped; at the last expected call,
                measure and sweep (``measure.measure_target``) while the script is alive.

Exit status: 0 done; 3 the script failed (its traceback is on stderr); 4 paradvise failed.
"""
from __future__ import annotations

import json
import os
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ..errors import ScriptError
from .boundary import RunResult, RunSpec
from .loop_body import LoopBody

SCRIPT_FAILED = 3
HOST_FAILED = 4
_ADVISOR_DIR = str(Path(__file__).resolve().parent)


def _write_json(path: str, data: Any) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def _user_traceback(exc: BaseException) -> str:
    """The script's own traceback, without paradvise's frames (runner and call wrapper)."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_ADVISOR_DIR)]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)]
    return "".join(lines + traceback.format_exception_only(type(exc), exc))


def _run(spec: RunSpec, wrappers: Optional[dict[str, Any]] = None,
         after_loop: Optional[Callable[[], None]] = None) -> float:
    """Run the script; return its wall time. Raise ScriptError if it fails.
    ``after_loop``: called right after the guessed loop's statement (``spec.speculate``)."""
    from .speculate import Guess
    from .wrapped_run import run_script

    checks = (Guess.from_json(spec.speculate), after_loop) if spec.speculate and after_loop else None
    started = time.perf_counter()
    try:
        run_script(Path(spec.script), spec.argv, wrappers, [LoopBody.from_json(b) for b in spec.loop_bodies],
                   checks)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            raise ScriptError(f"the script exited with status {exc.code}") from None
    except BaseException as exc:  # noqa: BLE001 - any failure of the user's code
        sys.stderr.write(_user_traceback(exc))
        raise ScriptError(f"the script raised {type(exc).__name__}: {exc}") from None
    finally:
        sys.stdout.flush()
    return time.perf_counter() - started


# -- modes ---------------------------------------------------------------------------
def mode_count(spec: RunSpec) -> RunResult:
    """Count and time the outermost calls of every function of the script and of the
    user's modules, with their parents in the call tree and their call sites (see counting.py)."""
    from .counting import CallCounter, CallTree, ImportClock, counter_overhead, summarize
    from .user_pools import add_to_counter, merged, run_here, watch_maps
    from .wrapped_run import AllWrappers

    if spec.python:
        outside_scalene(spec.python)
    tree = CallTree()
    counters: dict[str, CallCounter] = {}
    inside, whole, light = counter_overhead()
    imports = ImportClock()
    speculation = None
    if spec.speculate:  # the loop the script's text shows is recorded too (see speculate.py)
        from .count_and_record import CountAndRecord

        speculation = CountAndRecord(spec, counters, (inside, whole, light), imports)

    def counter_for(name: str) -> Callable[[Any], Any]:
        counters[name] = CallCounter(name, tree)
        if speculation is not None and name == speculation.guess.function:
            return speculation.decorator(counters[name])
        return counters[name].wrap

    pools: list[Any] = []

    def note_pool(pool: Any, fn: Any) -> None:
        pools.append(pool)
        if pool.function in counters:
            stack = tree.stack()
            add_to_counter(counters[pool.function], pool, stack[-1] if stack else "")

    imports.install()
    watch_maps(note_pool)
    run_here(note_pool, lambda: True)
    wrappers = AllWrappers(counter_for)
    if spec.wanted and ":" in spec.wanted:
        wrappers[spec.wanted]  # made now, so a module imported already is wrapped too (--function json:dumps)
    try:
        wall = _run(spec, wrappers, speculation.check if speculation else None)
    finally:
        if speculation is not None:
            speculation.close()
    measurement, recorded = None, 0
    if speculation is not None:
        wall = speculation.without_own_time(wall)
        measurement, recorded = speculation.measurement(), speculation.recorded_calls
    counts, overhead_s = summarize(counters, inside, whole, light)  # what all the counters added: not the script's
    return RunResult(wall_s=wall, functions=counts, import_s=imports.seconds, counting_s=overhead_s,
                     user_pools=[p.to_json() for p in merged(pools)], measurement=measurement, calls=recorded)


def outside_scalene(python: str) -> None:
    """Let the script's child interpreters run as they would without scalene.

    Scalene points ``sys.executable`` and the front of ``PATH`` at a shell script that
    starts every child Python under scalene too. A script that runs a Python tool per item
    then takes ~14x longer (samples/subprocess_calls: 18.7 s against 1.3 s), and the
    budget, which scales with this run's loop time, with it. Only the script's own file is
    profiled, so the children need nothing from scalene.
    """
    alias_dir = os.path.dirname(sys.executable)
    if os.path.realpath(sys.executable) == os.path.realpath(python) or not os.path.basename(
            alias_dir).startswith("scalene"):
        return
    sys.executable = python
    entries = os.environ.get("PATH", "").split(os.pathsep)
    os.environ["PATH"] = os.pathsep.join(e for e in entries if e != alias_dir)
    if "multiprocessing.spawn" in sys.modules:  # it keeps its own copy, taken at import
        sys.modules["multiprocessing.spawn"].set_executable(python)


def mode_capture(spec: RunSpec) -> RunResult:
    from .capture import Recorder, watch_side_effects

    result: dict[str, Any] = {}
    from .user_pools import run_here, serial_maps

    recorder = Recorder(expected_calls=spec.expected_calls, sample_every=spec.sample_every, split_cpu=True)
    watch_side_effects(recorder)
    # A loop the script runs in a pool is recorded here, call by call.
    serial_maps(lambda: not recorder.completed)
    run_here(None, lambda: not recorder.completed)
    zygote: list[Any] = []
    at_start: dict[int, Any] = {}  # large str and bytes alive at the fork, held so their ids stay theirs
    recorder.on_first_call = lambda args, kwargs: fork_zygote(spec, recorder, zygote, at_start, args, kwargs)
    recorder.on_complete = lambda rec: result.update(_measure(spec, rec, zygote, at_start))
    script_error = None
    try:
        try:
            result["wall_s"] = _run(spec, {spec.function: recorder.wrap})
        except ScriptError as exc:
            script_error = str(exc)
    finally:
        for unused in zygote:
            unused.discard()
    if not result.get("measurement") and recorder.calls:
        # Fewer calls than counted before (the script is not deterministic): measure now,
        # after the loop, and say so.
        recorder.on_complete = lambda rec: result.update(_sweep(spec, rec, late=True))
        recorder.finish()
    if "measurement" not in result and script_error:
        raise ScriptError(script_error)
    result["calls"] = recorder.seen
    result["script_error"] = script_error
    return RunResult.from_json(result)  # the measurement travelled as JSON from the zygote


def fork_zygote(spec: RunSpec, recorder: Any, zygote: list[Any], at_start: dict[int, Any], args: tuple[Any, ...],
                kwargs: dict[str, Any], before_serving: Callable[[], None] = lambda: None) -> None:
    """At the first call: fork the zygote the sweep will run in (see loop_fork.py), where it can."""
    from .loop_fork import Zygote, buffers_in_reach, holds_large_buffer

    if not _zygote_possible(spec):
        return
    if holds_large_buffer([*args, *kwargs.values()]):
        at_start.update(buffers_in_reach(sys._getframe(), sys.modules["__main__"].__dict__))

    def serve(request: bytes) -> dict[str, Any]:
        before_serving()
        return _serve_in_zygote(spec, recorder, request)

    made = Zygote.fork_here(serve)
    zygote.extend([made] if made else [])


def _zygote_possible(spec: RunSpec) -> bool:
    """Measure from a zygote (see loop_fork.py) only in the plain case: a function called in the
    main thread, outside any event loop, not too many times to send the recording over;
    and not when PARADVISE_ZYGOTE=0 asks otherwise."""
    import threading

    if spec.is_coroutine or os.environ.get("PARADVISE_ZYGOTE") == "0":
        return False
    from .loop_fork import ZYGOTE_MAX_CALLS

    if spec.expected_calls // max(1, spec.sample_every) > ZYGOTE_MAX_CALLS:
        return False  # sending that many recorded calls costs more than the zygote is worth
    asyncio = sys.modules.get("asyncio")
    in_loop = asyncio is not None and asyncio._get_running_loop() is not None
    return threading.current_thread() is threading.main_thread() and not in_loop


def _measure(spec: RunSpec, recorder: Any, zygote: list[Any], at_start: dict[int, Any]) -> dict[str, Any]:
    """At the last call: measure in the zygote when there is one and the recording can be sent."""
    request = _recording_for_zygote(recorder, at_start, spec) if zygote else None
    at_start.clear()
    if request is None:
        for unused in zygote:
            unused.discard()
        zygote.clear()
        return _sweep(spec, recorder)
    answer = zygote.pop().run(request, spec.budget_s + 2 * spec.timeout_s + ZYGOTE_SLACK_S)
    if "zygote_declined" in answer:  # it lacks some argument (made during the loop): measure here
        return _sweep(spec, recorder)
    return answer


# The zygote's whole measurement may overrun the budget by a trial's timeout (see pipeline.py).
ZYGOTE_SLACK_S = 30.0
# What the zygote needs of the parent's recorder besides the calls.
RECORDER_FIELDS = ("state_at_start", "runqueue_wait_s", "span_s", "children_cpu_s", "in_event_loop",
                   "pickle_error", "seen", "wall_total", "errors_total", "side_effects", "other_threads",
                   "cpu_split")


def _recording_for_zygote(recorder: Any, at_start: dict[int, Any], spec: RunSpec) -> Optional[bytes]:
    """The recorded calls and timings, and the spec to measure them by (the count run's
    budget is set at the loop's end: count_and_record.py), as one pickle; None when they
    cannot be pickled.

    Each call's arguments are sent as they were at the call: the objects themselves when
    unchanged since, the snapshot taken at the call otherwise. One pickle for all keeps
    items that share an object sharing it. Unchanged numpy arrays go by reference: the
    zygote holds them already (see zygote.ArrayRef), and so do large str and bytes that
    existed when it was forked (``at_start``; loop_fork.dumps_referring).
    """
    from dataclasses import replace

    from ..sweep.items import arguments_at_call
    from .loop_fork import as_reference, dumps_referring

    if recorder.pickle_error:
        return None
    calls = []
    for call in recorder.calls:
        args, kwargs = arguments_at_call(call)
        if args is call.args:  # the live objects, unchanged since the call
            args = tuple(as_reference(a) for a in args)
            kwargs = {k: as_reference(v) for k, v in kwargs.items()}
        calls.append(replace(call, args=args, kwargs=kwargs, args_pickle=None))
    fields = {name: getattr(recorder, name) for name in RECORDER_FIELDS}
    try:
        return dumps_referring({"calls": calls, "fields": fields, "spec": spec.to_json()}, at_start)
    except Exception:  # noqa: BLE001 - e.g. results that cannot be pickled: measure in the parent
        return None


def _serve_in_zygote(spec: RunSpec, recorder: Any, request: Any) -> dict[str, Any]:
    """In the zygote: take over the parent's recording, then measure from here."""

    from .loop_fork import arrays_in_reach, buffers_in_reach, loads_referring, resolve

    here, script = sys._getframe(), sys.modules["__main__"].__dict__
    try:
        data = loads_referring(request, lambda: buffers_in_reach(here, script))
        arrays = arrays_in_reach(here, script)
        for call in data["calls"]:
            call.args = tuple(resolve(a, arrays) for a in call.args)
            call.kwargs = {k: resolve(v, arrays) for k, v in call.kwargs.items()}
    except LookupError as missing:
        return {"zygote_declined": str(missing)}
    recorder.calls = data["calls"]
    for name, value in data["fields"].items():
        setattr(recorder, name, value)
    recorder.completed = True
    return _sweep(RunSpec.from_json(data["spec"]), recorder, measured_from="loop start")


def _sweep(spec: RunSpec, recorder: Any, late: bool = False,
           measured_from: str = "last call") -> dict[str, Any]:
    from dataclasses import replace

    from ..sweep.allowance import recorded_budget
    from ..sweep.runner import SweepOptions
    from .target import measure_target

    budget = spec.budget_s
    if spec.budget_from_loop:
        budget = recorded_budget(spec.budget_s, recorder.wall_total, spec.usable_cpus, spec.dask_workers,
                                 spec.what_if_cpus)
    options = SweepOptions(budget_s=budget, trial_timeout_s=spec.timeout_s,
                           executors=spec.executors, usable_cpus=spec.usable_cpus,
                           start_method=spec.start_method, folders=spec.folders,
                           main_guard=spec.main_guard, dask=spec.dask,
                           dask_workers=spec.dask_workers, l2_bytes=spec.l2_bytes,
                           user_pool=spec.user_pool, what_if_cpus=spec.what_if_cpus)
    module = sys.modules["__main__"]
    progress = spec.progress

    def on_event(event: dict[str, Any]) -> None:
        if progress:
            with open(progress, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(event) + "\n")

    def on_trial(trial: Any) -> None:
        on_event({"trial": trial.to_json()})

    try:
        with cells_unwrapped(recorder.original):
            measurement = measure_target(recorder, module, spec.function, spec.is_coroutine, options,
                                         on_trial, on_event, cloudpickle_fallback=True)
    except Exception:  # noqa: BLE001 - report paradvise's own failure, let the script go on
        return {"host_error": traceback.format_exc()}
    measurement = replace(measurement, late=late, measured_from=measured_from)
    return {"measurement": measurement.to_json()}


@contextmanager
def cells_unwrapped(target: Callable[..., Any]) -> Iterator[None]:
    """While the sweep runs, let a recursive closure call itself, not the capture wrapper.

    A closure (or a lambda bound inside a function) calls itself through a cell of the
    function it is defined in, and that cell holds the capture wrapper around it, recorder
    and all, which cloudpickle cannot send to joblib's or Dask's workers. During the sweep,
    and so in the trial children forked from it, such cells hold the target itself; the
    script gets them back when the sweep ends.
    """
    changed = []
    fn: Any = target
    for _ in range(8):  # the target and what it wraps (a user's decorator around the def)
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                held = cell.cell_contents
            except ValueError:  # a cell not filled in yet
                continue
            if _wraps(held, target):  # the capture wrapper (a count run's counter around it) is outermost
                changed.append((cell, held))
                cell.cell_contents = target
        fn = getattr(fn, "__wrapped__", None)
        if fn is None:
            break
    try:
        yield
    finally:
        for cell, held in changed:
            cell.cell_contents = held


def _wraps(held: Any, target: Any) -> bool:
    for _ in range(2):
        held = getattr(held, "__wrapped__", None)
        if held is target:
            return True
    return False


MODES = {"count": mode_count, "capture": mode_capture}


def main(argv: list[str]) -> int:
    spec = RunSpec.from_json(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    try:
        result = MODES[spec.mode](spec)
    except ScriptError as exc:
        _write_json(spec.out, RunResult(script_error=str(exc)).to_json())
        return SCRIPT_FAILED
    except BaseException:  # noqa: BLE001
        _write_json(spec.out, RunResult(host_error=traceback.format_exc()).to_json())
        return HOST_FAILED
    _write_json(spec.out, result.to_json())
    return 0


if __name__ == "__main__":
    import atexit

    code = main(sys.argv[1:])
    atexit._run_exitfuncs()  # the script's own clean-up, as at a normal exit
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip the rest of interpreter shutdown: it joins non-daemon threads the script may
    # have left running, which could hang for ever.
    os._exit(code)
