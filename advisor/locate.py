"""Which function dominates the script's run time?

One run of the script under scalene (sampling, cheap, with its Python / native / system
split) that also counts and times the calls of every function the script defines. When
the run is too short for scalene to gather enough samples, a cProfile pass gives exact
call counts and times instead. ``--function`` names the target directly.
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .errors import NothingToMeasure, ScriptFailed, TargetNotFound
from .launch import Finished, run_bounded, run_host
from .script import LAMBDA, FunctionDef, replayable_functions, resolve_function

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
    calls: int
    loop_seconds: float  # total time of the target's calls in one run of the script
    share: Optional[float] = None  # share of the script's run time, from the profiler
    profile: dict[str, float] = field(default_factory=dict)


def scalene_functions(profile: dict[str, Any], script: Path,
                      functions: Optional[dict[str, FunctionDef]] = None) -> list[dict[str, Any]]:
    """Scalene's per-function rows for the script file, hottest first.

    With ``functions``, rows are named by display name (``main.score``, see ``script.FunctionDef``).
    """
    rows = []
    for name, data in profile.get("files", {}).items():
        if Path(name).resolve() != script:
            continue
        for fn in data.get("functions", []):
            total = fn.get("n_cpu_percent_python", 0) + fn.get("n_cpu_percent_c", 0) + fn.get("n_sys_percent", 0)
            name = display_name(functions, fn.get("line", ""), fn.get("lineno", 0)) if functions else None
            rows.append({"name": name or fn.get("line", ""), "line": fn.get("lineno", 0), "percent": total,
                         "python_percent": fn.get("n_cpu_percent_python", 0.0),
                         "native_percent": fn.get("n_cpu_percent_c", 0.0),
                         "system_percent": fn.get("n_sys_percent", 0.0),
                         "core_utilization": fn.get("n_core_utilization", 0.0)})
    return sorted(rows, key=lambda r: -r["percent"])


def display_name(functions: dict[str, FunctionDef], name: str, line: int) -> Optional[str]:
    """The display name of a profiler's row: (co_name or qualname, co_firstlineno).

    cProfile names a nested function by its own name (``inner``) and a lambda ``<lambda>``;
    scalene by its qualname (``main.<locals>.inner``). The line tells apart functions
    of the same name; a top-level function keeps its own name either way.
    """
    local = name.rpartition(".")[2]
    for display, fn in functions.items():
        if fn.code_line == line and (local == fn.local_name or (fn.kind == LAMBDA and local == "<lambda>")):
            return display
    plain = name.replace(".<locals>", "")
    return plain if plain in functions else None


def pick_from_scalene(profile: dict[str, Any], script: Path, candidates: set[str],
                      functions: Optional[dict[str, FunctionDef]] = None) -> Optional[dict[str, Any]]:
    """Scalene's row for the hottest candidate, if scalene took enough samples to rank it."""
    elapsed = float(profile.get("elapsed_time_sec", 0.0))
    rows = [r for r in scalene_functions(profile, script, functions) if r["name"] in candidates]
    if not rows:
        return None
    top = rows[0]
    share = top["percent"] / 100.0
    if share * elapsed / SCALENE_INTERVAL_S < MIN_SCALENE_SAMPLES or share < MIN_SHARE:
        return None
    return top


def scalene_evidence(profile: Optional[dict[str, Any]], script: Path, name: str,
                     functions: Optional[dict[str, FunctionDef]] = None) -> dict[str, float]:
    """Scalene's Python / native / system split and core utilisation for one function."""
    for row in scalene_functions(profile or {}, script, functions):
        if row["name"] == name and row["percent"] > 0:
            keys = ("python_percent", "native_percent", "system_percent", "core_utilization")
            return {k: float(row[k]) for k in keys} | {"share": row["percent"] / 100.0}
    return {}


def pick_from_cprofile(result: dict[str, Any], candidates: set[str],
                       functions: Optional[dict[str, FunctionDef]] = None) -> Optional[tuple[str, float]]:
    """(name, share of run time) of the candidate with the most time attributed to it."""
    wall = float(result.get("wall_s", 0.0)) or 1e-9
    rows = result.get("functions", [])
    if functions:
        rows = [{**r, "name": display_name(functions, r["name"], r["line"]) or r["name"]} for r in rows]
    rows = [r for r in rows if r["name"] in candidates]
    if not rows:
        return None
    share = min(1.0, rows[0]["attributed_s"] / wall)
    return (rows[0]["name"], share) if share >= MIN_SHARE else None


def pick_by_wall_time(counts: dict[str, dict[str, float]], candidates: set[str],
                      wall: float) -> Optional[tuple[str, float]]:
    """The candidate whose calls took the most wall time, waiting included."""
    if not candidates or wall <= 0:
        return None
    name = max(candidates, key=lambda n: counts[n]["total_s"])
    share = counts[name]["total_s"] / wall
    return (name, share) if share >= MIN_SHARE else None


def script_failure(finished: Finished, script: Path) -> ScriptFailed:
    if finished.returncode is None:
        return ScriptFailed(f"{script.name} did not finish within the time limit; it may hang.")
    reason = finished.result.get("script_error") or f"exit status {finished.returncode}"
    return ScriptFailed(f"{script.name} failed before paradvise could measure it ({reason}).",
                        finished.stderr.strip())


