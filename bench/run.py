#!/usr/bin/env python3
"""Benchmark: how close does paradvise's advice come to the best configuration?

For each workload (every script in samples/ plus bench/workloads/) this, in one run:

  a. runs ``paradvise profile W --json`` and times it (the price of the advice);
  b. imports W under a name other than ``__main__`` and rebuilds the items its main loop
     maps the hot function over (``items()``/``HOT`` in bench/workloads, an adapter
     for each sample);
  c. times an exhaustive grid of serial / threads / processes (or asyncio for coroutine
     targets) configurations on those items, each in fresh pools;
  d. times the recommended configuration exactly as CONTRACT.md defines it;
  e. times the library defaults a user would reach for without advice;
  f. times serial, the recommendation and the grid's fastest few again, in fresh rounds
     side by side, and takes regret from those (see ``confirm``);

Each workload is benched in a fresh interpreter and each timing in a forked child of it,
so no workload sees another's heap or imports and no trial sees another's pools.
Then it prints and saves a table of regret = time(recommended) / time(best) and of each
default's ratio to the best. This is a benchmark, not a test: numbers are noisy,
especially on a busy machine, and nothing here asserts.

    .venv/bin/python bench/run.py [--only NAME[,NAME...]] [--repeats N] [--quick] [--scale N]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Optional

import timing
from configs import ASYNC_DEFAULTS, SYNC_DEFAULTS, Config, _same_key, grid, multithreaded_blas_loaded, run_config
from corpus import Prepared, Workload, as_script, discover, prepare
from scoring import score, summarize, table, write_results
from settings import (
    CONFIRM_MARGIN,
    CONFIRM_MAX,
    CONFIRM_ROUNDS,
    DEFAULT_SCALE,
    HAVE_JOBLIB,
    MIN_TIMEOUT_S,
    PARADVISE_TIMEOUT_S,
    ROOT,
    SERIAL_TIMEOUT_S,
    TIMEOUT_FACTOR,
    WAITING_CPU_SHARE,
    log,
)
from timing import Entry, Measured, measure_in_rounds, time_in_child

# ---------------------------------------------------------------- paradvise

@dataclass
class Advice:
    wall_s: float
    returncode: Optional[int]
    report: Optional[dict]
    error: Optional[str] = None

    def config(self) -> Optional[Config]:
        if not self.report:
            return None
        rec = self.report["recommendation"]
        return Config(rec["executor"], rec["workers"], rec.get("chunksize"), rec.get("start_method"),
                      rec.get("blas_threads"))


def run_summary(advice: Advice) -> dict[str, Any]:
    """One paradvise run in brief: its recommendation, and each trial's runs and loop factor."""
    if not advice.report:
        return {"error": advice.error}
    report = advice.report
    return {"recommendation": report["recommendation"],
            "trials": [{k: t.get(k) for k in ("executor", "workers", "chunksize", "start_method", "blas_threads",
                                               "repeats", "projected_seconds", "loop_factor", "ok")}
                       for t in report.get("trials", [])],
            "warnings": [w.get("code") for w in report.get("warnings", [])]}


def advise(path: Path, scale: int) -> Advice:
    """Run ``paradvise profile`` as a user would and time its whole wall clock."""
    with tempfile.TemporaryDirectory(prefix="paradvise-bench-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "advisor", "profile", str(path), "--json", str(out), "--quiet",
               "--", str(scale)]
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=PARADVISE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return Advice(time.perf_counter() - started, None, None, f"timed out after {PARADVISE_TIMEOUT_S} s")
        wall = time.perf_counter() - started
        report = json.loads(out.read_text()) if out.exists() else None
        error = None if proc.returncode == 0 else (proc.stderr.strip().splitlines() or ["?"])[-1]
        return Advice(wall, proc.returncode, report, error)


