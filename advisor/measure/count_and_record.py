"""The count run's recording of the loop the script's text shows (see speculate.py).

In the measuring child's count mode, the guessed function's counter wraps a ``Recorder``
(the counter outermost, so the call sites it notes are the script's lines). The zygote is
forked at its first call, as in a capture run. Right after the loop's statement,
``check`` asks the counts so far whether this is the loop the count would find, and
whether the recording can stand for a capture run's; if so, the sweep runs there.

What this run spent on the recording and the sweep is not the script's time:
``without_own_time`` takes it out of the run's wall, and the recording's cost per call
comes out of the guessed function's counted time, so the locate result reads as a plain
count run's.
"""
from __future__ import annotations

import inspect
import json
import sys
import time
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Callable, Iterator, Optional

from ..model import Measurement
from ..sweep.allowance import default_timeout, sweep_budget
from .boundary import RunSpec
from .capture import SAMPLE_BELOW_CALL_S, SAMPLE_FROM_CALLS, Recorder, watch_side_effects
from .counting import CallCounter, summarize
from .locate import MIN_WORK_SHARE, enclosing, loop_functions
from .loop_fork import ZYGOTE_MAX_CALLS
from .speculate import Guess

# The counters on the functions the guessed one calls stay in its recorded times and in
# the trials (light: a count and a call, ~0.1 us). Past this share of its time, the
# recording is not the function's own and the capture run measures it without them.
NESTED_COST_SHARE = 0.02


