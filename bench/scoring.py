"""Regret, the defaults' ratios, the summary and the results files of a bench run."""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import socket
import statistics
import sys
from pathlib import Path
from typing import Optional

from configs import Config, _same_key
from settings import CONFIRM_MARGIN, CONFIRM_MAX, CONFIRM_ROUNDS, HAVE_JOBLIB, RESULTS
from timing import Measured

# ---------------------------------------------------------------- scoring and report

def score(row: dict) -> None:
    """Add best, regret and default ratios to a timed row (in place)."""
    if "grid" not in row:
        return
    # The best configuration is the fastest one that gets the serial loop's answer.
    finished = [m for m in row["grid"] if m["median"] is not None and not m.get("wrong")]
    best = min(finished, key=lambda m: m["median"])
    rec = row.get("recommended")
    best_s = best["median"]
    if rec and rec.get("wrong"):
        row["wrong_advice"] = True  # no regret: a wrong answer is not a slower one (see summarize)
    elif rec and rec["median"] is not None:
        best_s = min(best_s, rec["median"])
        row["regret"] = rec["median"] / best_s
    elif rec and rec["timed_out"]:  # the advice hung or crawled: its timeout bounds the regret
        row["regret"], row["regret_lower_bound"] = rec["runs"][0] / best_s, True
    row["best"] = {"label": best["label"], "seconds": best["median"], "overall_seconds": best_s}
    confirmed = None if row.get("wrong_advice") else confirm(row)
    if confirmed:
        row["first_pass_regret"] = row.get("regret")
        row["regret"], row["regret_lower_bound"] = confirmed["regret"], False
        row["best"] = confirmed["best"]
        row["recommended_confirmed_s"] = confirmed["recommended_seconds"]
        best_s = confirmed["best"]["overall_seconds"]
        report = row["advice"].get("report") or {}
        predicted = (report.get("recommendation") or {}).get("expected_speedup")
        if predicted and confirmed["measured_speedup"] and report["recommendation"]["executor"] != "serial":
            # The advice's own claim against what the bench measured in its rounds.
            measured = confirmed["measured_speedup"]
            row["speedup_check"] = {"predicted": predicted, "measured": measured,
                                    "error": abs(predicted - measured) / measured}
    row["default_ratios"] = {}
    for name, m in row["defaults"].items():
        bound = Measured(**m).lower_bound()
        row["default_ratios"][name] = None if bound is None else {
            "ratio": bound / best_s, "lower_bound": m["median"] is None, "wrong": bool(m.get("wrong"))}
    row["advice_cost"] = row["advice"]["wall_s"] / row["serial_s"]


def confirm(row: dict) -> Optional[dict]:
    """Regret and best from the confirmation rounds, when the recommendation was in them.

    Every finalist was timed in the same fresh rounds, so none was chosen on the runs
    that measure it (see ``confirmation_entries``); the recommendation is the entry with
    its configuration, whether it came from the grid or was added.
    """
    rec = row.get("recommended")
    if not row.get("confirm") or not rec or not rec.get("config"):
        return None
    finished = [m for m in row["confirm"] if m["median"] is not None and not m.get("wrong")]
    rec_key = _same_key(Config(**rec["config"]))
    mine = next((m for m in row["confirm"] if m.get("config") and _same_key(Config(**m["config"])) == rec_key), None)
    if not finished or mine is None or mine["median"] is None or mine.get("wrong"):
        return None
    best = min(finished, key=lambda m: m["median"])
    label = best["label"].removeprefix("recommended ")
    serial = next((m for m in finished if m["label"] == "serial"), None)
    return {"regret": mine["median"] / best["median"], "recommended_seconds": mine["median"],
            "best": {"label": label, "seconds": best["median"], "overall_seconds": best["median"]},
            "measured_speedup": serial["median"] / mine["median"] if serial else None}


def geomean(values: list[float]) -> float:
    return math.exp(statistics.fmean(math.log(v) for v in values))


