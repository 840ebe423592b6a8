"""Pick the configuration to recommend from measured trials (pure functions)."""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Optional

from ..executors import REGISTRY
from ..model import Classification, Recommendation, Trial
from ..units import human_seconds as _us
from .workload import TIE_FRACTION, is_pool_default, pool_default_chunk

# Below a 15% measured gain, parallel code is not worth its complexity, start-up cost
# and fragility: the honest advice is to stay serial.
WORTHWHILE_SPEEDUP = 1.15
# Start methods, simplest first: fork needs nothing of the script, forkserver and spawn
# re-import it in each worker (so they need a main guard and importable state).
START_METHOD_SIMPLICITY = {"fork": 0, "forkserver": 1, "spawn": 2}
# Two medians closer than TIE_FRACTION (analyse/workload) or than their measured spread are a tie.
# A spread counts as noise only from this many runs (see _settled_spread).
TIE_MIN_RUNS = 3
# A budget that measured no parallel configuration: what to ask for instead, in serial
# passes. A configuration worth advising takes under a serial pass (it must be 1.15x
# faster); three executor families, serial itself and the probes come to about six.
STARVED_BUDGET_LOOPS = 6
# Simpler first when tied (each executor says how simple it is to adopt): serial < asyncio < threads < ...
SIMPLICITY = {n: e.simplicity for n, e in REGISTRY.items()}


def eligible(trial: Trial, exclusions: dict[str, str]) -> bool:
    return (trial.ok and trial.seconds is not None and trial.results_match is not False
            and trial.executor not in exclusions)


def _tie_margin(a: Trial, b: Trial) -> float:
    assert a.seconds is not None
    return max(TIE_FRACTION * a.seconds, _settled_spread(a), _settled_spread(b))


def _settled_spread(trial: Trial) -> float:
    """A trial's spread when it has runs enough to stand for noise.

    The spread of two runs is half their gap: it says the timing is not settled, not that
    another configuration ties with it. On 16 CPUs, process runs of 0.27 and 0.44 s made
    one 0.43 s run of 16 threads a tie, and the simpler threads were advised for work
    that holds the GIL (0.92 s against 0.24 s for processes, timed again).
    """
    return trial.spread if len(trial.repeats) >= TIE_MIN_RUNS else 0.0


def _simplicity(trial: Trial) -> tuple[int, int, int, int, int, float]:
    """Simpler first: the executor, fewer workers, the start method, no BLAS limit, no chunk
    size; among equally simple ones, the faster. A chunk size of 30 is no simpler to write
    than one of 64, so between two that tie the faster median decides, not the smaller
    number (4,500 short calls: chunks of 30 were advised beside a tied 64 measured faster)."""
    method = START_METHOD_SIMPLICITY.get(trial.start_method or "fork", 3)
    limited = 1 if trial.blas_threads else 0  # limiting BLAS is one more thing in the code
    chunked = 1 if (trial.chunksize or 1) > 1 else 0  # a chunksize argument is one more thing too
    return SIMPLICITY.get(trial.executor, 9), trial.workers, method, limited, chunked, trial.seconds or 0.0


def pick_best(trials: list[Trial], exclusions: dict[str, str]) -> tuple[Optional[Trial], list[Trial]]:
    """The fastest eligible trial, preferring the simplest among those tied with it.

    Returns (choice, the trials tied with the fastest).
    """
    candidates = [t for t in trials if eligible(t, exclusions)]
    if not candidates:
        return None, []
    fastest = min(candidates, key=lambda t: t.seconds or 0.0)
    tied = [t for t in candidates
            if (t.seconds or 0.0) - (fastest.seconds or 0.0) <= _tie_margin(fastest, t)]
    return min(tied, key=_simplicity), tied


def for_whole_loop(trials: list[Trial]) -> tuple[list[Trial], bool]:
    """The trials to compare, with times for the whole loop where the sweep projected them.

    When trials ran on a subset of the items, serial and the finalists carry a projection
    to all of them (runner.Sweep.project); only those are compared, as whole-loop times,
    so a pool's start-up counts once, as it would in the user's program.
    """
    projected = [t for t in trials if t.projected_seconds is not None and t.ok and t.seconds]
    if not any(t.executor == "serial" for t in projected) or len(projected) < 2:
        return trials, False
    scale = [(t.projected_seconds or 0.0) / (t.seconds or 1.0) for t in projected]
    return [replace(t, seconds=t.projected_seconds, spread=t.spread * k, repeats=[r * k for r in t.repeats])
            for t, k in zip(projected, scale)], True


