"""Starting the host process (``advisor.measure.measuring_child``) and the scalene pass, bounded in time.

Only this module starts processes that run user code. Each gets its own session so
that it and everything it started can be killed together on timeout or interrupt.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional

from ..sweep.isolate import kill_tree
from .boundary import RunResult, RunSpec

TICK_SECONDS = 0.2
# Live host processes, so an interrupt handler can kill them (see cli/main.py).
RUNNING: set[subprocess.Popen[bytes]] = set()


@dataclass(frozen=True)
class Finished:
    returncode: Optional[int]  # None: killed after the time limit
    stdout: str
    stderr: str
    result: RunResult  # all defaults when the child wrote none


def run_bounded(command: list[str], timeout: float, workdir: Path, result_path: Optional[Path] = None,
                on_tick: Callable[[], None] = lambda: None) -> Finished:
    """Run ``command`` in the user's working directory; kill its whole tree after ``timeout``.

    ``on_tick`` is called a few times a second while waiting (for progress display).
    """
    out_path, err_path = workdir / "stdout.txt", workdir / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                start_new_session=True)
        RUNNING.add(proc)
        deadline = time.monotonic() + timeout
        code: Optional[int] = None
        try:
            while code is None and time.monotonic() < deadline:
                try:
                    code = proc.wait(timeout=min(TICK_SECONDS, max(0.0, deadline - time.monotonic())))
                except subprocess.TimeoutExpired:
                    on_tick()
        finally:
            stop(proc)
    result = RunResult()
    if result_path is not None and result_path.exists():
        result = RunResult.from_json(json.loads(result_path.read_text(encoding="utf-8")))
    return Finished(code, _read(out_path), _read(err_path), result)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill a host and everything under it (trial children have process groups of their own)."""
    kill_tree(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
    RUNNING.discard(proc)


def stop_all() -> None:
    for proc in list(RUNNING):
        stop(proc)


def run_host(spec: RunSpec, timeout: float, workdir: Path,
             on_tick: Callable[[], None] = lambda: None) -> Finished:
    spec_path, result_path = workdir / "spec.json", workdir / "result.json"
    spec = replace(spec, out=str(result_path))
    spec_path.write_text(json.dumps(spec.to_json()), encoding="utf-8")
    result_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "advisor.measure.measuring_child", str(spec_path)]
    return run_bounded(command, timeout, workdir, result_path, on_tick)


def new_workdir() -> Path:
    """A private temporary folder: nothing is ever written next to the user's script."""
    return Path(tempfile.mkdtemp(prefix="paradvise-"))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
