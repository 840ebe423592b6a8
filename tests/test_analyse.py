"""advisor.analyse: classify, recommend and the configuration space, from hand-built numbers."""
from __future__ import annotations

import dataclasses
import math
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.analyse import space
from advisor.analyse.classify import classify, fits_in, native_share
from advisor.analyse.recommend import WORTHWHILE_SPEEDUP, eligible, pick_best, recommend
from advisor.executors import REGISTRY as EXECUTORS
from advisor.model import CLASSIFICATION_KINDS, Caches, Classification, Measurement, Trial

KIB, MIB = 1024, 1024 * 1024
CACHES = Caches(l1d_bytes=48 * KIB, l2_bytes=2 * MIB, l3_bytes=32 * MIB, l3_shared_by=8)


# -- builders ----------------------------------------------------------------------

def measurement(*, median: float = 0.01, cpu_ratio: float = 1.0, gil_speedup: Optional[float] = 1.0,
                working_set: int = 4 * KIB, process_task_s: float = 1e-4, **changes: Any) -> Measurement:
    base = Measurement(
        items=100, items_measured=100, call_style="single",
        per_call={"median": median, "mean": median, "p10": median * 0.9, "p90": median * 1.1,
                  "mad": median * 0.01, "total": median * 100},
        cpu_ratio=cpu_ratio, thread_cpu_ratio=cpu_ratio,
        gil_probe=None if gil_speedup is None else {
            "threads": 2, "sequential_s": 0.2, "parallel_s": 0.2 / gil_speedup, "speedup": gil_speedup},
        arg_bytes=64, result_bytes=64, peak_alloc_bytes=working_set, working_set_bytes=working_set,
        overheads={"process_start_s": 0.03, "process_task_s": process_task_s, "thread_task_s": 2e-5},
        trials=[], warnings=[], exclusions={},
    )
    return dataclasses.replace(base, **changes)


PURE_PYTHON = {"python_percent": 95.0, "native_percent": 5.0}
NATIVE = {"python_percent": 20.0, "native_percent": 80.0}


def trial(executor: str, seconds: Optional[float], workers: int = 1, chunksize: Optional[int] = None,
          start_method: Optional[str] = None, ok: bool = True, spread: float = 0.0,
          results_match: Optional[bool] = True, error: Optional[str] = None) -> Trial:
    if executor == "processes" and start_method is None:
        start_method = "fork"
    return Trial(executor=executor, workers=workers, chunksize=chunksize, start_method=start_method,
                 seconds=seconds if ok else None, speedup=None, ok=ok,
                 error=error if ok else (error or "boom"), repeats=[seconds] * 3 if ok and seconds else [],
                 spread=spread, results_match=results_match if ok else None)


CPU = Classification("cpu-bound", {"per_call_seconds": 0.01}, "the calls hold the GIL")


# -- classify ------------------------------------------------------------------------

