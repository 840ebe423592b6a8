"""Targets that are not top-level functions: closures, nested ``def``s, lambdas bound to a name.

Unit tests for finding and naming them (pure code), for counting their calls in the host,
for telling why pickle cannot send them, for the code emitted for them and for ``--emit``;
then end-to-end runs of the real ``paradvise`` command on samples/closure_scoring.py and on
a lambda target.
"""
from __future__ import annotations

import ast
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from contract import check_contract

from advisor.errors import TargetNotFound, UsageError
from advisor.measure.boundary import RunSpec
from advisor.measure.child_process import new_workdir, run_host
from advisor.measure.locate import display_name
from advisor.measure.target import describe_unpicklable
from advisor.measure.user_script import (
    LAMBDA,
    METHOD,
    NESTED,
    TOP_LEVEL,
    replayable_functions,
    resolve_function,
    top_level_functions,
)
from advisor.model import Recommendation
from advisor.present.code import emit
from advisor.present.rewrite import rewrite_source
from advisor.sweep.isolate import run_isolated

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "closure_scoring.py"
LAMBDA_SCRIPT = Path(__file__).resolve().parent / "scripts" / "lambda_target.py"
PARADVISE = [sys.executable, "-m", "advisor"]
COMMAND_TIMEOUT_S = 240

SOURCE = textwrap.dedent('''\
    import functools

    def top(x):
        return x

    square = lambda x: x * x

    if __name__ == "__main__":
        guarded = lambda y: y

        def in_guard(z):
            return z

    def main(w):
        @functools.lru_cache
        def inner(n):
            def deeper(k):
                return k
            return n * w

        sq: object = lambda n: n * n

        async def fetch(x):
            return x

        for i in range(3):
            if i:
                def in_loop(a):
                    return a
        try:
            handler = lambda q: q
        except Exception:
            pass

        class Local:
            def method(self):
                pass
            attr = lambda self: self
        return inner

    class Top:
        def method(self):
            def helper():
                pass
            return helper
    ''')


# -- finding and naming ----------------------------------------------------------------
def test_display_names_and_kinds() -> None:
    found = replayable_functions(ast.parse(SOURCE))
    kinds = {name: fn.kind for name, fn in found.items()}
    assert kinds == {
        "top": TOP_LEVEL, "main": TOP_LEVEL, "square": LAMBDA, "guarded": LAMBDA,
        "main.inner": NESTED, "main.inner.deeper": NESTED, "main.sq": LAMBDA, "main.fetch": NESTED,
        "main.in_loop": NESTED, "main.handler": LAMBDA, "Top.method": METHOD,
    }
    # Methods of module-level classes are targets (the instance travels with each call);
    # classes inside functions are not searched; a def under a module-level `if` is not a target itself.
    assert not any("Local" in n or "helper" in n or n == "in_guard" for n in found)
    assert found["Top.method"].owner == "Top" and found["Top.method"].outer == ""


def test_lines_locals_and_coroutines() -> None:
    found = replayable_functions(ast.parse(SOURCE))
    inner = found["main.inner"]
    assert (inner.local_name, inner.outer) == ("inner", "main")
    assert inner.first_line == inner.line - 1, "a decorator starts the code object a line earlier"
    assert found["main.inner.deeper"].outer == "main.inner"
    assert found["main.fetch"].is_coroutine and not found["main.sq"].is_coroutine
    assert found["square"].outer == "" and found["square"].line == 6


def test_top_level_functions_are_found_exactly_as_before() -> None:
    tree = ast.parse(SOURCE)
    everything = replayable_functions(tree)
    for name, fn in top_level_functions(tree).items():
        assert everything[name] == fn and fn.kind == TOP_LEVEL
    assert set(top_level_functions(tree)) == {"top", "main"}


def test_a_name_defined_twice_is_one_target_at_its_first_definition() -> None:
    source = ("def main(flag):\n    if flag:\n        f = lambda x: x\n"
              "    else:\n        def f(x):\n            return x\n")
    found = replayable_functions(ast.parse(source))
    assert sorted(found) == ["main", "main.f"] and found["main.f"].kind == LAMBDA and found["main.f"].line == 3


