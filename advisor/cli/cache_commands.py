"""``paradvise cache list | show KEY | clear``: look at and empty the tuning cache of ``@advise``."""
from __future__ import annotations

import json
import sqlite3
import sys
import time
from typing import TYPE_CHECKING, Any, Callable

import click

from ..present.advice_words import config_label

if TYPE_CHECKING:
    from ..api.cache import Entry


def TuningCache() -> Any:  # noqa: N802 - stands for the class, imported when a cache command runs
    """The tuning cache, imported only here: ``advisor.api`` brings the decorator and every
    executor with it (0.15 s), which ``paradvise profile`` would pay at each start."""
    from ..api.cache import TuningCache as Cache

    return Cache()


def _guard(work: Callable[[], Any]) -> Any:
    """A cache that cannot be read is one sentence and exit status 1, not a traceback."""
    try:
        return work()
    except (sqlite3.Error, OSError) as exc:
        click.echo(f"paradvise: the tuning cache could not be used: {exc}", err=True)
        sys.exit(1)


def _plan_text(entry: Entry) -> str:
    plan = entry.value.get("plan", {})
    executor = plan.get("executor", "?")
    label = config_label(executor, int(plan.get("workers") or 1), plan.get("chunksize"), plan.get("start_method"))
    return label if executor == "serial" else label + f" ({plan.get('expected_speedup', 1.0):.2f}x)"


@click.group("cache")
def cache() -> None:
    """The tuning cache of @advise: which plan each function uses, per machine and input size."""


@cache.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def list_entries(as_json: bool) -> None:
    """List cached plans (KEY, function, input size, plan)."""
    store = TuningCache()
    entries = _guard(store.entries)
    if as_json:
        rows = [{"key": e.key, "function": e.function, "size_class": e.size_class, "machine": e.machine_fp,
                 "created": e.created, "plan": e.value.get("plan")} for e in entries]
        click.echo(json.dumps({"path": str(store.path), "entries": rows}, indent=2))
        return
    click.echo(f"tuning cache: {store.path} ({len(entries)} entries)")
    for e in entries:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created))
        click.echo(f"{e.key}  {e.function}  items {e.size_class}  {_plan_text(e)}  {when}")


@cache.command("show")
@click.argument("key")
@click.option("--report", "full", is_flag=True, help="Render the whole tuning report, not just the plan.")
def show(key: str, full: bool) -> None:
    """Show one cached entry; KEY may be any unique prefix of a key from `list`."""
    matches = _guard(lambda: TuningCache().find(key))
    if not matches:
        click.echo(f"paradvise: no cached plan has a key starting with {key!r}.", err=True)
        sys.exit(1)
    if len(matches) > 1:
        keys = ", ".join(e.key for e in matches[:5])
        click.echo(f"paradvise: {key!r} matches {len(matches)} entries ({keys}); give more of the key.", err=True)
        sys.exit(2)
    entry = matches[0]
    if full and entry.value.get("report"):
        from rich.console import Console

        from ..model import Report
        from ..present.terminal import render

        render(Report.from_json(entry.value["report"]), Console())
        return
    shown = {"key": entry.key, "function": entry.function, "size_class": entry.size_class,
             "machine": entry.machine_fp, "function_fingerprint": entry.function_fp,
             "created": entry.created, **{k: v for k, v in entry.value.items() if k != "report"}}
    report = entry.value.get("report") or {}
    if report.get("recommendation"):
        shown["reason"] = report["recommendation"].get("reason")
    click.echo(json.dumps(shown, indent=2))


@cache.command("clear")
def clear() -> None:
    """Delete every cached plan (each function tunes again on its next map)."""
    store = TuningCache()
    removed = _guard(store.clear)
    click.echo(f"removed {removed} cached plan(s) from {store.path}")
