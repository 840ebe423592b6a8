"""The sweep: measure serial and parallel configurations on the recorded calls.

Runs inside the host process, at the target's last real call, so the script's own
environment is alive. Every measurement runs in a forked child (``isolate``); the
parent only plans, keeps time and compares results.
"""
from __future__ import annotations

import math
import multiprocessing
import statistics
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..analyse import space
from ..measure.capture import Call
from ..model import Trial, Warning
from .budget import Clock, config_of, mad, repeats_for
from .checks import TrialChecks, Unsafe
from .facts import Facts
from .isolate import Outcome, run_isolated
from .rounds import CONTENDER_MARGIN, PREDICTION_MARGIN, PROJECTION_RESERVE, SETTLE_RESERVE, ClosingRounds
from .subject import Subject

# A first timing over the contenders' margin (rounds.CONTENDER_MARGIN, 1.15x the best so
# far) is not repeated: settle() brings every configuration within that margin of the
# final best up to its repeats, so a repeat here could only matter for one that is no
# contender. Repeats of runs 16-27% behind (a forkserver pool, a chunk twice too large)
# were a tenth of a 6 s sweep.
CLEARLY_SLOWER = CONTENDER_MARGIN
# A run this many times longer than the fastest so far (in whole-loop terms, see
# Sweep.cutoff_s) cannot win, and is stopped there rather than at the trial timeout: a
# process pool of OpenBLAS callers spinning on two cores took 3.2 s against serial's
# 0.2 s and left a 3 s budget nothing. Never sooner than HOPELESS_FLOOR_S past the best.
HOPELESS = 3.0
HOPELESS_FLOOR_S = 0.5
# An executor this many times slower than the fastest so far gets no more of the plan
# (see Sweep.far_behind).
FAR_BEHIND = 2.0


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
    # The pool the script itself maps the target with (user_pools.UserPool as JSON): it is
    # timed right after serial, so the advice can say how the user's own choice compares.
    user_pool: Optional[dict[str, Any]] = None
    what_if_cpus: int = 0  # --cpus N (see space.Workload.what_if_cpus)


