"""``@advise``: direct calls unchanged, ``f.map`` equal to serial, the tuning cache across
processes, warm pools, PARADVISE=off/record, and the Jupyter magics.

Tuning budgets are small (2 s) so the whole file stays well under a minute; nothing here
asserts a timing or which executor wins, only what must hold whatever the machine.
"""
from __future__ import annotations

import importlib
import inspect
import json
import os
import pickle
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from advisor.api import cache
from advisor.api import decorator as api
from advisor.api.decorator import NotTuned, Plan, advise
from advisor.model import Report

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 2.0
# Hang guard for the scripts run in fresh interpreters, not a timing assertion.
SCRIPT_TIMEOUT_S = 120

HELPER = '''
def count_primes(n):
    """Count the primes below n (CPU-bound, pure Python)."""
    found = 0
    for k in range(2, n):
        for d in range(2, int(k ** 0.5) + 1):
            if k % d == 0:
                break
        else:
            found += 1
    return found


def fails_on_three(x):
    if x == 3:
        raise ValueError("three")
    return x


def weighted(n, weight, offset=0):
    return count_primes(n) * weight + offset


from advisor import advise


class Scorer:
    def __init__(self, weight):
        self.weight = weight

    @advise(budget=2.0, executors=["serial", "threads", "processes"])
    def score(self, n):
        return count_primes(n) * self.weight
'''


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(folder))
    monkeypatch.delenv(api.MODE_ENV, raising=False)
    yield folder
    api.shutdown_pools()  # no warm pool outlives its test


