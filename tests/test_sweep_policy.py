"""The sweep's policy over a fake clock and modelled trials: no fork, no wall time.

``Sweep.execute`` is the one place a trial runs; here it returns a modelled time and moves
a fake clock by it, so the rules that spend the budget (who gets measured, how often,
when a run is cut short) are checked exactly and in milliseconds.
"""
from __future__ import annotations

import dataclasses
import sys
from typing import Any, Callable, Optional

from advisor.analyse import space
from advisor.sweep.budget import REPEATS
from advisor.sweep.isolate import Outcome
from advisor.sweep.runner import HOPELESS, HOPELESS_FLOOR_S, Facts, Sweep, SweepOptions
from advisor.sweep.subject import Subject

CALL_S = 0.01
OVERHEADS = {"process_start_s": 0.02, "process_task_s": 1e-4, "thread_task_s": 2e-5, "probe_workers": 2.0}


def work(x: int) -> int:
    return x


class FakeClock:
    def __init__(self, budget_s: float) -> None:
        self.now, self.deadline = 0.0, budget_s

    def left(self) -> float:
        return self.deadline - self.now

    def elapsed(self) -> float:
        return self.now


class ModelledSweep(Sweep):
    """A sweep whose trials take ``model(config, items)`` seconds of the fake clock."""

    def __init__(self, model: Callable[[space.Config, int], float], budget_s: float, items: int = 64,
                 executors: tuple[str, ...] = ("threads", "processes")) -> None:
        subject = Subject(module=sys.modules[__name__], name="work", original=work, is_coroutine=False,
                          style="single", items=list(range(items)), catch=False, total_items=items,
                          walls=[CALL_S] * items)
        options = SweepOptions(budget_s=budget_s, trial_timeout_s=budget_s, executors=list(executors),
                               usable_cpus=2, start_methods=("fork",), blas_variants=False)
        self.fake = FakeClock(budget_s)
        self.model, self.runs = model, []  # type: ignore[var-annotated]
        super().__init__(subject, [], options, self.fake)  # type: ignore[arg-type]

    def execute(self, config: space.Config, first: bool, inspect: bool, items: Optional[list[Any]],
                timeout: float) -> Outcome:
        mapped = self.subject.items if items is None else items
        seconds = self.model(config, len(mapped))
        self.runs.append((config, seconds, timeout))
        if seconds > timeout:
            self.fake.now += timeout
            return Outcome(False, error=f"timed out after {timeout:.2f} s", timed_out=True)
        self.fake.now += seconds
        return Outcome(True, {"seconds": seconds, "results": list(mapped) if first else None, "phases": {},
                              "globals": [], "files": [], "args_changed": False})

    def sweep(self) -> list[Any]:
        return self.run(Facts(cpu_ratio=1.0, gil={"speedup": 1.0}, overheads=dict(OVERHEADS)), lambda t: None)


def cpu_model(config: space.Config, n: int) -> float:
    """Work that holds the GIL: threads gain nothing, processes divide it over two CPUs."""
    serial = CALL_S * n
    if config.executor == "processes":
        return serial / min(config.workers, 2) + 0.02
    return serial


def test_every_planned_family_is_measured_before_a_second_configuration_of_any():
    s = ModelledSweep(cpu_model, budget_s=5.0)
    s.sweep()
    distinct: list[space.Config] = []
    for config, _, _ in s.runs:
        if config not in distinct:
            distinct.append(config)
    families = [c.executor for c in distinct]
    assert set(families[:3]) == {"serial", "threads", "processes"}


def test_a_first_of_its_family_may_use_the_reserve_but_never_the_whole_clock():
    # Six 0.3 s calls: after serial (1.8 s of 3 s), a process pool's predicted 0.9 s fits
    # the clock but not what is left once the closing rounds' reserve is kept.
    s = ModelledSweep(lambda c, n: (0.3 * n) / (2 if c.executor == "processes" else 1) + 0.02,
                      budget_s=3.0, items=6)
    trials = s.sweep()
    assert any(t.executor == "processes" and t.ok for t in trials), "no process pool measured at all"
    assert s.fake.now <= 3.0 + s.options.trial_timeout_s


def test_the_budget_is_a_ceiling_on_the_fake_clock():
    s = ModelledSweep(cpu_model, budget_s=2.0)
    s.sweep()
    longest = max(seconds for _, seconds, _ in s.runs)
    assert s.fake.now <= 2.0 + longest  # one trial in flight may overrun, no more


def test_a_hopeless_run_is_stopped_at_the_cutoff_not_the_trial_timeout():
    def model(config: space.Config, n: int) -> float:
        if config.executor == "threads":
            return 100.0  # a pathological pool
        return cpu_model(config, n)

    s = ModelledSweep(model, budget_s=30.0)
    trials = s.sweep()
    index = next(i for i, (c, seconds, _) in enumerate(s.runs) if seconds == 100.0)
    best = min(seconds for _, seconds, _ in s.runs[:index])
    timeout = s.runs[index][2]
    assert timeout == max(HOPELESS * best, best + HOPELESS_FLOOR_S)
    assert timeout < s.options.trial_timeout_s
    stopped = next(t for t in trials if t.executor == "threads")
    assert not stopped.ok and "cannot win" in (stopped.error or "")


def test_contenders_get_their_repeats_and_the_clearly_slower_one_run():
    s = ModelledSweep(cpu_model, budget_s=30.0)
    trials = s.sweep()
    best = min((t for t in trials if t.ok and t.executor != "serial"), key=lambda t: t.seconds)
    assert len(best.repeats) >= REPEATS
    # Threads take serial's time, 1.9x the fastest: one run shows it cannot win.
    slow = [t for t in trials if t.executor == "threads" and t.ok]
    assert slow and all(len(t.repeats) == 1 for t in slow)


def test_with_a_multithreaded_blas_oversubscribing_pools_are_planned_limited_first():
    s = ModelledSweep(cpu_model, budget_s=5.0)
    planned = [space.Config("threads", 2), space.Config("processes", 2, 4, "fork"), space.Config("threads", 1)]
    facts = Facts(cpu_ratio=1.0, gil={"speedup": 1.0}, overheads=dict(OVERHEADS), blas={"num_threads": 2})
    s.options = dataclasses.replace(s.options, blas_variants=True)
    limited = s.blas_limited_first(planned, facts)
    assert [c.blas_threads for c in limited] == [1, 1, None]  # 2 workers x 2 BLAS threads > 2 CPUs
    one_thread = Facts(cpu_ratio=1.0, gil=None, overheads={}, blas={"num_threads": 1})
    assert s.blas_limited_first(planned, one_thread) == planned
