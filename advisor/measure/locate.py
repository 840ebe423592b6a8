"""Which loop dominates the script's run time, and which function does it call?

One run of the script that counts and times the calls of every function of the script
and of the user's own modules, with the call tree between them (``counting.py``); with
``--scalene`` that run is under scalene too, for its per-function CPU split. The target is the
outermost function the script calls repeatedly from one place whose calls dominate
the run: the unit of work of the user's loop, not a helper called inside it.
``--function`` names the target directly.
"""
from __future__ import annotations

import ast
import json
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Optional, Sequence

from ..errors import NothingToMeasure, ScriptFailed, TargetNotFound
from ..model import Measurement
from .boundary import RunResult, RunSpec
from .child_process import Finished, run_bounded, run_host
from .loop_body import LoopBody
from .user_script import LAMBDA, FunctionDef, replayable_functions, resolve_function

# Scalene samples every 10 ms; fewer than this many samples in the hot function is too
# few to trust its ranking, so the cProfile pass decides instead.
MIN_SCALENE_SAMPLES = 20
SCALENE_INTERVAL_S = 0.01
# A function must account for at least this share of the run to be worth advising on.
MIN_SHARE = 0.05
# A loop calls its function from one place: more than this share of the calls come from
# one line. Calls made from two lines (``run(); run()``) are no loop.
ONE_PLACE_SHARE = 0.5
# A function is inside another when at least this share of its calls are made while the
# other runs (its parent in the call tree, or the parent's parent...).
INSIDE_SHARE = 0.5
# Shares are of the run less its imports, but never of less than this share of the run.
MIN_WORK_SHARE = 0.1
# Candidates reported beside the target, so a user sees what was weighed.
CANDIDATES_SHOWN = 3


@dataclass(frozen=True)
class Located:
    function: FunctionDef
    script_seconds: float
    located_by: str
    calls: int
    loop_seconds: float  # total time of the target's calls in one run of the script
    share: Optional[float] = None  # share of the script's run time, from the profiler
    profile: dict[str, float] = field(default_factory=dict)
    call_site: str = ""  # "file:line" of the loop that calls the target
    candidates: list[dict[str, Any]] = field(default_factory=list)  # {name, share, calls}, top first
    user_pool: Optional[dict[str, Any]] = None  # the pool the script maps it with (user_pools.UserPool)
    call_sites: int = 1  # how many places call it
    # Set when the loop's body, not the function it calls, is measured (see loop_body.py).
    loop_body: Optional[LoopBody] = None
    # The count run's measurement of it, where that run recorded this loop (speculate.py).
    measured: Optional[Measurement] = None


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


def scalene_evidence(profile: Optional[dict[str, Any]], script: Path, name: str,
                     functions: Optional[dict[str, FunctionDef]] = None) -> dict[str, float]:
    """Scalene's Python / native / system split and core utilisation for one function."""
    for row in scalene_functions(profile or {}, script, functions):
        if row["name"] == name and row["percent"] > 0:
            keys = ("python_percent", "native_percent", "system_percent", "core_utilization")
            return {k: float(row[k]) for k in keys} | {"share": row["percent"] / 100.0}
    return {}


def loop_functions(counts: dict[str, dict[str, Any]], wall: float) -> list[dict[str, Any]]:
    """The functions the script's loops call, dominant first: {name, share, calls, site}.

    A function is a loop's when it is called at least twice, mostly from one place, and
    its calls take at least ``MIN_SHARE`` of the run (``wall``: less its imports). Of those nested in one another (a
    helper called inside the per-item function), only the outermost is a candidate: it is
    the unit of work the user's loop hands out, and its helpers are pieces of it.
    """
    wall = max(wall, 1e-9)

    def loop_like(name: str) -> bool:
        c = counts.get(name)
        if c is None or c["calls"] < 2 or c["total_s"] < MIN_SHARE * wall:
            return False
        sites = c.get("sites") or {}
        return not sites or max(sites.values()) > ONE_PLACE_SHARE * sum(sites.values())

    chosen: dict[str, dict[str, Any]] = {}
    for name in (n for n in counts if loop_like(n)):
        outermost = name
        for ancestor in enclosing(counts, name):
            if loop_like(ancestor):
                outermost = ancestor
        c = counts[outermost]
        chosen[outermost] = {"name": outermost, "share": min(1.0, c["total_s"] / wall), "calls": int(c["calls"]),
                             "site": call_site(c)}
    return sorted(chosen.values(), key=lambda r: -r["share"])


def enclosing(counts: dict[str, dict[str, Any]], name: str) -> list[str]:
    """The counted functions ``name`` runs inside, innermost first (by most of its calls)."""
    chain: list[str] = []
    current = name
    while True:
        parents = counts.get(current, {}).get("parents") or {}
        total = sum(parents.values())
        parent, calls = max(parents.items(), key=lambda kv: kv[1], default=("", 0))
        if not parent or total == 0 or calls < INSIDE_SHARE * total or parent in chain or parent == name:
            return chain
        chain.append(parent)
        current = parent


