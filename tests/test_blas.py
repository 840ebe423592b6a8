"""Several workers over a multithreaded BLAS: measured with BLAS limited, warned about, limited in code."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_analyse import measurement

from advisor.analyse.recommend import pick_best
from advisor.model import Recommendation, Trial
from advisor.present.code import emit
from advisor.report_builder import blas_oversubscription

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def trial(executor: str, workers: int, seconds: float, blas: int | None = None) -> Trial:
    return Trial(executor, workers, None, None, seconds, None, True, repeats=[seconds], blas_threads=blas)


def test_a_blas_limited_trial_is_labelled_and_loses_ties_to_the_plain_one() -> None:
    plain, limited = trial("threads", 2, 1.00), trial("threads", 2, 0.99, blas=1)
    assert limited.label == "threads 2w BLAS 1 thread"
    choice, tied = pick_best([trial("serial", 1, 2.0), plain, limited], {})
    assert choice is plain and limited in tied  # within noise: the simpler code wins


@pytest.mark.parametrize("executor,chunksize,method", [("threads", None, None), ("threads", 4, None),
                                                        ("processes", 2, "fork")])
def test_code_for_a_blas_limit_limits_it_around_the_pool(executor, chunksize, method) -> None:
    rec = Recommendation(executor, 2, chunksize, method, 1.4, "measured", None, blas_threads=1)
    code = emit(rec, "/somewhere/fit.py", "fit")
    compile(code, "emitted", "exec")
    assert 'threadpool_limits(limits=1, user_api="blas")' in code
    pool_line = next(line for line in code.splitlines() if "ThreadPoolExecutor(max" in line or "Pool(processes" in line)
    assert pool_line.lstrip().startswith("with threadpool_limits(")  # the workers start inside the limit


def test_the_warning_quotes_what_limiting_measured() -> None:
    trials = [trial("serial", 1, 2.0), trial("threads", 2, 1.6), trial("threads", 2, 1.1, blas=1)]
    m = measurement(trials=trials, blas={"internal_api": "openblas", "num_threads": 4})
    rec = Recommendation("threads", 2, None, None, 1.8, "measured", None, blas_threads=1)
    warning = blas_oversubscription(m, rec, cpus=4)
    assert warning is not None and warning.code == "blas-oversubscription"
    assert "up to 8 threads on 4 CPUs" in warning.message and "1.1 s against 1.6 s" in warning.message
    assert "The code below limits it" in warning.message
    # One BLAS thread, or one worker: nothing to warn about.
    assert blas_oversubscription(measurement(trials=trials, blas={}), rec, cpus=4) is None
    assert blas_oversubscription(m, Recommendation("serial", 1, None, None, 1.0, "x"), cpus=4) is None


def multithreaded_blas() -> bool:
    import numpy  # noqa: F401 - loads the BLAS threadpoolctl looks for
    from threadpoolctl import threadpool_info

    return any(p.get("user_api") == "blas" and (p.get("num_threads") or 1) > 1 for p in threadpool_info())


@pytest.mark.skipif(not multithreaded_blas(), reason="numpy's BLAS runs one thread on this machine")
def test_blas_calls_sample_is_measured_with_blas_limited_too(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    done = subprocess.run([sys.executable, "-m", "advisor", "profile", str(SAMPLES / "blas_calls.py"),
                           "--executors", "serial,threads", "--budget", "4", "--json", str(out)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text())
    limited = [t for t in report["trials"] if t.get("blas_threads") == 1]
    assert limited and all(t["ok"] and t["results_match"] is not False for t in limited)
    rec = report["recommendation"]
    codes = {w["code"] for w in report["warnings"]}
    if rec["executor"] == "threads" and rec["workers"] > 1:
        assert "blas-oversubscription" in codes
    if rec.get("blas_threads"):
        assert "threadpool_limits" in report["code"]
