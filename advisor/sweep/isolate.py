"""Run one piece of measurement in a forked child, bounded in time.

Every trial runs in its own fork of the host process, so that:
- a target that hangs, segfaults, calls ``os._exit`` or is killed only fails that trial;
- whatever the trial does to module globals or arguments stays in the child, and the
  user's script continues afterwards with exactly the state it would have had;
- all of the child's own children (pool workers) are killed with it (psutil).
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Optional

import psutil

# How often the parent checks on the child. Small next to any trial worth measuring.
POLL_SECONDS = 0.005
KILL_WAIT_S = 2.0  # how long a killed process may take to die


@dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None
    error: Optional[str] = None
    timed_out: bool = False


def describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"the process was killed by {name}"
    return f"the process exited with status {os.WEXITSTATUS(status)} before reporting"


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all of its descendants; tolerate ones already gone."""
    try:
        parent = psutil.Process(pid)
        victims = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for proc in victims:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    _wait_until_dead(victims, KILL_WAIT_S)


def _wait_until_dead(procs: list[psutil.Process], timeout: float) -> None:
    """Wait until each process is gone or a zombie (dead, its memory and CPUs freed).

    ``psutil.wait_procs`` waits for a grandchild to vanish, but a killed pool worker stays
    a zombie until whoever inherits it reaps it; it waited its whole timeout, which added
    1.5 s to every trial stopped for taking too long.
    """
    deadline = time.monotonic() + timeout
    while procs and time.monotonic() < deadline:
        alive = []
        for proc in procs:
            try:
                if proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
            except psutil.NoSuchProcess:
                pass
        procs = alive
        if procs:
            time.sleep(POLL_SECONDS)


def run_isolated(work: Callable[[], Any], timeout: float) -> Outcome:
    """Call ``work()`` in a forked child and return its (pickled) value or why it failed."""
    fd, result_path = tempfile.mkstemp(prefix="paradvise-trial-", suffix=".pickle")
    os.close(fd)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, reported through the file
        _child(work, result_path)
    try:
        os.setpgid(pid, pid)  # also from this side, so there is no window before the child does it
    except OSError:
        pass
    try:
        return _wait(pid, result_path, timeout)
    finally:
        try:
            os.unlink(result_path)
        except OSError:
            pass


def _child(work: Callable[[], Any], result_path: str) -> None:
    # A process group of its own lets the parent kill every process the trial started.
    os.setpgid(0, 0)
    # The host holds what paradvise recorded (a Call per real call, pickled arguments,
    # results): often millions of objects the user's own process would not have. Left to
    # the collector, every pool worker forked from here walks them all and copies their
    # pages, which made fork pools measure ~20% slower than in the user's program.
    gc.freeze()
    status = 0
    try:
        payload: tuple[str, Any] = ("ok", work())
    except BaseException as exc:  # noqa: BLE001 - report every failure to the parent
        payload = ("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-3)}")
        status = 1
    try:
        _dump(payload, result_path)
    except BaseException as exc:  # noqa: BLE001
        status = _dump_without_results(payload, exc, result_path)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def _dump(payload: Any, path: str) -> None:
    with open(path, "wb") as handle:
        pickle.dump(payload, handle, protocol=pickle.HIGHEST_PROTOCOL)


def _dump_without_results(payload: tuple[str, Any], exc: BaseException, path: str) -> int:
    """Results that cannot be pickled still leave the timing worth reporting."""
    kind, value = payload
    if kind == "ok" and isinstance(value, dict) and value.get("results") is not None:
        try:
            _dump((kind, {**value, "results": None, "results_error": f"{type(exc).__name__}: {exc}"}), path)
            return 0
        except BaseException:  # noqa: BLE001 - fall through to the plain error
            pass
    _dump(("error", f"could not send the result back: {exc}"), path)
    return 1


def _wait(pid: int, result_path: str, timeout: float) -> Outcome:
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            kill_tree(pid)
            _kill_group(pid)
            _reap(pid)
            return Outcome(False, error=f"timed out after {timeout:.1f} s", timed_out=True)
        time.sleep(POLL_SECONDS)
    # The child is gone; make sure nothing it started (pool workers) outlives it.
    _kill_group(pid)
    try:
        with open(result_path, "rb") as handle:
            kind, value = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError):
        return Outcome(False, error=describe_exit(status))
    if kind == "ok":
        return Outcome(True, value=value)
    return Outcome(False, error=str(value).strip())


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