def test_function_accepts_the_full_or_a_unique_local_name() -> None:
    found = replayable_functions(ast.parse(SOURCE))
    assert resolve_function(found, "main.inner", "s.py").name == "main.inner"
    assert resolve_function(found, "deeper", "s.py").name == "main.inner.deeper"
    assert resolve_function(found, "top", "s.py").name == "top"
    with pytest.raises(TargetNotFound, match="'nope'.*main.inner"):
        resolve_function(found, "nope", "s.py")
    twice = replayable_functions(ast.parse("def a():\n    f = lambda: 1\n\ndef b():\n    f = lambda: 2\n"))
    with pytest.raises(TargetNotFound, match="a.f, b.f"):
        resolve_function(twice, "f", "s.py")


def test_profiler_rows_get_display_names() -> None:
    found = replayable_functions(ast.parse(SOURCE))
    inner_line = found["main.inner"].first_line
    assert display_name(found, "inner", inner_line) == "main.inner"  # cProfile: co_name, co_firstlineno
    assert display_name(found, "main.<locals>.inner", inner_line) == "main.inner"  # scalene: qualname
    assert display_name(found, "<lambda>", found["main.sq"].line) == "main.sq"
    assert display_name(found, "<lambda>", 9999) is None  # a lambda that is not bound to a name
    assert display_name(found, "top", found["top"].line) == "top"
    assert display_name(found, "top", 9999) == "top"  # a top-level function keeps its own name


# -- counting in the host: calls add up across new closures -----------------------------------
COUNTED = textwrap.dedent('''\
    def make(k):
        def add(x):
            return x + k
        return add

    def main():
        total = 0
        for k in range(3):
            f = make(k)
            total += sum(f(i) for i in range(4))
        twice = lambda x: 2 * x
        total += sum(twice(i) for i in range(5))
        print(total)

    main()
    ''')


def test_nested_functions_and_lambdas_are_counted_by_name(tmp_path: Path) -> None:
    script = tmp_path / "counted.py"
    script.write_text(COUNTED)
    workdir = new_workdir()
    finished = run_host(RunSpec("count", str(script), [str(script)]), 60, workdir)
    assert finished.returncode == 0, finished.stderr
    calls = {name: row["calls"] for name, row in (finished.result.functions or {}).items()}
    assert calls == {"make": 3, "make.add": 12, "main": 1, "main.twice": 5}
    assert finished.stdout.strip() == str(sum(i + k for k in range(3) for i in range(4)) + 20)


def test_a_recursive_closure_calls_itself_not_the_capture_wrapper_while_measured() -> None:
    import cloudpickle

    from advisor.measure.capture import Recorder
    from advisor.measure.measuring_child import cells_unwrapped

    recorder = Recorder(record_items=False)

    def outer() -> Any:
        def fib(n: int) -> int:
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        fib = recorder.wrap(fib)  # what the capture decorator does
        return fib

    wrapper = outer()
    target = recorder.original
    with pytest.raises(Exception):
        cloudpickle.dumps(target)  # its cell holds the wrapper, and the wrapper the recorder's lock
    with cells_unwrapped(target):
        assert cloudpickle.loads(cloudpickle.dumps(target))(15) == 610
    assert target.__closure__[0].cell_contents is wrapper, "the script gets its own cell back"
    assert wrapper(10) == 55


# -- why pickle cannot send it -------------------------------------------------------------
def _closure() -> Any:
    weight = 3

    def score(x: int) -> int:
        return x * weight

    return score


def _plain_nested() -> Any:
    def helper(x: int) -> int:
        return x

    return helper


top_lambda = lambda x: x  # noqa: E731


@pytest.mark.parametrize("fn, name, expected", [
    (_closure(), "_closure.score", "score is a closure defined inside _closure()"),
    (_plain_nested(), "_plain_nested.helper", "helper is a function defined inside _plain_nested()"),
    ((lambda: (lambda x: x))(), "f.g", "g is a lambda defined inside "),
    (top_lambda, "top_lambda", "top_lambda is a lambda"),
])
def test_unpicklable_targets_are_described(fn: Any, name: str, expected: str) -> None:
    with pytest.raises(Exception):
        pickle.dumps(fn)
    assert describe_unpicklable(fn, name, "PicklingError: x").startswith(expected)


# -- emitted code ------------------------------------------------------------------------------
def rec(executor: str, workers: int = 2, chunksize: Any = None, start_method: Any = None) -> Recommendation:
    return Recommendation(executor, workers, chunksize, start_method, 1.0 if executor == "serial" else 1.8, "r")