class TestClassify:
    def test_low_cpu_ratio_is_io_bound(self):
        c = classify(measurement(cpu_ratio=0.05), CACHES, PURE_PYTHON)
        assert c.kind == "io-bound"
        assert c.evidence["cpu_time_over_wall_time"] == pytest.approx(0.05)
        assert "5%" in c.explanation

    def test_io_bound_wins_over_cheap_calls(self):
        # Waiting is the first question: a cheap call that mostly waits is still io-bound.
        c = classify(measurement(cpu_ratio=0.2, median=1e-5, process_task_s=1e-4), CACHES, PURE_PYTHON)
        assert c.kind == "io-bound"

    def test_cheap_call_next_to_dispatch_cost_is_overhead_bound(self):
        m = measurement(median=1.5e-4, process_task_s=1e-4)  # 1.5x < 2x the hand-over cost
        c = classify(m, CACHES, PURE_PYTHON)
        assert c.kind == "overhead-bound"
        assert c.evidence["per_call_seconds"] == pytest.approx(1.5e-4)
        assert c.evidence["process_task_overhead_seconds"] == pytest.approx(1e-4)

    def test_call_just_over_twice_dispatch_cost_is_not_overhead_bound(self):
        c = classify(measurement(median=2.5e-4, process_task_s=1e-4), CACHES, PURE_PYTHON)
        assert c.kind == "cpu-bound"

    def test_unknown_dispatch_cost_never_gives_overhead_bound(self):
        c = classify(measurement(median=1e-7, process_task_s=0.0), CACHES, PURE_PYTHON)
        assert c.kind != "overhead-bound"
        assert c.evidence["process_task_overhead_seconds"] is None

    @pytest.mark.parametrize("speedup", [1.4, 1.9])
    def test_two_thread_speedup_means_gil_releasing(self, speedup):
        c = classify(measurement(gil_speedup=speedup), CACHES, NATIVE)
        assert c.kind == "gil-releasing"
        assert c.evidence["two_thread_speedup"] == pytest.approx(speedup)
        assert f"{speedup:.2f}x" in c.explanation

    def test_speedup_just_under_threshold_is_not_gil_releasing(self):
        c = classify(measurement(gil_speedup=1.39), CACHES, PURE_PYTHON)
        assert c.kind == "cpu-bound"

    @pytest.mark.parametrize("working_set,level", [(16 * MIB, "L3"), (256 * MIB, "RAM")])
    def test_large_native_working_set_without_thread_gain_is_memory_bound(self, working_set, level):
        c = classify(measurement(working_set=working_set, gil_speedup=1.05), CACHES, NATIVE)
        assert c.kind == "memory-bound"
        assert c.evidence["fits_in"] == level
        assert c.evidence["working_set_bytes"] == working_set
        assert c.evidence["native_share"] == pytest.approx(0.8)
        assert level in c.explanation

    def test_native_share_exactly_half_counts(self):
        profile = {"python_percent": 30.0, "native_percent": 30.0}
        c = classify(measurement(working_set=64 * MIB, gil_speedup=1.0), CACHES, profile)
        assert c.kind == "memory-bound"

    def test_large_working_set_that_threads_speed_up_is_gil_releasing(self):
        c = classify(measurement(working_set=64 * MIB, gil_speedup=1.8), CACHES, NATIVE)
        assert c.kind == "gil-releasing"

    def test_large_working_set_in_python_code_is_cpu_bound(self):
        c = classify(measurement(working_set=64 * MIB, gil_speedup=1.0), CACHES, PURE_PYTHON)
        assert c.kind == "cpu-bound"

    def test_small_native_working_set_is_cpu_bound(self):
        c = classify(measurement(working_set=1 * MIB, gil_speedup=1.0), CACHES, NATIVE)
        assert c.kind == "cpu-bound"
        assert c.evidence["fits_in"] == "L2"

    def test_busy_gil_holding_calls_are_cpu_bound(self):
        c = classify(measurement(cpu_ratio=0.99, gil_speedup=0.95), CACHES, PURE_PYTHON)
        assert c.kind == "cpu-bound"
        assert "99%" in c.explanation and "0.95x" in c.explanation

    def test_no_probe_and_no_profile(self):
        c = classify(measurement(gil_speedup=None, working_set=64 * MIB), CACHES, {})
        assert c.kind == "cpu-bound"
        assert c.evidence["two_thread_speedup"] is None
        assert c.evidence["native_share"] is None

    def test_evidence_holds_every_number(self):
        m = measurement(median=0.02, cpu_ratio=0.876543, gil_speedup=1.1, working_set=500 * KIB)
        ev = classify(m, CACHES, PURE_PYTHON).evidence
        assert ev == {
            "per_call_seconds": 0.02,
            "cpu_time_over_wall_time": 0.877,
            "two_thread_speedup": 1.1,
            "process_task_overhead_seconds": 1e-4,
            "native_share": 0.05,
            "working_set_bytes": 500 * KIB,
            "fits_in": "L2",
        }

    @settings(max_examples=200, deadline=None)
    @given(median=st.floats(1e-8, 10), cpu=st.floats(0, 2), speedup=st.one_of(st.none(), st.floats(0.1, 4)),
           ws=st.integers(0, 1 << 34), task=st.floats(0, 1e-2),
           py=st.floats(0, 100), native=st.floats(0, 100))
    def test_always_one_of_the_contract_kinds(self, median, cpu, speedup, ws, task, py, native):
        m = measurement(median=median, cpu_ratio=cpu, gil_speedup=speedup, working_set=ws, process_task_s=task)
        c = classify(m, CACHES, {"python_percent": py, "native_percent": native})
        assert c.kind in CLASSIFICATION_KINDS
        assert c.explanation


def test_fits_in_boundaries():
    assert fits_in(0, CACHES) == "L1d"
    assert fits_in(CACHES.l1d_bytes, CACHES) == "L1d"
    assert fits_in(CACHES.l1d_bytes + 1, CACHES) == "L2"
    assert fits_in(CACHES.l2_bytes, CACHES) == "L2"
    assert fits_in(CACHES.l3_bytes, CACHES) == "L3"
    assert fits_in(CACHES.l3_bytes + 1, CACHES) == "RAM"


def test_native_share():
    assert native_share({}) is None
    assert native_share({"python_percent": 0.0, "native_percent": 0.0}) is None
    assert native_share({"python_percent": 25.0, "native_percent": 75.0}) == pytest.approx(0.75)


# -- recommend ---------------------------------------------------------------------------