def count_calls(script: Path, argv: list[str], functions: dict[str, FunctionDef], timeout: float,
                workdir: Path) -> tuple[float, dict[str, dict[str, float]]]:
    """Run the script once with every function in ``functions`` counted: (wall time, per-function counts)."""
    spec = {"mode": "count", "script": str(script), "argv": argv, "functions": sorted(functions)}
    finished = run_host(spec, timeout, workdir)
    if finished.returncode != 0:
        raise script_failure(finished, script)
    return float(finished.result["wall_s"]), finished.result["functions"]


# Runs the host under scalene: a module run with -m cannot be scalene's program.
HOST_LAUNCHER = """import sys
from advisor.host import main
sys.exit(main(sys.argv[1:]))
"""


def count_under_scalene(script: Path, argv: list[str], functions: dict[str, FunctionDef], timeout: float,
                        workdir: Path) -> Optional[tuple[float, dict[str, dict[str, float]], Optional[dict[str, Any]]]]:
    """The count pass and the scalene profile from one run of the script: (wall, counts, profile).

    One run instead of two saves a whole run of the script and an interpreter start. Scalene
    profiles only the script's own file, so the counting wrappers do not show in its rows;
    they and scalene slow the run by ~15%, which the loop time used for budgets includes.
    The script's own child interpreters run without scalene (see ``host.outside_scalene``).
    None when scalene itself failed, so the caller can count without it.
    """
    launcher, spec_path = workdir / "run_host.py", workdir / "count-spec.json"
    result_path, out = workdir / "count-result.json", workdir / "scalene.json"
    launcher.write_text(HOST_LAUNCHER, encoding="utf-8")
    spec = {"mode": "count", "script": str(script), "argv": argv, "functions": sorted(functions),
            "out": str(result_path), "python": sys.executable}
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    command = [sys.executable, "-m", "scalene", "run", "-o", str(out), "--cpu-only",
               "--profile-only", str(script), "--program-path", str(script.parent),
               str(launcher), "---", str(spec_path)]
    finished = run_bounded(command, timeout, workdir, result_path)
    result = finished.result
    if finished.returncode is None or "script_error" in result:
        raise script_failure(finished, script)  # it hung or failed: running it again would not help
    if finished.returncode != 0 or "functions" not in result:
        return None
    profile = None
    try:
        profile = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    return float(result["wall_s"]), result["functions"], profile


def with_nested(script: Path, functions: dict[str, FunctionDef]) -> dict[str, FunctionDef]:
    """``functions`` (top-level ones) and the script's nested functions and named lambdas."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return functions
    return {**replayable_functions(tree), **functions}


def locate(script: Path, argv: list[str], functions: dict[str, FunctionDef], wanted: Optional[str],
           timeout: float, workdir: Path) -> Located:
    """Pick the target among ``functions`` and the script's nested functions and named lambdas."""
    functions = with_nested(script, functions)
    if wanted:
        wanted = resolve_function(functions, wanted, script.name).name
    if not functions:
        raise NothingToMeasure(f"{script.name} defines no top-level function; paradvise advises on a "
                               "function that the script calls many times.")
    counted = count_under_scalene(script, argv, functions, timeout, workdir)
    if counted is not None:
        wall, counts, profile = counted
    else:  # scalene could not run it: count without it (a failing script fails here, with its error)
        wall, counts = count_calls(script, argv, functions, timeout, workdir)
        profile = None

    def located(name: str, by: str, share: Optional[float]) -> Located:
        evidence = scalene_evidence(profile, script, name, functions)
        return Located(functions[name], wall, by, int(counts[name]["calls"]), float(counts[name]["total_s"]),
                       share if share is not None else evidence.get("share"), evidence)

    if wanted:
        if counts[wanted]["calls"] == 0:
            raise TargetNotFound(f"{wanted} is defined in {script.name} but the script never called it.")
        return located(wanted, "--function", None)
    # Only a function called more than once can be spread over workers.
    candidates = {name for name, c in counts.items() if c["calls"] >= 2}
    top = pick_from_scalene(profile, script, candidates, functions) if profile else None
    if top is not None:
        return located(top["name"], "scalene", top["percent"] / 100.0)
    finished = run_host({"mode": "cprofile", "script": str(script), "argv": argv}, timeout, workdir)
    if finished.returncode != 0:
        raise script_failure(finished, script)
    picked = pick_from_cprofile(finished.result, candidates, functions)
    if picked is not None:
        return located(picked[0], "cprofile", picked[1])
    # Profilers see CPU work; a coroutine that mostly awaits shows up only in wall time.
    picked = pick_by_wall_time(counts, candidates, wall)
    if picked is not None:
        return located(picked[0], "wall time", picked[1])
    raise NothingToMeasure(_nothing_message(script, wall, counts))


def _nothing_message(script: Path, wall: float, counts: dict[str, dict[str, float]]) -> str:
    busiest = max(counts, key=lambda n: counts[n]["total_s"])
    if counts[busiest]["total_s"] > 0.5 * wall and counts[busiest]["calls"] < 2:
        return (f"{script.name} spends its time in {busiest}(), which runs only once; paradvise advises on "
                "a function called many times (for example once per item in a loop).")
    return (f"{script.name} ran for {wall:.3f} s and no function of its own that it calls more than once "
            "took a measurable share of that; there is nothing to parallelize.")
