"""Fault injection on advisor.sweep.isolate / the executors, plus items.same and state snapshots.

The time bounds here are hang guards, not benchmarks: they are many times what the
work needs and only catch a child (or pool) that is never reaped.
"""
from __future__ import annotations

import faulthandler
import math
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import psutil
import pytest

from advisor import executors
from advisor.executors import asyncio_gather, serial, threads
from advisor.executors.processes import run as run_processes
from advisor.measure import state
from advisor.sweep.isolate import Outcome, _wait_until_dead, describe_exit, run_isolated
from advisor.sweep.items import RaisedOutcome, count_differences, mappable, same

HANG_GUARD_S = 10.0


def descendants() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


@pytest.fixture
def no_leftover_processes():
    """After the test, no process started under the test process is left (1 s to reap)."""
    before = descendants()
    yield
    deadline = time.monotonic() + 1.0
    while True:
        left = descendants() - before
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not left, f"processes left behind: {sorted(left)}"


def isolated(work, timeout: float) -> tuple[Outcome, float]:
    started = time.monotonic()
    outcome = run_isolated(work, timeout)
    return outcome, time.monotonic() - started


# -- top-level targets, so that pool workers can unpickle them ---------------------------------

def square(x):
    return x * x


def kill_self_on_three(x):
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


def exit_on_three(x):
    if x == 3:
        os._exit(7)
    return x * x


def exit_zero_on_three(x):
    if x == 3:
        os._exit(0)
    return x * x


def raise_on_three(x):
    if x == 3:
        raise KeyError("three")
    return x * x


# -- run_isolated ----------------------------------------------------------------------------

@pytest.mark.usefixtures("no_leftover_processes")
class TestRunIsolated:
    def test_value_comes_back(self):
        outcome, _ = isolated(lambda: {"sum": sum(range(10)), "arr": np.arange(3)}, HANG_GUARD_S)
        assert outcome.ok and not outcome.timed_out and outcome.error is None
        assert outcome.value["sum"] == 45 and same(outcome.value["arr"], np.arange(3))

    def test_none_is_a_value(self):
        outcome, _ = isolated(lambda: None, HANG_GUARD_S)
        assert outcome == Outcome(True, None)

    def test_hang_times_out(self):
        outcome, took = isolated(lambda: time.sleep(60), 1.0)
        assert not outcome.ok and outcome.timed_out
        assert "timed out" in outcome.error
        assert took < HANG_GUARD_S

    def test_hang_in_a_grandchild_is_killed_too(self):
        def work():
            if os.fork() == 0:
                time.sleep(60)
                os._exit(0)
            time.sleep(60)

        outcome, took = isolated(work, 0.5)
        assert outcome.timed_out and took < HANG_GUARD_S

    def test_sigsegv(self):
        def work():
            faulthandler.disable()  # pytest's traceback dump on SIGSEGV would only add noise
            os.kill(os.getpid(), signal.SIGSEGV)

        outcome, took = isolated(work, HANG_GUARD_S)
        assert not outcome.ok and not outcome.timed_out
        assert "SIGSEGV" in outcome.error
        assert took < HANG_GUARD_S

    def test_os_exit(self):
        outcome, _ = isolated(lambda: os._exit(3), HANG_GUARD_S)
        assert not outcome.ok and not outcome.timed_out
        assert "status 3" in outcome.error

    def test_os_exit_zero_without_a_result_is_a_failure(self):
        outcome, _ = isolated(lambda: os._exit(0), HANG_GUARD_S)
        assert not outcome.ok and "status 0" in outcome.error

    def test_exception_type_and_message(self):
        def work():
            raise ZeroDivisionError("no dividing by zero here")

        outcome, _ = isolated(work, HANG_GUARD_S)
        assert not outcome.ok and not outcome.timed_out
        assert outcome.error.startswith("ZeroDivisionError: no dividing by zero here")

    def test_system_exit_and_keyboard_interrupt_are_reported(self):
        def leave():
            raise SystemExit(4)

        def interrupt():
            raise KeyboardInterrupt

        assert "SystemExit" in isolated(leave, HANG_GUARD_S)[0].error
        assert "KeyboardInterrupt" in isolated(interrupt, HANG_GUARD_S)[0].error

    def test_unpicklable_result(self):
        outcome, _ = isolated(lambda: (lambda: 1), HANG_GUARD_S)
        assert not outcome.ok and "could not send the result back" in outcome.error

    def test_child_changes_stay_in_the_child(self):
        box = {"n": 1}

        def work():
            box["n"] = 99
            return box["n"]

        outcome, _ = isolated(work, HANG_GUARD_S)
        assert outcome.value == 99 and box == {"n": 1}

    def test_pool_worker_killed_fails_instead_of_hanging(self):
        outcome, took = isolated(lambda: run_processes(kill_self_on_three, list(range(20)), 2, 1, "fork"),
                                 HANG_GUARD_S)
        assert not outcome.ok and not outcome.timed_out, outcome
        assert "SIGKILL" in outcome.error and "WorkerDied" in outcome.error
        assert took < HANG_GUARD_S

    def test_pool_worker_exit_fails_instead_of_hanging(self):
        outcome, _ = isolated(lambda: run_processes(exit_on_three, list(range(20)), 2, 1, "fork"), HANG_GUARD_S)
        assert not outcome.ok and not outcome.timed_out, outcome
        assert "status 7" in outcome.error

    def test_pool_exception_is_the_targets(self):
        outcome, _ = isolated(lambda: run_processes(raise_on_three, list(range(8)), 2, 1, "fork"), HANG_GUARD_S)
        assert not outcome.ok and outcome.error.startswith("KeyError")

    def test_pool_that_hangs_is_killed_with_its_workers(self):
        outcome, took = isolated(lambda: run_processes(time.sleep, [60] * 4, 2, 1, "fork"), 0.5)
        assert outcome.timed_out and took < HANG_GUARD_S

    def test_pool_results_come_back_in_order(self):
        outcome, _ = isolated(lambda: run_processes(square, list(range(50)), 2, 7, "fork"), HANG_GUARD_S)
        assert outcome.ok and outcome.value == [i * i for i in range(50)]