class CountAndRecord:
    def __init__(self, spec: RunSpec, counters: dict[str, CallCounter], overheads: tuple[float, float, float],
                 imports: Any) -> None:
        self.spec, self.guess = spec, Guess.from_json(spec.speculate or {})
        self.counters, self.overheads, self.imports = counters, overheads, imports
        self.recorder = Recorder(split_cpu=True, give_up_at=SAMPLE_FROM_CALLS, give_up=self._too_short)
        watch_side_effects(self.recorder)
        self.zygote: list[Any] = []
        self.at_start: dict[int, Any] = {}
        self.result: dict[str, Any] = {}
        self.started = time.perf_counter()
        self.own_s = 0.0  # the check and the sweep: time in the run that is not the script's
        # What recording (the zygote's fork included) added to the guessed function's counted
        # time, taken while every call of it so far was recorded; None until then.
        self.recording_s: Optional[float] = None
        self.recorded_calls = 0
        self.checked = False
        self.recorder.on_first_call = self._fork_zygote
        self.uncounted: list[tuple[Any, str, Any]] = []  # (owner, name, counted function) to put back

    def decorator(self, counter: CallCounter) -> Callable[[Any], Any]:
        return lambda fn: counter.wrap(self.recorder.wrap(fn))

    def _fork_zygote(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        from .measuring_child import fork_zygote

        self.uncounted = uncount(self.guess.inside)
        fork_zygote(self.spec, self.recorder, self.zygote, self.at_start, args, kwargs,
                    before_serving=lambda: lighten(self.counters))

    def _too_short(self, recorder: Recorder) -> bool:
        """Checked every SAMPLE_FROM_CALLS calls: stop recording a loop the capture run would
        record in part (recording each of those costs ~5 us: it records them as it always has),
        or whose recording the zygote could not take."""
        if recorder.wall_total >= SAMPLE_BELOW_CALL_S * recorder.seen and recorder.seen <= ZYGOTE_MAX_CALLS:
            return False
        self._note_recording_cost()
        self.close()
        return True

    def _note_recording_cost(self) -> None:
        counter = self.counters.get(self.guess.function)
        if self.recording_s is None and counter is not None and not self.recorder.completed:
            self.recording_s = max(0.0, counter.total_s - self.recorder.wall_total)

    def check(self) -> None:
        """Right after the loop: measure here when the recording is the loop's (see ``viable``)."""
        if self.checked:
            return
        self.checked = True
        started = time.perf_counter()
        rec = self.recorder
        self._note_recording_cost()
        counted = self.counted_so_far()
        if not self.viable(counted["functions"], counted["work_s"]):
            count_again(self.uncounted)
            self.close()
            rec.abandon()
            return
        budget = self.spec.budget_s or sweep_budget(rec.wall_total, self.spec.usable_cpus, self.spec.dask_workers,
                                                    self.spec.what_if_cpus)
        timeout = self.spec.timeout_s or default_timeout(rec.wall_total, self.spec.dask_workers)
        sweep_spec = replace(self.spec, mode="capture", function=self.guess.function, expected_calls=rec.seen,
                             budget_s=budget, timeout_s=timeout, budget_from_loop=False, speculate=None)
        self.recorded_calls = rec.seen
        self._tell({"stage": f"Measuring {self.guess.function} ({rec.seen} calls) within {budget:.0f} s",
                    "counted": {k: v for k, v in counted.items() if k != "work_s"}})
        from .measuring_child import _measure

        rec.on_complete = lambda r: self.result.update(_measure(sweep_spec, r, self.zygote, self.at_start))
        with lightened(self.counters):  # where the sweep runs here, not in the zygote
            rec.finish()
        count_again(self.uncounted)  # the rest of the script is counted as before
        self.own_s += time.perf_counter() - started

    def counted_so_far(self) -> dict[str, Any]:
        counts, overhead_s = summarize(self.counters, *self.overheads)
        guess = counts.get(self.guess.function)
        if guess is not None:
            guess["total_s"] = max(0.0, guess["total_s"] - (self.recording_s or 0.0))
        wall = time.perf_counter() - self.started - self.own_s - (self.recording_s or 0.0)
        work_s = max(wall - self.imports.seconds - overhead_s, MIN_WORK_SHARE * wall)
        return {"wall_s": wall, "functions": counts, "import_s": self.imports.seconds, "counting_s": overhead_s,
                "work_s": work_s}

    def viable(self, counts: dict[str, dict[str, Any]], work_s: float) -> bool:
        """Whether the recording stands for a capture run's: the guess is the loop the counts
        show, every call of it was recorded, and the counters inside its calls cost little."""
        rec, name = self.recorder, self.guess.function
        loops = loop_functions(counts, work_s)
        if rec.completed or not rec.calls or not loops or loops[0]["name"] != name:
            return False
        if counts[name]["calls"] != rec.seen or rec.seen > ZYGOTE_MAX_CALLS:
            return False
        inside = sum(c["calls"] for other, c in counts.items() if other != name and name in enclosing(counts, other))
        return inside * self.overheads[1] <= NESTED_COST_SHARE * rec.wall_total

    def _tell(self, event: dict[str, Any]) -> None:
        if self.spec.progress:
            with open(self.spec.progress, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(event) + "\n")

    def measurement(self) -> Optional[Measurement]:
        found = self.result.get("measurement")
        return Measurement.from_json(found) if found else None

    def without_own_time(self, wall: float) -> float:
        """The run's wall less the sweep and what recording added to the calls."""
        self._note_recording_cost()
        counter = self.counters.get(self.guess.function)
        if counter is not None:
            counter.total_s = max(0.0, counter.total_s - (self.recording_s or 0.0))
        return max(0.0, wall - self.own_s - (self.recording_s or 0.0))

    def close(self) -> None:
        for unused in self.zygote:
            unused.discard()
        self.zygote.clear()
        self.at_start.clear()


def uncount(names: tuple[str, ...]) -> list[tuple[Any, str, Any]]:
    """Let the functions the script's ``names`` hold run without their counters from now on.

    The loop's function is the outermost one the count looks for: the functions it calls
    only add detail below it, and their counters cost it (a helper called 400,000 times in
    a 0.34 s loop added 0.2 s to its recorded time, and to every trial in the zygote). So
    while the loop runs, the names its text reaches (speculate.reached_from) are bound to
    the functions themselves; ``count_again`` puts the counters back. Other functions, ones
    the loop's body may call beside it, are counted as ever.
    """
    from .user_pools import COUNTED_NAME

    script = sys.modules["__main__"]
    changed: list[tuple[Any, str, Any]] = []
    for name in names:
        value = vars(script).get(name)
        if inspect.isfunction(value) and getattr(value, COUNTED_NAME, None) and hasattr(value, "__wrapped__"):
            setattr(script, name, value.__wrapped__)
            changed.append((script, name, value))
    return changed


def count_again(changed: list[tuple[Any, str, Any]]) -> None:
    for owner, name, counted in changed:
        setattr(owner, name, counted)
    changed.clear()


def lighten(counters: dict[str, CallCounter]) -> dict[str, int]:
    """Make every counter only count (no clocks, no stack); returns what to restore."""
    before = {name: c.light_from for name, c in counters.items()}
    for c in counters.values():
        c.light_from = c.light_from or max(1, c.calls)
    return before


@contextmanager
def lightened(counters: dict[str, CallCounter]) -> Iterator[None]:
    """While the sweep runs in this process, the counters only count, and then count again as before."""
    before = lighten(counters)
    try:
        yield
    finally:
        for name, light_from in before.items():
            counters[name].light_from = light_from
