"""Errors a user can cause, each with one clear sentence.

The CLI turns an ``AdvisorError`` into that sentence on stderr and ``exit_code``;
anything else is a bug in paradvise and keeps its traceback under ``--debug``.
"""
from __future__ import annotations


class AdvisorError(Exception):
    """Base class: ``str(error)`` is the sentence shown to the user."""

    exit_code = 1


class UsageError(AdvisorError):
    """Bad options or arguments (contract: exit status 2)."""

    exit_code = 2


class ScriptNotFound(UsageError):
    pass


class ScriptSyntaxError(AdvisorError):
    pass


class ScriptFailed(AdvisorError):
    """The user's script raised or exited non-zero before paradvise could advise.

    ``details`` holds the script's own output (its traceback), shown after the sentence.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class TargetNotFound(AdvisorError):
    pass


class NothingToMeasure(AdvisorError):
    pass


class Interrupted(AdvisorError):
    """SIGINT or SIGTERM. ``partial`` is a report of what was measured, when there is one."""

    exit_code = 130
    partial: object = None


class HostFailed(AdvisorError):
    """paradvise's own code failed in the host process; ``details`` is its traceback (--debug)."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


# -- failures inside the measuring child and its trials ---------------------------------
# These travel back to the parent as the child's result (see boundary.py), which turns
# them into ScriptFailed or a failed trial; they are here so one module names every error.
class ScriptError(Exception):
    """The user's script raised or exited non-zero while the measuring child ran it."""


class WorkerDied(RuntimeError):
    """A pool's worker process exited during a map, so the map would never finish."""
