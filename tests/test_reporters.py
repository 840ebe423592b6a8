"""Every report format through one suite, plus golden Markdown, HTML checks and a real browser.

Two reports feed the suite: a real run checked in as tests/golden/cpu_bound.json and a
hand-built one with the awkward parts a real run rarely has at once (failed trials,
warnings, many worker counts, text that needs escaping).
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from advisor.analyse.model_fit import fit_all
from advisor.errors import UsageError
from advisor.model import (
    Caches,
    Classification,
    DataProfile,
    Machine,
    PythonInfo,
    Recommendation,
    Report,
    Target,
    Trial,
    Warning,
)
from advisor.present import facts, html, markdown, plots, registry
from advisor.present.terminal import render as render_terminal

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
GOLDEN_JSON = GOLDEN / "cpu_bound.json"
GOLDEN_MD = GOLDEN / "cpu_bound.md"
# Set to rewrite tests/golden/cpu_bound.md after an intended change to the Markdown report.
UPDATE_GOLDEN = os.environ.get("PARADVISE_UPDATE_GOLDEN") == "1"
COMMAND_TIMEOUT_S = 120
BROWSER_TIMEOUT_S = 90


def trial(executor: str, workers: int, chunk: int | None, seconds: float | None, serial: float = 2.0,
          error: str | None = None) -> Trial:
    return Trial(executor=executor, workers=workers, chunksize=chunk,
                 start_method="fork" if executor == "processes" else None, seconds=seconds,
                 speedup=round(serial / seconds, 4) if seconds else None, ok=error is None, error=error,
                 repeats=[seconds, seconds * 1.02, seconds * 0.99] if seconds else [],
                 spread=seconds * 0.01 if seconds else 0.0, results_match=True if seconds else None)


def modelled_parts(t: Trial, usable: int = 4) -> dict[str, float] | None:
    """A plausible breakdown for a hand-made trial: a process pool pays start-up and transfer."""
    if not t.ok or t.seconds is None:
        return None
    pool = t.executor == "processes"
    parts = {"startup": 0.02 * t.workers if pool else 0.0, "dispatch": 0.0 if t.executor == "serial" else 0.003,
             "transfer": 0.004 if pool else 0.0, "compute": 2.0 / (min(t.workers, usable) if pool else 1)}
    scale = min(1.0, t.seconds / sum(parts.values()))
    parts = {k: v * scale for k, v in parts.items()}
    return {**parts, "imbalance": max(0.0, t.seconds - sum(parts.values()))}


def handmade_report() -> Report:
    caches = Caches(l1d_bytes=32768, l2_bytes=524288, l3_bytes=16777216, l3_shared_by=8)
    machine = Machine(logical_cpus=8, physical_cores=4, usable_cpus=4, usable_cpus_reason="cgroup quota of 4 CPUs",
                      caches=caches, memory_bytes=16 * 1024 ** 3, cpu_model="Example CPU <8 cores>",
                      python=PythonInfo("3.12.1", "CPython", True, False), start_methods=["fork", "spawn"])
    trials = [trial("serial", 1, None, 2.0), trial("threads", 2, None, 1.9), trial("threads", 4, None, 1.95),
              trial("threads", 8, 4, 1.97)]
    trials += [trial("processes", w, c, 2.0 / (w * 0.9) + 0.01 * c) for w in (2, 4) for c in (1, 4, 16)]
    trials += [trial("processes", 8, 1, 0.62), trial("asyncio", 16, None, None, error="TimeoutError | took\n> 5 s")]
    rec = Recommendation(executor="processes", workers=4, chunksize=1, start_method="fork", expected_speedup=3.53,
                         reason="processes 4w measured 3.53x faster than the serial loop (2 s -> 0.566 s).")
    return Report(
        schema_version=1, tool={"name": "paradvise", "version": "0.1.0"}, machine=machine,
        target=Target(name="render_tile", file="/home/me/proj/tiles.py", line=42, calls=64, per_call_seconds=0.031,
                      is_coroutine=False, per_call_spread_seconds=0.002, script_seconds=2.2),
        classification=Classification("cpu-bound", {"per_call_seconds": 0.031, "cpu_time_over_wall_time": 0.99,
                                                    "two_thread_speedup": 1.02, "native_share": None,
                                                    "tile_count": 64, "peak_alloc_bytes": 2_500_000},
                                      "the calls keep a CPU busy 99% of the time"),
        data=DataProfile(arg_bytes=120, result_bytes=65536, working_set_bytes=3_000_000, fits_in="L3", items=64,
                         items_measured=32),
        trials=trials, recommendation=rec,
        warnings=[Warning("unstable-measurements", "Timings varied by 12% for threads 8w <script>x</script>."),
                  Warning("missing-main-guard", "tiles.py has no `if __name__ == \"__main__\":` guard.")],
        code='from tiles import render_tile\n\nHELP = """\n```\n"""\n', script={"cwd": "/home/me/proj"},
        overheads={"thread_task_s": 1.5e-5, "process_start_s": 0.02, "process_task_s": 4e-5, "probe_workers": 2.0,
                   "pickle_bytes_per_s": 2.5e8, "start_fork_s": 0.02, "start_spawn_s": 0.21},
        scaling=fit_all(trials, machine.usable_cpus), breakdown=[modelled_parts(t) for t in trials])


def golden_report() -> Report:
    return Report.from_json(json.loads(GOLDEN_JSON.read_text(encoding="utf-8")))


def older_report() -> Report:
    """The golden run as a paradvise from before overheads, scaling fits and breakdowns wrote it."""
    data = json.loads(GOLDEN_JSON.read_text(encoding="utf-8"))
    for key in ("overheads", "scaling", "breakdown"):
        data.pop(key, None)
    return Report.from_json(data)


REPORTS = {"golden": golden_report, "handmade": handmade_report, "older": older_report}


@pytest.fixture(scope="module", params=sorted(REPORTS))
def report(request: pytest.FixtureRequest) -> Report:
    return REPORTS[request.param]()


@pytest.fixture(scope="module")
def html_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    page = tmp_path_factory.mktemp("html") / "report.html"
    page.write_text(html.render(handmade_report()), encoding="utf-8")
    return page


# --- every renderer ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(registry.RENDERERS))
def test_renderer_names_the_advice_and_every_executor(report: Report, fmt: str) -> None:
    text = registry.render(report, fmt)
    assert text.strip()
    assert report.recommendation.executor in text
    for t in report.trials:
        assert t.executor in text


def test_json_renderer_round_trips(report: Report) -> None:
    assert Report.from_json(json.loads(registry.render(report, "json"))) == report


@pytest.mark.parametrize("path, fmt", [("a.json", "json"), ("a.md", "markdown"), ("x/a.markdown", "markdown"),
                                       ("a.html", "html"), ("A.HTM", "html")])
def test_format_for_path_follows_the_extension(path: str, fmt: str) -> None:
    assert registry.format_for_path(path) == fmt


def test_unknown_formats_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        registry.format_for_path("report.txt")
    with pytest.raises(UsageError):
        registry.render(handmade_report(), "pdf")


def test_importing_the_reporters_leaves_matplotlib_unloaded() -> None:
    code = ("import sys, advisor, advisor.present.registry, advisor.present.html, advisor.present.markdown; "
            "sys.exit('matplotlib' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], timeout=COMMAND_TIMEOUT_S).returncode == 0


# --- Markdown ---------------------------------------------------------------------------------

def mask(text: str) -> str:
    """Hide the numbers a re-measured run changes (times, speedups, percentages), keep the rest."""
    return re.sub(r"\d+(?:\.\d+)?(?=\s?(?:ns|µs|ms|s|x|%|(?:[KMG]i)?B/s)(?![\w]))", "#", text)


def test_markdown_matches_golden_file() -> None:
    text = mask(markdown.render(golden_report()))
    if UPDATE_GOLDEN:
        GOLDEN_MD.write_text(text, encoding="utf-8")
    assert text == GOLDEN_MD.read_text(encoding="utf-8")


def test_mask_hides_times_and_speedups_only() -> None:
    assert mask("2 workers took 1.25 s, 360.1 ms ± 526.7 µs, 1.87x faster, 99% busy, 24 B, 9.3 MiB/s") == \
        "2 workers took # s, # ms ± # µs, #x faster, #% busy, 24 B, # MiB/s"


def test_markdown_tables_keep_their_shape() -> None:
    text = markdown.render(handmade_report())
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header = next(line for line in rows if line.startswith("| executor"))
    cells = len(re.split(r"(?<!\\)\|", header))
    trial_rows = rows[rows.index(header):rows.index(header) + 2 + len(handmade_report().trials)]
    assert all(len(re.split(r"(?<!\\)\|", row)) == cells for row in trial_rows)
    assert "TimeoutError \\| took > 5 s" in text
    assert "◀ advice" in text
    assert "````python" in text  # the code contains ``` so the fence must be longer


