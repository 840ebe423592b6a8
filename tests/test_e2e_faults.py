"""End-to-end fault injection: targets that hang, crash, cannot be pickled or raise,
and an interrupt part-way. Each run must end in advice from the configurations that
work (or one clear error), within its bounds, with no process left behind.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
from contract import check_contract

SCRIPTS = Path(__file__).resolve().parent / "scripts"
PARADVISE = [sys.executable, "-m", "advisor"]
# Hang guards, not benchmarks: generous bounds that only a hang or a leak would break.
RUN_GUARD_S = 120

pytestmark = pytest.mark.e2e


def leftovers(marker: str) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(marker in part for part in proc.info["cmdline"] or []):
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return found


def assert_no_leftovers(marker: str) -> None:
    deadline = time.monotonic() + 3
    while leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not leftovers(marker), [p.info for p in leftovers(marker)]


def profile(script: str, tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    done = subprocess.run([*PARADVISE, "profile", str(SCRIPTS / script), "--json", str(out), *extra],
                          cwd=tmp_path, capture_output=True, text=True, timeout=RUN_GUARD_S)
    assert done.returncode == 0, done.stderr
    assert_no_leftovers(script)
    report = json.loads(out.read_text())
    check_contract(report)
    return report


def failed(report: dict[str, Any], executor: str) -> list[dict[str, Any]]:
    return [t for t in report["trials"] if t["executor"] == executor and not t["ok"]]


def test_target_hanging_in_threads_fails_only_those_trials(tmp_path: Path) -> None:
    report = profile("hang_in_threads.py", tmp_path, "--timeout", "2")
    hung = failed(report, "threads")
    assert hung and all("timed out" in t["error"] for t in hung)
    assert report["recommendation"]["executor"] != "threads"
    assert any(t["ok"] and t["executor"] == "processes" for t in report["trials"])


def test_worker_segfault_fails_process_trials_with_the_signal(tmp_path: Path) -> None:
    report = profile("crash_in_workers.py", tmp_path, "--timeout", "5")
    crashed = failed(report, "processes")
    assert crashed and all("SIGSEGV" in t["error"] for t in crashed)
    assert report["recommendation"]["executor"] != "processes"


def test_unpicklable_arguments_are_reported_and_not_sent_to_processes(tmp_path: Path) -> None:
    report = profile("unpicklable_args.py", tmp_path)
    assert "unpicklable-target" in {w["code"] for w in report["warnings"]}
    assert report["recommendation"]["executor"] != "processes"


def test_exceptions_are_outcomes(tmp_path: Path) -> None:
    report = profile("raises_sometimes.py", tmp_path)
    warning = next(w for w in report["warnings"] if w["code"] == "target-error")
    assert "4 of 20" in warning["message"]
    # Every configuration that ran raised on the same items as serial did.
    assert all(t["results_match"] in (True, None) for t in report["trials"] if t["ok"])


def test_sigint_part_way_stops_everything(tmp_path: Path) -> None:
    out = tmp_path / "partial.json"
    proc = subprocess.Popen([*PARADVISE, "profile", str(SCRIPTS / "long_loop.py"), "--budget", "120",
                             "--json", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Wait until the script is being measured (the capture pass has started its host), then
    # past its recording of the loop (about 2 s), into the sweep, which takes well over 10 s.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(leftovers("advisor.measure.measuring_child")) < 1:
        time.sleep(0.1)
    time.sleep(4)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    took = time.monotonic() - sent
    assert proc.returncode == 130, proc.stderr.read() if proc.stderr else ""
    assert took < 5
    assert_no_leftovers("long_loop.py")
    assert_no_leftovers("advisor.measure.measuring_child")
    # Whatever was measured is kept as a partial report, never as a half-written file.
    assert sorted(p.name for p in tmp_path.iterdir()) in ([], ["partial.json"])
    if out.exists():
        report = json.loads(out.read_text())
        check_contract(report)
        assert any("Interrupted" in w["message"] for w in report["warnings"])


def test_script_without_main_guard_is_not_run_under_spawn(tmp_path: Path) -> None:
    report = profile("no_main_guard.py", tmp_path)
    methods = {t["start_method"] for t in report["trials"] if t["executor"] == "processes"}
    assert methods <= {"fork"}, "spawn/forkserver would re-run the whole script in every worker"
    if report["recommendation"]["executor"] == "processes":
        assert "missing-main-guard" in {w["code"] for w in report["warnings"]}


def test_worker_killed_like_by_the_oom_killer(tmp_path: Path) -> None:
    report = profile("killed_workers.py", tmp_path, "--timeout", "5")
    killed = failed(report, "processes")
    assert killed and all("SIGKILL" in t["error"] for t in killed)
    assert report["recommendation"]["executor"] != "processes"


def test_results_that_cannot_be_pickled(tmp_path: Path) -> None:
    report = profile("unpicklable_results.py", tmp_path, "--timeout", "5")
    serial = next(t for t in report["trials"] if t["executor"] == "serial")
    assert serial["ok"], "the serial timing stands even when results cannot be sent back"
    assert failed(report, "processes"), "a process pool cannot return these results"
    assert "unpicklable-target" in {w["code"] for w in report["warnings"]}


def test_blocking_call_inside_async_code_is_measured_with_to_thread(tmp_path: Path) -> None:
    report = profile("blocking_in_async.py", tmp_path)
    assert any(t["executor"] == "asyncio" and t["ok"] for t in report["trials"])
    assert report["classification"]["kind"] == "io-bound"
    assert report["recommendation"]["executor"] in ("threads", "asyncio")


def test_a_wrong_guess_of_the_loop_falls_back_to_measuring_the_right_one(tmp_path: Path) -> None:
    report = profile("setup_dominates.py", tmp_path, "--budget", "3")
    assert report["target"]["name"] == "simulate"
    assert report["timings"]["script_runs"] == 2
    assert any(t["executor"] == "serial" and t["ok"] for t in report["trials"])
