"""``--emit`` / ``--patch``: the script with its hot loop rewritten (advisor/present/rewrite.py).

Every rewrite is checked for real: the emitted module compiles, and run in a subprocess it
prints exactly what the original prints. The end-to-end test profiles samples/cpu_bound.py
with the real command and records (prints, never asserts) how much faster the emitted
script ran than the original.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
import time
import tokenize
from pathlib import Path

import libcst as cst
import pytest

from advisor.cli.rewrite_files import check_paths
from advisor.errors import UsageError
from advisor.model import Recommendation
from advisor.present.rewrite import rewrite_source, unified_diff

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
RUN_TIMEOUT_S = 120


def rec(executor: str, workers: int = 2, chunksize=None, start_method=None, reason: str = "r") -> Recommendation:
    return Recommendation(executor, workers, chunksize, start_method,
                          1.0 if executor == "serial" else 1.8, reason)


THREADS = rec("threads", 3)
THREADS_CHUNKED = rec("threads", 2, 3)
PROCESSES = rec("processes", 2, 2, "fork")
SPAWN = rec("processes", 2, None, "spawn")
ASYNCIO = rec("asyncio", 4)
SYNC_RECS = {"threads": THREADS, "threads_chunked": THREADS_CHUNKED, "processes": PROCESSES}

HEAD = '''\
"""A small script."""
import math  # the rest of the file must stay as it is


def f(x):
    return x * x + 1


def g(a, b):
    return a * 10 + b

'''


def run(path: Path, cwd: Path) -> str:
    done = subprocess.run([sys.executable, str(path)], cwd=cwd, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


def same_output(tmp_path: Path, source: str, new: str, name: str = "script") -> str:
    """Run the original and the rewrite side by side; they must print the same, and something."""
    (tmp_path / f"{name}.py").write_text(source)
    (tmp_path / f"{name}_emitted.py").write_text(new)
    before = run(tmp_path / f"{name}.py", tmp_path)
    after = run(tmp_path / f"{name}_emitted.py", tmp_path)
    assert before.strip(), "the original printed nothing: a useless comparison"
    assert after == before
    return after


def rewritten(source: str, recommendation: Recommendation, name: str = "f", **kw):
    done = rewrite_source(source, name, recommendation, script="/elsewhere/script.py", **kw)
    compile(done.text, "emitted", "exec")
    cst.parse_module(done.text)
    return done


def comments(source: str) -> list[str]:
    return [t.string for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.COMMENT]


def comments_kept(source: str, new: str) -> None:
    """Every comment of the original is still there, verbatim and in order."""
    theirs = comments(new)
    at = 0
    for comment in comments(source):
        assert comment in theirs[at:], comment
        at = theirs.index(comment, at) + 1


# -- each shape, each model --------------------------------------------------------------------
SHAPES = {
    "list comprehension": "print(\"before the pool\")\nprint([f(x) for x in range(12)])\n",
    "comprehension with if and expression": "print([f(x + 1) for x in range(12) if x % 3])  # odd ones\n",
    "comprehension over pairs": "pairs = [(i, i + 1) for i in range(9)]\nprint([g(a, b) for a, b in pairs])\n",
    "comprehension with star": "pairs = [(i, 2) for i in range(9)]\nprint([g(*p) for p in pairs])\n",
    "nested for clauses": "print([g(a, b) for a in range(3) for b in range(4)])\n",
    "set comprehension": "print(sorted({f(x) for x in range(20)}))\n",
    "list(map())": "print(list(map(f, range(10))))\n",
    "map() of two iterables in sum": "print(sum(map(g, range(5), range(5, 10))))\n",
    "sum of a generator": "print(sum(f(x) for x in range(50)))\n",
    "max with key": "print(max((f(x) for x in range(-5, 5)), key=lambda v: -v))\n",
    "min of a generator": "print(min(f(x) for x in range(3, 9)))\n",
    "sorted, reversed": "print(sorted((f(x) for x in range(9)), reverse=True))\n",
    "for loop appending": textwrap.dedent('''\
        out = [0]
        # loop over the items
        for x in range(10):  # the hot loop
            out.append(f(x))
        print(out)
        '''),
    "one-line for loop": "out = []\nfor x in range(7): out.append(f(x))\nprint(out)\n",
    "for loop over pairs": "out = []\nfor a, b in [(1, 2), (3, 4)]:\n    out.append(g(a, b))\nprint(out)\n",
    "for loop with more body": textwrap.dedent('''\
        total = 0
        for x in range(10):
            value = f(x)  # compute
            total += value
            print("running", total)
        print(total)
        '''),
    "for loop calling only": "seen = []\nfor x in range(5):\n    f(x)\nprint('done')\n",
    "inside a function, with main guard": textwrap.dedent('''\
        def main():
            chunks = list(range(20))
            counts = [f(c) for c in chunks]
            print(sum(counts), counts[:4])


        if __name__ == "__main__":
            main()
        '''),
}


USES_G = {"comprehension over pairs", "comprehension with star", "nested for clauses", "map() of two iterables in sum",
          "for loop over pairs"}


@pytest.mark.parametrize("model", sorted(SYNC_RECS))
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_prints_what_the_original_prints(tmp_path, shape, model):
    source = HEAD + SHAPES[shape]
    done = rewritten(source, SYNC_RECS[model], name="g" if shape in USES_G else "f")
    assert done.mode == "rewrite", done.description
    assert len(done.sites) == 1
    same_output(tmp_path, source, done.text)
    comments_kept(source, done.text)
    assert done.text.startswith(HEAD.split("\n\n\n")[0])  # docstring and imports untouched


def test_comments_and_formatting_outside_the_loop_are_kept():
    source = HEAD + SHAPES["for loop appending"]
    done = rewritten(source, THREADS)
    assert "out.extend(map_f(range(10)))  # the hot loop" in done.text
    assert "# loop over the items\nout.extend(" in done.text
    removed = [line for line in done.diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    assert removed == ["-for x in range(10):  # the hot loop", "-    out.append(f(x))"]


def test_processes_get_the_measured_pool():
    done = rewritten(HEAD + SHAPES["list comprehension"], PROCESSES)
    assert 'multiprocessing.get_context("fork")' in done.text
    assert "Pool(processes=2)" in done.text and "pool.map(f, items, chunksize=2)" in done.text
    assert "import multiprocessing\n" in done.text
    star = rewritten(HEAD + SHAPES["comprehension over pairs"], PROCESSES, name="g")
    assert "pool.starmap(g, items, chunksize=2)" in star.text and "starmap_g(pairs)" in star.text


def test_helper_goes_after_the_target_and_imports_after_the_scripts_own():
    done = rewritten(HEAD + SHAPES["list comprehension"], THREADS)
    text = done.text
    assert text.index("import math") < text.index("from concurrent.futures import ThreadPoolExecutor") \
        < text.index("def f(x)") < text.index("def map_f(items)") < text.index("def g(a, b)")
    assert "# paradvise: use threads (3 workers), 1.80x faster, as measured on this machine." in text


def test_existing_import_is_not_repeated():
    source = "import asyncio\nfrom concurrent.futures import ThreadPoolExecutor\n" + HEAD + \
        SHAPES["list comprehension"]
    done = rewritten(source, THREADS)
    assert done.text.count("import ThreadPoolExecutor") == 1


def test_module_level_pool_gets_a_main_guard_that_spawn_needs(tmp_path):
    source = HEAD + textwrap.dedent('''\
        print("start")
        N = 16
        results = [f(x) for x in range(N)]
        LIMIT = 3  # after the loop


        def later(values):
            return values[:LIMIT]


        print(later(results), sum(results))
        ''')
    done = rewritten(source, SPAWN)
    assert done.added_main_guard
    assert done.text.count('if __name__ == "__main__":') == 2  # def later() stays at module level
    assert '\nif __name__ == "__main__":\n    print("start")' in done.text
    assert "\ndef later(values):" in done.text
    # Under spawn, workers import the script: without the guard they would print "start" again.
    same_output(tmp_path, source, done.text)


def test_existing_main_guard_is_left_alone():
    source = HEAD + SHAPES["inside a function, with main guard"]
    done = rewritten(source, PROCESSES)
    assert not done.added_main_guard
    assert done.text.count("__main__") == 1


def test_threads_need_no_main_guard():
    done = rewritten(HEAD + SHAPES["list comprehension"], THREADS)
    assert "__main__" not in done.text


# -- await in a for loop: asyncio.gather with a semaphore -----------------------------------------
ASYNC_HEAD = '''\
import asyncio


async def fetch(x):
    await asyncio.sleep(0.01)
    return x * 3

'''

ASYNC_SHAPES = {
    "await in a for loop, appending": textwrap.dedent('''\
        async def run_all(ids):
            out = []
            for i in ids:
                out.append(await fetch(i))
            return out


        print(asyncio.run(run_all(range(20))))
        '''),
    "await in a for loop, more body": textwrap.dedent('''\
        async def run_all(ids):
            total = 0
            for i in ids:
                total += await fetch(i)
            return total


        print(asyncio.run(run_all(range(20))))
        '''),
    "await only": textwrap.dedent('''\
        async def run_all(ids):
            for i in ids:
                await fetch(i)
            return "done"


        print(asyncio.run(run_all(range(5))))
        '''),
    "async comprehension": textwrap.dedent('''\
        async def run_all(ids):
            return [await fetch(i) for i in ids]


        print(asyncio.run(run_all(range(20))))
        '''),
}


@pytest.mark.parametrize("shape", sorted(ASYNC_SHAPES))
def test_await_shapes_become_gather(tmp_path, shape):
    source = ASYNC_HEAD + ASYNC_SHAPES[shape]
    done = rewritten(source, ASYNCIO, name="fetch", is_coroutine=True)
    assert done.mode == "rewrite", done.description
    assert "asyncio.Semaphore(4)" in done.text and "await gather_fetch(" in done.text
    assert done.text.count("import asyncio") == 1
    same_output(tmp_path, source, done.text)


def test_a_coroutine_is_not_given_to_a_pool():
    done = rewritten(ASYNC_HEAD + ASYNC_SHAPES["await in a for loop, appending"], THREADS, name="fetch",
                     is_coroutine=True)
    assert done.mode == "standalone"


# -- shapes that must not be rewritten ------------------------------------------------------------
NOT_REWRITTEN = {
    "loop variable read after the loop": "out = []\nfor x in range(5):\n    out.append(f(x))\nprint(out, x)\n",
    "loop variable used elsewhere in the body": "out = []\nfor x in range(5):\n    out.append((x, f(x)))\n",
    "break in the loop": "out = []\nfor x in range(5):\n    if len(out) > 2:\n        break\n    out.append(f(x))\n",
    "called conditionally": "out = []\nfor x in range(5):\n    if x:\n        out.append(f(x))\n",
    "conditional expression": "print([f(x) if x else 0 for x in range(5)])\n",
    "short-circuiting consumer": "print(any(f(x) > 10 for x in range(5)))\n",
    "shadowed name": "def run(f, xs):\n    return [f(x) for x in xs]\n\n\nprint(run(abs, [-1]))\n",
    "keyword arguments": "print([g(a=x, b=1) for x in range(3)])\n",
    "the target passed around in the loop": "out = []\nfor x in range(3):\n    out.append(f(x) + len([f]))\n",
    "a for/else": "out = []\nfor x in range(3):\n    out.append(f(x))\nelse:\n    out.append(0)\n",
    "map with a lambda": "print(list(map(lambda v: f(v), range(3))))\n",
}


@pytest.mark.parametrize("shape", sorted(NOT_REWRITTEN))
def test_unknown_shapes_give_a_standalone_module(shape):
    done = rewritten(HEAD + NOT_REWRITTEN[shape], THREADS)
    assert done.mode == "standalone", done.text
    assert "from script import f" in done.text  # imports the target by module name
    assert "ThreadPoolExecutor(max_workers=3)" in done.text
    assert done.diff.startswith("--- /dev/null\n+++ b/script_parallel.py\n")


def test_the_target_is_never_mapped_from_inside_itself():
    source = "def f(n):\n    return n if n < 2 else sum([f(k) for k in range(n - 1)])\n\n\nprint(f(4))\n"
    done = rewritten(source, PROCESSES)
    assert done.mode == "standalone"


def test_standalone_uses_the_emit_name_in_the_patch():
    done = rewrite_source(HEAD + NOT_REWRITTEN["shadowed name"], "f", THREADS, script="/x/my_script.py",
                          emit_name="advice.py")
    assert done.diff.startswith("--- /dev/null\n+++ b/advice.py\n")
    assert "from my_script import f" in done.text


# -- serial advice -----------------------------------------------------------------------------
def test_serial_is_an_unchanged_copy_with_one_comment(tmp_path):
    source = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n" + HEAD + SHAPES["list comprehension"]
    done = rewritten(source, rec("serial", 1, reason="Stay serial: the calls are too short."))
    assert done.mode == "serial"
    lines = done.text.splitlines()
    assert lines[:2] == source.splitlines()[:2]  # shebang and coding cookie stay first
    assert lines[2] == "# paradvise: Stay serial: the calls are too short."
    assert lines[:2] + lines[3:] == source.splitlines()
    assert "+# paradvise: Stay serial" in done.diff
    same_output(tmp_path, source, done.text)


# -- the samples, with fixed advice (no profiling) --------------------------------------------------
SAMPLE_CASES = {
    "cpu_bound": ("count_primes", rec("processes", 2, 3, "fork"), False),
    "numpy_arrays": ("signal_energy", rec("threads", 2), False),
    "http_fetch": ("fetch_item", rec("threads", 16), False),
    "async_fetch": ("fetch_reading", rec("asyncio", 30), True),
    "uneven_tasks": ("collatz_job", rec("processes", 2, 1, "fork"), False),
}


@pytest.mark.parametrize("sample", sorted(SAMPLE_CASES))
def test_samples_rewritten_print_the_same(tmp_path, sample):
    name, advice, coroutine = SAMPLE_CASES[sample]
    if sample == "numpy_arrays":
        pytest.importorskip("numpy")
    source = (SAMPLES / f"{sample}.py").read_text()
    done = rewrite_source(source, name, advice, script=str(SAMPLES / f"{sample}.py"), is_coroutine=coroutine)
    assert done.mode == "rewrite", done.description
    same_output(tmp_path, source, done.text, sample)
    applied = apply_patch(tmp_path, source, done.diff, f"{sample}.py")
    if applied is not None:
        assert applied == done.text


def apply_patch(tmp_path: Path, source: str, diff: str, name: str):
    """The diff applied with the real ``patch`` tool to a copy of the original (None without the tool)."""
    if shutil.which("patch") is None:
        return None
    folder = tmp_path / "patched"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(source)
    done = subprocess.run(["patch", "-p1", "--quiet"], input=diff, cwd=folder, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return (folder / name).read_text()


def test_diff_of_a_file_without_a_final_newline_applies(tmp_path):
    source = HEAD + SHAPES["list comprehension"].rstrip("\n")
    done = rewritten(source, THREADS)
    assert not done.text.endswith("\n")
    applied = apply_patch(tmp_path, source, done.diff, "script.py")
    if applied is not None:
        assert applied == done.text


def test_unified_diff_of_nothing_is_empty():
    assert unified_diff("a\n", "a\n", "a/x", "b/x") == ""


# -- output paths -----------------------------------------------------------------------------
def test_refuses_to_write_over_the_script(tmp_path, monkeypatch):
    script = tmp_path / "s.py"
    script.write_text("print(1)\n")
    monkeypatch.chdir(tmp_path)
    for emit_path, patch_path in ((str(script), None), (None, "s.py"), ("./sub/../s.py", None)):
        (tmp_path / "sub").mkdir(exist_ok=True)
        with pytest.raises(UsageError, match="is the script itself"):
            check_paths(str(script), emit_path, patch_path)
    with pytest.raises(UsageError, match="different files"):
        check_paths(str(script), "out.py", "./out.py")
    with pytest.raises(UsageError, match="does not exist"):
        check_paths(str(script), str(tmp_path / "nowhere" / "out.py"), None)
    check_paths(str(script), "out.py", "out.diff")


# -- end to end: the real command ---------------------------------------------------------------
PARADVISE = [sys.executable, "-m", "advisor"]


def timed(path: Path, cwd: Path) -> float:
    start = time.perf_counter()
    run(path, cwd)
    return time.perf_counter() - start


@pytest.mark.e2e
def test_emit_and_patch_for_cpu_bound(tmp_path):
    script = SAMPLES / "cpu_bound.py"
    before = {p.name: p.stat().st_mtime_ns for p in SAMPLES.iterdir()}
    done = subprocess.run([*PARADVISE, "profile", str(script), "--emit", "OUT.py", "--patch", "OUT.diff",
                           "--json", "R.json"], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert {p.name: p.stat().st_mtime_ns for p in SAMPLES.iterdir()} == before, "the sample was modified"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["OUT.diff", "OUT.py", "R.json"]
    report = json.loads((tmp_path / "R.json").read_text())
    emitted, diff = (tmp_path / "OUT.py").read_text(), (tmp_path / "OUT.diff").read_text()
    assert diff
    if report["recommendation"]["executor"] == "processes":
        assert "Pool(processes=" in emitted and "Pool(processes=" in diff
        assert "counts = map_count_primes(chunks)" in emitted
    original = run(script, tmp_path)
    assert run(tmp_path / "OUT.py", tmp_path) == original
    applied = apply_patch(tmp_path, script.read_text(), diff, "cpu_bound.py")
    if applied is not None:
        assert applied == emitted

    # `report RUN.json --emit` re-renders the same rewrite from the saved report.
    again = subprocess.run([*PARADVISE, "report", "R.json", "--emit", "AGAIN.py"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "AGAIN.py").read_text() == emitted

    # Recorded, not asserted: the machine may be busy.
    pairs = [(timed(script, tmp_path), timed(tmp_path / "OUT.py", tmp_path)) for _ in range(3)]
    ratio = statistics.median(a / b for a, b in pairs)
    advice = report["recommendation"]
    print(f"\ncpu_bound: original {statistics.median(a for a, _ in pairs):.3f} s, emitted "
          f"{statistics.median(b for _, b in pairs):.3f} s, median speedup {ratio:.2f}x "
          f"(advice: {advice['executor']}, expected {advice['expected_speedup']:.2f}x; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs)")


@pytest.mark.e2e
def test_emit_over_the_script_is_refused_before_profiling(tmp_path):
    copy = tmp_path / "cpu_bound.py"
    copy.write_text((SAMPLES / "cpu_bound.py").read_text())
    start = time.perf_counter()
    done = subprocess.run([*PARADVISE, "profile", "cpu_bound.py", "--emit", str(copy)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("paradvise: ")]
    assert len(errors) == 1 and "is the script itself" in errors[0], done.stderr
    assert copy.read_text() == (SAMPLES / "cpu_bound.py").read_text()
    assert time.perf_counter() - start < 30  # refused before the script ever ran


def test_a_blas_limit_in_the_advice_is_kept_in_the_rewrite():
    source = "import numpy as np\n\n\ndef f(x):\n    return x\n\n\nprint([f(x) for x in range(4)])\n"
    rec = Recommendation("threads", 2, None, None, 1.8, "threads 2w measured 1.8x", blas_threads=1)
    done = rewrite_source(source, "f", rec)
    assert "from threadpoolctl import threadpool_limits" in done.text
    assert 'threadpool_limits(limits=1, user_api="blas")' in done.text
    compile(done.text, "emitted", "exec")