def recommend(trials: list[Trial], classification: Classification,
              exclusions: dict[str, str], per_call_s: float, items: int = 0,
              items_measured: int = 0) -> Recommendation:
    """``items``/``items_measured``: the loop's calls and those the trials mapped. Every time
    in the words is for the whole loop: projected where the sweep projected it, else scaled
    by each trial's ``loop_factor`` (the recorded durations; a process pool's modelled
    hand-out of them), by rounds of waiting calls, or else in proportion."""
    waiting = classification.kind == "io-bound"
    trials, projected, scaled = whole_loop_trials(trials, items, items_measured, waiting)
    rec = _recommend(trials, classification, exclusions, per_call_s)
    if projected:
        rec = replace(rec, reason=rec.reason + (
            " Trials ran on a subset of the items; these times are projected to all of them, with each "
            "pool's fixed cost (start-up, first hand-over, last chunk) measured at a second size."))
        if items > items_measured and is_pool_default(rec.executor, rec.workers, rec.chunksize, items_measured):
            # Projected as a policy (rounds.ClosingRounds.project): the whole loop gets its own.
            whole = pool_default_chunk(items, rec.workers)
            rec = replace(rec, chunksize=whole, reason=rec.reason + (
                f" Its chunks are Pool.map's own default, four per worker: {rec.chunksize:,} calls each on the "
                f"{items_measured:,} measured, {whole:,} on all {items:,}."))
    elif scaled and waiting:
        rec = replace(rec, reason=rec.reason + (
            f" Trials ran on {items_measured} of the loop's {items} calls; these times are scaled to all of "
            "them by the rounds of waiting calls each configuration needs for them."))
    elif scaled and any(t.loop_factor for t in trials):
        rec = replace(rec, reason=rec.reason + (
            f" Trials ran on {items_measured} of the loop's {items} calls; these times are scaled to all of "
            "them by their recorded durations (a process pool's by its modelled hand-out of them)."))
    elif scaled:
        rec = replace(rec, reason=rec.reason + (
            f" Trials ran on {items_measured} of the loop's {items} calls; these times are scaled to all of "
            "them in proportion."))
    return rec


def whole_loop_trials(trials: list[Trial], items: int, items_measured: int,
                      waiting: bool = False) -> tuple[list[Trial], bool, bool]:
    """(trials in whole-loop times, whether projected, whether scaled from the subset)."""
    trials, projected = for_whole_loop(trials)
    scaled = bool(not projected and items_measured and items > items_measured)
    if scaled and waiting:
        trials = [scaled_trials([t], rounds_factor(t, items, items_measured))[0] for t in trials]
    elif scaled:
        trials = [scaled_trials([t], t.loop_factor or items / items_measured)[0] for t in trials]
    return trials, projected, scaled


def rounds_factor(trial: Trial, items: int, items_measured: int) -> float:
    """How much longer waiting calls take over ``items`` than over ``items_measured`` under ``trial``.

    Calls that wait (on a server, a subprocess, a timer) overlap up to the worker count and
    take about one wait each: the loop takes as many waits as there are rounds of calls in
    flight. In proportion, 78 workers over a 78-call subset of 90 calls (one round of
    waits) claimed 60x; over all 90 they need two rounds, and measured 39x. With far more
    calls than workers the rounds are in proportion.
    """
    per_round = max(1, trial.workers) * max(1, trial.chunksize or 1)
    return math.ceil(items / per_round) / math.ceil(items_measured / per_round)


def scaled_trials(trials: list[Trial], factor: float) -> list[Trial]:
    return [replace(t, seconds=t.seconds * factor if t.seconds is not None else None, spread=t.spread * factor,
                    repeats=[r * factor for r in t.repeats]) for t in trials]


def _recommend(trials: list[Trial], classification: Classification,
               exclusions: dict[str, str], per_call_s: float) -> Recommendation:
    serial = next((t for t in trials if t.executor == "serial" and t.ok and t.seconds), None)
    parallel = [t for t in trials if t.executor != "serial" and eligible(t, exclusions)]
    best_parallel = min(parallel, key=lambda t: t.seconds or 0.0) if parallel else None
    if serial is None:
        return Recommendation("serial", 1, None, None, 1.0,
                              "The serial loop itself could not be replayed, so nothing could be compared; "
                              "keep the serial loop.")
    if best_parallel is None or _speedup(serial, best_parallel) < WORTHWHILE_SPEEDUP:
        tried = any(t.executor != "serial" for t in trials)
        rec = _stay_serial(serial, best_parallel, classification, exclusions, per_call_s, tried)
        return _with_ruled_out(rec, serial, trials, exclusions)
    # Among configurations tied with the fastest, take the simplest that still clears the bar.
    tied = [t for t in parallel if (t.seconds or 0.0) - (best_parallel.seconds or 0.0)
            <= _tie_margin(best_parallel, t) and _speedup(serial, t) >= WORTHWHILE_SPEEDUP]
    choice = min(tied, key=_simplicity)
    speedup = _speedup(serial, choice)
    note = ""
    if len(tied) > 1:
        # Ties go to the simplest; among equally simple ones, to the fastest (see _simplicity).
        which = "none is simpler than this one, the fastest" if choice is best_parallel else "this is the simplest"
        note = f" {len(tied) - 1} other configuration(s) measured within noise of it; {which}."
    reason = (f"{choice.label} measured {speedup:.2f}x faster than the serial loop "
              f"({serial.seconds:.3g} s -> {choice.seconds:.3g} s) because {classification.explanation}."
              + note)
    runner_up = best_parallel.label if best_parallel is not choice else None
    return Recommendation(choice.executor, choice.workers, choice.chunksize, choice.start_method,
                          round(speedup, 3), reason, runner_up, choice.blas_threads)