def machine_facts() -> dict:
    proc = subprocess.run([sys.executable, "-m", "advisor", "machine", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {"error": proc.stderr.strip()[-500:]}


# ---------------------------------------------------------------- one workload

# Workloads the bench cannot rebuild outside their script, and why (checked before profiling).
UNBENCHABLE = {
    "closure_scoring": "its target is a closure made inside main(), which nothing outside the script can call",
}


def bench_workload(workload: Workload, cpus: int, repeats: int, quick: bool, scale: int,
                   advice_runs: int = 1) -> dict:
    row: dict[str, Any] = {"workload": workload.name, "path": str(workload.path.relative_to(ROOT))}
    if workload.path.stem in UNBENCHABLE:
        row["skipped"] = UNBENCHABLE[workload.path.stem]
        log(f"== {workload.name}: skipped: {row['skipped']}")
        return row
    log(f"== {workload.name}: paradvise profile ...")
    advice = advise(workload.path, scale)
    row["advice"] = asdict(advice)
    log(f"   paradvise took {advice.wall_s:.1f} s -> "
        f"{advice.config().label() if advice.config() else 'no advice: ' + str(advice.error)}")
    if advice_runs > 1:
        # The same script, the same machine, again: does the verdict hold? (issue 15)
        again = [advise(workload.path, scale) for _ in range(advice_runs - 1)]
        row["verdicts"] = [a.config().executor if a.config() else "failed" for a in [advice, *again]]
        row["verdict_errors"] = [a.error for a in [advice, *again] if not a.config()]  # why a run gave none
        # Each later run's choice and the trials it rested on, so a verdict that changed can be read.
        row["again"] = [run_summary(a) for a in again]
        log(f"   verdicts of {advice_runs} runs: {', '.join(row['verdicts'])}"
            + "".join(f"\n   a run failed: {e}" for e in row["verdict_errors"]))
    try:
        module, prepared = prepare(workload, scale)
        timing.WORKLOAD_MODULE = module
    except Exception as exc:  # noqa: BLE001 - a workload we cannot rebuild is skipped, with the reason
        row["skipped"] = f"{type(exc).__name__}: {exc}"
        log(f"   skipped: {row['skipped']}")
        return row
    try:
        row.update(_time_everything(module, prepared, advice, cpus, repeats, quick))
    finally:
        if prepared.teardown:
            prepared.teardown()
    return row


def _time_everything(module: Any, prepared: Prepared, advice: Advice, cpus: int,
                     repeats: int, quick: bool) -> dict:
    fn = prepared.call or getattr(module, prepared.hot)
    items, is_coroutine = prepared.items, asyncio.iscoroutinefunction(fn)
    out: dict[str, Any] = {"hot": prepared.hot, "items": len(items), "is_coroutine": is_coroutine}
    if advice.report:
        target = advice.report["target"]
        # A loop body paradvise made a function of is the loop's unit when it calls HOT
        # (the bench times such a script's iteration with its bench_call).
        out["target_ok"] = target_matches((target.get("loop_body") or {}).get("calls") or target["name"], prepared.hot)
    if advice.report and not out["target_ok"]:
        out["target_mismatch"] = advice.report["target"]["name"]
    elif advice.report and advice.report["target"]["calls"] != len(items):
        # The adapter no longer rebuilds what main() does (the sample changed?): say so.
        out["items_mismatch"] = f"paradvise saw {advice.report['target']['calls']} calls, bench built {len(items)} items"
        log(f"   warning: {out['items_mismatch']}")

    def runner(config: Config) -> Callable[[], Any]:
        def run() -> Any:
            as_script(module)
            return run_config(config, fn, items, is_coroutine)
        return run

    # The serial loop's first run sets the per-trial timeout and says whether the work waits.
    first = time_in_child(runner(Config("serial")), SERIAL_TIMEOUT_S)
    if first.seconds is None:
        out["skipped"] = f"the serial loop failed: {first.error}"
        return out
    timeout_s = max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * first.seconds)
    cpu_share = first.cpu_seconds / max(first.seconds, 1e-9)
    waiting = cpu_share < WAITING_CPU_SHARE
    blas = multithreaded_blas_loaded()
    configs = grid(len(items), cpus, waiting, is_coroutine, quick, blas)
    log(f"   {len(items)} items, serial {first.seconds:.3f} s, CPU share {cpu_share:.2f}, "
        f"{len(configs)} grid points")

    # Serial always gets its repeats: advice cost and a "stay serial" regret rest on it.
    entries = [Entry(c.label(), c, runner(c), always_repeat=c.executor == "serial") for c in configs]
    rec = advice.config()
    rec_index = None
    if rec is not None and _timeable(rec, is_coroutine):
        rec_index = len(entries)
        entries.append(Entry(f"recommended {rec.label()}", rec, runner(rec), always_repeat=True))
    defaults = ASYNC_DEFAULTS if is_coroutine else SYNC_DEFAULTS
    default_index = len(entries)
    entries += [Entry(f"default {name}", None, lambda d=default: as_script(module) or d(fn, items))
                for name, default in defaults.items()]

    results = measure_in_rounds(entries, repeats, timeout_s, seeded={0: first})
    for result in results:
        log(f"   {_show(result)}")
    grid_results = results[:len(configs)]
    if rec is not None:
        if rec_index is None:
            timed = Measured(rec.label(), asdict(rec), error=f"{rec.executor} cannot be timed here")
        else:
            timed = results[rec_index]
            timed.label = rec.label()
            _pool_with_grid(rec, timed, grid_results)
        out["recommended"] = asdict(timed)
    serial = grid_results[0]
    out.update(serial_s=serial.median, cpu_share=cpu_share, waiting=waiting, timeout_s=timeout_s)
    out["grid"] = [asdict(m) for m in grid_results]
    out["defaults"] = {name: asdict(m) for name, m in zip(defaults, results[default_index:])}
    finalists = confirmation_entries(entries[:len(configs)], grid_results,
                                     entries[rec_index] if rec_index is not None else None)
    log(f"   confirmation: {len(finalists)} configurations, {CONFIRM_ROUNDS} rounds")
    confirmed = measure_in_rounds(finalists, CONFIRM_ROUNDS, timeout_s)
    for result in confirmed:
        log(f"   {_show(result)}")
    out["confirm"] = [asdict(m) for m in confirmed]
    return out


def confirmation_entries(grid_entries: list[Entry], grid_results: list[Measured],
                         rec: Optional[Entry]) -> list[Entry]:
    """Serial, the grid's fastest few and the recommendation, to time again (see ``confirm``).

    The best of some twenty configurations, each a median of three noisy runs, is biased
    low: the one whose runs happened to be lucky wins, and regret against it overstates
    the advice's distance from the best (the winner's curse). Choosing the finalists on
    the grid's runs and timing them again on fresh ones separates choosing from measuring.
    """
    ranked = sorted((i for i, m in enumerate(grid_results) if i and m.median is not None
                     and not m.timed_out and not m.wrong), key=lambda i: grid_results[i].median)
    fastest = min([grid_results[0].median or math.inf] + [grid_results[i].median for i in ranked])
    chosen = [0] + [i for i in ranked if grid_results[i].median <= CONFIRM_MARGIN * fastest][:CONFIRM_MAX]
    finalists = [replace(grid_entries[i], always_repeat=True) for i in chosen]
    if rec is not None and rec.config is not None and not any(
            _same_key(rec.config) == _same_key(e.config) for e in finalists if e.config):
        finalists.append(rec)
    return finalists


def target_matches(advised: str, hot: str) -> bool:
    """Whether the report's target is the loop's function: ``helpers:score`` is ``score``
    imported from the script's helper module, and ``make_scorer.score`` the closure
    ``score`` that ``make_scorer`` returns (a script's HOT names a nested def plainly)."""
    local = advised.rpartition(":")[2]
    return advised == hot or local == hot or ("." not in hot and local.rpartition(".")[2] == hot)


def _timeable(rec: Config, is_coroutine: bool) -> bool:
    runnable = ("serial", "asyncio") if is_coroutine else ("serial", "threads", "processes")
    return rec.executor in runnable or (rec.executor == "joblib" and HAVE_JOBLIB and not is_coroutine)


def _pool_with_grid(rec: Config, timed: Measured, grid_results: list[Measured]) -> None:
    """When the grid timed the recommended configuration too, pool both sets of runs.

    Otherwise noise alone would make regret > 1 whenever paradvise picked the grid's best
    (best = min over both). The recommendation's own median stays in ``own_median``.
    """
    timed.own_median = timed.median
    for m in grid_results:
        if m.config and _same_key(Config(**m.config)) == _same_key(rec):
            if m.median is not None and timed.median is not None and not (m.timed_out or timed.timed_out):
                pooled = statistics.median(m.runs + timed.runs)
                m.median = timed.median = pooled
                timed.pooled_with_grid = m.pooled_with_grid = True
            return


def _show(m: Measured) -> str:
    if m.median is not None:
        return (f"{m.label:<28} {m.median:8.3f} s  ({len(m.runs)} run{'s' if len(m.runs) > 1 else ''})"
                + ("  wrong: results or module state differ from serial" if m.wrong else ""))
    return f"{m.label:<28} {'-':>8}    {m.error}"


def bench_in_subprocess(workload: Workload, cpus: int, args: argparse.Namespace) -> dict:
    """Bench one workload in a fresh interpreter, as its script would run.

    A process that has already run other workloads has a different heap (allocator
    thresholds, arenas) and different imports, and that alone changed timings up to 5x.
    """
    with tempfile.TemporaryDirectory(prefix="paradvise-bench-") as tmp:
        out = Path(tmp) / "row.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--one", workload.name, "--row", str(out),
               "--cpus", str(cpus), "--repeats", str(args.repeats), "--scale", str(args.scale),
               "--advice-runs", str(args.advice_runs)] + (
                   ["--quick"] if args.quick else [])
        proc = subprocess.run(cmd, cwd=ROOT)
        if out.exists():
            return json.loads(out.read_text())
        return {"workload": workload.name, "skipped": f"the bench process exited with status {proc.returncode}"}