@pytest.mark.usefixtures("no_leftover_processes")
def test_pool_worker_exit_zero_fails_instead_of_timing_out():
    outcome, _ = isolated(lambda: run_processes(exit_zero_on_three, list(range(20)), 2, 1, "fork"), 1.5)
    assert not outcome.timed_out, outcome
    assert not outcome.ok


def test_describe_exit():
    assert describe_exit(signal.SIGKILL) == "the process was killed by SIGKILL"  # raw wait status
    assert "status 3" in describe_exit(3 << 8)


# -- executors in this process (no faults) -------------------------------------------------------

def test_executors_agree_and_keep_order():
    items = list(range(37))
    expected = [x * x for x in items]
    assert serial.run(square, items) == expected
    assert threads.run(square, items, 4) == expected
    assert threads.run(square, items, 3, 5) == expected
    assert run_processes(square, items, 2, 4, "fork") == expected


def test_asyncio_executors():
    import asyncio

    async def asq(x):
        await asyncio.sleep(0)
        return x * x

    assert asyncio_gather.run_async(asq, list(range(10)), 3) == [x * x for x in range(10)]
    assert serial.run_async(asq, list(range(10))) == [x * x for x in range(10)]
    assert executors.backend_for("asyncio", True) is asyncio_gather.run_async
    # A plain function under asyncio runs through asyncio.to_thread.
    assert executors.backend_for("asyncio", False) is asyncio_gather.run
    assert asyncio_gather.run(abs, [-1, 2, -3], 2) == [1, 2, 3]
    with pytest.raises(KeyError):
        executors.backend_for("processes", True)


# -- items.same --------------------------------------------------------------------------------

