"""The sweep's closing rounds: settle the contenders, confirm the leader, project to the whole loop.

After the coarse pass (``runner.Sweep.run``) has timed each planned configuration, what
is left of the budget goes to the few that could win: more repeats for those within
``CONTENDER_MARGIN`` of the fastest, serial and the leader side by side, and, when the
trials ran on a subset, the projection of the finalists to all the items.
"""
from __future__ import annotations

import statistics
from dataclasses import replace
from typing import Any, Iterable, Optional

from .. import executors
from ..analyse import space
from ..analyse.workload import is_pool_default, pool_default_chunk
from .budget import (
    REPEATS,
    config_of,
    fixed_cost,
    projected_seconds,
    second_size,
    spread_indices,
    with_more_runs,
)

# Configurations within this factor of the fastest are contenders: they get their full
# repeats before the choice is made (see Sweep.settle).
CONTENDER_MARGIN = 1.15
SETTLE_RESERVE = 0.1  # share of the budget the coarse pass leaves for that
# Predicted trial times are rough: skip a configuration only when its prediction times
# this margin does not fit the remaining budget.
PREDICTION_MARGIN = 1.5
# Trials on a subset are projected to the whole loop (Sweep.project; see
# budget.PROJECTION_FRACTION for why the short run is cheap and repeated).
SHORT_RUNS_PER_ROUND = 2
PROJECTION_FINALISTS = 2  # the fastest parallel executors, one configuration each
PROJECTION_FROM_RATIO = 1.5  # whole loop / subset; below it, proportion is close enough
# Share of the budget the coarse pass leaves for the projections: a projection multiplies
# the noise of its timings by total / subset, so repeated rounds are worth more than
# one more configuration.
PROJECTION_RESERVE = 0.3
PROJECTION_MIN_ITEMS = 128  # fewer: an eighth of them is too few to tell fixed costs apart
# The probes time one pool start-up each; a bound built on one measurement takes twice it.
START_UP_JITTER = 2.0


def fixed_cost_bound(trial: Any, overheads: dict[str, float], walls: list[float]) -> Optional[float]:
    """The most a configuration's fixed cost can be: its pool's start-up and hand-overs (as the
    executor bounds them from the probes), and the wait for its last chunk (the longest
    recorded items, a chunk of them). None where the executor gives no bound."""
    bound = executors.start_up_s(config_of(trial), overheads)
    if bound is None:
        return None
    chunk = max(1, trial.chunksize or 1)
    last_chunk = sum(sorted(walls, reverse=True)[:chunk])
    return START_UP_JITTER * bound + last_chunk


def bounded_fixed_cost(trial: Any, fitted_s: float, overheads: dict[str, float], walls: list[float]) -> float:
    """The fitted fixed cost, never more than the most it can be (``fixed_cost_bound``).

    The fit's noise is multiplied by the gap between the two sizes (an eighth of the
    subset): spell_correct's process pool fitted 0.100 s of fixed cost in a 0.154 s run,
    where its start-up was 8 ms, and its projection claimed 3.77x for a pool that measured
    1.87x over the whole loop.
    """
    bound = fixed_cost_bound(trial, overheads, walls)
    return fitted_s if bound is None else min(fitted_s, bound)


def can_win_projected(trial: Any, reference_s: float, overheads: dict[str, float], walls: list[float]) -> bool:
    """Whether projecting ``trial`` to the whole loop could make it faster than a trial that took
    ``reference_s`` on the subset.

    A projection is ``fixed + (seconds - fixed) * total / n`` with total >= n, so it is at
    most the time scaled in proportion, and at least ``(seconds - fixed)`` so scaled: a
    trial whose time less the most its fixed cost can be is still over the reference's
    cannot overtake it (sorted_key: two threads on work that holds the GIL, 0.56 s
    against 0.25 s for processes, were projected at the cost of a whole round).
    """
    bound = fixed_cost_bound(trial, overheads, walls)
    return bound is None or (trial.seconds or 0.0) - bound < reference_s


