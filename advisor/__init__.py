"""paradvise: should I parallelize this loop, and how? Measured advice for Python code.

Heavy modules (numpy, psutil, scalene, rich) are imported lazily so ``import advisor``
stays cheap.
"""
from __future__ import annotations

from typing import Any

from .version import __version__

__all__ = ["__version__", "run_profile", "ProfileOptions", "Report", "detect_machine", "advise"]


def __getattr__(name: str) -> Any:
    if name in ("run_profile", "ProfileOptions"):
        from . import pipeline

        return getattr(pipeline, name)
    if name == "Report":
        from .model import Report

        return Report
    if name == "advise":
        from .api.decorator import advise

        return advise
    if name == "detect_machine":
        from .machine import detect_machine

        return detect_machine
    raise AttributeError(name)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext advisor``: the %paradvise line magic and %%paradvise cell magic."""
    from .api.jupyter import load_ipython_extension as load

    load(ipython)
