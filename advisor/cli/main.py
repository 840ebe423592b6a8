"""The ``paradvise`` command: thin click commands over the library.

Errors become exit codes in exactly one place (``_guarded``): an ``AdvisorError`` is
one sentence on stderr; anything else is a paradvise bug, shown in full with --debug.
"""
from __future__ import annotations

import json
import signal
import sys
import traceback
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import click

from ..errors import AdvisorError, HostFailed, Interrupted, ScriptFailed
from ..version import __version__

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGINT/SIGTERM: kill every process paradvise started, then exit 130."""

    def handler(signum: int, frame: Any) -> None:
        from ..measure.child_process import stop_all

        stop_all()
        raise Interrupted("Interrupted; every process paradvise started has been stopped.")

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _guarded(debug: bool, work: Any) -> Any:
    try:
        with _interruptible():
            return work()
    except AdvisorError as exc:
        click.echo(f"paradvise: {exc}", err=True)
        if isinstance(exc, ScriptFailed) and exc.details:
            click.echo(exc.details, err=True)
        if debug:
            traceback.print_exc()
            if isinstance(exc, HostFailed):
                click.echo(exc.details, err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("paradvise: interrupted.", err=True)
        sys.exit(INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - a bug in paradvise, not the user's fault
        if debug:
            traceback.print_exc()
        click.echo(f"paradvise: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                   err=True)
        sys.exit(FAILED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="paradvise")
def main() -> None:
    """Should I parallelize this, and how? paradvise measures and tells you."""


def _register_cache_commands() -> None:
    from .cache_commands import cache  # advisor.api is imported only when a cache command runs

    main.add_command(cache)


_register_cache_commands()


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the machine facts as JSON.")
def machine(as_json: bool) -> None:
    """Show the cores, caches and Python build paradvise plans for."""
    from ..machine import detect_machine

    facts = detect_machine()
    if as_json:
        click.echo(json.dumps(facts.to_json(), indent=2))
        return
    from rich.console import Console

    from ..present.terminal import render_machine

    render_machine(facts, Console())


def _positive(ctx: click.Context, param: click.Parameter, value: Optional[float]) -> Optional[float]:
    if value is not None and value <= 0:
        raise click.BadParameter("must be a positive number of seconds")
    return value


# A what-if for more CPUs than this is a guess about machines that hardly exist.
MAX_WHAT_IF_CPUS = 4096


def _cpu_count(ctx: click.Context, param: click.Parameter, value: Optional[int]) -> Optional[int]:
    if value is not None and not 1 <= value <= MAX_WHAT_IF_CPUS:
        raise click.BadParameter(f"must be a number of CPUs from 1 to {MAX_WHAT_IF_CPUS}")
    return value


EMIT_HELP = "Write a copy of the script with its hot loop rewritten to the advice here (never the script itself)."
PATCH_HELP = "Write the same rewrite as a unified diff against the script here."


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("script", type=click.Path(dir_okay=True))
@click.argument("script_args", nargs=-1, type=click.UNPROCESSED)
@click.option("--function", "function", metavar="NAME",
              help="Advise on this function: top-level, nested in another (OUTER.INNER) or a lambda bound to a name.")
@click.option("--budget", type=float, callback=_positive, metavar="SECONDS",
              help="Bound the whole sweep (default: a few times the loop's own run time).")
@click.option("--timeout", type=float, callback=_positive, metavar="SECONDS", help="Bound one trial.")
@click.option("--executors", default=None,
              help="Comma-separated executors to try (default: serial,threads,processes,asyncio, "
                   "plus dask with --dask).")
@click.option("--dask", "dask", metavar="ADDRESS|local",
              help="Also measure Dask: on a fresh LocalCluster (local) or the scheduler at ADDRESS.")
@click.option("--target-seconds", type=float, callback=_positive, metavar="SECONDS",
              help="With --dask: project the cluster size that maps the whole loop this fast "
                   "(default: a tenth of the serial time).")
@click.option("--cpus", type=int, callback=_cpu_count, metavar="N",
              help="Also predict the advice, and its speedup, for a machine with N usable CPUs.")
@click.option("--scalene", is_flag=True,
              help="Find the loop under scalene too, for its CPU split (about 0.7 s more; the target's own "
                   "split is sampled either way).")
@click.option("--json", "json_path", metavar="PATH", help="Write the JSON report here.")
@click.option("--markdown", "markdown_path", metavar="PATH", help="Write a Markdown report here.")
@click.option("--html", "html_path", metavar="PATH", help="Write a self-contained HTML report with plots here.")
@click.option("--emit", "emit_path", metavar="PATH", help=EMIT_HELP)
@click.option("--patch", "patch_path", metavar="PATH", help=PATCH_HELP)
@click.option("--verify", is_flag=True,
              help="Run the script rewritten to the advice against the original, end to end, and report both times.")
@click.option("--quiet", is_flag=True, help="Print only the verdict line.")
@click.option("--debug", is_flag=True, help="Show tracebacks of paradvise's own errors.")
def profile(script: str, script_args: tuple[str, ...], function: Optional[str], budget: Optional[float],
            timeout: Optional[float], executors: Optional[str], dask: Optional[str],
            target_seconds: Optional[float], cpus: Optional[int], scalene: bool, json_path: Optional[str],
            markdown_path: Optional[str], html_path: Optional[str], emit_path: Optional[str], patch_path: Optional[str], verify: bool,
            quiet: bool, debug: bool) -> None:
    """Profile SCRIPT, find its hot function, measure it in parallel, advise.

    Arguments after SCRIPT (use -- before ones that start with a dash) go to the script.
    """
    from ..pipeline import ProfileOptions, choose_executors

    def work() -> None:
        _check_rewrite_paths(script, emit_path, patch_path)
        names = None if executors is None else [e.strip() for e in executors.split(",") if e.strip()]
        options = ProfileOptions(script=script, args=list(script_args), function=function, budget_s=budget,
                                 timeout_s=timeout, executors=choose_executors(names, dask), dask=dask,
                                 target_seconds=target_seconds, cpus=cpus, scalene=scalene)
        try:
            report = _run_with_progress(options, quiet)
        except Interrupted as interrupted:
            if interrupted.partial is not None:  # keep what was measured, marked as partial
                _write_outputs(interrupted.partial, json=json_path, markdown=markdown_path, html=html_path)
            raise
        rewrite = _prepare_rewrite(report, emit_path, patch_path)  # a refusal writes nothing at all
        if verify:
            from ..verify import verify as verify_report

            if not quiet:
                click.echo("· Verifying: the original and the rewritten script, end to end", err=True)
            report = verify_report(report, list(script_args))
        _write_outputs(report, json=json_path, markdown=markdown_path, html=html_path)
        _write_rewrite(rewrite, emit_path, patch_path, quiet)
        _show(report, quiet)

    _guarded(debug, work)


def _run_with_progress(options: Any, quiet: bool) -> Any:
    from rich.console import Console

    from ..pipeline import Progress, run_profile

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        return run_profile(options, Progress(stage=lambda text: None if quiet else console.print(f"· {text}")))
    with console.status("Starting") as status:
        def trial(t: Any) -> None:
            shown = f"{t.seconds:.3f} s" if t.seconds is not None else (t.error or "failed")
            console.print(f"  measured {t.label}: {shown}")

        return run_profile(options, Progress(stage=lambda text: status.update(text), trial=trial))


def _write_outputs(report: Any, **paths: Optional[str]) -> None:
    """Write ``report`` in each format (keyword) that was given a path."""
    from ..errors import UsageError
    from ..present import registry
    from ..present.files import write_atomic

    wanted = {fmt: path for fmt, path in paths.items() if path}
    # Render everything before writing anything: a renderer failing leaves no partial set of files.
    texts = {fmt: registry.render(report, fmt) for fmt in wanted}
    for fmt, path in wanted.items():
        try:
            write_atomic(path, texts[fmt])
        except OSError as exc:
            raise UsageError(f"Cannot write the {fmt} report to {path}: {exc.strerror or exc}.") from None


def _check_rewrite_paths(script: str, emit_path: Optional[str], patch_path: Optional[str]) -> None:
    if emit_path or patch_path:
        from .rewrite_files import check_paths

        check_paths(script, emit_path, patch_path)


def _prepare_rewrite(report: Any, emit_path: Optional[str], patch_path: Optional[str]) -> Any:
    """--emit / --patch: the script with its hot loop rewritten to the advice (present/rewrite.py)."""
    if not (emit_path or patch_path):
        return None
    from .rewrite_files import prepare_rewrite

    return prepare_rewrite(report, emit_path, patch_path)


def _write_rewrite(done: Any, emit_path: Optional[str], patch_path: Optional[str], quiet: bool) -> None:
    if done is None:
        return
    from .rewrite_files import write_prepared

    write_prepared(done, emit_path, patch_path)
    if not quiet:
        click.echo(f"· {', '.join(p for p in (emit_path, patch_path) if p)}: {done.description}", err=True)


@main.command()
@click.argument("run_json", metavar="RUN.json")
@click.option("--markdown", "markdown_path", metavar="PATH", help="Write a Markdown report here.")
@click.option("--html", "html_path", metavar="PATH", help="Write a self-contained HTML report with plots here.")
@click.option("--emit", "emit_path", metavar="PATH", help=EMIT_HELP)
@click.option("--patch", "patch_path", metavar="PATH", help=PATCH_HELP)
@click.option("--debug", is_flag=True, help="Show tracebacks of paradvise's own errors.")
def report(run_json: str, markdown_path: Optional[str], html_path: Optional[str], emit_path: Optional[str],
           patch_path: Optional[str], debug: bool) -> None:
    """Render a saved JSON report (from profile --json) as Markdown or HTML.

    With no output option, the Markdown goes to stdout (for example into a PR comment).
    """
    def work() -> None:
        from ..pipeline import load_report
        from ..present import registry

        saved = load_report(run_json)
        _check_rewrite_paths(saved.target.file, emit_path, patch_path)
        rewrite = _prepare_rewrite(saved, emit_path, patch_path)
        _write_outputs(saved, markdown=markdown_path, html=html_path)
        _write_rewrite(rewrite, emit_path, patch_path, quiet=False)
        if not (markdown_path or html_path or emit_path or patch_path):
            click.echo(registry.render(saved, "markdown"), nl=False)

    _guarded(debug, work)


def _show(report: Any, quiet: bool) -> None:
    from rich.console import Console

    from ..present.terminal import render, verdict_line

    if quiet:
        click.echo(verdict_line(report.recommendation))
        if report.verification:
            from ..verify import verification_line

            click.echo(f"verified: {verification_line(report)}")
        return
    render(report, Console())


if __name__ == "__main__":
    main()
