"""IPython / Jupyter magics: ``%load_ext advisor`` (or ``advisor.api.jupyter``), then

    %paradvise func items_expr          # tune func over the items (as func.map would), show the report
    %paradvise --budget 5 func items    # a tighter or looser sweep budget, in seconds
    %%paradvise func                    # run the cell, record the calls it makes to func, tune on them

The line magic maps ``func`` over the evaluated iterable once serially (recording each
call), then measures and sweeps exactly like ``paradvise profile``; if ``func`` carries
``@advise`` the chosen plan is stored in the tuning cache and used by later ``func.map``.

The cell magic swaps ``func`` in the notebook's namespace for a recording wrapper while
the cell runs, so it sees the calls made through that name (from the cell or from other
notebook functions), not calls through other references taken earlier. It shows the
report only; it does not change any plan.

The last report is kept in ``advisor.jupyter.last_report``.
"""
from __future__ import annotations

import re
import types
from typing import Any, Optional

from ..measure.capture import Recorder
from ..model import Report

last_report: Optional[Report] = None

_LINE = re.compile(r"^\s*(?:(?:--budget|-b)[\s=]+(?P<budget>[0-9.]+)\s+)?(?P<func>\S+)(?:\s+(?P<rest>.*\S))?\s*$")


def parse_line(line: str) -> tuple[Optional[float], str, Optional[str]]:
    """``[--budget S] func [expr]`` -> (budget, func, expr); ValueError when it does not parse."""
    match = _LINE.match(line or "")
    if not match:
        raise ValueError("usage: %paradvise [--budget SECONDS] FUNC ITERABLE  or  %%paradvise [--budget SECONDS] FUNC")
    budget = float(match["budget"]) if match["budget"] else None
    if budget is not None and budget <= 0:
        raise ValueError("--budget must be a positive number of seconds")
    return budget, match["func"], match["rest"]


def _eval(shell: Any, expr: str) -> Any:
    try:
        return eval(expr, shell.user_ns)  # noqa: S307 - the user's own expression, in their own kernel
    except Exception as exc:  # noqa: BLE001 - shown as one line, like any other usage error
        raise ValueError(f"could not evaluate {expr!r}: {type(exc).__name__}: {exc}") from None


def _function(shell: Any, name: str) -> types.FunctionType:
    value = _eval(shell, name)
    if not isinstance(value, types.FunctionType):
        raise ValueError(f"{name} is not a Python function (it is {type(value).__name__})")
    return value


def line_magic(shell: Any, line: str) -> Report:
    from .decorator import Advisor

    budget, name, expr = parse_line(line)
    if not expr:
        raise ValueError("usage: %paradvise [--budget SECONDS] FUNC ITERABLE")
    fn = _function(shell, name)
    items = list(_eval(shell, expr))
    if not items:
        raise ValueError(f"{expr} is empty: nothing to measure")
    advisor = getattr(fn, "__paradvise__", None)
    if advisor is None:  # a plain notebook function: tune it without decorating (changing) it
        advisor = Advisor(fn, budget)
    saved = advisor.budget
    advisor.budget = budget if budget is not None else saved
    try:
        advisor.tune(items)
    finally:
        advisor.budget = saved
    return advisor.report()


def cell_magic(shell: Any, line: str, cell: str) -> Optional[Report]:
    from .engine import DEFAULT_EXECUTORS, tune_recorded

    budget, name, _ = parse_line(line)
    if not name.isidentifier():
        raise ValueError("%%paradvise FUNC: FUNC must be the name of a function in the notebook")
    fn = _function(shell, name)
    recorder = Recorder()
    wrapper = recorder.wrap(fn)
    shell.user_ns[name] = wrapper
    try:
        result = shell.run_cell(cell)
    finally:
        if shell.user_ns.get(name) is wrapper:
            shell.user_ns[name] = fn
    recorder.finish()
    if not result.success:
        return None  # IPython has shown the cell's error
    if not recorder.calls:
        print(f"paradvise: the cell never called {name}; nothing to measure.")
        return None
    executors = getattr(getattr(fn, "__paradvise__", None), "executors", DEFAULT_EXECUTORS)
    return tune_recorded(fn, recorder, budget=budget, executors=executors)


def show(report: Report) -> None:
    from rich.console import Console

    from ..present.terminal import render

    render(report, Console())


def load_ipython_extension(ipython: Any) -> None:
    """Register ``%paradvise`` and ``%%paradvise`` (``%load_ext advisor.api.jupyter``)."""

    def paradvise(line: str, cell: Optional[str] = None) -> None:
        global last_report
        try:
            report = line_magic(ipython, line) if cell is None else cell_magic(ipython, line, cell)
        except ValueError as exc:
            print(f"paradvise: {exc}")
            return
        if report is not None:
            last_report = report
            show(report)

    ipython.register_magic_function(paradvise, magic_kind="line_cell", magic_name="paradvise")
