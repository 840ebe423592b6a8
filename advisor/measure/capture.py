"""Recording the target's real calls while the user's script runs.

The recorder wraps the target function (via the decorator that ``wrapped_run.run_script``
adds). Each outermost call is recorded: its arguments (as the objects the script
passed, plus a pickled snapshot to detect later mutation), its result or exception,
and its wall, thread-CPU and process-CPU time. When the expected number of calls has
been seen, ``on_complete`` runs *inside that last call*, while the script's own
environment (servers, open files, state built in main) is still alive.
"""
from __future__ import annotations

import functools
import inspect
import os
import pickle
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import state
from .cpu_split import CpuSplit


@dataclass
class Call:
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any = None
    error: Optional[str] = None  # "TypeName: message" when the call raised
    wall: float = 0.0
    thread_cpu: float = 0.0
    process_cpu: float = 0.0
    args_pickle: Optional[bytes] = None  # None when the arguments cannot be pickled


SIDE_EFFECT_EXAMPLES = 3
# Audit events that change the world outside the process (sys.addaudithook, PEP 578),
# by the kind the report names. "open" counts only when it opens for writing.
SIDE_EFFECT_EVENTS = {
    "open": "files written", "os.remove": "files removed", "os.rename": "files renamed",
    "shutil.rmtree": "folders removed", "os.mkdir": "folders made", "os.chdir": "working-directory changes",
    "subprocess.Popen": "subprocesses", "os.system": "subprocesses", "socket.connect": "network connections",
}
# Loops of many short calls are recorded in part (pipeline.sample_every): from this many
# calls, where they take under this long each.
SAMPLE_FROM_CALLS = 2000
SAMPLE_BELOW_CALL_S = 100e-6
# os.open flags that mean writing.
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def watch_side_effects(recorder: "Recorder") -> None:
    """Note what the target's recorded calls do to files, processes and the network.

    An audit hook cannot be removed, so this is for the host process only, which ends
    with the script. It costs a set lookup per audited event, and more only inside a call.
    """
    def hook(event: str, args: tuple[Any, ...]) -> None:
        kind = SIDE_EFFECT_EVENTS.get(event)
        if kind is None or not recorder.in_call():
            return
        what = _side_effect_detail(event, args)
        if what is not None:
            recorder.note_side_effect(kind, what)

    sys.addaudithook(hook)


def _side_effect_detail(event: str, args: tuple[Any, ...]) -> Optional[str]:
    """What to show for one event (a path, a command, an address); None when it changes nothing."""
    if event == "open":
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        writes = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS)
        if not writes or not isinstance(path, (str, bytes, os.PathLike)):
            return None
        shown = os.fsdecode(path)
        # Bytecode Python caches when the call imports a module is no effect of the user's code.
        return None if "__pycache__" in shown or shown.startswith("/dev/") else shown
    if event == "subprocess.Popen":
        command = args[1] if len(args) > 1 else args[0]
        return " ".join(os.fsdecode(a) for a in command) if isinstance(command, (list, tuple)) else str(command)
    if event == "socket.connect":
        return str(args[1]) if len(args) > 1 else "?"
    return os.fsdecode(args[0]) if args and isinstance(args[0], (str, bytes, os.PathLike)) else str(args[:1])


# Calls recorded, and items kept for trials, come in runs of this many neighbours
# (see Recorder.sample_run and budget.subset_indices).
RUN_LENGTH = 64


# paradvise's own threads in the user's process (the warm pools of @advise, see api/pools.py).
OWN_THREADS = "paradvise-"


# Threads of the standard pools themselves (a Pool's task and result handlers, an executor's
# idle workers): they belong to the parallel code the advice replaces, not to the program.
POOL_MODULES = ("multiprocessing.pool", "concurrent.futures.thread", "concurrent.futures.process")


def _pool_machinery(thread: threading.Thread) -> bool:
    target = getattr(thread, "_target", None)
    return getattr(target, "__module__", None) in POOL_MODULES


