"""Speedup model fits and the time breakdown, on hand-built trials (no timing)."""
from __future__ import annotations

import pytest

from advisor.analyse.breakdown import PARTS, breakdown
from advisor.analyse.model_fit import amdahl, fit_amdahl, fit_scaling, fit_usl, holdout_error, usl
from advisor.model import Measurement, Trial


def trial(executor: str, workers: int, seconds: float, chunk=None, method=None, ok=True) -> Trial:
    return Trial(executor, workers, chunk, method, seconds if ok else None, 1.0 / seconds if ok else None, ok)


def test_amdahl_recovers_the_serial_fraction():
    points = {w: amdahl(0.2, w) for w in (2, 4, 8, 16)}
    assert fit_amdahl(points) == pytest.approx(0.2, abs=1e-6)


def test_usl_recovers_contention_and_coherency():
    points = {w: usl(0.05, 0.002, w) for w in (2, 4, 8, 16, 32)}
    a, b = fit_usl(points)
    assert a == pytest.approx(0.05, abs=1e-6) and b == pytest.approx(0.002, abs=1e-6)


def test_holdout_error_is_zero_for_a_perfect_model_and_needs_three_points():
    assert holdout_error({w: usl(0.1, 0.0, w) for w in (2, 4, 8)}) == pytest.approx(0.0, abs=1e-4)
    assert holdout_error({2: 1.9, 4: 3.5}) is None


def test_fit_scaling_uses_the_best_chunk_per_worker_count_and_predicts_to_usable():
    trials = [trial("serial", 1, 1.0), trial("processes", 2, 0.55, 1), trial("processes", 2, 0.52, 4),
              trial("processes", 4, 0.3, 4), trial("processes", 8, 0.5, ok=False)]
    fit = fit_scaling(trials, "processes", predict_to=16)
    assert fit is not None
    assert fit["measured"] == {"2": pytest.approx(1 / 0.52, rel=1e-3), "4": pytest.approx(1 / 0.3, rel=1e-3)}
    assert set(fit["predicted"]) == {str(w) for w in range(1, 17)}
    assert 0.0 <= fit["amdahl_serial_fraction"] <= 1.0


def measurement(trials: list[Trial]) -> Measurement:
    return Measurement(
        items=100, items_measured=100, call_style="single",
        per_call={"median": 0.01, "mean": 0.01, "p10": 0.01, "p90": 0.01, "max": 0.01, "mad": 0.0, "total": 1.0},
        cpu_ratio=1.0, thread_cpu_ratio=1.0, gil_probe=None, arg_bytes=1000, result_bytes=1000,
        peak_alloc_bytes=0, working_set_bytes=2000,
        overheads={"start_fork_s": 0.02, "probe_workers": 2.0, "process_task_s": 1e-4, "thread_task_s": 1e-5,
                   "pickle_bytes_per_s": 1e8},
        trials=trials, warnings=[], exclusions={})


def test_breakdown_parts_add_up_to_the_measured_time():
    trials = [trial("serial", 1, 1.0), trial("processes", 2, 0.6, 10, "fork"), trial("threads", 2, 1.1)]
    m = measurement(trials)
    for t in trials:
        parts = breakdown(t, m, "cpu-bound", 2)
        assert parts is not None and set(parts) == set(PARTS)
        assert sum(parts.values()) == pytest.approx(t.seconds, rel=1e-3)
    processes = breakdown(trials[1], m, "cpu-bound", 2)
    assert processes["startup"] == pytest.approx(0.02) and processes["dispatch"] == pytest.approx(10 * 1e-4)
    assert processes["compute"] == pytest.approx(0.5)


def test_breakdown_of_a_failed_trial_is_none():
    m = measurement([trial("serial", 1, 1.0), trial("processes", 2, 1.0, ok=False)])
    assert breakdown(m.trials[1], m, "cpu-bound", 2) is None