def call_site(count: dict[str, Any]) -> str:
    sites = count.get("sites") or {}
    return max(sites.items(), key=lambda kv: kv[1])[0] if sites else ""


def script_failure(finished: Finished, script: Path) -> ScriptFailed:
    if finished.returncode is None:
        return ScriptFailed(f"{script.name} did not finish within the time limit; it may hang.")
    reason = finished.result.script_error or f"exit status {finished.returncode}"
    return ScriptFailed(f"{script.name} failed before paradvise could measure it ({reason}).",
                        finished.stderr.strip())


@dataclass(frozen=True)
class Counted:
    """What the count pass found: see measuring_child.mode_count."""

    wall: float
    functions: dict[str, dict[str, Any]]
    import_s: float = 0.0
    counting_s: float = 0.0  # what the counters added to the run
    user_pools: list[dict[str, Any]] = field(default_factory=list)
    profile: Optional[dict[str, Any]] = None  # scalene's, when it ran under scalene
    # Where the run recorded the loop its spec guessed and measured it (count_and_record.py).
    measurement: Optional[Measurement] = None
    recorded_calls: int = 0

    @classmethod
    def from_result(cls, result: RunResult, profile: Optional[dict[str, Any]] = None) -> "Counted":
        return cls(float(result.wall_s or 0.0), result.functions or {}, result.import_s, result.counting_s,
                   list(result.user_pools), profile, result.measurement, result.calls)


def count_calls(script: Path, argv: list[str], timeout: float, workdir: Path,
                wanted: Optional[str] = None, loop_bodies: Sequence[LoopBody] = (),
                speculation: Optional[RunSpec] = None, on_tick: Callable[[], None] = lambda: None) -> Counted:
    """Run the script once with every function counted (and ``wanted``, wherever it is);
    ``loop_bodies`` made functions first (loop_body.candidates). ``speculation``: the spec
    of a count run that records and measures a guessed loop too (speculate.py)."""
    spec = RunSpec("count", str(script), argv, wanted=wanted, loop_bodies=[b.to_json() for b in loop_bodies])
    if speculation is not None:
        spec = replace(speculation, mode="count", script=str(script), argv=argv, wanted=wanted)
    finished = run_host(spec, timeout, workdir, on_tick)
    if finished.returncode != 0:
        raise script_failure(finished, script)
    return Counted.from_result(finished.result)


# Runs the host under scalene: a module run with -m cannot be scalene's program.
HOST_LAUNCHER = """import sys
from advisor.measure.measuring_child import main
sys.exit(main(sys.argv[1:]))
"""


def count_under_scalene(script: Path, argv: list[str], timeout: float, workdir: Path,
                        wanted: Optional[str] = None) -> Optional[Counted]:
    """The count pass and the scalene profile from one run of the script.

    One run instead of two saves a whole run of the script and an interpreter start. Scalene
    profiles only the script's own file, so the counting wrappers do not show in its rows;
    they and scalene slow the run by ~15%, which the loop time used for budgets includes.
    The script's own child interpreters run without scalene (see ``host.outside_scalene``).
    None when scalene itself failed, so the caller can count without it.
    """
    launcher, spec_path = workdir / "run_host.py", workdir / "count-spec.json"
    result_path, out = workdir / "count-result.json", workdir / "scalene.json"
    launcher.write_text(HOST_LAUNCHER, encoding="utf-8")
    spec = RunSpec("count", str(script), argv, out=str(result_path), python=sys.executable, wanted=wanted)
    spec_path.write_text(json.dumps(spec.to_json()), encoding="utf-8")
    # Only the per-function CPU split is read (scalene_functions); the stack traces scalene
    # collects by default are not, and cost about a tenth of a second a run.
    command = [sys.executable, "-m", "scalene", "run", "-o", str(out), "--cpu-only", "--no-stacks",
               "--profile-only", str(script), "--program-path", str(script.parent),
               str(launcher), "---", str(spec_path)]
    finished = run_bounded(command, timeout, workdir, result_path)
    result = finished.result
    if finished.returncode is None or result.script_error is not None:
        raise script_failure(finished, script)  # it hung or failed: running it again would not help
    if finished.returncode != 0 or result.functions is None:
        return None
    profile = None
    try:
        profile = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    return Counted.from_result(result, profile)


# Modules whose pools fork workers: scalene's signal-driven sampling in a parent with a
# pool of forked workers was seen to hang the run with no progress (a Pool(8).map of 20,000
# tiny calls: killed after 120 s), so such scripts are counted without it.
POOL_MODULES = ("multiprocessing", "concurrent.futures", "joblib", "loky", "dask")


