"""Finding the loop: the call tree, outermost loop functions, generators, user modules, pools."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from advisor.measure.boundary import RunSpec
from advisor.measure.capture import Recorder
from advisor.measure.child_process import new_workdir, run_host
from advisor.measure.counting import CallCounter, CallTree
from advisor.measure.locate import enclosing, loop_functions, starts_pools
from advisor.sweep.subject import bind_original


def count(calls: int, total_s: float, parents: dict[str, int], sites: dict[str, int] | None = None) -> dict[str, Any]:
    return {"calls": calls, "total_s": total_s, "parents": parents,
            "sites": sites if sites is not None else {"s.py:10": min(calls, 256)}}


# -- the call tree, by hand -------------------------------------------------------------------
def test_a_helper_inside_the_per_item_function_is_not_the_target() -> None:
    counts = {
        "main": count(1, 1.0, {"": 1}),
        "correction": count(400, 0.95, {"main": 400}),
        "edits1": count(11_078, 0.7, {"candidates": 11_000, "correction": 78}),
        "candidates": count(400, 0.9, {"correction": 400}),
    }
    loops = loop_functions(counts, wall=1.0)
    assert [r["name"] for r in loops] == ["correction"]
    assert loops[0]["calls"] == 400 and loops[0]["share"] == pytest.approx(0.95)
    assert enclosing(counts, "edits1") == ["candidates", "correction", "main"]


def test_calls_from_two_places_are_no_loop_and_small_shares_are_not_candidates() -> None:
    counts = {
        "setup": count(2, 0.5, {"": 2}, {"s.py:3": 1, "s.py:4": 1}),  # setup(); setup()
        "work": count(50, 0.4, {"setup": 50}),
        "tiny": count(1000, 0.01, {"": 1000}),
    }
    assert [r["name"] for r in loop_functions(counts, wall=1.0)] == ["work"]


def test_two_separate_loops_are_both_candidates_dominant_first() -> None:
    counts = {"a": count(10, 0.2, {"main": 10}), "b": count(20, 0.7, {"main": 20}), "main": count(1, 1.0, {"": 1})}
    assert [r["name"] for r in loop_functions(counts, wall=1.0)] == ["b", "a"]


# -- counting for real ------------------------------------------------------------------------
def test_counters_learn_parents_sites_and_time_generators_by_consumption() -> None:
    tree = CallTree()
    outer_c, inner_c, gen_c = CallCounter("outer", tree), CallCounter("inner", tree), CallCounter("gen", tree)

    inner = inner_c.wrap(lambda x: x + 1)

    def _outer(n: int) -> int:
        return sum(inner(i) for i in range(n))

    def _gen(n: int) -> Any:
        for i in range(n):
            yield inner(i)

    outer = outer_c.wrap(_outer)
    gen = gen_c.wrap(_gen)
    assert [outer(3) for _ in range(4)] == [6] * 4
    assert [sum(gen(2_000)) for _ in range(2)] == [sum(range(1, 2_001))] * 2  # fewer than go light
    assert outer_c.calls == 4 and inner_c.calls == 4 * 3 + 2 * 2_000
    assert inner_c.parents == {"outer": 12, "gen": 4_000}  # inside the generator while it is consumed
    assert gen_c.is_generator and gen_c.calls == 2
    assert gen_c.total_s > 0.0005  # the consumption, not the microsecond it takes to make a generator
    assert len(outer_c.sites) == 1 and next(iter(outer_c.sites)).endswith(f":{sys._getframe().f_lineno - 6}")


def test_recorder_records_a_generator_call_as_its_whole_consumption() -> None:
    finished: list[Recorder] = []
    recorder = Recorder(expected_calls=3, on_complete=finished.append)

    def squares(n: int) -> Any:
        for i in range(n):
            yield i * i

    wrapped = recorder.wrap(squares)
    assert [list(wrapped(n)) for n in (2, 3, 4)] == [[0, 1], [0, 1, 4], [0, 1, 4, 9]]
    assert recorder.is_generator and finished == [recorder]
    assert [c.args for c in recorder.calls] == [(2,), (3,), (4,)]
    assert [c.result for c in recorder.calls] == [[0, 1], [0, 1, 4], [0, 1, 4, 9]]


def test_methods_and_staticmethods_are_bound_where_pickle_finds_them() -> None:
    import pickle

    module = SimpleNamespace()

    class Encoder:
        def encode(self, x: int) -> int:
            return x

        @staticmethod
        def plain(x: int) -> int:
            return x

    module.Encoder = Encoder
    original_encode, original_plain = Encoder.__dict__["encode"], Encoder.__dict__["plain"].__func__
    Encoder.encode = lambda self, x: -1  # what the capture wrapper stands for
    bind_original(module, "Encoder.encode", original_encode)  # type: ignore[arg-type]
    bind_original(module, "Encoder.plain", original_plain)  # type: ignore[arg-type]
    assert Encoder.encode is original_encode and Encoder().encode(3) == 3
    assert isinstance(Encoder.__dict__["plain"], staticmethod) and Encoder.plain(4) == 4
    assert pickle.loads(pickle.dumps(3)) == 3


# -- the count pass on real scripts -------------------------------------------------------------
def run_count(tmp_path: Path, files: dict[str, str], script: str) -> dict[str, Any]:
    for name, source in files.items():
        (tmp_path / name).write_text(textwrap.dedent(source), encoding="utf-8")
    path = tmp_path / script
    finished = run_host(RunSpec("count", str(path), [str(path)]), 120, new_workdir())
    assert finished.returncode == 0, finished.stderr
    return finished.result.to_json()


def test_functions_of_the_users_own_modules_are_counted_under_their_module(tmp_path: Path) -> None:
    result = run_count(tmp_path, {
        "helpers.py": """
            def score(x):
                return sum(i * i for i in range(x))

            class Scorer:
                def rate(self, x):
                    return score(x) % 7
        """,
        "main.py": """
            from helpers import Scorer, score
            scorer = Scorer()
            print([scorer.rate(n) for n in range(200, 260)])
        """}, "main.py")
    functions = result["functions"]
    assert functions["helpers:Scorer.rate"]["calls"] == 60
    assert functions["helpers:score"]["parents"] == {"helpers:Scorer.rate": 60}
    loops = loop_functions(functions, max(result["wall_s"] - result["import_s"], 1e-3))
    assert loops[0]["name"] == "helpers:Scorer.rate" and loops[0]["site"].endswith("main.py:4")
    assert not list(tmp_path.glob("__pycache__"))  # nothing written into the user's folder


def test_a_process_pool_map_is_a_loop_over_the_function_it_maps(tmp_path: Path) -> None:
    result = run_count(tmp_path, {"pooled.py": """
        import multiprocessing

        def work(x):
            return x * x

        if __name__ == "__main__":
            with multiprocessing.get_context("fork").Pool(2) as pool:
                print(sum(pool.map(work, range(500), chunksize=3)))
    """}, "pooled.py")
    assert result["functions"]["work"]["calls"] == 500
    [pool] = result["user_pools"]
    assert (pool["function"], pool["executor"], pool["workers"], pool["chunksize"], pool["items"]) == (
        "work", "processes", 2, 3, 500)
    assert pool["site"].endswith("pooled.py:9") and pool["method"] == "Pool.map"
    assert starts_pools(Path(tmp_path / "pooled.py"))


def test_predicted_script_speedup_is_amdahl_on_the_loop() -> None:
    from advisor.verify import predicted_script_speedup

    assert predicted_script_speedup(10.0, 5.0, 2.0) == pytest.approx(10.0 / 7.5)
    assert predicted_script_speedup(1.0, 2.0, 4.0) == pytest.approx(4.0)  # a loop no longer than the script
    assert predicted_script_speedup(3.0, 1.0, 1.0) == pytest.approx(1.0)


def test_a_counter_of_many_tiny_calls_goes_light_and_keeps_its_estimates() -> None:
    from advisor.measure.counting import LIGHT_AFTER_CALLS

    tree = CallTree()
    tiny_c, rec_c = CallCounter("tiny", tree), CallCounter("walk", tree)
    tiny = tiny_c.wrap(lambda x: x)
    holder: dict[str, Any] = {}
    holder["walk"] = rec_c.wrap(lambda n: 0 if n == 0 else holder["walk"](n - 1))
    for i in range(3 * LIGHT_AFTER_CALLS):
        tiny(i)
        holder["walk"](1)
    assert tiny_c.light_from == LIGHT_AFTER_CALLS and tiny_c.calls == 3 * LIGHT_AFTER_CALLS
    summary = tiny_c.summary()
    assert summary["light_calls"] == 2 * LIGHT_AFTER_CALLS
    assert summary["parents"] == {"": pytest.approx(3 * LIGHT_AFTER_CALLS)}
    assert rec_c.light_from == 0 and rec_c.calls == 3 * LIGHT_AFTER_CALLS  # recursive: counted in full


def test_side_effects_seen_by_the_audit_hook_are_described() -> None:
    import os

    from advisor.measure.capture import _side_effect_detail

    assert _side_effect_detail("open", ("/tmp/out.txt", "w", 0)) == "/tmp/out.txt"
    assert _side_effect_detail("open", ("/tmp/in.txt", "r", 0)) is None  # reading changes nothing
    assert _side_effect_detail("open", ("/tmp/x", None, os.O_WRONLY | os.O_CREAT)) == "/tmp/x"
    assert _side_effect_detail("open", ("/tmp/x", None, os.O_RDONLY)) is None
    assert _side_effect_detail("open", ("/p/__pycache__/m.cpython-311.pyc.123", None, os.O_WRONLY)) is None
    assert _side_effect_detail("subprocess.Popen", ("ls", ["ls", "-l"], None, None)) == "ls -l"
    assert _side_effect_detail("socket.connect", (object(), ("127.0.0.1", 80))) == "('127.0.0.1', 80)"


def test_a_recorded_call_that_writes_a_file_is_noted(tmp_path: Path) -> None:
    from advisor.measure.capture import watch_side_effects

    recorder = Recorder()
    watch_side_effects(recorder)  # an audit hook stays for the life of the process: it checks in_call()

    def convert(i: int) -> int:
        (tmp_path / f"out{i}.txt").write_text(str(i))
        return i

    wrapped = recorder.wrap(convert)
    (tmp_path / "outside.txt").write_text("not in a call")
    assert [wrapped(i) for i in range(5)] == list(range(5))
    written = recorder.side_effects["files written"]
    assert written["count"] == 5 and written["examples"][0].endswith("out0.txt")
    assert not any("outside" in e for e in written["examples"])


def test_function_names_a_function_of_an_installed_module(tmp_path: Path) -> None:
    (tmp_path / "wraps_text.py").write_text(textwrap.dedent("""
        import textwrap
        texts = [("word " * (50 + i)) for i in range(40)]
        print(len([textwrap.fill(t, width=40) for t in texts]))
    """), encoding="utf-8")
    path = tmp_path / "wraps_text.py"
    spec = RunSpec("count", str(path), [str(path)], wanted="textwrap:fill")
    finished = run_host(spec, 120, new_workdir())
    assert finished.returncode == 0, finished.stderr
    counted = (finished.result.functions or {})["textwrap:fill"]
    assert counted["calls"] == 40 and next(iter(counted["sites"])).endswith("wraps_text.py:4")
    assert not any(name.startswith("textwrap:") and name != "textwrap:fill" for name in (finished.result.functions or {}))


def test_submit_loops_and_joblib_parallel_are_loops_run_here_while_counting(tmp_path: Path) -> None:
    result = run_count(tmp_path, {"jobs.py": """
        from concurrent.futures import ProcessPoolExecutor
        from joblib import Parallel, delayed

        def work(x):
            return sum(i * i for i in range(x))

        def other(x):
            return x + 1

        if __name__ == "__main__":
            print(sum(Parallel(n_jobs=2, batch_size=4)(delayed(work)(200 + i) for i in range(60))))
            with ProcessPoolExecutor(2) as ex:
                futures = [ex.submit(other, i) for i in range(30)]
                print(sum(f.result() for f in futures))
    """}, "jobs.py")
    functions = result["functions"]
    assert functions["work"]["calls"] == 60 and next(iter(functions["work"]["sites"])).endswith("jobs.py:12")
    assert functions["other"]["calls"] == 30 and next(iter(functions["other"]["sites"])).endswith("jobs.py:14")
    pools = {p["method"]: p for p in result["user_pools"]}
    assert (pools["joblib.Parallel"]["workers"], pools["joblib.Parallel"]["chunksize"]) == (2, 4)
    assert pools["ProcessPoolExecutor.submit"]["items"] == 30  # one loop of submits, not thirty pools


def test_apply_async_loops_are_loops_run_here_while_counting(tmp_path: Path) -> None:
    result = run_count(tmp_path, {"applies.py": """
        import multiprocessing

        def work(x):
            return sum(i * i for i in range(x))

        if __name__ == "__main__":
            with multiprocessing.Pool(3) as pool:
                pending = [pool.apply_async(work, (200 + i,)) for i in range(25)]
                print(sum(p.get() for p in pending), pool.apply(work, (10,)))
    """}, "applies.py")
    work = result["functions"]["work"]
    assert work["calls"] == 26 and next(iter(work["sites"])).endswith("applies.py:9")
    loop = next(p for p in result["user_pools"] if p["site"].endswith("applies.py:9"))
    assert (loop["method"], loop["workers"], loop["items"]) == ("Pool.apply_async", 3, 25)
