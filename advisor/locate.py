"""Which function dominates the script's run time?

First a scalene pass (sampling, cheap, with its Python / native / system split). When
the run is too short for scalene to gather enough samples, a cProfile pass gives exact
call counts and times instead. ``--function`` names the target directly.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import NothingToMeasure, ScriptFailed, TargetNotFound
from .launch import Finished, run_bounded, run_host
from .script import FunctionDef

# Scalene samples every 10 ms; fewer than this many samples in the hot function is too
# few to trust its ranking, so the cProfile pass decides instead.
MIN_SCALENE_SAMPLES = 20
SCALENE_INTERVAL_S = 0.01
# A function must account for at least this share of the run to be worth advising on.
MIN_SHARE = 0.05


@dataclass(frozen=True)
class Located:
    function: FunctionDef
    script_seconds: float
    located_by: str
    calls: Optional[int] = None  # known when cProfile ran
    share: Optional[float] = None  # share of the script's run time
    profile: dict[str, float] = field(default_factory=dict)


def run_scalene(script: Path, argv: list[str], timeout: float, workdir: Path) -> Optional[dict[str, Any]]:
    """Scalene's JSON profile, or None when scalene could not produce one."""
    out = workdir / "scalene.json"
    command = [sys.executable, "-m", "scalene", "run", "-o", str(out), "--cpu-only",
               str(script), "---", *argv[1:]]
    finished = run_bounded(command, timeout, workdir)
    if finished.returncode != 0 or not out.exists():
        return None
    try:
        return json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def scalene_functions(profile: dict[str, Any], script: Path) -> list[dict[str, Any]]:
    """Scalene's per-function rows for the script file, hottest first."""
    rows = []
    for name, data in profile.get("files", {}).items():
        if Path(name).resolve() != script:
            continue
        for fn in data.get("functions", []):
            total = fn.get("n_cpu_percent_python", 0) + fn.get("n_cpu_percent_c", 0) + fn.get("n_sys_percent", 0)
            rows.append({"name": fn.get("line", ""), "line": fn.get("lineno", 0), "percent": total,
                         "python_percent": fn.get("n_cpu_percent_python", 0.0),
                         "native_percent": fn.get("n_cpu_percent_c", 0.0),
                         "system_percent": fn.get("n_sys_percent", 0.0),
                         "core_utilization": fn.get("n_core_utilization", 0.0)})
    return sorted(rows, key=lambda r: -r["percent"])


def pick_from_scalene(profile: dict[str, Any], script: Path,
                      functions: dict[str, FunctionDef]) -> Optional[Located]:
    elapsed = float(profile.get("elapsed_time_sec", 0.0))
    rows = [r for r in scalene_functions(profile, script) if r["name"] in functions]
    if not rows:
        return None
    top = rows[0]
    share = top["percent"] / 100.0
    if share * elapsed / SCALENE_INTERVAL_S < MIN_SCALENE_SAMPLES or share < MIN_SHARE:
        return None
    evidence = {k: float(top[k]) for k in ("python_percent", "native_percent", "system_percent", "core_utilization")}
    evidence["share"] = share
    return Located(functions[top["name"]], elapsed, "scalene", None, share, evidence)


def pick_from_cprofile(result: dict[str, Any], functions: dict[str, FunctionDef],
                       wanted: Optional[str]) -> Optional[Located]:
    wall = float(result.get("wall_s", 0.0)) or 1e-9
    rows = [r for r in result.get("functions", []) if r["name"] in functions]
    if wanted:
        rows = [r for r in rows if r["name"] == wanted]
    if not rows or rows[0]["calls"] == 0:
        return None
    top = rows[0]
    share = min(1.0, top["attributed_s"] / wall)
    if not wanted and share < MIN_SHARE:
        return None
    return Located(functions[top["name"]], wall, "cprofile", int(top["calls"]), share, {"share": share})


def script_failure(finished: Finished, script: Path) -> ScriptFailed:
    if finished.returncode is None:
        return ScriptFailed(f"{script.name} did not finish within the time limit; it may hang.")
    reason = finished.result.get("script_error") or f"exit status {finished.returncode}"
    return ScriptFailed(f"{script.name} failed before paradvise could measure it ({reason}).",
                        finished.stderr.strip())


def locate(script: Path, argv: list[str], functions: dict[str, FunctionDef], wanted: Optional[str],
           timeout: float, workdir: Path) -> Located:
    profile = run_scalene(script, argv, timeout, workdir)
    if profile is not None:
        located = pick_from_scalene(profile, script, functions)
        if located is not None and (wanted is None or located.function.name == wanted):
            return located
    finished = run_host({"mode": "cprofile", "script": str(script), "argv": argv}, timeout, workdir)
    if finished.returncode != 0:
        raise script_failure(finished, script)
    located = pick_from_cprofile(finished.result, functions, wanted)
    if located is not None:
        return _with_scalene_evidence(located, profile, script)
    if wanted:
        raise TargetNotFound(f"{wanted} is defined in {script.name} but the script never called it.")
    raise NothingToMeasure(
        f"{script.name} ran for {finished.result.get('wall_s', 0):.3f} s and no function of its own "
        "took a measurable share of that; there is nothing to parallelize.")


def _with_scalene_evidence(located: Located, profile: Optional[dict[str, Any]], script: Path) -> Located:
    """Keep scalene's native/Python split for the chosen function when scalene saw it."""
    if profile is None:
        return located
    for row in scalene_functions(profile, script):
        if row["name"] == located.function.name and row["percent"] > 0:
            evidence = dict(located.profile)
            evidence.update({k: float(row[k]) for k in ("python_percent", "native_percent", "system_percent",
                                                         "core_utilization")})
            return Located(located.function, located.script_seconds, located.located_by,
                           located.calls, located.share, evidence)
    return located