@pytest.fixture
def helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A fresh module of top-level functions (process pools need importable functions)."""
    name = f"advise_helpers_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(HELPER)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    yield module
    sys.modules.pop(name, None)


def entries_in(folder: Path) -> int:
    return len(cache.TuningCache(folder / cache.DB_NAME).entries())


# -- methods and functions of several arguments ---------------------------------------------
def test_a_method_maps_with_its_instance_bound(helpers) -> None:
    scorer = helpers.Scorer(3)
    items = [3000 + 50 * i for i in range(16)]
    assert scorer.score(items[0]) == helpers.count_primes(items[0]) * 3  # the method as written
    assert scorer.score.map(items) == [helpers.count_primes(n) * 3 for n in items]
    assert scorer.score.plan is not None and scorer.score.plan.source == "tuned"
    assert pickle.loads(pickle.dumps(helpers.Scorer.score)) is helpers.Scorer.score


def test_starmap_maps_argument_tuples_tuned_apart_from_map(helpers, isolated_cache: Path) -> None:
    fn = advise(budget=BUDGET)(helpers.weighted)
    pairs = [(3000 + 50 * i, i % 3) for i in range(16)]
    assert fn.starmap(pairs) == [helpers.weighted(*p) for p in pairs]
    assert entries_in(isolated_cache) == 1  # its own plan; f.map's would be another entry


# -- the decorated function is the function --------------------------------------------------
def test_direct_call_is_the_original(helpers) -> None:
    original = helpers.count_primes
    expected = [original(n) for n in (10, 100, 1000)]
    decorated = advise(original)
    assert decorated is original  # nothing sits between the caller and the function
    assert [decorated(n) for n in (10, 100, 1000)] == expected
    assert decorated(n=100) == expected[1]
    failing = advise(budget=1)(helpers.fails_on_three)
    with pytest.raises(ValueError, match="three"):
        failing(3)


def test_wraps_semantics() -> None:
    @advise(budget=BUDGET, executors=["threads"])
    def scaled(x: int, factor: int = 2, *, offset: int = 0) -> int:
        """Scale x."""
        return x * factor + offset

    assert scaled.__name__ == "scaled" and scaled.__doc__ == "Scale x."
    assert scaled.__qualname__.endswith("test_wraps_semantics.<locals>.scaled")
    assert scaled.__wrapped__ is not scaled and scaled.__wrapped__.__code__ is scaled.__code__
    assert scaled.__wrapped__(3, offset=1) == scaled(3, offset=1) == 7
    assert inspect.unwrap(scaled) is scaled.__wrapped__
    assert inspect.signature(scaled) == inspect.signature(scaled, follow_wrapped=False)
    assert list(inspect.signature(scaled).parameters) == ["x", "factor", "offset"]
    assert scaled.plan is None
    with pytest.raises(NotTuned):
        scaled.report()


def test_picklable_by_reference_as_the_same_object(helpers) -> None:
    decorated = advise(helpers.count_primes)
    assert pickle.loads(pickle.dumps(decorated)) is decorated


def test_bad_uses_are_refused() -> None:
    async def coroutine(x):
        return x

    with pytest.raises(TypeError, match="coroutine"):
        advise(coroutine)
    with pytest.raises(TypeError, match="plain Python functions"):
        advise(len)
    with pytest.raises(ValueError, match="executors"):
        advise(executors=["gpu"])
    with pytest.raises(ValueError, match="budget"):
        advise(budget=0)


# -- f.map ------------------------------------------------------------------------------------
def test_map_equals_serial_then_reuses_the_plan(helpers, isolated_cache: Path, monkeypatch) -> None:
    f = advise(budget=BUDGET)(helpers.count_primes)
    items = [3000 + 7 * i for i in range(24)]
    serial = [f(x) for x in items]
    assert f.map(iter(items)) == serial  # any iterable; a list in input order
    plan = f.plan
    assert plan.source == "tuned" and plan.executor in api.EXECUTORS and plan.workers >= 1
    assert plan.size_class == "16-31"
    assert entries_in(isolated_cache) == 1

    def must_not_tune(*args, **kwargs):
        raise AssertionError("tuned again")

    monkeypatch.setattr(api, "tune_recorded", must_not_tune)
    assert f.map(items) == serial
    assert f.map(items[:20]) == serial[:20]  # same size class: same plan, no sweep
    assert f.plan == plan

    report = f.report()
    assert isinstance(report, Report)
    assert report.target.name == "count_primes" and report.target.located_by == "@advise"
    assert report.recommendation.executor == plan.executor
    assert Report.from_json(json.loads(json.dumps(report.to_json()))) == report


def test_report_works_with_every_renderer(helpers) -> None:
    from rich.console import Console

    from advisor.present import registry
    from advisor.present.terminal import render

    f = advise(budget=BUDGET, executors=["threads"])(helpers.count_primes)
    f.map(range(200, 220))
    report = f.report()
    console = Console(record=True, width=120)
    render(report, console)
    assert "count_primes" in console.export_text()
    for fmt in registry.RENDERERS:
        assert "count_primes" in registry.render(report, fmt)


def test_an_exception_in_the_function_ends_map_like_a_loop(helpers, isolated_cache: Path) -> None:
    f = advise(budget=BUDGET)(helpers.fails_on_three)
    with pytest.raises(ValueError, match="three"):
        f.map(range(6))
    assert f.plan is None and entries_in(isolated_cache) == 0
    assert f.map([]) == []


def test_another_machine_misses_the_cache(helpers, monkeypatch) -> None:
    f = advise(budget=BUDGET, executors=["threads"])(helpers.count_primes)
    f.map(range(100, 108))
    key = f.plan.key
    g_advisor = api.Advisor(helpers.count_primes)  # a fresh process's view of the same function
    assert g_advisor._from_cache(f.plan.size_class, provisional_too=True).source == "cache"
    monkeypatch.setattr(api, "machine_fp", lambda: "another-machine")
    other = api.Advisor(helpers.count_primes)
    assert other._from_cache(f.plan.size_class) is None
    assert other._key(f.plan.size_class) != key


@pytest.mark.parametrize("plan", [
    Plan("processes", 2, 3, "fork", "tuned"),
    Plan("processes", 2, None, "fork", "tuned"),
    Plan("threads", 3, None, None, "tuned"),
    Plan("threads", 2, 4, None, "tuned"),
])
def test_warm_pools_give_serial_results_and_are_reused(helpers, plan: Plan) -> None:
    f = advise(helpers.count_primes)
    advisor = f.__paradvise__
    items = list(range(500, 530))
    size = cache.size_class(len(items))
    advisor._plans[size] = plan
    serial = [f(x) for x in items]
    assert f.map(items) == serial
    pools = dict(advisor.runners.pools)
    assert len(pools) == 1
    assert f.map(reversed(items)) == serial[::-1]
    assert advisor.runners.pools == pools  # the same pool object, kept warm
    api.shutdown_pools()
    assert advisor.runners.pools == {}
    assert f.map(items) == serial  # a new pool after shutdown


def test_process_pool_propagates_exceptions(helpers) -> None:
    f = advise(helpers.fails_on_three)
    f.__paradvise__._plans["4-7"] = Plan("processes", 2, 1, "fork", "tuned")
    with pytest.raises(ValueError, match="three"):
        f.map(range(6))
    assert f.map([0, 1, 2, 4]) == [0, 1, 2, 4]
    api.shutdown_pools()


def test_a_process_plan_for_an_unreachable_function_runs_serially() -> None:
    def nested(x):  # not reachable as module.name: workers could not load it
        return x * 2

    f = advise(nested)
    f.__paradvise__._plans["4-7"] = Plan("processes", 2, 1, "fork", "cache")
    with pytest.warns(RuntimeWarning, match="cannot be sent to worker processes"):
        assert f.map(range(5)) == [0, 2, 4, 6, 8]
    assert f.__paradvise__.runners.pools == {}


def test_a_failed_sweep_falls_back_to_serial(helpers, monkeypatch, isolated_cache: Path) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("no fork here")

    monkeypatch.setattr(api, "tune_recorded", broken)
    f = advise(helpers.count_primes)
    with pytest.warns(RuntimeWarning, match="could not tune"):
        assert f.map(range(10, 20)) == [f(x) for x in range(10, 20)]
    assert f.plan.source == "fallback" and f.plan.executor == "serial"
    assert entries_in(isolated_cache) == 0


# -- PARADVISE=off / record --------------------------------------------------------------------
def test_paradvise_off_runs_serially_without_tuning(helpers, monkeypatch, isolated_cache: Path) -> None:
    monkeypatch.setenv(api.MODE_ENV, "off")
    monkeypatch.setattr(api, "tune_recorded", lambda *a, **k: pytest.fail("tuned while off"))
    f = advise(helpers.count_primes)
    assert f.map(range(50)) == [f(x) for x in range(50)]
    assert f.plan.source == "off" and f.plan.executor == "serial"
    assert not isolated_cache.exists()
    with pytest.raises(NotTuned, match="PARADVISE=off"):
        f.report()


def test_paradvise_record_keeps_the_calls(helpers, monkeypatch, isolated_cache: Path) -> None:
    monkeypatch.setenv(api.MODE_ENV, "record")
    monkeypatch.setattr(api, "tune_recorded", lambda *a, **k: pytest.fail("tuned while recording"))
    f = advise(helpers.count_primes)
    assert f.map([10, 20, 30]) == [4, 8, 10]
    assert f.map([40]) == [12]
    assert f.plan.source == "record"
    assert [c.args for c in f.recorded] == [(10,), (20,), (30,), (40,)]
    assert [c.result for c in f.recorded] == [4, 8, 10, 12]
    assert not isolated_cache.exists()


def test_tune_on_recorded_calls(helpers, monkeypatch, isolated_cache: Path) -> None:
    f = advise(budget=BUDGET, executors=["threads"])(helpers.count_primes)
    with pytest.raises(ValueError, match="record"):
        f.tune()
    monkeypatch.setenv(api.MODE_ENV, "record")
    f.map(range(300, 310))
    monkeypatch.delenv(api.MODE_ENV)
    plan = f.tune()  # measured on the 10 recorded calls, without calling f again serially first
    assert plan.source == "tuned" and plan.size_class == "8-15" and f.plan is plan
    assert f.report().target.calls == 10
    assert entries_in(isolated_cache) == 1
    monkeypatch.setenv(api.MODE_ENV, "record")
    f.map([1])
    assert len(f.recorded) == 11  # recording goes on after tuning


# -- fresh processes: tuned, then cached, then tuned again after an edit -----------------------
SCRIPT = '''
import json
import sys

from advisor.api import advise


@advise(budget={budget})
def work(n):
    total = 0
    for i in range(n):
        total += (i * i) % {modulus}
    return total


if __name__ == "__main__":
    items = [20000 + 500 * i for i in range(16)]
    out = work.map(items)
    plan = work.plan
    print(json.dumps({{
        "source": plan.source,
        "plan": [plan.executor, plan.workers, plan.chunksize, plan.start_method],
        "key": plan.key,
        "equal": out == [work(x) for x in items],
        "again": work.map(items) == out,
        "advice": work.report().recommendation.executor,
        "busy": any(w.code == "busy-machine" for w in work.report().warnings),
    }}))
'''


def python_path() -> str:
    return os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)


def run_script(path: Path, cache_dir: Path) -> dict:
    env = {**os.environ, cache.CACHE_DIR_ENV: str(cache_dir), "PYTHONPATH": python_path()}
    env.pop(api.MODE_ENV, None)
    done = subprocess.run([sys.executable, str(path)], env=env, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_S, cwd=path.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_second_process_takes_the_plan_from_the_cache(tmp_path: Path) -> None:
    script, cache_dir = tmp_path / "tunes_itself.py", tmp_path / "fresh-cache"
    script.write_text(SCRIPT.format(budget=BUDGET, modulus=7))
    first = run_script(script, cache_dir)
    second = run_script(script, cache_dir)
    assert first["source"] == "tuned" and first["key"] == second["key"]
    if first["busy"]:  # measured while other programs took CPUs: provisional, so measured again
        assert second["source"] == "tuned"
    else:
        assert second["source"] == "cache" and first["plan"] == second["plan"]
        assert first["advice"] == second["advice"] == first["plan"][0]
    assert all(run[k] for run in (first, second) for k in ("equal", "again"))

    script.write_text(SCRIPT.format(budget=BUDGET, modulus=11))  # the body changed
    edited = run_script(script, cache_dir)
    assert edited["source"] == "tuned" and edited["key"] != first["key"]
    assert edited["equal"] and edited["again"]
    assert entries_in(cache_dir) == 2


# -- Jupyter ----------------------------------------------------------------------------------
def test_magic_line_parsing() -> None:
    from advisor.api.jupyter import parse_line

    assert parse_line("f items") == (None, "f", "items")
    assert parse_line("--budget 3 f [x * 2 for x in range(10)]") == (3.0, "f", "[x * 2 for x in range(10)]")
    assert parse_line("-b=1.5 f") == (1.5, "f", None)
    with pytest.raises(ValueError):
        parse_line("")
    with pytest.raises(ValueError):
        parse_line("--budget 0 f xs")


NOTEBOOK = '''
import sys
from IPython.core.interactiveshell import InteractiveShell

import advisor.api.jupyter as jupyter

ip = InteractiveShell.instance()
jupyter.load_ipython_extension(ip)
ip.run_cell("""
def slow(n):
    return sum(i * i for i in range(n))