def _speedup(serial: Trial, trial: Trial) -> float:
    return (serial.seconds or 0.0) / (trial.seconds or float("inf"))


def _with_ruled_out(rec: Recommendation, serial: Trial, trials: list[Trial],
                    exclusions: dict[str, str]) -> Recommendation:
    """Say so when something faster was measured but ruled out for correctness."""
    ruled_out = [t for t in trials if t.executor in exclusions and t.ok and t.seconds
                 and t.results_match is not False and _speedup(serial, t) >= WORTHWHILE_SPEEDUP]
    if not ruled_out:
        return rec
    fastest = min(ruled_out, key=lambda t: t.seconds or 0.0)
    note = (f" {fastest.label} measured {_speedup(serial, fastest):.2f}x but is ruled out: "
            f"{exclusions[fastest.executor]}.")
    return replace(rec, reason=rec.reason + note)


def _stay_serial(serial: Trial, best_parallel: Optional[Trial], classification: Classification,
                 exclusions: dict[str, str], per_call_s: float, tried_parallel: bool = True) -> Recommendation:
    if best_parallel is None:
        why = "; ".join(f"{k}: {v}" for k, v in exclusions.items()) or (
            "no parallel option succeeded" if tried_parallel else
            f"the budget ran out before any parallel configuration could be measured (one serial "
            f"pass took {serial.seconds:.3g} s); nothing was compared, so this is unmeasured: run again with "
            f"--budget {math.ceil(STARVED_BUDGET_LOOPS * (serial.seconds or 0.0)) or 1}")
        reason = f"Stay serial: {why}."
    else:
        gain = (serial.seconds or 0.0) / (best_parallel.seconds or 1.0)
        explanation = classification.explanation
        if "each call takes" not in explanation:
            explanation = f"each call takes {_us(per_call_s)} and {explanation}"
        reason = (f"Stay serial: the best parallel option, {best_parallel.label}, measured {gain:.2f}x "
                  f"({best_parallel.seconds:.3g} s vs {serial.seconds:.3g} s serial), under the "
                  f"{WORTHWHILE_SPEEDUP:.2f}x worth the change: {explanation}.")
    return Recommendation("serial", 1, None, None, 1.0, reason,
                          best_parallel.label if best_parallel else None)


def with_user_pool(rec: Recommendation, trials: list[Trial], pool: Optional[dict[str, Any]],
                   items: int = 0, items_measured: int = 0, waiting: bool = False) -> Recommendation:
    """Say how the script's own pool compares: its time beside serial's, for the whole loop
    (``waiting``: scaled from a subset as in ``whole_loop_trials``)."""
    if not pool:
        return rec
    if pool["method"].startswith("joblib"):
        batch = f", batch_size={pool['chunksize']}" if pool.get("chunksize") else ""
        label = f"Parallel(n_jobs={pool['workers']}{batch})"
    else:
        chunk = f", chunksize {pool['chunksize']}" if pool.get("chunksize") else ""
        label = f"{pool['method'].split('.')[0]}({pool['workers']}){chunk}"
    def own(among: list[Trial]) -> Optional[Trial]:
        return next((t for t in among if t.executor == pool["executor"] and t.workers == pool["workers"]
                     and (t.chunksize or 1) == (pool.get("chunksize") or 1) and not t.blas_threads), None)

    whole, projected, _ = whole_loop_trials(trials, items, items_measured, waiting)
    mine = own(whole)
    if mine is None and projected and own(trials) is not None:
        # Not among the projected finalists (it could not win): its subset time scaled in
        # proportion. That scales its fixed cost too, so its whole-loop time is at most this.
        mine = scaled_trials([own(trials)], items / max(1, items_measured))[0]  # type: ignore[list-item]
    serial = next((t for t in whole if t.executor == "serial" and t.ok and t.seconds), None)
    if mine is None or serial is None:
        return replace(rec, reason=rec.reason + f" Your {label} could not be timed here.")
    if not mine.ok or not mine.seconds:
        return replace(rec, reason=rec.reason + f" Your {label} failed here ({mine.error}).")
    ratio = (serial.seconds or 0.0) / mine.seconds
    pace = f"{ratio:.2f}x as fast" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
    note = (f" Your {label}, as the script maps it: {mine.seconds:.3g} s against {serial.seconds:.3g} s "
            f"serial ({pace}).")
    return replace(rec, reason=rec.reason + note)
