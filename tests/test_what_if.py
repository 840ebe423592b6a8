"""advisor.analyse.what_if: the advice for N CPUs, from hand-built measurements of a 2-CPU machine."""
from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from advisor.analyse.what_if import SIMULATED_ITEMS, durations_for, gil_share_of, makespan, parts, what_if
from advisor.model import Caches, Measurement, Trial
from advisor.sweep import probes

MIB = 1024 * 1024
CACHES = Caches(l1d_bytes=48 * 1024, l2_bytes=2 * MIB, l3_bytes=32 * MIB, l3_shared_by=8)
CALL_S = 0.01
ITEMS = 64


def trial(executor: str, seconds: float, workers: int = 1, chunksize: Any = None) -> Trial:
    return Trial(executor, workers, chunksize, "fork" if executor == "processes" else None, seconds, None, True,
                 repeats=[seconds] * 3, spread=0.01 * seconds, results_match=True)


def measured(trials: list[Trial], *, call_s: float = CALL_S, items: int = ITEMS, **changes: Any) -> Measurement:
    base = Measurement(
        items=items, items_measured=items, call_style="single",
        per_call={"median": call_s, "mean": call_s, "p10": call_s, "p90": call_s, "mad": 0.0,
                  "total": call_s * items, "serial_mean": call_s},
        cpu_ratio=1.0, thread_cpu_ratio=1.0, gil_probe=None, arg_bytes=64, result_bytes=64,
        peak_alloc_bytes=0, working_set_bytes=1024,
        overheads={"process_start_s": 0.02, "start_fork_s": 0.02, "probe_workers": 2.0,
                   "process_task_s": 1e-4, "thread_task_s": 2e-5, "pickle_bytes_per_s": 1e8},
        trials=trials, warnings=[], exclusions={}, item_seconds=[call_s] * items)
    return dataclasses.replace(base, **changes)


class TestParts:
    def test_even_items_on_fewer_workers_take_rounds(self):
        assert makespan([1.0], 8, 4, 1) == pytest.approx(2.0)
        assert makespan([1.0], 9, 4, 1) == pytest.approx(3.0)
        assert makespan([1.0], 8, 4, 8) == pytest.approx(8.0)  # one chunk: one worker does it all

    def test_one_long_item_sets_the_makespan(self):
        assert makespan([5.0, 1.0, 1.0, 1.0], 4, 4, 1) == pytest.approx(5.0)

    def test_long_loops_are_simulated_in_groups_with_the_same_result_for_even_items(self):
        n = 10 * SIMULATED_ITEMS
        assert makespan([1e-3], n, 10, 1) == pytest.approx(n * 1e-3 / 10)

    def test_durations_are_drawn_evenly_in_order(self):
        assert durations_for([1.0, 2.0], 4) == [1.0, 1.0, 2.0, 2.0]

    def test_more_workers_than_cpus_share_them(self):
        m = measured([])
        on_two = parts("processes", 4, 1, "fork", m, 2, ITEMS, 1.0)["compute"]
        on_four = parts("processes", 4, 1, "fork", m, 4, ITEMS, 1.0)["compute"]
        assert on_two == pytest.approx(2 * on_four)

    def test_the_gil_share_comes_from_the_two_thread_probe(self):
        assert gil_share_of(1.0, "cpu-bound") == pytest.approx(1.0)
        assert gil_share_of(2.0, "gil-releasing") == pytest.approx(0.0)
        assert gil_share_of(None, "cpu-bound") == 1.0  # unmeasured: held, as pure Python does
        assert gil_share_of(None, "io-bound") == 0.0