class TestRecommend:
    def test_picks_the_fastest(self):
        trials = [trial("serial", 1.0), trial("threads", 0.9, 2), trial("processes", 0.3, 4, 5),
                  trial("processes", 0.5, 2, 5)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert (rec.executor, rec.workers, rec.chunksize, rec.start_method) == ("processes", 4, 5, "fork")
        assert rec.expected_speedup == pytest.approx(1.0 / 0.3, abs=1e-3)
        assert "3.33x" in rec.reason and CPU.explanation in rec.reason

    def test_tie_within_three_percent_goes_to_fewer_workers(self):
        trials = [trial("serial", 1.0), trial("processes", 0.250, 8, 1), trial("processes", 0.255, 4, 1)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert (rec.executor, rec.workers) == ("processes", 4)
        assert rec.expected_speedup == pytest.approx(1.0 / 0.255, abs=1e-3)
        assert "simplest" in rec.reason

    def test_among_tied_chunk_sizes_no_chunk_is_simplest_and_otherwise_the_faster_wins(self):
        trials = [trial("serial", 1.0), trial("processes", 0.160, 2, 30), trial("processes", 0.157, 2, 64)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.chunksize == 64  # neither is simpler: the faster
        assert "none is simpler than this one, the fastest" in rec.reason and "this is the simplest" not in rec.reason
        trials.append(trial("processes", 0.161, 2, 1))
        assert recommend(trials, CPU, {}, 0.01).chunksize == 1  # no chunk size to write: simplest

    def test_tie_within_three_percent_goes_to_threads_before_processes(self):
        trials = [trial("serial", 1.0), trial("processes", 0.50, 2, 1), trial("threads", 0.51, 4)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "threads"

    def test_tie_within_measured_spread(self):
        # 10% apart, beyond 3%, but the faster one's repeats spread by 0.06 s.
        trials = [trial("serial", 2.0), trial("processes", 0.50, 4, 1, spread=0.06), trial("threads", 0.55, 4)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "threads"

    def test_the_spread_of_two_runs_makes_no_tie(self):
        # Runs of 0.27 and 0.44 s: half their gap is not noise another trial can hide in
        # (16 CPUs: one run of 16 threads, 0.43 s, was advised for work holding the GIL).
        unsettled = dataclasses.replace(trial("processes", 0.355, 4, 2), repeats=[0.27, 0.44], spread=0.085)
        trials = [trial("serial", 0.59), unsettled, trial("threads", 0.43, 16)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert (rec.executor, rec.workers) == ("processes", 4)
        settled = dataclasses.replace(unsettled, repeats=[0.27, 0.355, 0.44])
        assert recommend([trials[0], settled, trials[2]], CPU, {}, 0.01).executor == "threads"

    def test_clear_win_is_not_a_tie(self):
        trials = [trial("serial", 1.0), trial("processes", 0.40, 2, 1), trial("threads", 0.45, 4)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "processes"
        assert rec.runner_up is None or rec.runner_up != "processes 2w"

    def test_under_worthwhile_speedup_stays_serial(self):
        trials = [trial("serial", 1.0), trial("threads", 0.92, 4), trial("processes", 0.95, 2, 1)]
        rec = recommend(trials, CPU, {}, 0.004)
        assert rec.executor == "serial"
        assert (rec.workers, rec.chunksize, rec.start_method, rec.expected_speedup) == (1, None, None, 1.0)
        assert "threads 4w" in rec.reason  # the best parallel option, by name
        assert "1.09x" in rec.reason  # its measured gain
        assert "0.92 s" in rec.reason and "1 s serial" in rec.reason  # and its numbers
        assert rec.runner_up == "threads 4w"

    def test_serial_fastest_stays_serial(self):
        trials = [trial("serial", 1.0), trial("threads", 1.5, 4), trial("processes", 1.2, 2, 1)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "serial" and rec.expected_speedup == 1.0
        assert "processes 2w" in rec.reason

    def test_excluded_executor_is_never_chosen(self):
        trials = [trial("serial", 1.0), trial("processes", 0.2, 4, 1), trial("threads", 0.6, 4)]
        rec = recommend(trials, CPU, {"processes": "the target changes module globals"}, 0.01)
        assert rec.executor == "threads"
        assert rec.expected_speedup == pytest.approx(1 / 0.6, abs=1e-3)

    def test_everything_excluded_gives_serial_with_the_reasons(self):
        trials = [trial("serial", 1.0), trial("processes", 0.2, 4, 1), trial("threads", 0.6, 4)]
        excl = {"processes": "arguments cannot be pickled", "threads": "thread-unsafe"}
        rec = recommend(trials, CPU, excl, 0.01)
        assert rec.executor == "serial"
        assert "arguments cannot be pickled" in rec.reason and "thread-unsafe" in rec.reason

    def test_mismatched_results_are_never_chosen(self):
        trials = [trial("serial", 1.0), trial("threads", 0.2, 8, results_match=False), trial("processes", 0.5, 2, 1)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "processes"

    def test_failed_trials_are_never_chosen(self):
        trials = [trial("serial", 1.0), trial("processes", None, 8, 1, ok=False, error="timed out"),
                  trial("threads", 0.5, 2)]
        rec = recommend(trials, CPU, {}, 0.01)
        assert rec.executor == "threads"

    def test_no_parallel_trial_at_all_says_the_budget_ran_out(self):
        rec = recommend([trial("serial", 0.34)], CPU, {}, 0.04)
        assert rec.executor == "serial"
        assert "budget ran out" in rec.reason and "--budget" in rec.reason and "0.34 s" in rec.reason
        failed = recommend([trial("serial", 0.34), trial("threads", None, 2, ok=False)], CPU, {}, 0.04)
        assert "no parallel option succeeded" in failed.reason

    def test_no_serial_baseline_gives_serial(self):
        rec = recommend([trial("threads", 0.5, 2)], CPU, {}, 0.01)
        assert rec.executor == "serial" and rec.expected_speedup == 1.0 and rec.reason

    def test_eligible(self):
        assert eligible(trial("threads", 0.5, 2), {})
        assert not eligible(trial("threads", 0.5, 2), {"threads": "no"})
        assert not eligible(trial("threads", 0.5, 2, results_match=False), {})
        assert eligible(trial("threads", 0.5, 2, results_match=None), {})
        assert not eligible(trial("threads", None, 2, ok=False), {})

    def test_pick_best_reports_the_tied(self):
        trials = [trial("serial", 1.0), trial("threads", 0.50, 2), trial("threads", 0.505, 4),
                  trial("processes", 0.9, 2, 1)]
        choice, tied = pick_best(trials, {})
        assert choice is trials[1]
        assert set(map(id, tied)) == {id(trials[1]), id(trials[2])}


PARALLEL = ["threads", "processes", "asyncio", "joblib", "dask"]


@st.composite
def trial_sets(draw):
    serial_s = draw(st.floats(0.01, 10))
    serial = trial("serial", serial_s)
    configs = draw(st.lists(st.tuples(st.sampled_from(PARALLEL), st.integers(2, 64),
                                      st.one_of(st.none(), st.integers(1, 100))),
                            min_size=0, max_size=12, unique=True))
    others = []
    for executor, workers, chunk in configs:
        ok = draw(st.booleans()) or draw(st.booleans())
        seconds = draw(st.floats(0.001, 20)) if ok else None
        others.append(trial(executor, seconds, workers, chunk, ok=ok,
                            spread=draw(st.sampled_from([0.0, 0.001, 0.05])) if ok else 0.0,
                            results_match=draw(st.sampled_from([True, None, False]))))
    trials = others + [serial]
    order = draw(st.permutations(range(len(trials))))
    excluded = draw(st.lists(st.sampled_from(PARALLEL), unique=True, max_size=3))
    return [trials[i] for i in order], {e: f"{e} is unsafe here" for e in excluded}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trial_sets())
def test_recommend_only_returns_eligible_configurations(data):
    trials, exclusions = data
    rec = recommend(trials, CPU, exclusions, 0.01)
    assert rec.executor in EXECUTORS
    assert rec.expected_speedup >= 1.0
    assert rec.reason
    serial = next(t for t in trials if t.executor == "serial")
    if rec.executor == "serial":
        assert rec.expected_speedup == 1.0
        return
    assert rec.executor not in exclusions
    matches = [t for t in trials if (t.executor, t.workers, t.chunksize, t.start_method)
               == (rec.executor, rec.workers, rec.chunksize, rec.start_method)]
    assert len(matches) == 1
    choice = matches[0]
    assert choice.ok and choice.results_match is not False and choice.seconds is not None
    assert rec.expected_speedup == pytest.approx(serial.seconds / choice.seconds, abs=1e-3)
    assert rec.expected_speedup >= WORTHWHILE_SPEEDUP - 1e-3
    # Nothing eligible is clearly (beyond 3% and the spreads) faster than the choice.
    for t in trials:
        if eligible(t, exclusions):
            assert choice.seconds - t.seconds <= max(0.03 * t.seconds, t.spread, choice.spread) + 1e-12


# -- space ---------------------------------------------------------------------------------

def workload(**changes: Any) -> space.Workload:
    base = space.Workload(items=200, per_call_s=0.01, serial_s=2.0, usable_cpus=4, waiting=False, gil_free=False)
    return dataclasses.replace(base, **changes)


class TestSpace:
    def test_chunks_of_large_items_stay_within_the_per_core_l2(self):
        tiny = workload(items=10_000, per_call_s=1e-6, serial_s=0.01, item_bytes=64, l2_bytes=MIB)
        big = dataclasses.replace(tiny, item_bytes=100 * KIB)  # ten of them fill a 1 MiB L2
        assert max(space.chunk_candidates(tiny, 4)) > 10
        assert max(space.chunk_candidates(big, 4)) <= 10
        huge = dataclasses.replace(tiny, item_bytes=4 * MIB)  # one item alone overflows L2: no cap
        assert space.l2_chunk_cap(huge) == huge.items
        best = space.Config("processes", 4, 8)
        assert all(c.chunksize <= 10 for c in space.refine(best, set(), big) if c.chunksize)
        unknown = dataclasses.replace(big, l2_bytes=0)
        assert space.l2_chunk_cap(unknown) == unknown.items

    def test_worker_levels(self):
        assert space.worker_levels(1) == []
        assert space.worker_levels(2) == [2]
        assert space.worker_levels(3) == [2, 3]
        assert space.worker_levels(12) == [2, 4, 8, 12]
        assert space.worker_levels(16) == [2, 4, 8, 16]

    def test_chunk_candidates_example(self):
        load = workload(items=1000, per_call_s=1e-5, process_task_s=1e-4)
        picks = space.chunk_candidates(load, 4)
        assert picks == sorted(set(picks))
        assert 200 in picks  # 20 * 1e-4 / 1e-5: amortises the hand-over
        assert 63 in picks  # Pool.map's own default, 4 chunks per worker
        assert 16 in picks  # 16 chunks per worker, for balance

    def test_waiting_work_gets_many_thread_levels(self):
        load = workload(items=200, waiting=True, usable_cpus=2)
        threads = [c for c in space.plan(load, ["threads"]) if c.executor == "threads"]
        levels = sorted({c.workers for c in threads})
        assert levels == [2, 4, 8, 16, 32, 64, 128]
        assert max(levels) > load.usable_cpus

    def test_waiting_levels_stop_at_the_item_count(self):
        load = workload(items=10, waiting=True)
        levels = sorted({c.workers for c in space.plan(load, ["threads"])})
        assert levels == [2, 4, 8, 10]

    def test_gil_bound_work_gets_one_thread_config(self):
        load = workload(per_call_s=0.01, usable_cpus=8)
        threads = [c for c in space.plan(load, ["threads", "processes"]) if c.executor == "threads"]
        assert threads == [space.Config("threads", 8)]

    def test_gil_free_work_gets_levels_up_to_four_times_the_cpus(self):
        load = workload(gil_free=True, usable_cpus=4)
        levels = sorted(c.workers for c in space.plan(load, ["threads"]))
        assert levels == [2, 4, 8, 16]

    def test_no_processes_on_one_cpu_for_busy_work(self):
        for gil_free in (False, True):
            load = workload(usable_cpus=1, gil_free=gil_free)
            assert not [c for c in space.plan(load, ["threads", "processes"]) if c.executor == "processes"]

    def test_processes_on_one_cpu_for_waiting_work(self):
        load = workload(usable_cpus=1, waiting=True, items=50)
        procs = [c for c in space.plan(load, ["processes"], "spawn")]
        assert procs and all(c.executor == "processes" and c.start_method == "spawn" for c in procs)
        assert max(c.workers for c in procs) <= 8

    def test_process_configs_carry_chunks_and_start_method(self):
        load = workload(usable_cpus=4)
        procs = space.plan(load, ["processes"], "forkserver")
        assert {c.workers for c in procs} == {2, 4}
        assert all(c.start_method == "forkserver" and c.chunksize and c.chunksize >= 1 for c in procs)

    def test_asyncio_only_for_coroutines(self):
        sync = space.plan(workload(waiting=True), ["threads", "processes", "asyncio"])
        assert sync and not [c for c in sync if c.executor == "asyncio"]
        coro = space.plan(workload(waiting=True, is_coroutine=True, items=20), ["threads", "processes", "asyncio"])
        assert coro and all(c.executor == "asyncio" for c in coro)
        assert sorted(c.workers for c in coro) == [2, 4, 8, 16, 20]

    def test_only_the_asked_executors(self):
        assert space.plan(workload(), []) == []
        assert all(c.executor == "threads" for c in space.plan(workload(), ["threads"]))
        assert space.plan(workload(is_coroutine=True), ["threads", "processes"]) == []

    def test_cheap_calls_get_a_chunked_thread_config(self):
        load = workload(per_call_s=1e-6, items=1000, usable_cpus=4)
        threads = [c for c in space.plan(load, ["threads"])]
        assert any(c.chunksize and c.chunksize > 1 for c in threads)

    def test_plan_tries_each_executor_once_then_goes_by_prediction(self):
        load = workload(waiting=True, items=100)
        configs = space.plan(load, ["threads", "processes"])
        leaders, rest = configs[:2], configs[2:]
        assert {c.executor for c in leaders} == {"threads", "processes"}
        for executor in ("threads", "processes"):
            mine = [space.predict_seconds(load, c) for c in configs if c.executor == executor]
            assert mine[0] == min(mine), "each executor leads with its most promising configuration"
        predicted = [space.predict_seconds(load, c) for c in rest]
        assert predicted == sorted(predicted)

    @settings(max_examples=300, deadline=None)
    @given(n=st.integers(1, 10**6), workers=st.integers(1, 256), per_call=st.floats(0, 10),
           task=st.floats(0, 0.1))
    def test_chunk_candidates_are_within_bounds(self, n, workers, per_call, task):
        load = workload(items=n, per_call_s=per_call, process_task_s=task)
        picks = space.chunk_candidates(load, workers)
        assert picks, "at least one chunk size"
        assert picks == sorted(set(picks))
        assert all(isinstance(c, int) for c in picks)
        assert all(1 <= c <= math.ceil(n / workers) for c in picks)

    @settings(max_examples=200, deadline=None)
    @given(n=st.integers(1, 5000), cpus=st.integers(1, 64), per_call=st.floats(1e-7, 1),
           waiting=st.booleans(), gil_free=st.booleans(), coro=st.booleans())
    def test_plan_configs_are_sane(self, n, cpus, per_call, waiting, gil_free, coro):
        load = workload(items=n, usable_cpus=cpus, per_call_s=per_call, serial_s=n * per_call,
                        waiting=waiting, gil_free=gil_free, is_coroutine=coro)
        configs = space.plan(load, ["threads", "processes", "asyncio"])
        assert len(configs) == len(set(configs)), "no configuration twice"
        for c in configs:
            assert c.workers >= 2
            assert c.executor == "asyncio" if coro else c.executor in ("threads", "processes")
            if c.chunksize is not None:
                assert 1 <= c.chunksize <= max(1, math.ceil(n / c.workers)) or c.executor == "threads"
            if c.executor == "processes" and not waiting:
                assert c.workers <= max(2, cpus)


def test_stay_serial_reason_never_quotes_a_gain_above_the_bar():
    import re

    trials = [trial("serial", 1.0), trial("processes", 0.86, 2, 1), trial("threads", 0.87, 4)]
    rec = recommend(trials, CPU, {}, 0.01)
    if rec.executor == "serial":
        quoted = float(re.search(r"measured (\d+\.\d+)x", rec.reason).group(1))
        assert quoted < WORTHWHILE_SPEEDUP, rec.reason
    else:
        assert rec.expected_speedup >= WORTHWHILE_SPEEDUP


class TestSimulatedMap:
    def test_even_items_split_evenly(self):
        assert space.simulate_map((1.0,) * 8, 2, 1, 0.0) == pytest.approx(4.0)
        assert space.simulate_map((1.0,) * 8, 2, 4, 0.0) == pytest.approx(4.0)

    def test_clustered_expensive_items_punish_big_chunks(self):
        walls = (0.01,) * 30 + (0.5,) * 4
        one_chunk_each = space.simulate_map(walls, 2, 17, 0.0)
        small_chunks = space.simulate_map(walls, 2, 1, 0.0)
        assert small_chunks < one_chunk_each

    def test_dispatch_cost_favours_bigger_chunks_for_tiny_items(self):
        walls = (1e-6,) * 10_000
        assert space.simulate_map(walls, 2, 1000, 1e-4) < space.simulate_map(walls, 2, 1, 1e-4)

    def test_pool_maps_own_chunk_size_is_always_a_candidate(self):
        # Even items the simulation would hand out one by one: the default is still measured.
        walls = (2.7e-4,) * 900
        load = workload(items=len(walls), per_call_s=2.7e-4, process_task_s=1.8e-5, walls=walls, usable_cpus=2)
        picks = space.chunk_candidates(load, 2)
        assert 113 in picks and len(picks) <= 3  # ceil(900 / (4 x 2)), as Pool.map picks it

    def test_planner_picks_small_chunks_for_clustered_expensive_items(self):
        walls = (0.01,) * 30 + (0.5,) * 4
        load = workload(items=len(walls), per_call_s=sum(walls) / len(walls), process_task_s=2e-5,
                        walls=walls, usable_cpus=2)
        picks = space.chunk_candidates(load, 2)
        assert min(picks) <= 2 and 17 not in picks


def test_the_users_own_pool_is_compared_even_when_it_was_not_among_the_projected_finalists():
    from advisor.analyse.recommend import with_user_pool
    from advisor.model import Recommendation

    serial = dataclasses.replace(trial("serial", 0.004), projected_seconds=0.016)
    threads = dataclasses.replace(trial("threads", 0.006, 2, 1250), projected_seconds=0.02)
    mine = trial("processes", 0.25, 8, 1)  # far behind: never projected
    pool = {"method": "Pool.map", "executor": "processes", "workers": 8, "chunksize": 1}
    rec = with_user_pool(Recommendation("serial", 1, None, None, 1.0, "Stay serial."), [serial, threads, mine],
                         pool, items=20_000, items_measured=5_000)
    # Its subset time scaled to the whole loop (4x), beside serial's projected time.
    assert "Your Pool(8), chunksize 1, as the script maps it: 1 s against 0.016 s serial (62.5x slower)." in rec.reason


class TestWaitingSubsetScaling:
    """Waiting calls measured on a subset: whole-loop times by rounds of calls in flight."""

    IO = Classification("io-bound", {"per_call_seconds": 0.02}, "the calls wait")

    def test_rounds_factor_is_proportional_for_many_calls_per_worker(self):
        from advisor.analyse.recommend import rounds_factor

        assert rounds_factor(trial("serial", 1.0), 90, 78) == pytest.approx(90 / 78)
        assert rounds_factor(trial("threads", 1.0, 2), 900, 300) == pytest.approx(3.0)

    def test_all_in_flight_on_the_subset_is_not_all_in_flight_on_the_loop(self):
        from advisor.analyse.recommend import rounds_factor

        assert rounds_factor(trial("asyncio", 0.026, 78), 90, 78) == 2.0  # two rounds of waits, not 90/78
        assert rounds_factor(trial("asyncio", 0.046, 64), 90, 78) == 1.0  # two rounds either way

    def test_the_worker_count_that_covers_the_loop_wins(self):
        trials = [trial("serial", 1.56), trial("asyncio", 0.026, 78), trial("asyncio", 0.046, 64)]
        rec = recommend(trials, self.IO, {}, 0.02, items=90, items_measured=78)
        assert rec.executor == "asyncio" and rec.workers == 64
        assert "rounds of waiting calls" in rec.reason
        # 1.56 s x 90/78 for serial, 0.046 s for one round of 64 and one of 26.
        assert rec.expected_speedup == pytest.approx(1.56 * 90 / 78 / 0.046, rel=1e-3)


def test_waiting_calls_on_a_subset_are_planned_up_to_one_worker_per_call_of_the_loop():
    from advisor.executors import asyncio_gather

    subset = workload(items=78, total_items=90, waiting=True, is_coroutine=True, per_call_s=0.02, serial_s=1.56)
    assert max(c.workers for c in asyncio_gather.configs(subset)) == 90
    whole = dataclasses.replace(subset, total_items=0)
    assert max(c.workers for c in asyncio_gather.configs(whole)) == 78


class TestLoopFactor:
    """Whole loop / subset for trials on a subset of uneven items (workload.loop_factor)."""

    def test_more_workers_than_cpus_share_them(self):
        from advisor.analyse.workload import shared_makespan

        assert shared_makespan([1.0] * 4, 2, 1, 2) == pytest.approx(2.0)
        assert shared_makespan([1.0] * 3, 4, 1, 2) == pytest.approx(1.5)  # three at once on two CPUs
        assert shared_makespan([1.0] * 10, 2, 4, 2) == pytest.approx(6.0)  # chunks 4, 4, 2
        # One worker per CPU: the plain hand-out
        walls = [0.01] * 30 + [0.5] * 4
        assert shared_makespan(walls, 2, 3, 2) == pytest.approx(space.simulate_map(tuple(walls), 2, 3, 0.0))

    def test_a_subset_with_long_items_in_other_proportions_is_not_scaled_by_time(self):
        from advisor.analyse.workload import loop_factor

        loop = [0.015] * 36 + [0.22] * 3  # the long ones at the end
        subset = loop[::5] + [loop[-1]]
        by_time = sum(loop) / sum(subset)
        assert loop_factor("serial", 1, None, loop, subset, 2) == pytest.approx(by_time)
        assert loop_factor("threads", 2, None, loop, subset, 2) == pytest.approx(by_time)
        # Two workers: the subset's eight short items take 0.06 s, then its one long item 0.22 s;
        # the loop's 36 short ones 0.27 s, then its three long ones two rounds, 0.44 s.
        two = loop_factor("processes", 2, 1, loop, subset, 2)
        assert two == pytest.approx(0.71 / 0.28)
        assert two < 0.8 * by_time  # by time, parallel would look 40% slower than it is
        # Even items: the hand-out scales like the time
        assert loop_factor("processes", 2, 1, [1.0] * 40, [1.0] * 10, 2) == pytest.approx(4.0)

    def test_recommend_scales_each_trial_by_its_own_factor(self):
        trials = [Trial("serial", 1, None, None, 0.4, 1.0, True, loop_factor=3.0),
                  Trial("processes", 2, 1, "fork", 0.3, None, True, loop_factor=2.5)]
        rec = recommend(trials, Classification("cpu-bound", {}), {}, 0.05, items=39, items_measured=8)
        assert rec.executor == "processes"
        assert rec.expected_speedup == pytest.approx((0.4 * 3.0) / (0.3 * 2.5), rel=1e-3)
        assert "recorded durations" in rec.reason


class TestOversubscribedWorkers:
    """Twice the CPUs in process workers, planned where the loop's durations say it ends sooner."""

    @staticmethod
    def load(loop_walls, cpus=2, waiting=False, start_s=0.01):
        subset = tuple(loop_walls[::5])
        return space.Workload(items=len(subset), per_call_s=0.02, serial_s=sum(subset), usable_cpus=cpus,
                              waiting=waiting, gil_free=False, process_start_s=start_s, walls=subset,
                              total_items=len(loop_walls), loop_walls=tuple(loop_walls))

    def test_long_items_at_the_end_share_the_cpus(self):
        from advisor.analyse.workload import oversubscribed_workers

        # Two workers take two of the three long ones, then one: 0.27 + 0.44 s. Four run all
        # three at once on two CPUs: 0.27 + 0.33 s, a gain over the two extra start-ups.
        load = self.load([0.015] * 36 + [0.22] * 3)
        assert oversubscribed_workers(load) == 4
        planned = EXECUTORS["processes"].configs(load)
        assert space.Config("processes", 4, 1, "fork") in planned
        # Its predicted time is the loop's modelled makespan in the subset's proportion: under
        # what two workers take over the loop, so proportioned (this subset holds no long item).
        load = dataclasses.replace(load, process_start_s=0.001)
        four = EXECUTORS["processes"].predict(load, space.Config("processes", 4, 1, "fork"))
        share = sum(load.walls) / sum(load.loop_walls)
        assert four == pytest.approx(0.002 + 0.60 * share)
        assert four < 0.001 + space.simulate_map(load.loop_walls, 2, 1, 0.0) * share

    def test_even_items_waiting_calls_and_unknown_loops_plan_one_worker_per_cpu(self):
        from advisor.analyse.workload import oversubscribed_workers

        assert oversubscribed_workers(self.load([0.02] * 40)) is None  # the CPUs stay busy to the end
        assert oversubscribed_workers(self.load([0.015] * 36 + [0.22] * 3, waiting=True)) is None
        assert oversubscribed_workers(self.load([0.015] * 36 + [0.22] * 3, cpus=1)) is None
        # A gain smaller than the extra workers' start-up is not worth a trial.
        assert oversubscribed_workers(self.load([0.015] * 36 + [0.22] * 3, start_s=0.2)) is None
        unknown = dataclasses.replace(self.load([0.015] * 36 + [0.22] * 3), loop_walls=())
        assert oversubscribed_workers(unknown) is None
        assert all(c.workers <= 2 for c in EXECUTORS["processes"].configs(unknown))


class TestOncePerMap:
    """A pool's start-up and its last chunk's results are paid once per map, not per item."""

    def test_the_fixed_part_is_not_scaled_with_the_loop(self):
        from advisor.measure.target import once_per_map_s

        overheads = {"start_fork_s": 0.015, "process_task_s": 0.0, "result_transfer_s": 0.007,
                     "thread_task_s": 1e-5}
        walls = [0.028] * 8
        pool = Trial("processes", 2, 2, "fork", 0.21, None, True)
        # start-up, then the last chunk's two results sent back
        assert once_per_map_s(pool, overheads, walls, 2) == pytest.approx(0.015 + 2 * 0.007)
        # never more than the trial's time beyond its work shared out (0.21 - 0.112)
        slow_start = {**overheads, "start_fork_s": 0.5}
        assert once_per_map_s(pool, slow_start, walls, 2) == pytest.approx(0.21 - 0.112)
        assert once_per_map_s(Trial("serial", 1, None, None, 0.224, None, True), overheads, walls, 2) == 0.0
        threads = Trial("threads", 4, None, None, 0.2, None, True)
        assert once_per_map_s(threads, overheads, walls, 2) == pytest.approx(4e-5)

    def test_transfer_seconds_times_a_few_values(self):
        from advisor.sweep.probes import transfer_seconds

        values = [{i: (str(i), i) for i in range(2000)} for _ in range(10)]
        assert transfer_seconds(values) > 0
        assert transfer_seconds([lambda: 1]) == 0.0  # cannot be pickled: nothing to time
        assert transfer_seconds([]) == 0.0


def test_a_projected_pool_at_pool_maps_default_chunking_is_advised_with_the_whole_loops_chunks():
    serial = dataclasses.replace(trial("serial", 0.1), projected_seconds=0.84)
    pool = dataclasses.replace(trial("processes", 0.06, 2, 4246), projected_seconds=0.5, start_method="fork")
    rec = recommend([serial, pool], Classification("cpu-bound", {}, "the calls hold the GIL"), {}, 3e-6,
                    items=300_000, items_measured=33_967)
    assert rec.executor == "processes" and rec.chunksize == 37_500  # four per worker, as Pool.map makes them
    assert "4,246 calls each on the 33,967 measured, 37,500 on all 300,000" in rec.reason
    # A chunk chosen for its size, not Pool.map's share of the items, is kept as measured.
    sized = dataclasses.replace(pool, chunksize=64)
    rec = recommend([serial, sized], Classification("cpu-bound", {}, "the calls hold the GIL"), {}, 3e-6,
                    items=300_000, items_measured=33_967)
    assert rec.chunksize == 64