def bench_one(args: argparse.Namespace) -> int:
    """The --one mode: bench one workload in this (fresh) process and write its row."""
    workload = next(w for w in discover(None) if w.name == args.one)
    try:
        row = bench_workload(workload, args.cpus, args.repeats, args.quick, args.scale, args.advice_runs)
    except Exception:  # noqa: BLE001 - reported in the table, not raised
        row = {"workload": workload.name, "skipped": traceback.format_exc().strip().splitlines()[-1]}
        log(f"   failed: {row['skipped']}")
    Path(args.row).write_text(json.dumps(row, default=str))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help="run only workloads whose name contains this (comma-separated: any of these)")
    parser.add_argument("--repeats", type=int, help="timings per configuration (median kept); default 3, 1 with --quick")
    parser.add_argument("--quick", action="store_true", help="fewer grid points (and 1 repeat unless --repeats)")
    parser.add_argument("--time-limit", type=float, metavar="MIN",
                        help="start no workload that would likely end past MIN minutes (at the mean time per "
                             "workload so far); the rest are listed as not run. For a machine lent for minutes")
    parser.add_argument("--advice-runs", type=int, default=1, metavar="N",
                        help="run paradvise N times per workload and report whether the verdicts agree "
                             "(the first run's advice is the one timed)")
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE,
                        help=f"run each workload with SCALE times its items (its first argument; default "
                             f"{DEFAULT_SCALE}, for serial loops of about 1-2 s; 1 is the samples' own size)")
    # Internal: bench one workload in a fresh process (see bench_in_subprocess).
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    parser.add_argument("--cpus", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.quick else 3)
    if args.one:
        return bench_one(args)
    started, clock = datetime.datetime.now().astimezone(), time.perf_counter()
    workloads = discover(args.only)
    if not workloads:
        parser.error(f"no workload matches {args.only!r}")
    facts = machine_facts()
    cpus = facts.get("usable_cpus") or os.cpu_count() or 1
    rows = []
    for workload in workloads:
        elapsed = time.perf_counter() - clock
        benched = sum(1 for r in rows if not str(r.get("skipped", "")).startswith("not run"))
        per_workload = elapsed / benched if benched else 0.0
        if args.time_limit and elapsed + per_workload > 60 * args.time_limit:
            rows.append({"workload": workload.name, "skipped": f"not run: --time-limit {args.time_limit:g} min"})
            continue
        row = bench_in_subprocess(workload, cpus, args)
        score(row)
        rows.append(row)
    sync_names = list(SYNC_DEFAULTS) if any(not r.get("is_coroutine", True) for r in rows) else []
    async_names = list(ASYNC_DEFAULTS) if any(r.get("is_coroutine") for r in rows) else []
    default_names = sync_names + async_names
    lines = table(rows, default_names)
    summary = summarize(rows, default_names)
    print("\n".join(lines + [""] + summary))
    path = write_results(rows, summary, lines, facts, args, started, time.perf_counter() - clock)
    print(f"\nwritten: {path.relative_to(ROOT)} and {path.with_suffix('.json').name} "
          f"({(time.perf_counter() - clock) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
