"""The engine behind ``@advise`` and the Jupyter magics: measure recorded calls, build the report.

``paradvise profile`` reaches the same two steps from its measuring child (measuring_child.py calls
``measure.measure_target``; report_builder.build_report turns the Measurement into a Report).
Here they run in the user's own process, on the calls a ``Recorder`` holds.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import types
from pathlib import Path
from typing import Any, Optional, Sequence

from ..executors import warm_names
from ..measure.capture import Recorder
from ..model import Report

DEFAULT_EXECUTORS = warm_names()


class _Globals:
    """Stands in for a module whose namespace is ``fn.__globals__`` (code run by exec, notebooks)."""


def module_of(fn: types.FunctionType) -> Any:
    module = sys.modules.get(fn.__module__)
    if module is not None and getattr(module, "__dict__", None) is fn.__globals__:
        return module
    shim = _Globals()
    shim.__dict__ = fn.__globals__
    return shim


def tune_recorded(fn: types.FunctionType, recorder: Recorder, *, budget: Optional[float] = None,
                  timeout: Optional[float] = None, executors: Sequence[str] = DEFAULT_EXECUTORS,
                  cpus: Optional[int] = None) -> Report:
    """Measure, sweep and analyse ``fn`` on the calls ``recorder`` holds, as ``paradvise profile`` does."""
    from ..machine import detect_machine
    from ..measure.locate import Located
    from ..measure.target import measure_target
    from ..measure.user_script import FunctionDef
    from ..report_builder import build_report
    from ..sweep.allowance import default_budget, default_timeout
    from ..sweep.runner import SweepOptions

    machine = detect_machine()
    loop_s = sum(c.wall for c in recorder.calls)
    path = Path(fn.__code__.co_filename)
    start_method = "fork" if "fork" in machine.start_methods else machine.default_start_method
    options = SweepOptions(
        budget_s=budget or default_budget(loop_s, machine.usable_cpus),
        trial_timeout_s=timeout or default_timeout(loop_s),
        executors=[e for e in executors if e != "serial"], usable_cpus=machine.usable_cpus,
        start_method=start_method, folders=_folders(path),
        # Pools stay warm, so start-up is paid once: time only the start method the pool will use.
        start_methods=(start_method,), main_guard=_has_main_guard(path),
        # The warm pools f.map runs on do not limit BLAS threads, so such trials would not apply.
        blas_variants=False, l2_bytes=machine.caches.l2_bytes, what_if_cpus=cpus or 0)
    measurement = measure_target(recorder, module_of(fn), fn.__name__, False, options)
    located = Located(function=FunctionDef(fn.__name__, fn.__code__.co_firstlineno, False),
                      script_seconds=loop_s, located_by="@advise", calls=len(recorder.calls),
                      loop_seconds=loop_s)
    report = build_report(machine, path, located, measurement, _has_main_guard(path), loop_s, cpus=cpus)
    return dataclasses.replace(report, code=_code_for(fn, path, report, measurement.call_style))


def _code_for(fn: types.FunctionType, path: Path, report: Report, style: str) -> str:
    """The emitted code, importing ``fn`` from its module (or from nowhere, in a notebook)."""
    from ..present.code import emit, import_line

    rec, name = report.recommendation, fn.__name__
    if fn.__module__ != "__main__":
        code = emit(rec, f"{fn.__module__}.py", name, style)  # the import names the module, not the file
    elif path.is_file():
        code = report.code
    else:
        code = emit(rec, "notebook.py", name, style).replace(
            import_line("notebook", name), f"# {name} is defined in this notebook")
    if getattr(fn, "__paradvise__", None) is not None:
        code = f"# With @advise kept, {name}.map(items) runs this plan for you (with a warm pool).\n" + code
    return code


def _folders(path: Path) -> list[str]:
    folders = [os.getcwd()]
    if path.is_file():
        folders.append(str(path.parent))
    return sorted(set(folders))


def _has_main_guard(path: Path) -> bool:
    """Whether the function's file has a main guard; True when it cannot be read (a notebook)."""
    import ast

    from ..pipeline import has_main_guard

    try:
        return has_main_guard(ast.parse(path.read_text(encoding="utf-8")))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return True