EMIT_CASES = [rec("serial"), rec("threads", 3), rec("threads", 2, 3), rec("joblib", 2), rec("joblib", 2, 4),
              rec("asyncio", 4), rec("dask", 2), rec("dask", 2, 3), rec("interpreters", 2, 2)]


@pytest.mark.parametrize("advice", EMIT_CASES, ids=lambda r: f"{r.executor}-{r.chunksize}")
@pytest.mark.parametrize("style", ["single", "star"])
def test_code_for_a_closure_compiles_and_imports_nothing_from_the_script(advice: Recommendation,
                                                                           style: str) -> None:
    code = emit(advice, "/x/closure_scoring.py", "main.score", style, None, False)
    compile(code, "emitted", "exec")
    assert "import score" not in code and "closure_scoring" not in code
    assert "def map_score(score, items" in code
    assert "inside main()" in code and "map_score(score, items)" in code


@pytest.mark.parametrize("advice", [rec("serial"), rec("threads", 3), rec("threads", 2, 3), rec("joblib", 2, 4)],
                         ids=lambda r: f"{r.executor}-{r.chunksize}")
def test_code_for_a_closure_maps_it_where_it_is_in_scope(advice: Recommendation) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(emit(advice, "/x/closure_scoring.py", "main.score"), "emitted", "exec"), namespace)
    offset = 7
    # In a fork, as a trial runs: loky leaves workers and threads behind in a process that used it.
    mapped = run_isolated(lambda: namespace["map_score"](lambda x: x + offset, list(range(10))), 120.0)
    assert mapped.ok, mapped.error
    assert mapped.value == [x + 7 for x in range(10)]


def test_code_for_a_top_level_lambda_imports_it() -> None:
    code = emit(rec("joblib", 2), "/x/script.py", "square")
    assert "from script import square" in code and "delayed(square)(x)" in code
    compile(code, "emitted", "exec")


# -- --emit / --patch ---------------------------------------------------------------------------
CLOSURE_SCRIPT = textwrap.dedent('''\
    """Sum of squares, offset by a value captured from main()."""


    def main():
        offset = 3
        square = lambda x: x * x + offset

        def cube(x):
            return x ** 3 + offset

        items = list(range(12))
        print([square(x) for x in items])
        print(sum(cube(x) for x in items))
        while items:
            print(cube(items.pop()))


    main()
    ''')