def summarize(rows: list[dict], default_names: list[str]) -> list[str]:
    lines = []
    regrets = [(r["regret"], r["workload"]) for r in rows if "regret" in r]
    if regrets:
        worst = max(regrets)
        bounded = [r["workload"] for r in rows if r.get("regret_lower_bound")]
        note = f" (lower bounds: the advice timed out on {', '.join(bounded)})" if bounded else ""
        above = [name for v, name in regrets if v > 1.2]
        lines.append(f"regret: geometric mean {geomean([v for v, _ in regrets]):.2f}, "
                     f"worst {worst[0]:.2f} ({worst[1]}), {len(regrets)} workloads, "
                     f"{len(above)} above 1.2{': ' + ', '.join(above) if above else ''}{note}")
        first = [(r["first_pass_regret"], r["workload"]) for r in rows if r.get("first_pass_regret")]
        if first:
            worst_first = max(first)
            lines.append(f"regret from the grid's own runs, before the confirmation rounds (biased up: the "
                         f"best of many noisy medians is a lucky one): geometric mean "
                         f"{geomean([v for v, _ in first]):.2f}, worst {worst_first[0]:.2f} ({worst_first[1]})")
    for name in default_names:
        ratios = [(r["default_ratios"][name]["ratio"], r["workload"], r["default_ratios"][name]["lower_bound"])
                  for r in rows if r.get("default_ratios", {}).get(name)
                  and not r["default_ratios"][name].get("wrong")]
        wrong = [r["workload"] for r in rows if (r.get("default_ratios", {}).get(name) or {}).get("wrong")]
        if ratios:
            worst = max(ratios)
            bound = " (a lower bound: some runs timed out)" if any(b for _, _, b in ratios) else ""
            wrong_note = f"; wrong answers (not counted) on {', '.join(wrong)}" if wrong else ""
            lines.append(f"default {name}: geometric mean {geomean([v for v, _, _ in ratios]):.2f}, "
                         f"worst {'>' if worst[2] else ''}{worst[0]:.2f} ({worst[1]}){bound}{wrong_note}")
    verdicts = [r["verdicts"] for r in rows if r.get("verdicts")]
    if verdicts:
        same = [r["workload"] for r in rows if r.get("verdicts") and len(set(r["verdicts"])) == 1]
        differ = [f"{r['workload']} ({', '.join(r['verdicts'])})" for r in rows
                  if r.get("verdicts") and len(set(r["verdicts"])) > 1]
        lines.append(f"verdict (executor) the same in all {len(verdicts[0])} runs of paradvise: {len(same)} of "
                     f"{len(verdicts)} workloads" + (f"; it changed on {'; '.join(differ)}" if differ else ""))
    checks = [r["speedup_check"]["error"] for r in rows if r.get("speedup_check")]
    if checks:
        lines.append(f"speedup the advice claimed against the one measured here (parallel advice only): "
                     f"median error {statistics.median(checks):.0%}, worst {max(checks):.0%}, "
                     f"{len(checks)} workloads")
    targeted = [r for r in rows if "target_ok" in r]
    if targeted:
        missed = [r["workload"] for r in targeted if not r["target_ok"]]
        lines.append(f"target is the loop's function in {len(targeted) - len(missed)} of {len(targeted)}"
                     + (f" (not in {', '.join(missed)})" if missed else ""))
    within = [r for r in rows if "regret" in r]
    if within:
        for group in ("real/", ""):
            chosen = [r for r in within if r["workload"].startswith(group)]
            if chosen:
                ok = sum(1 for r in chosen if r["regret"] <= 1.2)
                pool = [r for r in chosen if (r.get("default_ratios", {}).get("Pool()") or {}).get("ratio", 9) <= 1.2]
                lines.append(f"within 1.2x of the best{' (real code)' if group else ' (all)'}: advice {ok} of "
                             f"{len(chosen)}, Pool() {len(pool)} of {len(chosen)}")
    wrong = [r["workload"] for r in rows if r.get("wrong_advice")]
    if wrong:
        lines.append(f"WRONG ADVICE (results or module state differ from the serial loop's) for "
                     f"{len(wrong)}: {', '.join(wrong)}")
    failed = [r["workload"] for r in rows if "advice" in r and r["advice"].get("returncode") != 0]
    if failed:
        lines.append(f"no advice (paradvise failed) for {len(failed)}: {', '.join(failed)}")
    skipped = [r["workload"] for r in rows if r.get("skipped")]
    if skipped:
        lines.append(f"skipped {len(skipped)}: {', '.join(skipped)}")
    # A failed run's wall time is not the price of advice: count successful runs only.
    costs = [r["advice_cost"] for r in rows if "advice_cost" in r and r["advice"]["returncode"] == 0]
    if costs:
        lines.append(f"advice cost (paradvise wall time / serial loop): median {statistics.median(costs):.1f}x, "
                     f"max {max(costs):.1f}x")
    if not HAVE_JOBLIB:
        lines.append("joblib is not installed: its default was not measured")
    return lines


