"""``paradvise profile`` on a loop whose hot call drops its result: the loop's body is measured
as a function of the loop variable, and --emit writes that function into the script."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from test_e2e_profile import assert_consistent, paradvise

from advisor.model import Report
from advisor.present.rewrite import rewrite_report

SCRIPT = Path(__file__).resolve().parent / "scripts" / "seeded_worlds.py"

pytestmark = pytest.mark.e2e


def test_the_body_around_a_dropped_call_is_measured_and_emitted(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = paradvise("profile", str(SCRIPT), "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert_consistent(report)
    target = report["target"]
    assert target["name"] == "main_loop_body" and target["calls"] == 10
    assert target["loop_body"]["calls"] == "World.run"
    assert "The unit measured is the body of the loop" in report["recommendation"]["reason"]
    # The generator each call reseeds is no state carried from call to call: processes stay in.
    processes = [t for t in report["trials"] if t["executor"] == "processes"]
    assert processes and all(t["ok"] for t in processes)
    assert not any("process pools are not recommended" in w["message"] for w in report["warnings"])

    # Whatever the verdict, the rewrite to processes prints what the script prints.
    measured = min(processes, key=lambda t: t["seconds"])
    rec = replace(Report.from_json(report).recommendation, executor="processes", workers=measured["workers"],
                  chunksize=measured["chunksize"] or 1, start_method="fork")
    emitted = rewrite_report(replace(Report.from_json(report), recommendation=rec))
    assert emitted.mode == "rewrite" and "made the body of the loop" in emitted.description
    rewritten = tmp_path / "seeded_worlds_parallel.py"
    rewritten.write_text(emitted.text)
    original = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=60)
    parallel = subprocess.run([sys.executable, str(rewritten)], capture_output=True, text=True, timeout=60)
    assert parallel.returncode == 0, parallel.stderr
    assert parallel.stdout == original.stdout
    assert "def main_loop_body(seed):" in emitted.text and "Pool(processes=" in emitted.text


def test_a_loop_of_library_calls_is_measured_as_its_body(tmp_path: Path) -> None:
    script = SCRIPT.parent / "library_calls.py"
    out = tmp_path / "report.json"
    done = paradvise("profile", str(script), "--json", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    assert_consistent(report)
    assert report["target"]["name"] == "main_loop_body" and report["target"]["calls"] == 12
    assert report["target"]["loop_body"]["calls"] == ""
    assert "calls no function of the script's own" in report["recommendation"]["reason"]
    # Which executors the plan times is the sweep's choice (a busy machine may leave threads
    # out); the body is a unit that was timed beside serial.
    assert "serial" in {t["executor"] for t in report["trials"]} and len(report["trials"]) >= 2
