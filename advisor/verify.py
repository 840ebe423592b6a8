"""``--verify``: run the rewritten script against the original, end to end.

The sweep times the target's recorded calls in forked copies of the script's process;
this is the proof that the advice holds in the program itself, with its own start-up,
its other threads and its real data. The script as the user wrote it and the script with
its loop rewritten to the advice (``--emit``'s rewrite, in a temporary folder) run in
interleaved rounds, original first in odd rounds and rewritten first in even ones, so a
drift in the machine's load falls on both alike. Their outputs must match.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Optional

from .errors import UsageError
from .model import Report

VERIFY_ROUNDS = 3
# One run of either script may take this many times the profiled run, at least the minimum.
RUN_TIMEOUT_FACTOR = 5.0
MIN_RUN_TIMEOUT_S = 60.0


def whole_loop_serial_s(report: Report) -> float:
    """The serial loop's time for all its calls, as the sweep measured it."""
    return report.target.per_call_seconds * report.target.calls


def predicted_script_speedup(original_s: float, loop_s: float, loop_speedup: float) -> float:
    """Amdahl: only the loop's time shrinks, by the speedup measured for it."""
    loop_s = min(loop_s, original_s)
    faster = original_s - loop_s + loop_s / max(loop_speedup, 1e-9)
    return original_s / max(faster, 1e-9)


def _timed_run(script: Path, args: list[str], env: dict[str, str], timeout: float) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True,
                              timeout=timeout, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise UsageError(f"--verify: {script.name} did not finish within {timeout:.0f} s.") from None
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise UsageError(f"--verify: {script.name} exited with status {done.returncode} ({last}).")
    return seconds, done.stdout


def verify(report: Report, args: list[str], rounds: int = VERIFY_ROUNDS) -> Report:
    """The report with ``verification`` filled in from end-to-end runs of both scripts."""
    from .present.rewrite import rewrite_report

    original = Path(report.target.file)
    rewrite = rewrite_report(report)
    if rewrite.mode == "standalone":
        raise UsageError(f"--verify: no loop in {original.name} could be rewritten to the advice, so there is "
                         "no rewritten script to run against it.")
    timeout = max(MIN_RUN_TIMEOUT_S, RUN_TIMEOUT_FACTOR * (report.timings.get("script_s") or 0.0))
    env = dict(os.environ)
    # The rewritten copy imports what the original imports from its folder.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(original.parent), env.get("PYTHONPATH", "")) if p)
    times: dict[str, list[float]] = {"original": [], "emitted": []}
    outputs: dict[str, Optional[str]] = {"original": None, "emitted": None}
    with tempfile.TemporaryDirectory(prefix="paradvise-verify-") as folder:
        emitted = Path(folder) / original.name
        emitted.write_text(rewrite.text, encoding="utf-8")
        scripts = {"original": original, "emitted": emitted}
        for round_number in range(rounds):
            order = ("original", "emitted") if round_number % 2 == 0 else ("emitted", "original")
            for which in order:
                seconds, out = _timed_run(scripts[which], args, env, timeout)
                times[which].append(seconds)
                outputs[which] = outputs[which] if outputs[which] is not None else out
    original_s, emitted_s = statistics.median(times["original"]), statistics.median(times["emitted"])
    predicted = predicted_script_speedup(original_s, whole_loop_serial_s(report),
                                         report.recommendation.expected_speedup)
    verification = {
        "original_seconds": original_s, "emitted_seconds": emitted_s, "rounds": rounds,
        "realized_speedup": original_s / max(emitted_s, 1e-9), "predicted_speedup": predicted,
        "same_output": outputs["original"] == outputs["emitted"],
        "original_runs": times["original"], "emitted_runs": times["emitted"],
    }
    return replace(report, verification=verification)


def verification_line(report: Report) -> str:
    """One sentence for the terminal and the Markdown report."""
    v = report.verification
    if not v:
        return ""
    same = "the same output" if v["same_output"] else "DIFFERENT output"
    return (f"the rewritten script ran {v['realized_speedup']:.2f}x as fast as the original end to end "
            f"({v['original_seconds']:.3g} s -> {v['emitted_seconds']:.3g} s, median of {v['rounds']} "
            f"interleaved rounds; predicted {v['predicted_speedup']:.2f}x), with {same}")