class ClosingRounds:
    """Mixed into ``runner.Sweep``: it provides trials, subject, clock, left() and _time_into()."""

    trials: list[Any]
    subject: Any
    overheads: dict[str, float]  # the probes' (Facts.overheads)
    clock: Any
    left: Any  # () -> seconds of budget left for trials
    _time_into: Any  # (config, items or None, into) -> whether the run succeeded

    def settle(self) -> None:
        """Give the contenders the repeats a short budget denied them.

        A configuration timed twice has as its median the mean of the two, and one wild run
        (0.049 s next to 0.109 s) then moves it by a quarter; its spread makes it tie with
        everything near it, and the tie goes to the simplest. Each configuration within
        ``CONTENDER_MARGIN`` of the fastest is brought up to ``REPEATS`` runs, fastest first,
        while the budget lasts.
        """
        done = [i for i, t in enumerate(self.trials) if t.ok and t.seconds and t.results_match is not False]
        if not done:
            return
        best = min(self.trials[i].seconds or 0.0 for i in done)
        contenders = sorted((i for i in done if (self.trials[i].seconds or 0.0) <= CONTENDER_MARGIN * best
                             and len(self.trials[i].repeats) < REPEATS),
                            key=lambda i: self.trials[i].seconds or 0.0)
        for index in contenders:
            t = self.trials[index]
            more: list[float] = []
            while len(t.repeats) + len(more) < REPEATS and (t.seconds or 0.0) * PREDICTION_MARGIN <= self.left():
                if not self._time_into(config_of(t), None, more):
                    break
            if more:
                self.trials[index] = with_more_runs(t, more)

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
        if cost * PREDICTION_MARGIN > self.left():
            return
        for index in (serial, leader):
            more: list[float] = []
            if self._time_into(config_of(self.trials[index]), None, more):
                self.trials[index] = with_more_runs(self.trials[index], more)

    def _pool_default_contender(self, done: list[int], fastest: Optional[int], n: int) -> Optional[int]:
        """The process pool at Pool.map's default chunking, where another chunk size of it was
        faster on the subset but by less than CONTENDER_MARGIN. Its chunks are a share of the
        items, the others' a size: on the whole loop it hands over as few chunks as here and
        they many more, which the subset's ranking does not show, so it is projected too."""
        if fastest is None or is_pool_default("processes", self.trials[fastest].workers,
                                              self.trials[fastest].chunksize, n):
            return None
        best = self.trials[fastest].seconds or 0.0
        return next((i for i in done if is_pool_default(self.trials[i].executor, self.trials[i].workers,
                                                        self.trials[i].chunksize, n)
                     and (self.trials[i].seconds or 0.0) <= CONTENDER_MARGIN * best), None)

    def projecting(self) -> bool:
        n = len(self.subject.items)
        return n >= PROJECTION_MIN_ITEMS and self.subject.total_items >= PROJECTION_FROM_RATIO * n

    def project(self, ruled_out: Iterable[str] = ()) -> None:
        """Project serial and the fastest parallel configurations from the subset to the whole loop.

        Each finalist runs again on about an eighth of the subset; the line through the two
        sizes gives its fixed cost, which is paid once however many items there are. Serial
        has none: its time grows with the items. The rounds interleave serial, each finalist
        on the subset and each on the smaller list, so a drift in the machine's load
        between the coarse pass and now falls on all of them alike. Those not measured at
        the second size keep no projection, and the recommendation compares only projected
        times.
        """
        if not self.projecting():
            return
        n, scale = len(self.subject.items), self.subject.loop_scale()
        done = sorted((i for i, t in enumerate(self.trials) if t.ok and t.seconds and t.results_match is not False),
                      key=lambda i: self.trials[i].seconds or 0.0)
        serial = next((i for i in done if self.trials[i].executor == "serial"), None)
        if serial is None:
            return
        excluded = set(ruled_out)
        fastest: dict[str, int] = {}
        for i in done:
            fastest.setdefault(self.trials[i].executor, i)
        candidates = list(fastest.items())
        policy = self._pool_default_contender(done, fastest.get("processes"), n)
        if policy is not None:  # beside its family's fastest, before the next family
            at = [e for e, _ in candidates].index("processes") + 1
            candidates.insert(at, ("processes", policy))
        finalists = []  # (trial index, its configuration, the same for the smaller list, that list)
        # The fastest of serial and the first finalist: every later one must be able to beat it.
        reference_s = self.trials[serial].seconds or 0.0
        for executor, index in candidates:
            t = self.trials[index]
            m = second_size(n, t.workers, t.chunksize)
            if executor == "serial" or executor in excluded or m < 1:
                continue  # m < 1: one round of chunks or less, nothing steady to scale
            if finalists and not can_win_projected(t, reference_s, self.overheads, self.subject.walls):
                continue
            reference_s = min(reference_s, t.seconds or 0.0)
            config = short = config_of(t)
            if is_pool_default(t.executor, t.workers, t.chunksize, n):
                # Pool.map's default chunking is four chunks per worker at any size: timed so
                # at both sizes, its hand-overs are fixed cost, as on the whole loop, where
                # they are as few (a 300,000-call loop ran 9% faster in 8 chunks than in the
                # 71 that the subset's chunk size would make of it).
                short = replace(config, chunksize=pool_default_chunk(m, t.workers))
            finalists.append((index, config, short, [self.subject.items[i] for i in spread_indices(n, m)]))
        finalists = finalists[:PROJECTION_FINALISTS + (policy is not None)]
        # One round: serial, then each finalist on the subset and on the smaller list
        # (which may take more than its share of items: the fixed part may be most of it).
        round_s = (self.trials[serial].seconds or 0.0) + sum(
            (self.trials[i].seconds or 0.0) * (1 + SHORT_RUNS_PER_ROUND * max(0.4, len(fewer) / n))
            for i, _, _, fewer in finalists)
        rounds = min(REPEATS, int(self.clock.left() / max(round_s * PREDICTION_MARGIN, 1e-9)))
        if rounds == 0 and round_s < self.clock.left():
            rounds = 1  # without the margin, one round fits: without it nothing can be projected
        extra: dict[int, list[float]] = {serial: []}
        smaller: dict[int, list[float]] = {i: [] for i, _, _, _ in finalists}
        failed: set[int] = set()
        serial_config = space.Config("serial", 1)
        for _ in range(rounds if finalists else 0):
            self._time_into(serial_config, None, extra[serial])
            for index, config, short, fewer in finalists:
                if index in failed:
                    continue
                ok = self._time_into(config, None, extra.setdefault(index, []))
                for _ in range(SHORT_RUNS_PER_ROUND):
                    ok = ok and self._time_into(short, fewer, smaller[index])
                if not ok:
                    failed.add(index)
        fewer_count = {index: len(fewer) for index, _, _, fewer in finalists}
        for index, more in extra.items():
            t = with_more_runs(self.trials[index], more)
            seconds = t.seconds or 0.0
            fixed = 0.0
            if index != serial:
                if index in failed or not smaller[index]:
                    self.trials[index] = t  # no second size: no projection
                    continue
                fixed = bounded_fixed_cost(t, fixed_cost(fewer_count[index], statistics.median(smaller[index]),
                                                         n, seconds), self.overheads, self.subject.walls)
            self.trials[index] = replace(t, fixed_seconds=fixed,
                                         projected_seconds=projected_seconds(seconds, fixed, n, n * scale))