items = [20000 + i for i in range(12)]
""")
ip.run_line_magic("paradvise", "--budget {budget} slow items")
line_report = jupyter.last_report
assert line_report is not None and line_report.target.name == "slow", line_report
assert not hasattr(ip.user_ns["slow"], "plan"), "the line magic must not decorate the function"
jupyter.last_report = None
ip.run_cell_magic("paradvise", "--budget {budget} slow", "total = [slow(n) for n in items]")
cell_report = jupyter.last_report
assert cell_report is not None and cell_report.target.calls == 12, cell_report
assert ip.user_ns["total"] == [ip.user_ns["slow"](n) for n in ip.user_ns["items"]]
assert ip.user_ns["slow"].__name__ == "slow" and not hasattr(ip.user_ns["slow"], "__wrapped__")
ip.run_line_magic("paradvise", "nosuch items")
print("MAGICS-OK")
'''


def test_jupyter_magics(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import IPython"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"IPython is not installed in {sys.executable}; the magics need it")
    program = tmp_path / "notebook.py"
    program.write_text(NOTEBOOK.format(budget=BUDGET))
    env = {**os.environ, cache.CACHE_DIR_ENV: str(tmp_path / "cache"), "PYTHONPATH": python_path()}
    done = subprocess.run([sys.executable, str(program)], env=env, capture_output=True, text=True,
                          timeout=SCRIPT_TIMEOUT_S, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MAGICS-OK" in done.stdout
    assert "paradvise:" in done.stdout  # the rendered panel title
    assert "could not evaluate 'nosuch'" in done.stdout


def test_a_plan_measured_on_a_busy_machine_is_provisional(helpers, isolated_cache: Path) -> None:
    f = advise(budget=BUDGET, executors=["threads"])(helpers.count_primes)
    f.map(range(100, 108))
    entry = cache.TuningCache(isolated_cache / cache.DB_NAME).get(f.plan.key)
    busy = any(w.code == "busy-machine" for w in f.report().warnings)
    assert entry is not None and entry.value["provisional"] is busy
    fresh = api.Advisor(helpers.count_primes)
    assert (fresh._from_cache(f.plan.size_class) is None) is busy  # a later run measures again
    assert fresh._from_cache(f.plan.size_class, provisional_too=True) is not None  # one that waited takes it


def test_one_process_tunes_while_the_others_wait(isolated_cache: Path) -> None:
    import threading

    order: list[str] = []
    with cache.tuning_lock("k") as waited:
        assert waited is False

        def second() -> None:
            with cache.tuning_lock("k") as second_waited:
                order.append(f"second waited={second_waited}")

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.3)
        order.append("first done")
    thread.join(10)
    assert order == ["first done", "second waited=True"]
