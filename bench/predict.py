"""Check the what-if (``--cpus N``): advice predicted from fewer CPUs, timed on all of them.

    python bench/predict.py --grid-from bench/results/RUN.json [--predict-from 1] [--only NAME]

For each workload of a finished ``bench/run.py`` run on this machine:

1. ``paradvise profile SCRIPT --cpus N`` runs with its affinity cut to ``--predict-from``
   CPUs (usable CPUs follow the affinity), N being this machine's usable CPUs;
2. serial, the predicted configuration and the run's fastest configurations (its
   confirmation finalists, which are only a list of what to time: nothing of their times
   is reused) are timed side by side in fresh rounds, on all the CPUs;
3. the table gives, per workload, the predicted and the measured best configuration, the
   predicted configuration's time against the best (target: within 1.15x) and the error of
   the predicted speedup against that configuration's measured speedup (target: 15%).

The medians over the workloads are the figures issue 17 asks for. Results go to
``bench/results/<machine>-<date>-predict.{json,md}``.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402 - the bench's own workloads, timing and grid
import settings  # noqa: E402
import timing  # noqa: E402

PREDICT_TIMEOUT_S = 900
ROUNDS = 5
WITHIN = 1.15  # the bar for the predicted configuration's time against the best
SPEEDUP_ERROR = 0.15  # and for the predicted speedup's error


def what_if(path: Path, scale: int, from_cpus: int, to_cpus: int) -> dict[str, Any]:
    """Run paradvise on ``from_cpus`` CPUs of affinity, predicting ``to_cpus``."""
    allowed = sorted(os.sched_getaffinity(0))[:from_cpus]
    with tempfile.TemporaryDirectory(prefix="paradvise-predict-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = ["taskset", "-c", ",".join(map(str, allowed)), sys.executable, "-m", "advisor", "profile",
               str(path), "--cpus", str(to_cpus), "--json", str(out), "--quiet", "--", str(scale)]
        started = time.perf_counter()
        try:
            proc = subprocess.run(cmd, cwd=settings.ROOT, capture_output=True, text=True, timeout=PREDICT_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {PREDICT_TIMEOUT_S} s"}
        wall = time.perf_counter() - started
        if proc.returncode != 0 or not out.exists():
            return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1], "wall_s": wall}
        report = json.loads(out.read_text())
        return {"wall_s": wall, "what_if": report.get("what_if", {}),
                "measured_on": report["machine"]["usable_cpus"], "advice_here": report["recommendation"]}


def config_of(w: dict[str, Any]) -> bench.Config:
    return bench.Config(w["executor"], w["workers"], w.get("chunksize"), w.get("start_method"),
                        w.get("blas_threads"))


def check_workload(workload: bench.Workload, row: dict[str, Any], scale: int, from_cpus: int,
                   to_cpus: int) -> dict[str, Any]:
    out: dict[str, Any] = {"workload": workload.name}
    if row.get("skipped") or not row.get("confirm"):
        return out | {"skipped": row.get("skipped") or "no confirmation rounds in the grid run"}
    bench.log(f"== {workload.name}: paradvise on {from_cpus} CPU(s), --cpus {to_cpus} ...")
    predicted = what_if(workload.path, scale, from_cpus, to_cpus)
    out["paradvise"] = predicted
    if "error" in predicted or not predicted.get("what_if"):
        return out | {"skipped": f"no what-if: {predicted.get('error', 'empty')}"}
    w = predicted["what_if"]
    module, prepared = bench.prepare(workload, scale)
    timing.WORKLOAD_MODULE = module
    try:
        fn = prepared.call or getattr(module, prepared.hot)
        items, is_coroutine = prepared.items, asyncio.iscoroutinefunction(fn)
        guess = config_of(w)
        if not bench._timeable(guess, is_coroutine):
            return out | {"skipped": f"{guess.executor} cannot be timed here"}

        def runner(config: bench.Config) -> Any:
            def run() -> Any:
                bench.as_script(module)
                return bench.run_config(config, fn, items, is_coroutine)
            return run

        finalists = [bench.Config(**m["config"]) for m in row["confirm"]
                     if m.get("config") and m["config"]["executor"] != "serial" and not m.get("wrong")]
        others = [c for c in finalists if bench._same_key(c) != bench._same_key(guess)]
        configs = [bench.Config("serial"), guess, *others]
        entries = [bench.Entry(c.label(), c, runner(c), always_repeat=True) for c in configs]
        timeout_s = max(settings.MIN_TIMEOUT_S, settings.TIMEOUT_FACTOR * (row.get("serial_s") or 1.0))
        results = bench.measure_in_rounds(entries, ROUNDS, timeout_s)
    finally:
        if prepared.teardown:
            prepared.teardown()
    for result in results:
        bench.log(f"   {bench._show(result)}")
    serial, chosen = results[0], results[1]
    right = [r for r in results if r.median is not None and not r.wrong]
    best = min(right, key=lambda r: r.median)
    out.update(rounds=[asdict(r) for r in results], predicted=w, best=best.label, best_s=best.median,
               serial_s=serial.median, predicted_label=chosen.label)
    if chosen.median is None or chosen.wrong or serial.median is None:
        return out | {"failed": chosen.error or "the predicted configuration's results differ from serial's"}
    measured_speedup = serial.median / chosen.median
    out.update(predicted_s=chosen.median, ratio_to_best=chosen.median / best.median,
               measured_speedup=measured_speedup,
               speedup_error=abs(w["predicted_speedup"] - measured_speedup) / measured_speedup,
               in_band=w["low"] <= measured_speedup <= w["high"])
    return out


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    lines = [f"# paradvise what-if check, {meta['timestamp']}", "",
             f"Predicted on {meta['from_cpus']} CPU(s) of affinity for {meta['to_cpus']}, then timed on "
             f"{meta['to_cpus']} beside serial and the fastest configurations of grid run "
             f"`{meta['grid_from']}` (their times re-measured here, {ROUNDS} rounds side by side). "
             f"Took {meta['elapsed_s'] / 60:.1f} min.", "",
             "| workload | predicted | predicted speedup (band) | measured speedup | error | best | "
             "predicted / best |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        if "skipped" in r or "failed" in r:
            lines.append(f"| {r['workload']} | {r.get('skipped') or 'failed: ' + r['failed']} | | | | | |")
            continue
        w = r["predicted"]
        lines.append(f"| {r['workload']} | {r['predicted_label']} | {w['predicted_speedup']:.2f}x "
                     f"({w['low']:.2f}-{w['high']:.2f}) | {r['measured_speedup']:.2f}x | {r['speedup_error']:.0%} | "
                     f"{r['best']} | {r['ratio_to_best']:.2f} |")
    done = [r for r in rows if "ratio_to_best" in r]
    if done:
        ratio = statistics.median(r["ratio_to_best"] for r in done)
        error = statistics.median(r["speedup_error"] for r in done)
        within = sum(r["ratio_to_best"] <= WITHIN for r in done)
        band = sum(r["in_band"] for r in done)
        lines += ["", "## Summary", "",
                  f"- predicted configuration against the best: median {ratio:.2f}x (target {WITHIN}x); "
                  f"within {WITHIN}x in {within} of {len(done)}",
                  f"- speedup error: median {error:.0%} (target {SPEEDUP_ERROR:.0%}); "
                  f"measured speedup inside the predicted band in {band} of {len(done)}"]
    return "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid-from", required=True, help="a bench/run.py results JSON from this machine")
    parser.add_argument("--predict-from", type=int, default=1, help="CPUs of affinity paradvise runs on")
    parser.add_argument("--only", help="only workloads whose name contains this")
    args = parser.parse_args(argv)
    grid = json.loads(Path(args.grid_from).read_text())
    to_cpus = len(os.sched_getaffinity(0))
    if args.predict_from >= to_cpus:
        print(f"predict.py: --predict-from {args.predict_from} leaves nothing to predict on {to_cpus} CPUs",
              file=sys.stderr)
        return 2
    rows_by_name = {r["workload"]: r for r in grid["rows"]}
    started = time.time()
    rows = [check_workload(w, rows_by_name.get(w.name, {"skipped": "not in the grid run"}), grid["scale"],
                           args.predict_from, to_cpus) for w in bench.discover(args.only)]
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    meta = {"timestamp": stamp, "from_cpus": args.predict_from, "to_cpus": to_cpus, "grid_from": args.grid_from,
            "elapsed_s": time.time() - started}
    text = markdown(rows, meta)
    print(text)
    name = Path(args.grid_from).stem + f"-predict-from-{args.predict_from}"
    (settings.RESULTS / f"{name}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=str))
    (settings.RESULTS / f"{name}.md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