class TestWhatIf:
    def test_cpu_work_predicts_more_processes_on_more_cpus(self):
        serial = CALL_S * ITEMS
        m = measured([trial("serial", serial), trial("processes", serial / 2 + 0.02, 2, 1),
                      trial("threads", serial, 2)])
        out = what_if(m, "cpu-bound", 8, 2, CACHES, 1.0)
        assert out["executor"] == "processes" and out["workers"] == 8
        assert 4.0 < out["predicted_speedup"] < 8.0  # start-up and hand-over keep it under 8
        assert out["low"] <= out["predicted_speedup"] <= out["high"]
        assert out["cpus"] == 8 and "not measurable here" in out["limit"]

    def test_the_same_cpus_reproduce_what_was_measured(self):
        serial = CALL_S * ITEMS
        measured_2w = serial / 2 + 0.03
        m = measured([trial("serial", serial), trial("processes", measured_2w, 2, 1)])
        out = what_if(m, "cpu-bound", 2, 2, CACHES, 1.0)
        assert out["predicted_seconds"] == pytest.approx(measured_2w, rel=0.05)

    def test_tiny_calls_stay_serial_when_hand_over_costs_more(self):
        m = measured([trial("serial", 1e-6 * ITEMS), trial("processes", 0.05, 2, 1)], call_s=1e-6)
        out = what_if(m, "overhead-bound", 16, 2, CACHES, 1.0)
        assert out["executor"] == "serial" and out["predicted_speedup"] == 1.0
        assert out["limit"].startswith("stay serial")

    def test_an_excluded_executor_is_never_predicted(self):
        serial = CALL_S * ITEMS
        m = measured([trial("serial", serial), trial("processes", serial / 2, 2, 1)],
                     exclusions={"processes": "mutates module state"})
        assert what_if(m, "cpu-bound", 8, 2, CACHES, 1.0)["executor"] == "serial"

    def test_gil_releasing_work_can_use_threads(self):
        serial = CALL_S * ITEMS
        m = measured([trial("serial", serial), trial("threads", serial / 2, 2)],
                     gil_probe={"threads": 2, "sequential_s": 0.2, "parallel_s": 0.1, "speedup": 2.0})
        out = what_if(m, "gil-releasing", 8, 2, CACHES, 2.0)
        assert out["executor"] == "threads" and out["workers"] == 8 and out["predicted_speedup"] > 5

    def test_waiting_work_keeps_the_measured_configuration(self):
        serial = CALL_S * ITEMS
        m = measured([trial("serial", serial), trial("threads", serial / 32, 32)], cpu_ratio=0.02)
        out = what_if(m, "io-bound", 16, 2, CACHES, None)
        assert (out["executor"], out["workers"]) == ("threads", 32)
        assert "not on the CPUs" in out["limit"]

    def test_a_big_working_set_is_named_as_a_possible_cap(self):
        serial = CALL_S * ITEMS
        m = measured([trial("serial", serial), trial("processes", serial / 2, 2, 1)], working_set_bytes=8 * MIB)
        assert "L2" in what_if(m, "cpu-bound", 8, 2, CACHES, 1.0)["limit"]


def _python_work(n: int) -> int:
    return sum(i * i for i in range(n))


def _waiting_work(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


class TestWakeUpProbe:
    """probes.gil_free_share tells GIL-holding from GIL-releasing calls, on any number of CPUs."""

    def test_python_code_holds_the_gil(self):
        out = probes.gil_free_share(_python_work, [200_000] * 4)
        assert out["free_share"] < 0.5 and out["wake_rate_held"] < out["wake_rate_released"]

    def test_sleeping_releases_it(self):
        assert probes.gil_free_share(_waiting_work, [0.02] * 4)["free_share"] > 0.5

    def test_the_what_if_uses_the_measured_share_when_no_two_thread_probe_ran(self):
        assert gil_share_of(None, "gil-releasing", free_share=0.75) == pytest.approx(0.25)


def test_a_loaded_blas_is_limited_per_worker_in_the_prediction():
    serial = CALL_S * ITEMS
    m = measured([trial("serial", serial), trial("processes", serial / 2 + 0.02, 2, 1)],
                 blas={"internal_api": "openblas", "num_threads": 1})  # one thread: measured on one CPU
    out = what_if(m, "cpu-bound", 8, 1, CACHES, 1.0)
    assert out["executor"] == "processes" and out["blas_threads"] == 8 // out["workers"]
    assert "oversubscribe" in out["limit"]
    assert what_if(measured([trial("serial", serial), trial("processes", serial / 2, 2, 1)]),
                   "cpu-bound", 8, 1, CACHES, 1.0)["blas_threads"] is None