def run_python(path: Path) -> str:
    done = subprocess.run([sys.executable, str(path)], cwd=path.parent, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("advice", [rec("threads", 3), rec("threads", 2, 3), rec("joblib", 2)],
                         ids=lambda r: f"{r.executor}-{r.chunksize}")
@pytest.mark.parametrize("target", ["main.square", "main.cube"])
def test_emit_rewrites_the_loop_where_the_closure_is(tmp_path: Path, advice: Recommendation, target: str) -> None:
    original = tmp_path / "script.py"
    original.write_text(CLOSURE_SCRIPT)
    done = rewrite_source(CLOSURE_SCRIPT, target, advice, script=str(original))
    local = target.split(".")[1]
    assert done.mode == "rewrite" and f"map_{local}({local}, " in done.text
    assert f"def map_{local}({local}, items" in done.text
    if advice.executor == "joblib":  # worker processes may import the script: it gets a main guard
        assert done.added_main_guard and 'if __name__ == "__main__":\n    main()' in done.text
    emitted = tmp_path / "emitted.py"
    emitted.write_text(done.text)
    assert run_python(emitted) == run_python(original)


def test_emit_refuses_a_closure_it_cannot_rewrite_in_one_sentence() -> None:
    source = CLOSURE_SCRIPT.replace("print(sum(cube(x) for x in items))", "pass")
    with pytest.raises(UsageError) as refused:
        rewrite_source(source, "main.cube", rec("threads", 2), script="/x/script.py")
    message = str(refused.value)
    assert "cube is defined inside main()" in message and message.count(". ") == 0
    with pytest.raises(UsageError, match="interpreters sends functions to its workers by reference"):
        rewrite_source(CLOSURE_SCRIPT, "main.square", rec("interpreters", 2, 1), script="/x/script.py")
    serial = rewrite_source(source, "main.cube", rec("serial"), script="/x/script.py")
    assert serial.mode == "serial"


@pytest.mark.e2e
def test_report_emit_refusal_writes_nothing(tmp_path: Path) -> None:
    script = tmp_path / "script.py"
    script.write_text(CLOSURE_SCRIPT.replace("print(sum(cube(x) for x in items))", "pass"))
    report = json.loads((ROOT / "tests" / "golden" / "cpu_bound.json").read_text())
    report["target"].update(name="main.cube", file=str(script), line=8)
    report["recommendation"].update(executor="threads", workers=2, chunksize=None, start_method=None)
    (tmp_path / "R.json").write_text(json.dumps(report))
    done = subprocess.run([*PARADVISE, "report", "R.json", "--emit", "OUT.py", "--markdown", "R.md"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("paradvise: ")]
    assert len(errors) == 1 and "cube is defined inside main()" in errors[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R.json", "script.py"], "a refusal wrote something"


# -- end to end: the real command ---------------------------------------------------------------
def profile(script: Path, workdir: Path, *extra: str) -> dict[str, Any]:
    out = workdir / "report.json"
    before = sorted(p.name for p in script.parent.iterdir())
    done = subprocess.run([*PARADVISE, "profile", str(script), "--json", str(out), *extra], cwd=workdir,
                          capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in script.parent.iterdir()) == before, "paradvise wrote into the script's folder"
    report = json.loads(out.read_text())
    check_contract(report)
    return report


def unpicklable_warning(report: dict[str, Any]) -> str:
    return next(w["message"] for w in report["warnings"] if w["code"] == "unpicklable-target")


@pytest.mark.e2e
def test_closure_with_default_executors_gets_working_advice(tmp_path: Path) -> None:
    report = profile(SAMPLE, tmp_path, "--budget", "4", "--emit", str(tmp_path / "emitted.py"))
    assert report["target"]["name"] == "main.score"
    assert report["target"]["calls"] == 24
    message = unpicklable_warning(report)
    assert message.startswith("score is a closure defined inside main()") and "module-level function" in message
    trials = report["trials"]
    # Pickle cannot send a closure, but fork pool workers inherit it through a trampoline.
    pools = [t for t in trials if t["executor"] == "processes"]
    assert pools and all(t["start_method"] == "fork" for t in pools)
    assert all(t["results_match"] is True for t in pools if t["ok"])
    assert {"serial", "threads", "processes"} <= {t["executor"] for t in trials}
    assert report["recommendation"]["executor"] in {t["executor"] for t in trials}
    assert "import score" not in report["code"]
    compile(report["code"], "emitted", "exec")
    # --emit wrote a script that prints exactly what the sample prints.
    assert run_python(tmp_path / "emitted.py") == run_python(SAMPLE)


@pytest.mark.e2e
def test_closure_with_joblib_runs_joblib_trials(tmp_path: Path) -> None:
    report = profile(SAMPLE, tmp_path, "--executors", "serial,joblib", "--budget", "4")
    jobs = [t for t in report["trials"] if t["executor"] == "joblib"]
    # cloudpickle sends the closure: every trial ran. On a busy machine loky's fresh
    # interpreters may start so slowly that a trial is stopped as unable to win: that is
    # the sweep's own rule at work, not a failure to send the closure.
    stopped = [t for t in jobs if not t["ok"]]
    assert jobs and all("cannot win" in (t["error"] or "") for t in stopped), [t["error"] for t in stopped]
    assert all(t["results_match"] is True for t in jobs if t["ok"]), "joblib's results differ from serial's"
    assert "unpicklable-target" in {w["code"] for w in report["warnings"]}


@pytest.mark.e2e
def test_lambda_named_with_function(tmp_path: Path) -> None:
    report = profile(LAMBDA_SCRIPT, tmp_path, "--function", "weigh", "--budget", "3")
    assert report["target"]["name"] == "main.weigh"
    assert report["target"]["located_by"] == "--function"
    assert report["target"]["calls"] == 16
    assert unpicklable_warning(report).startswith("weigh is a lambda defined inside main()")
    pools = [t for t in report["trials"] if t["executor"] == "processes"]
    assert pools and all(t["start_method"] == "fork" and t["results_match"] is not False for t in pools)
