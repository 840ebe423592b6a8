"""Dask as an executor: the backend on a real LocalCluster, the cluster-size projection,
planning and code, and one end-to-end ``--dask local`` run that must leave no process behind.

The time bounds are hang guards, not benchmarks.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest

from advisor import executors
from advisor.analyse import space
from advisor.analyse.dask_projection import (
    per_task_overhead,
    project,
    projected_seconds,
    summary,
    workers_needed,
)
from advisor.errors import UsageError
from advisor.executors import dask_cluster
from advisor.model import Recommendation
from advisor.pipeline import DEFAULT_EXECUTORS, choose_executors
from advisor.present.code import emit
from advisor.sweep.isolate import run_isolated

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD_S = 60.0
COMMAND_TIMEOUT_S = 240


def square(x: int) -> int:
    return x * x


def _started_after(since: float, words: tuple[str, ...], token: str = "") -> list[str]:
    """Live processes started after ``since`` whose command line names one of ``words``,
    or whose environment carries ``token`` (a spawned worker's command line names neither)."""
    found = []
    for proc in psutil.process_iter(["pid", "create_time", "cmdline", "status"]):
        try:
            if proc.info["create_time"] < since or proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            line = " ".join(proc.info["cmdline"] or [])
            mine = token and proc.environ().get("PARADVISE_TEST_TOKEN") == token
            if mine or any(word in line for word in words):
                found.append(f"{proc.pid}: {line}")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def _none_left(since: float, token: str = "") -> list[str]:
    """Give closing processes a moment to exit, then list what is still there."""
    deadline = time.monotonic() + 3.0
    left = _started_after(since, ("distributed", "dask"), token)
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = _started_after(since, ("distributed", "dask"), token)
    return left


# -- the backend on a real LocalCluster (in a forked child, as every trial runs) --------------
def test_local_cluster_maps_in_order_and_sends_main_functions_by_value() -> None:
    since = time.time() - 0.5
    items = list(range(23))

    def body() -> dict[str, Any]:
        plain = dask_cluster.run(square, items, 2)
        phases = dict(dask_cluster.DASK_PHASES)
        # A function of the user's script lives in __main__; the trial child binds it there.
        namespace: dict[str, Any] = {"__name__": "__main__"}
        exec("def cube(x):\n    return x ** 3\n", namespace)  # noqa: S102 - a stand-in script
        sys.modules["__main__"].cube = namespace["cube"]
        chunked = executors.backend_for("dask", False, "local")(namespace["cube"], items, 2, 5, None)
        return {"plain": plain, "chunked": chunked, "phases": phases}

    outcome = run_isolated(body, HANG_GUARD_S)
    assert outcome.ok, outcome.error
    assert outcome.value["plain"] == [x * x for x in items]
    assert outcome.value["chunked"] == [x ** 3 for x in items]
    phases = outcome.value["phases"]
    assert phases["startup_s"] > 0 and phases["map_s"] > 0 and phases["compute_s"] >= 0
    assert _none_left(since) == []


# -- the projection (pure) --------------------------------------------------------------------
def test_workers_needed_is_the_fewest_that_meet_the_target() -> None:
    # 100 calls of 0.1 s (10 s serial), 1 ms per task, 1 s to start and stop.
    needed = workers_needed(3.0, 100, 0.1, 0.001, 1.0)
    assert needed == 6  # room 3 - 1 - 0.1 = 1.9 s for 10 s of compute: 10 / 1.9 = 5.3
    assert projected_seconds(6, 100, 0.1, 0.001, 1.0) <= 3.0 < projected_seconds(5, 100, 0.1, 0.001, 1.0)


def test_no_cluster_size_meets_a_target_below_the_fixed_costs() -> None:
    assert workers_needed(1.05, 100, 0.1, 0.001, 1.0) is None  # start-up and dispatch alone: 1.1 s
    assert workers_needed(1.15, 100, 0.1, 0.001, 1.0) is None  # one call per worker still 1.2 s
    assert workers_needed(1.2, 100, 0.1, 0.001, 1.0) == 100
    result = project(1.05, 100, 0.1, 0.001, 1.0)
    assert result["workers_needed"] is None and result["projected_seconds"] is None
    assert result["workers_needed_running_cluster"] == 11  # without the 1 s: 10 s / 0.95 s = 10.5
    assert result["floor_seconds"] == pytest.approx(1.2)
    assert "No cluster size" in result["note"] and "11 workers" in result["note"]


def test_per_task_overhead_is_what_the_compute_does_not_explain() -> None:
    # 24 calls of 30 ms on 2 workers: 0.36 s of compute; 5 ms per task on top.
    runs = [{"workers": 2, "chunksize": None, "seconds": 2.0, "startup_s": 1.0, "map_s": 0.36 + 24 * 0.005},
            {"workers": 2, "chunksize": 3, "seconds": 2.0, "startup_s": 1.0, "map_s": 0.36 + 8 * 0.005}]
    assert per_task_overhead(runs, 0.03, 24) == pytest.approx(0.005)
    # The workers' own timing of the tasks replaces the serial estimate when it is there.
    timed = [{**runs[0], "compute_s": 0.96, "map_s": 0.48 + 24 * 0.002}]
    assert per_task_overhead(timed, 0.03, 24) == pytest.approx(0.002)
    assert per_task_overhead([{**runs[0], "map_s": 0.1}], 0.03, 24) == 0.0  # never negative
    assert per_task_overhead([], 0.03, 24) is None


def test_summary_defaults_the_target_to_a_tenth_of_serial() -> None:
    runs = [{"workers": 2, "chunksize": None, "seconds": 1.6, "startup_s": 1.0, "map_s": 0.48}]
    out = summary("local", runs, 0.03, 24, 240, None)
    assert out["scheduler"] == "local" and out["workers"] == 2
    assert out["shutdown_s"] == pytest.approx(0.12)
    assert out["per_task_overhead_s"] == pytest.approx(0.005)
    assert out["projection"]["target_seconds"] == pytest.approx(0.1 * 0.03 * 240)
    assert out["projection"]["items"] == 240
    assert summary("tcp://h:1", runs, 0.03, 24, 240, 5.0)["projection"]["target_source"] == "--target-seconds"
    assert summary(None, runs, 0.03, 24, 240, None) == {}
    assert summary("local", [], 0.03, 24, 240, None)["projection"] is None


# -- planning, options and code -------------------------------------------------------------------
def _load(dask_workers: int) -> space.Workload:
    return space.Workload(items=24, per_call_s=0.03, serial_s=0.72, usable_cpus=2, waiting=False,
                          gil_free=False, dask_workers=dask_workers)


def test_dask_is_planned_only_with_a_cluster_and_at_its_size() -> None:
    assert space.plan(_load(0), ["dask"]) == []
    configs = space.plan(_load(6), ["dask"])
    assert {c.workers for c in configs} == {6}
    assert None in {c.chunksize for c in configs}  # one task per item: plain client.map
    refined = space.refine(space.Config("dask", 6, 2), set(configs), _load(6))
    assert refined and all(c.workers == 6 and c.executor == "dask" for c in refined)


def test_dask_is_added_to_the_default_executors_only_with_a_cluster() -> None:
    assert choose_executors(None, None) == DEFAULT_EXECUTORS
    assert choose_executors(None, "local") == DEFAULT_EXECUTORS + ("dask",)
    assert choose_executors(["serial", "processes"], "local") == ("serial", "processes")
    with pytest.raises(UsageError, match="--dask"):
        choose_executors(["serial", "dask"], None)


def test_dask_code_starts_a_local_cluster_or_connects() -> None:
    rec = Recommendation("dask", 4, None, None, 2.0, "measured")
    local = emit(rec, "/x/cpu_bound.py", "count_primes", "single", "local")
    assert "LocalCluster(n_workers=4, threads_per_worker=1, processes=True)" in local
    assert "client.map(count_primes, list(items), pure=False)" in local and 'if __name__ == "__main__":' in local
    remote = emit(Recommendation("dask", 4, 3, None, 2.0, "measured"), "/x/cpu_bound.py", "count_primes",
                  "star", "tcp://10.0.0.5:8786")
    assert "Client('tcp://10.0.0.5:8786')" in remote and "chunks = [items[i:i + 3]" in remote
    assert "count_primes(*x)" in remote
    for code in (local, remote):
        compile(code, "emitted", "exec")


# -- end to end -----------------------------------------------------------------------------------
@pytest.mark.e2e
def test_profile_with_a_local_dask_cluster(tmp_path: Path) -> None:
    since = time.time() - 0.5
    token = uuid.uuid4().hex
    out = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "advisor", "profile", str(ROOT / "samples" / "cpu_bound.py"),
         "--executors", "serial,processes,dask", "--dask", "local", "--budget", "20", "--json", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
        env={**os.environ, "PARADVISE_TEST_TOKEN": token})
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    dask_trials = [t for t in report["trials"] if t["executor"] == "dask"]
    assert dask_trials and all(t["ok"] and t["results_match"] is True for t in dask_trials)
    projection = report["dask"]["projection"]
    assert report["dask"]["scheduler"] == "local" and report["dask"]["per_task_overhead_s"] >= 0
    assert projection["target_seconds"] > 0 and projection["note"]
    assert "dask" in done.stdout  # the terminal report's dask line
    assert _none_left(since, token) == []