# --- HTML -------------------------------------------------------------------------------------

REMOTE = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|@import|url\(\s*["']?(?:https?:)?//""", re.I)


def test_html_is_self_contained_with_plots(report: Report) -> None:
    page = html.render(report)
    assert page.count("<svg") >= 2
    assert not REMOTE.search(page)
    assert "<script" not in page.lower()
    for name in ("speedup", "caches"):
        assert re.search(rf'<figure class="plot" id="plot-{name}"><svg.*?<figcaption>', page, re.S)
    assert "@media print" in page


def test_html_escapes_text_from_the_report() -> None:
    page = html.render(handmade_report())
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "Example CPU &lt;8 cores&gt;" in page


def test_chunk_plot_needs_two_chunk_sizes() -> None:
    report = handmade_report()
    assert 'id="plot-chunks"><svg' in html.render(report)
    single = dataclasses.replace(report, trials=[t for t in report.trials if (t.chunksize or 1) == 1])
    page = html.render(single)
    assert '<p class="note" id="plot-chunks">' in page and "only one chunk size" in page


def test_plot_series_take_the_best_chunk_per_worker_count() -> None:
    report = handmade_report()
    speedups = dict(plots.speedup_series(report)["processes"])
    best_at_2 = max(t.speedup or 0 for t in report.trials if t.executor == "processes" and t.workers == 2)
    assert sorted(speedups) == [2, 4, 8] and speedups[2] == best_at_2
    assert "serial" not in plots.speedup_series(report) and "asyncio" not in plots.speedup_series(report)
    assert [c for c, _ in plots.chunk_series(report)["processes 4w"]] == [1, 4, 16]
    spawned = dataclasses.replace(report.trials[-2], start_method="spawn")
    assert "processes 8w (spawn)" in plots.chunk_series(dataclasses.replace(report, trials=[spawned]))


def test_fitted_curves_reach_the_usable_cpus_and_match_the_fit() -> None:
    report = handmade_report()
    fits = plots.fit_series(report)
    assert set(fits) == {"processes", "threads"}  # asyncio failed: nothing to fit
    processes = dict(fits["processes"])
    assert min(processes) == 1 and max(processes) == 8  # its largest pool, past the 4 usable CPUs
    assert processes[3] == report.scaling["processes"]["predicted"]["3"]
    narrowed = dataclasses.replace(report, machine=dataclasses.replace(report.machine, usable_cpus=2),
                                   trials=[t for t in report.trials if t.workers <= 2])
    assert max(dict(plots.fit_series(narrowed)["processes"])) == 2


def test_breakdown_shows_the_fastest_successful_trials_in_order() -> None:
    report = handmade_report()
    pairs = facts.breakdown_trials(report)
    assert len(pairs) == sum(1 for t in report.trials if t.ok)  # the failed asyncio trial is skipped
    times = [t.seconds for t, _ in pairs]
    assert times == sorted(times)
    assert [t for t, _ in facts.breakdown_trials(report, limit=3)] == [t for t, _ in pairs[:3]]
    many = dataclasses.replace(report, trials=report.trials * 3, breakdown=report.breakdown * 3)
    assert len(facts.breakdown_trials(many)) == facts.BREAKDOWN_LIMIT
    # A breakdown that does not line up with the trials is not shown against the wrong ones.
    assert facts.breakdown_trials(dataclasses.replace(report, breakdown=report.breakdown[1:])) == []


def test_reports_show_overheads_scaling_and_breakdown() -> None:
    report = handmade_report()
    page, text = html.render(report), markdown.render(report)
    assert re.search(r'<figure class="plot" id="plot-breakdown"><svg.*?<figcaption>[^<]*modelled from',
                     page, re.S | re.I)
    for document in (page, text):
        for words in ("Overheads and scaling", "Where the time goes", "fork 20.0 ms, spawn 210.0 ms",
                      "serial fraction (Amdahl)", "contention (USL)", "coherency (USL)", "prediction error",
                      "238.4 MiB/s", "start-up", "imbalance"):
            assert words in document, words
    header = next(line for line in text.splitlines() if line.startswith("| configuration"))
    assert header == "| configuration | start-up | dispatch | transfer | compute | imbalance | measured |"
    assert "| processes 4w ◀ advice |" in text
    error = report.scaling["processes"]["holdout_error"]
    assert error is not None and f"| {error:.0%} |" in text


def test_a_fit_from_too_few_worker_counts_says_so() -> None:
    rows = {row[0]: row for row in facts.scaling_rows(golden_report())}
    assert rows["processes"][-1] == facts.NO_HOLDOUT == "needs 3+ worker counts"
    assert facts.NO_HOLDOUT in markdown.render(golden_report())


def test_older_reports_without_the_new_fields_still_render() -> None:
    report = older_report()
    assert report.overheads == {} and report.scaling == {} and report.breakdown == []
    page, text = html.render(report), markdown.render(report)
    assert 'id="plot-speedup"><svg' in page and "plot-breakdown" not in page
    for document in (page, text):
        assert "Where the time goes" not in document and "Overheads and scaling" not in document
        assert "Measured configurations" in document


def test_html_is_the_same_for_the_same_report() -> None:
    # Stable SVG ids and no timestamps: a regenerated report diffs clean.
    assert html.render(handmade_report()) == html.render(handmade_report())


# --- the command ------------------------------------------------------------------------------

def paradvise(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "advisor", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=COMMAND_TIMEOUT_S)


def test_report_command_writes_markdown_and_html(tmp_path: Path) -> None:
    md, page = tmp_path / "out.md", tmp_path / "out.html"
    done = paradvise("report", str(GOLDEN_JSON), "--markdown", str(md), "--html", str(page), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert md.read_text(encoding="utf-8") == markdown.render(golden_report())
    assert page.read_text(encoding="utf-8").count("<svg") >= 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.html", "out.md"]  # no temporary files left


def test_report_command_prints_markdown_without_paths(tmp_path: Path) -> None:
    done = paradvise("report", str(GOLDEN_JSON), cwd=tmp_path)
    assert done.returncode == 0 and done.stdout == markdown.render(golden_report())


@pytest.mark.parametrize("content", [None, "{not json", '{"schema_version": 1}', '{"schema_version": 99}'])
def test_report_command_refuses_bad_input_in_one_sentence(tmp_path: Path, content: str | None) -> None:
    run = tmp_path / "run.json"
    if content is not None:
        run.write_text(content, encoding="utf-8")
    done = paradvise("report", str(run), "--markdown", str(tmp_path / "out.md"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("paradvise: ") and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.md").exists()


def test_report_command_unwritable_path_is_a_usage_error(tmp_path: Path) -> None:
    done = paradvise("report", str(GOLDEN_JSON), "--html", str(tmp_path / "missing" / "out.html"), cwd=tmp_path)
    assert done.returncode == 2 and "Cannot write" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.e2e
def test_profile_writes_every_report_format(tmp_path: Path) -> None:
    out = {fmt: tmp_path / f"run.{ext}" for fmt, ext in (("json", "json"), ("markdown", "md"), ("html", "html"))}
    done = paradvise("profile", str(ROOT / "samples" / "cpu_bound.py"), "--quiet", "--budget", "4",
                     "--json", str(out["json"]), "--markdown", str(out["markdown"]), "--html", str(out["html"]),
                     cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    saved = Report.from_json(json.loads(out["json"].read_text(encoding="utf-8")))
    assert out["markdown"].read_text(encoding="utf-8") == markdown.render(saved)
    assert out["html"].read_text(encoding="utf-8").count("<svg") >= 2


# --- a real browser ---------------------------------------------------------------------------

def chromium(page: Path, profile: Path, *mode: str) -> subprocess.CompletedProcess[str]:
    browser = shutil.which("chromium")
    assert browser
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}"]
    return subprocess.run([browser, *flags, *mode, page.resolve().as_uri()], capture_output=True, text=True,
                          timeout=BROWSER_TIMEOUT_S)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_renders_in_headless_chromium(html_page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = chromium(html_page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), done.stderr[-2000:]
    png = shot.read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a blank page compresses to a few KiB
    dom = chromium(html_page, tmp_path / "profile", "--dump-dom").stdout
    assert dom.count("<svg") >= 2 and 'id="plot-speedup"' in dom and "render_tile" in dom


def test_a_what_if_is_shown_in_every_format() -> None:
    what_if = {"cpus": 16, "measured_on_cpus": 2, "executor": "processes", "workers": 16, "chunksize": 4,
               "start_method": "fork", "predicted_seconds": 0.25, "predicted_speedup": 11.2, "low": 9.8,
               "high": 12.5, "limit": "the limit is starting 16 worker processes, 6% of the predicted time."}
    report = dataclasses.replace(handmade_report(), what_if=what_if)
    line = "On 16 CPUs (predicted from 2 here): processes, 16 workers, chunksize 4: predicted 11.20x (9.80-12.50x)"
    assert line in registry.render(report, "markdown")
    assert line in registry.render(report, "html")
    console = Console(record=True, width=400)
    render_terminal(report, console)
    assert line in console.export_text()
    assert Report.from_json(json.loads(registry.render(report, "json"))).what_if == what_if