def table(rows: list[dict], default_names: list[str]) -> list[str]:
    head = ["workload", "recommended", "best", "regret", "speedup claimed / measured", *default_names,
            "advice cost"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "grid" not in r:
            out.append(f"| {r['workload']} | skipped: {r.get('skipped', '?')} |" + " |" * (len(head) - 2))
            continue
        rec = r.get("recommended")
        rec_s = r.get("recommended_confirmed_s") or (rec or {}).get("median")
        rec_cell = f"no advice: {r['advice']['error']}" if not rec else rec["label"] + (
            f" ({rec_s:.3f} s)" if rec_s is not None else f" ({rec['error']})")
        if rec and rec.get("wrong"):
            rec_cell += " (wrong results)"
        if r.get("target_mismatch"):
            rec_cell += f" [advised on {r['target_mismatch']}(), not {r['hot']}()]"
        if r.get("items_mismatch"):
            rec_cell += f" [{r['items_mismatch']}]"
        best = f"{r['best']['label']} ({r['best']['seconds']:.3f} s)"
        regret = f"{'>' if r.get('regret_lower_bound') else ''}{r['regret']:.2f}" if "regret" in r else "-"
        defaults = []
        for name in default_names:
            d = r["default_ratios"].get(name)
            defaults.append("-" if not d else f"{'>' if d['lower_bound'] else ''}{d['ratio']:.2f}"
                            + (" (wrong)" if d.get("wrong") else ""))
        check = r.get("speedup_check")
        claimed = f"{check['predicted']:.2f}x / {check['measured']:.2f}x" if check else "-"
        out.append(f"| {r['workload']} | {rec_cell} | {best} | {regret} | {claimed} | " + " | ".join(defaults)
                   + f" | {r['advice_cost']:.1f}x |")
    return out


def details(rows: list[dict]) -> list[str]:
    """What paradvise measured next to what the grid found, one line per workload."""
    out = []
    for r in rows:
        report = (r.get("advice") or {}).get("report")
        if not report:
            err = (r.get("advice") or {}).get("error")
            out.append(f"- {r['workload']}: no report ({err})")
            continue
        tried = ", ".join(
            f"{_trial_label(t)} {t['seconds']:.3f}s" if t.get("seconds") is not None else f"{_trial_label(t)} failed"
            for t in sorted(report["trials"], key=lambda t: t.get("seconds") or math.inf))
        kind = report["classification"]["kind"]
        best = f"; best {r['best']['label']} {r['best']['seconds']:.3f}s" if "best" in r else ""
        serial = f", serial here {r['serial_s']:.3f}s" if "serial_s" in r else ""
        again = ", ".join(f"{m['label'].removeprefix('recommended ')} {m['median']:.3f}s"
                          for m in sorted(r.get("confirm") or [], key=lambda m: m["median"] or math.inf)
                          if m["median"] is not None)
        again = f"; confirmation rounds: {again}" if again else ""
        out.append(f"- {r['workload']}: {kind}; paradvise tried {tried}{best}{serial}{again}")
    return out


def _trial_label(t: dict) -> str:
    return Config(t["executor"], t["workers"], t.get("chunksize"), t.get("start_method"), t.get("blas_threads")).label()


def write_results(rows: list[dict], summary: list[str], lines: list[str], facts: dict,
                  args: argparse.Namespace, started: datetime.datetime, elapsed: float) -> Path:
    RESULTS.mkdir(exist_ok=True)
    host = socket.gethostname() or f"{os.cpu_count()}cpu"
    stem = f"{host}-{os.cpu_count()}cpu-{started:%Y-%m-%d-%H%M}{'-quick' if args.quick else ''}"
    md = RESULTS / f"{stem}.md"
    caches = facts.get("caches", {})
    md.write_text("\n".join([
        f"# paradvise benchmark, {started.isoformat(timespec='seconds')}",
        "",
        f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}` — took {elapsed / 60:.1f} min; "
        f"every workload ran with {args.scale}x its items (its first argument).",
        f"Machine: {facts.get('cpu_model', platform.processor())}, {facts.get('logical_cpus')} logical / "
        f"{facts.get('physical_cores')} physical / {facts.get('usable_cpus')} usable CPUs, "
        f"L2 {caches.get('l2_bytes')} B, L3 {caches.get('l3_bytes')} B, "
        f"Python {platform.python_version()}, {platform.platform()}.",
        "",
        "Regret = time(recommended) / time(best). The grid's fastest configurations (within "
        f"{CONFIRM_MARGIN}x of its best median, at most {CONFIRM_MAX}), serial and the "
        f"recommendation are timed again in {CONFIRM_ROUNDS} fresh rounds side by side, and "
        "regret, best and the times shown come from those rounds: the best of the grid's own "
        "medians is biased low by picking the luckiest of many (the summary gives that figure "
        "too). Defaults are the ratio of their time to that best (`>`: timed out, a lower "
        "bound); advice cost = paradvise's wall time / the serial loop's time. Only "
        "configurations whose results and module state match the serial loop's can be the "
        "best; `(wrong)` marks a default that did not. Speedup claimed / measured: the "
        "advice's expected speedup against serial's time over the recommendation's in the "
        "same rounds.",
        "",
        *lines,
        "",
        "## Summary",
        "",
        *[f"- {s}" for s in summary],
        "",
        "## What paradvise measured",
        "",
        *details(rows),
        "",
    ]))
    md.with_suffix(".json").write_text(json.dumps({
        "timestamp": started.isoformat(timespec="seconds"), "elapsed_s": elapsed,
        "argv": sys.argv, "quick": args.quick, "repeats": args.repeats, "scale": args.scale,
        "machine": facts, "summary": summary, "rows": rows,
    }, indent=1, default=str))
    return md