class Sweep(TrialChecks, ClosingRounds):
    def __init__(self, subject: Subject, calls: list[Call], options: SweepOptions,
                 clock: Optional["Clock"] = None) -> None:
        self.subject, self.calls, self.options = subject, calls, options
        self.warnings: list[Warning] = []
        self.exclusions: dict[str, str] = {}
        self.trials: list[Trial] = []
        self.stopped_early: list[space.Config] = []  # runs stopped as hopeless (see cutoff_s)
        self.reference: Optional[list[Any]] = None
        # Found by the first serial run, where only the target runs (so it is to blame).
        self.mutated_globals: list[str] = []
        self.reset_globals: list[str] = []  # changed, but set afresh by each call (checks._reset_by_each_call)
        self.mutated_args = False
        self.nondeterministic = False
        self.results_unpicklable: Optional[str] = None  # results could not be compared across processes
        # Executors a trial of which raised where serial did not, crashed, or returned other
        # results: each with what went wrong (see note_unsafe). None of their configurations
        # is recommended, however fast one lucky run was: a race fails some runs, not all.
        self.unsafe: dict[str, Unsafe] = {}
        # Per Dask trial: its configuration and median phase times (see executors/dask_cluster.DASK_PHASES).
        self.dask_runs: list[dict[str, Any]] = []
        self.overheads: dict[str, float] = {}  # the probes' pool start-up and hand-over costs (set by run)
        self.clock = clock or Clock(options.budget_s)
        # Budget the coarse and refining passes leave for settling the contenders and for
        # the projections (see settle() and project()).
        self.projection_reserve_s = PROJECTION_RESERVE * options.budget_s if self.projecting() else 0.0
        self.reserve_s = self.projection_reserve_s + SETTLE_RESERVE * options.budget_s

    # -- one configuration ---------------------------------------------------------
    def measure(self, config: space.Config, estimate_s: float, configs_left: int, cut_short: bool = True) -> Trial:
        reps = repeats_for(estimate_s, self.left(), configs_left)
        seconds: list[float] = []
        phases: list[dict[str, float]] = []
        results_match: Optional[bool] = None
        # Dask trials are not cut short: a cluster's start-up makes them lose on one machine,
        # and they are measured to project Dask beyond it (see dask_projection).
        timeout = self.options.trial_timeout_s if config.executor == "dask" or not cut_short else self.cutoff_s()
        for rep in range(reps):
            if rep == 1:
                # The prediction can be far off (a pool of 30 threads on a server that
                # answers one request at a time: predicted 0.02 s, took 0.44 s, and its
                # five runs left a 3 s budget nothing for the rest of the plan): the
                # first run's own time decides how many more it gets.
                reps = min(reps, repeats_for(seconds[0], self.left() + seconds[0], configs_left))
            if rep >= reps:
                break
            first = rep == 0
            inspect = first and config.executor == "serial"
            outcome = self.execute(config, first, inspect, None, timeout)
            if not outcome.ok:
                if outcome.timed_out and timeout < self.options.trial_timeout_s:
                    self.stopped_early.append(config)
                    outcome = replace(outcome, error=(
                        f"timed out after {timeout:.2f} s, over {HOPELESS:g}x the fastest configuration "
                        "so far: stopped there, as it cannot win"))
                if not outcome.timed_out:
                    self.note_unsafe(config, (outcome.error or "failed").splitlines()[0])
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

    def cutoff_s(self) -> float:
        """How long one run may take before it is stopped (see ``HOPELESS``).

        On a subset that is projected, a configuration's time on the whole loop is at
        least its time on the subset, so the bar is the fastest time scaled to the whole loop.
        """
        best = self.fastest_seconds()
        if best is None:
            return self.options.trial_timeout_s
        n = max(1, len(self.subject.items))
        whole = best * max(1.0, self.subject.total_items / n) if self.projecting() else best
        return min(self.options.trial_timeout_s, max(HOPELESS * whole, best + HOPELESS_FLOOR_S))

    def _clearly_slower(self, seconds: float) -> bool:
        best = min((t.seconds for t in self.trials if t.ok and t.seconds), default=None)
        return best is not None and seconds > CLEARLY_SLOWER * best

    def _failed(self, config: space.Config, outcome: Outcome, seconds: list[float]) -> Trial:
        error = (outcome.error or "failed").splitlines()[0]
        return Trial(config.executor, config.workers, config.chunksize, config.start_method,
                     None, None, False, error, seconds, blas_threads=config.blas_threads)

    # -- the whole sweep -------------------------------------------------------------
    def left(self) -> float:
        """Budget left for trials, less what is kept for the projections."""
        return self.clock.left() - self.reserve_s

    def run(self, facts: "Facts", on_trial: Callable[[Trial], None]) -> list[Trial]:
        serial_estimate = sum(c.wall for c in self.calls) * len(self.subject.items) / max(1, len(self.calls))
        serial = self.measure(space.Config("serial", 1), serial_estimate, 4)
        self.trials.append(serial)
        on_trial(serial)
        if not serial.ok or serial.seconds is None:
            return self.trials
        self.overheads = dict(facts.overheads)
        load = facts.workload(self.subject, serial.seconds, self.options, tuple(c.wall for c in self.calls))
        planned = self.blas_limited_first(space.plan(load, self.options.executors, self.options.start_method), facts)
        self.time_user_pool(serial.seconds, len(planned), on_trial)
        blas_done = False
        for index, config in enumerate(planned):
            if self.far_behind(config.executor):
                continue
            self._try(config, space.predict_seconds(load, config), len(planned) - index, on_trial)
            # BLAS-limited variants come once every planned executor has a first timing,
            # before that executor's other chunk sizes: whether a BLAS pool oversubscribes
            # the CPUs is a question the report must answer, and on blas_calls' 3 s budget
            # the rest of the plan had left none for it.
            tried = {t.executor for t in self.trials}
            if not blas_done and all(c.executor in tried for c in planned):
                blas_done = True
                # Sharing what is left with the rest of the plan: a variant that turns out a
                # contender gets its repeats in settle(), and the plan's worker counts matter
                # as much (numpy_arrays: no trial past 2 threads when the variants took 3 runs).
                variants = self.blas_variants(facts)
                rest = len(planned) - index - 1
                for number, (variant, estimate) in enumerate(variants):
                    self._try(variant, estimate, len(variants) - number + rest, on_trial)
        for config in self.refinements(load):
            self._try(config, self.best_seconds_of(config.executor) or space.predict_seconds(load, config), 1,
                      on_trial)
        for config in self.other_start_methods(facts):
            estimate = (self.best_process_seconds() or 0.0) + facts.overheads.get(f"start_{config.start_method}_s", 0.5)
            self._try(config, estimate, 1, on_trial)
        self.reserve_s = self.projection_reserve_s
        self.settle()
        self.reserve_s = 0.0  # what is left is the projections' (measure/target.py calls project next)
        if not self.projecting():  # projecting re-times serial and the finalists side by side itself
            self.confirm()
        return self.trials

    def user_pool_config(self) -> Optional[space.Config]:
        pool = self.options.user_pool
        if not pool or pool["executor"] not in self.options.executors:
            return None
        method = self.options.start_method if pool["executor"] == "processes" else None
        return space.Config(pool["executor"], int(pool["workers"]), pool.get("chunksize"), method)

    def time_user_pool(self, serial_s: float, configs_left: int, on_trial: Callable[[Trial], None]) -> None:
        """The script's own configuration, measured before the plan: whatever else fits, the
        advice must say how it compares (one run is enough to show a 100x mistake). It runs to
        its end, not to the hopeless cutoff: the advice quotes its time (a Pool(8) of 20,000
        tiny calls took 0.2-0.5 s against a 0.5 s cutoff, and was timed in some runs only)."""
        config = self.user_pool_config()
        if config is None:
            return
        pool = self.options.user_pool or {}
        share = len(self.subject.items) / max(1, int(pool.get("items") or 1))
        trial = self.measure(config, float(pool.get("seconds") or serial_s) * share, configs_left + 1,
                             cut_short=False)
        self.trials.append(trial)
        on_trial(trial)

    def _try(self, config: space.Config, estimate_s: float, configs_left: int,
             on_trial: Callable[[Trial], None]) -> None:
        """Measure ``config`` when its predicted time, with a margin, fits what is left.

        The first configuration of an executor family may use the budget kept for the
        closing rounds, and needs no margin: repeats of the others are worth nothing next
        to a family never measured at all (six 0.1 s calls: serial and the probes left a
        3 s budget 0.8 s less that reserve, and no process pool was tried where two give 1.7x).
        """
        first_of_family = config.executor not in {t.executor for t in self.trials}
        fits = estimate_s <= self.clock.left() if first_of_family else estimate_s * PREDICTION_MARGIN <= self.left()
        if fits:
            trial = self.measure(config, estimate_s, configs_left)
            self.trials.append(trial)
            on_trial(trial)

    def execute(self, config: space.Config, first: bool, inspect: bool, items: Optional[list[Any]],
                timeout: float) -> Outcome:
        """Run one trial in a forked child. The seam the policy's tests replace with a model
        and a fake clock, so the budget and repeat rules run in milliseconds."""
        return run_isolated(self._body(config, first, inspect, items), timeout)

    def _time_into(self, config: space.Config, items: Optional[list[Any]], into: list[float]) -> bool:
        """One timed run of ``config`` (on ``items``, or the subset); its time goes into ``into``."""
        outcome = self.execute(config, False, False, items, self.options.trial_timeout_s)
        if outcome.ok:
            into.append(outcome.value["seconds"])
        elif not outcome.timed_out:
            self.note_unsafe(config, (outcome.error or "failed").splitlines()[0])
        return outcome.ok

    def fastest_seconds(self) -> Optional[float]:
        """The fastest median so far among trials whose results matched serial's."""
        return min((t.seconds for t in self.trials if t.ok and t.seconds and t.results_match is not False),
                   default=None)

    def best_seconds_of(self, executor: str) -> Optional[float]:
        times = [t.seconds for t in self.trials if t.executor == executor and t.ok and t.seconds]
        return min(times) if times else None

    def far_behind(self, executor: str) -> bool:
        """Whether ``executor``'s fastest run so far is over ``FAR_BEHIND`` times the fastest
        of all: the plan's other worker counts and chunk sizes for it are then skipped, and
        their budget goes to the contenders' repeats (numpy_arrays on a 3 s budget: after
        process pools at 3.3x the best threads, a third pool left the two leading thread
        configurations one run each, and noise chose between them).
        BLAS-limited variants are not skipped: they are the cure for a pool this slow."""
        if executor == "dask":  # measured to project Dask past this machine, not to win here
            return False
        mine = self.best_seconds_of(executor)
        best = self.fastest_seconds()
        return mine is not None and best is not None and mine > FAR_BEHIND * best

    def best_process_seconds(self) -> Optional[float]:
        return self.best_seconds_of("processes")

    def refinements(self, load: space.Workload) -> list[space.Config]:
        """Configurations next to the best one so far that the coarse pass skipped."""
        done = [t for t in self.trials if t.ok and t.seconds and t.results_match is not False]
        if not done:
            return []
        best = min(done, key=lambda t: t.seconds or 0.0)
        measured = {config_of(t) for t in self.trials}
        return space.refine(space.Config(best.executor, best.workers, best.chunksize, best.start_method,
                                         best.blas_threads), measured, load)

    def blas_limited_first(self, planned: list[space.Config], facts: "Facts") -> list[space.Config]:
        """With a multithreaded BLAS loaded, the planned pools whose workers times its threads
        exceed the CPUs are planned with BLAS on one thread.

        Such a pool oversubscribes the CPUs by construction (blas_calls: process pools of
        OpenBLAS callers spinning were stopped as hopeless one after another and left a 2 s
        budget nothing for the limited variants, which were 1.8x faster than serial). The
        unlimited one is still measured, as the variant (``blas_variants``): whether limiting
        helps depends on the calls.
        """
        threads = int(facts.blas.get("num_threads") or 1)
        if not self.options.blas_variants or threads <= 1:
            return planned
        cpus = self.options.usable_cpus
        return [replace(c, blas_threads=1) if c.executor in ("threads", "processes") and c.workers > 1
                and (c.start_method or "fork") == "fork" and c.workers * threads > cpus else c for c in planned]

    def blas_variants(self, facts: "Facts") -> list[tuple[space.Config, float]]:
        """The fastest thread and fork-process configurations again, with BLAS limited the other way.

        Several workers that each call a BLAS running one thread per core oversubscribe the
        CPUs; whether limiting BLAS helps depends on the calls, so both are measured: the
        plan's configuration (limited where it oversubscribes, see ``blas_limited_first``)
        and the same one with BLAS as the script had it, or the other way round.
        """
        if not self.options.blas_variants or (facts.blas.get("num_threads") or 1) <= 1:
            return []
        # The estimate is the fastest time so far, or the base's own when shorter: a base
        # slowed by oversubscription says little about its limited variant's time.
        fastest = min((t.seconds for t in self.trials if t.ok and t.seconds), default=None)
        measured = {(t.executor, t.workers, t.chunksize, t.blas_threads) for t in self.trials}
        out = []
        for executor in ("threads", "processes"):
            done = [t for t in self.trials if t.executor == executor and t.ok and t.seconds and t.workers > 1
                    and t.results_match is not False and (t.start_method or "fork") == "fork"]
            if done:
                best = min(done, key=lambda t: t.seconds or 0.0)
                other = None if best.blas_threads else 1
                if (best.executor, best.workers, best.chunksize, other) not in measured:
                    config = space.Config(best.executor, best.workers, best.chunksize, best.start_method, other)
                    out.append((config, min(best.seconds or 0.0, fastest or math.inf)))
                continue
            # None finished, but one was stopped as hopeless: the symptom oversubscription
            # shows (blas_calls: process pools of OpenBLAS callers spinning), so the limited
            # variant is the one to try.
            stopped = [c for c in self.stopped_early if c.executor == executor and c.workers > 1
                       and (c.start_method or "fork") == "fork" and not c.blas_threads]
            if stopped and fastest:
                c = stopped[0]
                # First: the executor that suffered most is the likeliest to gain.
                out.insert(0, (space.Config(c.executor, c.workers, c.chunksize, c.start_method, 1), fastest))
        return out

    def other_start_methods(self, facts: "Facts") -> list[space.Config]:
        """The fastest process configuration again, under the other start methods whose
        pool start-up the probes measured to be shorter than its own.

        The same pool under another start method runs the same workers on the same pickled
        items; what differs is the start-up, which the probes time for each method (one
        that never answered there would here too). A method whose start-up is longer can
        only tie with the faster one, and ties go to fork, the simplest: timing it changed
        no advice and took two trials of every sweep of process pools.
        """
        if not self.options.main_guard or self.subject.is_coroutine:
            return []
        done = [t for t in self.trials if t.executor == "processes" and t.ok and t.results_match is not False]
        if not done:
            return []
        best = min(done, key=lambda t: t.seconds or 0.0)
        overheads = facts.overheads
        own = overheads.get(f"start_{best.start_method or 'fork'}_s")
        return [space.Config("processes", best.workers, best.chunksize, method)
                for method in self.options.start_methods if method != best.start_method
                and method in multiprocessing.get_all_start_methods()
                and f"start_{method}_s" in overheads
                and (own is None or overheads[f"start_{method}_s"] < own)]
