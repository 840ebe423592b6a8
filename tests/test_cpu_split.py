"""The sampled Python / native split of the target's CPU time (measure/cpu_split.py), and
what the sweep does with it: the GIL bound that spares the GIL probe (sweep/probes.py)."""
from __future__ import annotations

import hashlib
import signal

import pytest
from test_analyse import CACHES, measurement

from advisor.analyse.classify import classify
from advisor.measure.cpu_split import CpuSplit, at_call
from advisor.measure.target import others_can_start_sooner
from advisor.sweep import probes
from advisor.sweep.runner import SweepOptions


def pure_python(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


BLOB = b"x" * 40_000_000


def native() -> bytes:
    return hashlib.sha256(BLOB).digest()  # one long call into C


def split_of(work, seconds: float = 0.3, inside: bool = True) -> dict[str, float]:
    import time

    sampler = CpuSplit(lambda: inside)
    assert sampler.start()
    try:
        started = time.process_time()
        while time.process_time() - started < seconds:
            work()
    finally:
        sampler.stop()
    return sampler.percents()


def test_pure_python_is_mostly_python():
    split = split_of(lambda: pure_python(20_000))
    assert split["python_percent"] > 70


def test_one_long_native_call_is_native():
    split = split_of(native)
    assert split["native_percent"] > 70


def test_nothing_is_counted_outside_the_calls():
    assert split_of(lambda: pure_python(20_000), inside=False) == {}


def test_stop_restores_the_handler_and_the_timer():
    before = signal.getsignal(signal.SIGPROF)
    sampler = CpuSplit(lambda: True)
    assert sampler.start()
    sampler.stop()
    assert signal.getsignal(signal.SIGPROF) == before
    assert signal.getitimer(signal.ITIMER_PROF) == (0.0, 0.0)


def test_a_script_with_its_own_profiling_handler_is_left_alone():
    def own(signum, frame):
        pass

    previous = signal.signal(signal.SIGPROF, own)
    try:
        assert not CpuSplit(lambda: True).start()
        assert signal.getsignal(signal.SIGPROF) is own
    finally:
        signal.signal(signal.SIGPROF, previous)


def test_a_frame_that_is_calling_stands_at_a_call():
    import sys

    def callers_frame_at_call() -> bool:
        return at_call(sys._getframe(1))  # the test's frame, inside its call of this function

    assert callers_frame_at_call()
    assert not at_call(None)


class TestGilBound:
    def test_python_work_rules_threads_out(self):
        bound = probes.gil_bound(1.0, {"python_percent": 95.0, "native_percent": 5.0})
        assert bound is not None
        assert bound["bound"] == pytest.approx(2 / 1.95, rel=1e-3)
        assert "speedup" not in bound  # nothing was measured with threads

    def test_native_or_waiting_work_gets_the_probe(self):
        assert probes.gil_bound(1.0, {"python_percent": 30.0, "native_percent": 70.0}) is None
        assert probes.gil_bound(0.4, {"python_percent": 100.0, "native_percent": 0.0}) is None

    def test_unknown_split_gets_the_probe(self):
        assert probes.gil_bound(1.0, {}) is None

    def test_the_verdict_quotes_the_bound(self):
        gil = probes.gil_bound(1.0, {"python_percent": 100.0, "native_percent": 0.0})
        c = classify(measurement(gil_speedup=None, gil_probe=gil), CACHES, {"python_percent": 100.0,
                                                                         "native_percent": 0.0})
        assert c.kind == "cpu-bound"
        assert "at most 1.00x" in c.explanation


def test_no_main_guard_means_no_other_start_method_probes():
    options = SweepOptions(budget_s=2.0, trial_timeout_s=5.0, executors=["processes"], usable_cpus=2,
                           main_guard=False)
    assert not others_can_start_sooner(options, 5.0)