def starts_pools(script: Path) -> bool:
    """Whether the script imports a module that starts pools of workers."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return False
    for node in ast.walk(tree):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == m or n.startswith(m + ".") for n in names for m in POOL_MODULES):
            return True
    return False


def with_nested(script: Path, functions: dict[str, FunctionDef]) -> dict[str, FunctionDef]:
    """``functions`` (top-level ones) and the script's nested functions and named lambdas."""
    try:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return functions
    return {**replayable_functions(tree), **functions}


def locate(script: Path, argv: list[str], functions: dict[str, FunctionDef], wanted: Optional[str],
           timeout: float, workdir: Path, scalene: bool = False, loop_bodies: Sequence[LoopBody] = (),
           speculation: Optional[RunSpec] = None, on_tick: Callable[[], None] = lambda: None) -> Located:
    """Find the loop's function among the script's functions (nested ones, named lambdas
    and methods included) and those of the user's modules it imports.

    ``scalene``: run the count pass under scalene, for its per-function CPU split (a fixed
    0.6-0.8 s more; the measuring run samples the target's own split either way).
    ``speculation``: record and measure the loop its ``speculate`` field guesses, in the
    same run; the result carries that measurement when the guess was the loop found.
    """
    functions = with_nested(script, functions)
    if wanted and ":" not in wanted:
        wanted = resolve_function(functions, wanted, script.name).name
    counted = None
    if scalene and not starts_pools(script) and not loop_bodies:
        counted = count_under_scalene(script, argv, timeout, workdir, wanted)
    if counted is None:  # without scalene, or it could not run it (a failing script fails here, with its error)
        counted = count_calls(script, argv, timeout, workdir, wanted, loop_bodies, speculation, on_tick)
    found = located_from(counted, script, functions, wanted)
    guessed = (speculation.speculate or {}).get("function") if speculation else None
    if counted.measurement is not None and found.function.name == guessed and found.calls == counted.recorded_calls:
        found = replace(found, measured=counted.measurement)
    return found


def located_from(counted: Counted, script: Path, functions: dict[str, FunctionDef],
                 wanted: Optional[str]) -> Located:
    """The loop's function as a count run's counts show it (see ``locate``)."""
    wall, counts, profile = counted.wall, counted.functions, counted.profile
    # Imports are no loop's time (numpy's took 80% of a short script's run under scalene),
    # and neither is what counting every call added.
    work_s = max(wall - counted.import_s - counted.counting_s, MIN_WORK_SHARE * wall)
    loops = loop_functions(counts, work_s)
    shown = [{k: r[k] for k in ("name", "share", "calls")} for r in loops[:CANDIDATES_SHOWN]]

    def located(name: str, by: str) -> Located:
        evidence = scalene_evidence(profile, script, name, functions)
        c = counts[name]
        pool = next((p for p in counted.user_pools if p["function"] == name), None)
        return Located(definition(functions, name, c), wall, by, int(c["calls"]), float(c["total_s"]),
                       min(1.0, float(c["total_s"]) / max(work_s, 1e-9)), evidence, call_site(c), shown, pool,
                       len(c.get("sites") or {}) or 1)

    if wanted:
        if counts.get(wanted, {}).get("calls", 0) == 0:
            where = script.name if ":" not in wanted else f"the modules {script.name} imports"
            raise TargetNotFound(f"{wanted} was not found in {where}, or the script never called it.")
        return located(wanted, "--function")
    if loops:
        return located(loops[0]["name"], "call tree")
    raise NothingToMeasure(_nothing_message(script, wall, counts))


def definition(functions: dict[str, FunctionDef], name: str, count: dict[str, Any]) -> FunctionDef:
    """The target's definition: from the script's source, or from its user's module's."""
    if name in functions:
        found = functions[name]
    else:
        from .wrapped_run import definitions_in

        module = name.partition(":")[0]
        found = definitions_in(count.get("file", ""), module).get(name) or FunctionDef(
            name, int(count.get("line", 0)), bool(count.get("is_coroutine")), module=module,
            file=count.get("file", ""))
    return replace(found, is_generator=bool(count.get("is_generator", found.is_generator)))


def _nothing_message(script: Path, wall: float, counts: dict[str, dict[str, Any]]) -> str:
    if not counts:
        return (f"{script.name} ran for {wall:.3f} s without calling any function of its own; paradvise "
                "advises on a function called many times (for example once per item in a loop).")
    busiest = max(counts, key=lambda n: counts[n]["total_s"])
    if counts[busiest]["total_s"] > 0.5 * wall and counts[busiest]["calls"] < 2:
        return (f"{script.name} spends its time in {busiest}(), which runs only once; paradvise advises on "
                "a function called many times (for example once per item in a loop).")
    return (f"{script.name} ran for {wall:.3f} s and no function of its own that it calls more than once "
            "took a measurable share of that; there is nothing to parallelize.")