class TestSame:
    def test_numpy_arrays(self):
        assert same(np.arange(6).reshape(2, 3), np.arange(6).reshape(2, 3))
        assert not same(np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2))
        assert not same(np.arange(3), np.array([0, 1, 3]))
        assert same(np.array([1.0, np.nan]), np.array([1.0, np.nan]))
        assert same(np.array([1 + 1j, complex(np.nan, 0)]), np.array([1 + 1j, complex(np.nan, 0)]))
        assert not same(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
        assert same(np.array(["a", "b"]), np.array(["a", "b"]))
        assert same(np.float64("nan"), np.float64("nan"))
        assert same(np.int64(3), np.int64(3))

    def test_nan(self):
        assert same(float("nan"), float("nan"))
        assert same(1.5, 1.5)
        assert not same(float("nan"), 1.0)
        assert same([1.0, float("nan")], [1.0, float("nan")])

    def test_nested_containers(self):
        a = {"x": [1, (2.0, float("nan")), {"y": np.ones(3)}], "z": None}
        b = {"z": None, "x": [1, (2.0, float("nan")), {"y": np.ones(3)}]}
        assert same(a, b)
        c = {"z": None, "x": [1, (2.0, float("nan")), {"y": np.zeros(3)}]}
        assert not same(a, c)
        assert not same({"a": 1}, {"b": 1})
        assert not same([1, 2], [1, 2, 3])

    def test_type_mismatch(self):
        assert not same(1, 1.0)
        assert not same(True, 1)
        assert not same([1, 2], (1, 2))
        assert not same(np.arange(3), [0, 1, 2])
        assert not same("1", 1)
        assert not same(None, 0)

    def test_raised_outcomes_and_odd_objects(self):
        assert same(RaisedOutcome("KeyError", "'x'"), RaisedOutcome("KeyError", "'x'"))
        assert not same(RaisedOutcome("KeyError", "'x'"), RaisedOutcome("ValueError", "'x'"))

        class Grumpy:
            def __init__(self, value):
                self.value = value

            def __eq__(self, other):
                raise TypeError("no")

        # == fails: what the objects hold decides
        assert same(Grumpy([1, 2.0]), Grumpy([1, 2.0]))
        assert not same(Grumpy(1), Grumpy(2))

    def test_objects_without_eq_compare_by_content(self):
        import hashlib

        class Point:
            __slots__ = ("x", "y")

            def __init__(self, x, y):
                self.x, self.y = x, y

        class Box:
            def __init__(self, corner, label):
                self.corner, self.label = corner, label

        assert same(Point(1, 2.0), Point(1, 2.0))
        assert not same(Point(1, 2), Point(1, 3))
        assert same(Box(Point(0, 1), "a"), Box(Point(0, 1), "a"))
        assert not same(Box(Point(0, 1), "a"), Box(Point(0, 2), "a"))
        assert count_differences([Point(1, 2)] * 3, [Point(1, 2), Point(1, 2), Point(9, 2)]) == 1
        assert same(hashlib.sha256(b"x"), hashlib.sha256(b"x"))
        assert not same(hashlib.sha256(b"x"), hashlib.sha256(b"y"))
        loop_a, loop_b = Box(None, "a"), Box(None, "a")
        loop_a.corner, loop_b.corner = loop_a, loop_b  # self-reference: no endless recursion
        assert same(loop_a, loop_b)

    def test_count_differences(self):
        assert count_differences([1, 2, 3], [1, 2, 3]) == 0
        assert count_differences([1, float("nan"), 3], [1, float("nan"), 4]) == 1
        assert count_differences([1, 2], [1, 2, 3]) == 3

    def test_mappable_catches_errors(self):
        fn = mappable(lambda a, b: a / b, "star", False, catch=True)
        assert fn(((6, 3), {})) == 2
        assert fn(((1, 0), {})) == RaisedOutcome("ZeroDivisionError", "division by zero")


# -- state -----------------------------------------------------------------------------------

class TestState:
    def namespace(self):
        return {"__name__": "m", "np": np, "math": math, "fn": square, "counter": 0,
                "cache": {"a": 1}, "lock_like": threading.Lock(), "helper": (lambda: 1)}

    def test_globals_digest_skips_modules_functions_and_dunders(self):
        digest = state.globals_digest(self.namespace())
        assert set(digest) == {"counter", "cache", "lock_like"}
        assert digest["lock_like"] is None  # a lock cannot be pickled: not comparable
        assert digest["counter"] is not None

    def test_changed_globals(self):
        ns = self.namespace()
        before = state.globals_digest(ns)
        assert state.changed_globals(before, state.globals_digest(ns)) == []
        ns["counter"] += 1
        ns["cache"]["b"] = 2
        ns["added"] = [1]
        ns["lock_like"] = threading.Lock()  # still unpicklable: cannot tell, not reported
        assert state.changed_globals(before, state.globals_digest(ns)) == ["added", "cache", "counter"]

    def test_removed_names_are_not_reported(self):
        ns = self.namespace()
        before = state.globals_digest(ns)
        del ns["counter"]
        assert state.changed_globals(before, state.globals_digest(ns)) == []

    def test_snapshot_round_trip(self):
        ns = self.namespace()
        snap = state.snapshot(ns)
        assert set(snap) == {"counter", "cache"}
        assert pickle.loads(snap["cache"]) == {"a": 1}
        assert state.digest_of_snapshot(snap) == {k: v for k, v in state.globals_digest(ns).items() if v}

    def test_arguments_changed(self):
        items = [[1, 2], {"k": 1}, "s"]
        before = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        assert not state.arguments_changed(items, before)
        items[0].append(3)
        assert state.arguments_changed(items, before)

    def test_arguments_changed_dict_mutation(self):
        items = [{"k": 1}]
        before = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        items[0]["k"] = 2
        assert state.arguments_changed(items, before)

    def test_equal_values_that_pickle_differently_are_not_a_change(self):
        items = [{"b", "a", "c"}]
        before = pickle.dumps([{"c", "b", "a"}], protocol=pickle.HIGHEST_PROTOCOL)
        assert not state.arguments_changed(items, before)

    def test_garbage_before_is_not_a_change(self):
        assert not state.arguments_changed([1], b"not a pickle")

    def test_numpy_arguments_changed_in_place(self):
        items = [np.arange(5.0), np.arange(3.0)]
        before = pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL)
        assert not state.arguments_changed(items, before)
        items[0] *= 2
        assert state.arguments_changed(items, before)


def test_a_zombie_grandchild_counts_as_dead():
    # A killed pool worker stays a zombie until whoever inherits it reaps it; waiting for it
    # to vanish (psutil.wait_procs) added 1.5 s to every trial stopped for time.
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time; p = subprocess.Popen(['true']); print(p.pid, flush=True); "
        "time.sleep(60)")], stdout=subprocess.PIPE, text=True)
    try:
        zombie = psutil.Process(int(parent.stdout.readline()))
        started = time.monotonic()
        _wait_until_dead([zombie], 60.0)
        assert time.monotonic() - started < HANG_GUARD_S
        assert zombie.status() == psutil.STATUS_ZOMBIE  # not reaped: its parent never waits
    finally:
        parent.kill()
        parent.wait()