@dataclass
class Recorder:
    expected_calls: int = 0  # 0: record every call, complete only at script exit
    record_items: bool = True
    on_complete: Optional[Callable[["Recorder"], None]] = None
    calls: list[Call] = field(default_factory=list)
    # Record one run of ``sample_run`` consecutive calls in every ``sample_every`` runs in
    # full (arguments, result, CPU clocks), and only count and time the others. A loop of
    # millions of sub-microsecond calls is swept on a subset of them anyway, and recording
    # each in full costs ~5 us: many times the call itself. Runs of neighbours, not every
    # n-th call, keep the items' memory layout: a pool pickling every 18th of a list's
    # tuples took 1.5x as long per item as one pickling them in order.
    sample_every: int = 1
    sample_run: int = RUN_LENGTH
    seen: int = 0  # outermost calls so far, recorded in full or not
    wall_total: float = 0.0  # their wall time, all of them
    errors_total: int = 0  # how many of them raised
    # Called once, with the first recorded call's arguments, before anything is timed
    # (the host forks its zygote there: see loop_fork.py).
    on_first_call: Optional[Callable[[tuple[Any, ...], dict[str, Any]], None]] = None
    original: Any = None
    completed: bool = False
    # Every ``give_up_at`` calls, ``give_up`` may end the recording for good, with no
    # measurement (the count run's recording of a guessed loop: count_and_record.py).
    give_up_at: int = 0
    give_up: Optional[Callable[["Recorder"], bool]] = None
    pickle_error: Optional[str] = None
    # Module state as it was at the first call, for the names the loop changed: trials
    # start from it, so a cache the real loop filled does not make replays look free.
    state_at_start: dict[str, bytes] = field(default_factory=dict)
    _start_snapshot: Optional[dict[str, bytes]] = None
    # Time the calling thread spent runnable but waiting for a CPU (Linux schedstat), from
    # the first call to the last: on a busy machine it must not be mistaken for I/O waits.
    runqueue_wait_s: float = 0.0
    span_s: float = 0.0
    # CPU time of child processes the calls started and waited for (subprocess.run): it is
    # work done for the calls, not waiting, though it does not show in this process.
    children_cpu_s: float = 0.0
    _sched_start: Optional[tuple[float, float, float]] = None
    # A plain function called from inside a running event loop blocks that loop; such
    # calls can move to threads with asyncio.to_thread, so that is worth measuring too.
    in_event_loop: bool = False
    is_generator: bool = False  # the target is a generator function (see _wrap_generator)
    # What the calls did outside the process, seen by an audit hook (see watch_side_effects):
    # kind ("files written", "subprocesses", ...) -> up to SIDE_EFFECT_EXAMPLES examples and a count.
    side_effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The script's other threads alive at the first call (a server, a progress bar): the
    # trials run in forked copies, where only the calling thread exists.
    other_threads: list[str] = field(default_factory=list)
    # Sample the calls' Python / native / system split of CPU time (see cpu_split.py):
    # the measuring run does; the @advise decorator, in the user's own process, does not.
    split_cpu: bool = False
    cpu_split: dict[str, float] = field(default_factory=dict)
    _sampler: Optional[CpuSplit] = None
    _depth: threading.local = field(default_factory=threading.local)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def in_call(self) -> bool:
        """Whether this thread is inside a recorded call of the target."""
        return getattr(self._depth, "value", 0) == 1 and not self.completed

    def note_side_effect(self, kind: str, what: str) -> None:
        with self._lock:
            entry = self.side_effects.setdefault(kind, {"count": 0, "examples": []})
            entry["count"] += 1
            if len(entry["examples"]) < SIDE_EFFECT_EXAMPLES and what not in entry["examples"]:
                entry["examples"].append(what)

    # -- wrapping ---------------------------------------------------------------
    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        self.original = fn
        if inspect.iscoroutinefunction(fn):
            return self._wrap_coroutine(fn)
        if inspect.isgeneratorfunction(fn):
            self.is_generator = True
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self._should_record():
                return fn(*args, **kwargs)
            self._first_call_hook(args, kwargs)
            if self._skip_this_one():
                return self._count_only(fn, args, kwargs)
            call = self._begin(args, kwargs)
            started = _clocks()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                call.error = f"{type(exc).__name__}: {exc}"
                self._end(call, started)
                raise
            # Inline, not a helper: this runs on every recorded call, and the call's clocks
            # stop in _end, so each extra frame would be counted as the target's own time.
            if self.record_items:
                call.result = result
            self._end(call, started)
            return result

        return wrapper

    def _first_call_hook(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Run ``on_first_call`` once, before the first recorded call is timed."""
        if self.on_first_call is not None:
            hook, self.on_first_call = self.on_first_call, None
            hook(args, kwargs)

    def _wrap_coroutine(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self._should_record():
                return await fn(*args, **kwargs)
            call = self._begin(args, kwargs)
            started = _clocks()
            try:
                result = await fn(*args, **kwargs)
            except BaseException as exc:
                call.error = f"{type(exc).__name__}: {exc}"
                self._end(call, started)
                raise
            # Inline, not a helper: this runs on every recorded call, and the call's clocks
            # stop in _end, so each extra frame would be counted as the target's own time.
            if self.record_items:
                call.result = result
            self._end(call, started)
            return result

        return wrapper

    def _wrap_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """A generator's call is recorded from its creation to its end: the arguments it was
        made with, what it yielded (as a list: the result a replay compares), and the
        time spent inside it while the caller consumed it."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not self._should_record():
                return fn(*args, **kwargs)
            self._first_call_hook(args, kwargs)
            call = self._begin(args, kwargs)
            self._depth.value = 0  # between resumptions the caller runs, not the target
            return self._consumed(fn(*args, **kwargs), call)

        return wrapper

    def _consumed(self, gen: Any, call: Call) -> Any:

        values: list[Any] = []
        spent = [0.0, 0.0, 0.0]

        def inside(resume: Callable[[], Any]) -> Any:
            self._depth.value = 1
            before = _clocks()
            try:
                return resume()
            finally:
                for i, (now, then) in enumerate(zip(_clocks(), before)):
                    spent[i] += now - then
                self._depth.value = 0

        try:
            for value in _resumed(gen, inside):
                if self.record_items:
                    values.append(value)
                yield value
        except BaseException as exc:
            if not isinstance(exc, GeneratorExit):
                call.error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            call.result = values if self.record_items else None
            call.wall, call.thread_cpu, call.process_cpu = spent
            self._finish_call(call)

    def _skip_this_one(self) -> bool:
        """Between two fully recorded calls (when sampling); never the last expected one."""
        if self.sample_every <= 1:
            return False
        last = self.expected_calls and self.seen + 1 >= self.expected_calls
        return not last and (self.seen // max(1, self.sample_run)) % self.sample_every != 0

    def _count_only(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self._depth.value = 1
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except BaseException:
            self.errors_total += 1
            raise
        finally:
            wall = time.perf_counter() - started
            self._depth.value = 0
            with self._lock:
                self.seen += 1
                self.wall_total += wall

    # -- bookkeeping ------------------------------------------------------------
    def _should_record(self) -> bool:
        # Only outermost calls count: a recursive target calls itself through the wrapper.
        return not self.completed and getattr(self._depth, "value", 0) == 0

    def _begin(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
        self._depth.value = 1
        if self._start_snapshot is None and self.record_items:
            self._start_snapshot = state.snapshot(self.original.__globals__)
        if self._sched_start is None:
            self._sched_start = (time.perf_counter(), runqueue_wait(), children_cpu())
            here = threading.current_thread()
            self.other_threads = [t.name for t in threading.enumerate() if t is not here and t.is_alive()
                                  and not t.name.startswith(OWN_THREADS) and not _pool_machinery(t)]
            asyncio = sys.modules.get("asyncio")
            self.in_event_loop = asyncio is not None and asyncio._get_running_loop() is not None
            if self.split_cpu:
                self._sampler = CpuSplit(self.in_call)
                self._sampler.start()
        snapshot = None
        if self.record_items and self.pickle_error is None:
            try:
                snapshot = pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - any pickling failure means "not picklable"
                self.pickle_error = f"{type(exc).__name__}: {exc}"
        if not self.record_items:
            args, kwargs = (), {}
        return Call(args=args, kwargs=kwargs, args_pickle=snapshot)

    def _end(self, call: Call, started: tuple[float, float, float]) -> None:
        wall, thread_cpu, process_cpu = (now - then for now, then in zip(_clocks(), started))
        call.wall, call.thread_cpu, call.process_cpu = wall, thread_cpu, process_cpu
        self._depth.value = 0
        self._finish_call(call)

    def _finish_call(self, call: Call) -> None:
        with self._lock:
            if self.completed:
                return
            self.calls.append(call)
            self.seen += 1
            self.wall_total += call.wall
            self.errors_total += call.error is not None
            done = self.expected_calls and self.seen >= self.expected_calls
            gave_up = (self.give_up is not None and self.seen % max(1, self.give_up_at) == 0
                       and self.give_up(self))
            if done or gave_up:
                self.completed = True
        if gave_up:
            self.abandon()
        elif done:
            self.finish()

    def abandon(self) -> None:
        """Stop recording, with nothing measured: later calls run as if unwrapped."""
        self.completed = True
        self.on_complete = None
        if self._sampler is not None:
            self._sampler.stop()
            self._sampler = None

    def finish(self) -> None:
        """Run ``on_complete`` once (at the last expected call, or at script exit)."""
        self.completed = True
        if self._sampler is not None:
            self._sampler.stop()
            self.cpu_split = self._sampler.percents()
            self._sampler = None
        if self._sched_start is not None:
            self.span_s = time.perf_counter() - self._sched_start[0]
            self.runqueue_wait_s = max(0.0, runqueue_wait() - self._sched_start[1])
            self.children_cpu_s = max(0.0, children_cpu() - self._sched_start[2])
        if self._start_snapshot is not None:
            before = state.digest_of_snapshot(self._start_snapshot)
            changed = state.changed_globals(before, state.globals_digest(self.original.__globals__))
            self.state_at_start = {k: self._start_snapshot[k] for k in changed if k in self._start_snapshot}
            self._start_snapshot = None
        callback, self.on_complete = self.on_complete, None
        if callback is not None:
            callback(self)


def _resumed(gen: Any, inside: Callable[[Callable[[], Any]], Any]) -> Any:
    """Iterate ``gen``, each resumption run through ``inside`` (which times it)."""
    while True:
        try:
            value = inside(lambda: next(gen))
        except StopIteration:
            return
        yield value


def children_cpu() -> float:
    times = os.times()
    return times.children_user + times.children_system


def runqueue_wait() -> float:
    """Seconds this thread has waited on a run queue so far (0.0 where Linux does not say)."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as handle:
            return int(handle.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def _clocks() -> tuple[float, float, float]:
    return time.perf_counter(), time.thread_time(), time.process_time()
