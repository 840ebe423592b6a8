"""advisor.model's JSON round trip against the contract, and advisor.present.code's snippets."""
from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from contract import WARNING_CODES, check_contract

from advisor.model import (
    SCHEMA_VERSION,
    Caches,
    Classification,
    DataProfile,
    Machine,
    Measurement,
    PythonInfo,
    Recommendation,
    Report,
    Target,
    Trial,
    Warning,
)
from advisor.present import code as code_mod
from advisor.present.code import emit

KIB, MIB = 1024, 1024 * 1024


def sample_report(**changes) -> Report:
    machine = Machine(
        logical_cpus=8, physical_cores=4, usable_cpus=6, usable_cpus_reason="cgroup cpu.max allows 6 CPUs",
        caches=Caches(l1d_bytes=48 * KIB, l2_bytes=1280 * KIB, l3_bytes=30 * MIB, l3_shared_by=8),
        memory_bytes=32 * 1024 * MIB, cpu_model="Test CPU @ 3.0GHz",
        python=PythonInfo("3.11.7", "CPython", gil_enabled=True, free_threaded_build=False,
                          executable="/usr/bin/python3"),
        start_methods=["fork", "spawn", "forkserver"], default_start_method="fork",
        thread_pools=[{"user_api": "blas", "internal_api": "openblas", "num_threads": 8}],
    )
    trials = [
        Trial("serial", 1, None, None, 2.0, 1.0, True, repeats=[2.0, 2.01, 1.99], spread=0.01, results_match=True),
        Trial("threads", 4, None, None, 1.95, 1.0256, True, repeats=[1.95], results_match=True),
        Trial("threads", 4, 25, None, 1.9, 1.0526, True, results_match=None),
        Trial("processes", 4, 8, "fork", 0.6, 3.3333, True, repeats=[0.6, 0.61], spread=0.005, results_match=True),
        Trial("processes", 6, 1, "spawn", None, None, False, error="timed out after 5.0 s"),
    ]
    report = Report(
        schema_version=SCHEMA_VERSION,
        tool={"name": "paradvise", "version": "0.1.0"},
        machine=machine,
        target=Target(name="work", file="/tmp/script.py", line=12, calls=200, per_call_seconds=0.01,
                      is_coroutine=False, located_by="scalene",
                      profile={"share": 0.93, "python_percent": 90.0, "native_percent": 10.0},
                      per_call_spread_seconds=0.0004, script_seconds=2.3),
        classification=Classification("cpu-bound", {"per_call_seconds": 0.01, "two_thread_speedup": 1.02,
                                                    "native_share": None, "fits_in": "L2"},
                                      "the GIL serializes threads"),
        data=DataProfile(arg_bytes=120, result_bytes=24, working_set_bytes=300 * KIB, fits_in="L2",
                         items=200, items_measured=200),
        trials=trials,
        recommendation=Recommendation("processes", 4, 8, "fork", 3.333, "processes 4w chunk 8 measured 3.33x.",
                                      runner_up="processes 6w"),
        warnings=[Warning("missing-main-guard", "The script has no main guard."),
                  Warning("unstable-measurements", "Repeats differ by 12%.")],
        code="print('hello')\n",
        script={"path": "/tmp/script.py", "cwd": "/tmp"},
        timings={"script_s": 2.3, "sweep_s": 4.1},
    )
    return dataclasses.replace(report, **changes)


def through_json(value: dict) -> dict:
    return json.loads(json.dumps(value))


# -- Report JSON ----------------------------------------------------------------------------

class TestReportJson:
    def test_round_trip_is_equal(self):
        report = sample_report()
        again = Report.from_json(through_json(report.to_json()))
        assert again == report
        assert isinstance(again.machine.caches, Caches)
        assert isinstance(again.trials[3], Trial) and again.trials[3].repeats == [0.6, 0.61]
        assert isinstance(again.warnings[0], Warning)

    def test_round_trip_of_a_serial_recommendation_with_no_warnings(self):
        report = sample_report(recommendation=Recommendation("serial", 1, None, None, 1.0, "Stay serial."),
                               warnings=[], trials=[])
        assert Report.from_json(through_json(report.to_json())) == report

    def test_json_honours_the_contract(self):
        check_contract(through_json(sample_report().to_json()))

    def test_json_types_in_detail(self):
        data = through_json(sample_report().to_json())
        assert data["schema_version"] == 1
        assert data["machine"]["caches"]["l3_shared_by"] == 8
        assert data["trials"][4] == {**data["trials"][4], "seconds": None, "speedup": None, "ok": False,
                                     "error": "timed out after 5.0 s", "chunksize": 1, "start_method": "spawn"}
        assert data["trials"][0]["chunksize"] is None and data["trials"][0]["start_method"] is None
        assert data["recommendation"]["expected_speedup"] == 3.333
        assert data["warnings"][0] == {"code": "missing-main-guard", "message": "The script has no main guard."}

    def test_extra_fields_are_tolerated(self):
        data = through_json(sample_report().to_json())
        data["added_later"] = {"x": 1}
        data["machine"]["new_field"] = 3
        data["trials"][0]["new_field"] = "y"
        assert Report.from_json(data) == sample_report()

    @pytest.mark.parametrize("version", [0, 2, "1", None])
    def test_other_schema_versions_are_rejected(self, version):
        data = through_json(sample_report().to_json())
        data["schema_version"] = version
        with pytest.raises(ValueError, match="schema_version"):
            Report.from_json(data)

    def test_missing_schema_version_is_rejected(self):
        data = through_json(sample_report().to_json())
        del data["schema_version"]
        with pytest.raises(ValueError, match="schema_version"):
            Report.from_json(data)

    def test_measurement_round_trip(self):
        m = Measurement(
            items=10, items_measured=10, call_style="star", per_call={"median": 0.1, "mad": 0.001},
            cpu_ratio=0.98, thread_cpu_ratio=0.97, gil_probe={"threads": 2, "speedup": 1.0},
            arg_bytes=1, result_bytes=2, peak_alloc_bytes=3, working_set_bytes=4,
            overheads={"process_task_s": 1e-4}, trials=sample_report().trials,
            warnings=[Warning("target-error", "1 of 10 recorded calls raised")],
            exclusions={"processes": "unpicklable"}, errors=1, late=True, sweep_seconds=3.5)
        assert Measurement.from_json(through_json(m.to_json())) == m


class TestContractChecker:
    """check_contract must itself catch what it is there to catch."""

    def broken(self, mutate) -> dict:
        data = through_json(sample_report().to_json())
        mutate(data)
        return data

    @pytest.mark.parametrize("mutate", [
        lambda d: d["machine"]["caches"].pop("l2_bytes"),
        lambda d: d["target"].pop("is_coroutine"),
        lambda d: d["recommendation"].pop("reason"),
        lambda d: d.pop("code"),
        lambda d: d["tool"].pop("version"),
        lambda d: d["trials"][1].pop("ok"),
        lambda d: d["warnings"][0].pop("message"),
    ])
    def test_missing_fields(self, mutate):
        with pytest.raises(AssertionError, match="missing"):
            check_contract(self.broken(mutate))

    @pytest.mark.parametrize("mutate", [
        lambda d: d["machine"].__setitem__("usable_cpus", 2.0),
        lambda d: d["machine"]["python"].__setitem__("gil_enabled", 1),
        lambda d: d["target"].__setitem__("line", True),
        lambda d: d["target"].__setitem__("per_call_seconds", "0.01"),
        lambda d: d["recommendation"].__setitem__("workers", None),
        lambda d: d["trials"][0].__setitem__("seconds", "2"),
        lambda d: d["classification"].__setitem__("evidence", []),
        lambda d: d.__setitem__("warnings", {}),
    ])
    def test_wrong_types(self, mutate):
        with pytest.raises(AssertionError, match="should be"):
            check_contract(self.broken(mutate))

    @pytest.mark.parametrize("mutate", [
        lambda d: d["classification"].__setitem__("kind", "compute-bound"),
        lambda d: d["recommendation"].__setitem__("executor", "ray"),
        lambda d: d["data"].__setitem__("fits_in", "L4"),
        lambda d: d["warnings"][0].__setitem__("code", "made-up"),
        lambda d: d.__setitem__("schema_version", 2),
    ])
    def test_bad_enum_values(self, mutate):
        with pytest.raises(AssertionError):
            check_contract(self.broken(mutate))

    def test_every_stable_warning_code_passes(self):
        warnings = [Warning(code, "m") for code in sorted(WARNING_CODES)]
        check_contract(through_json(sample_report(warnings=warnings).to_json()))


# -- present/code.emit ----------------------------------------------------------------------

MODULE = '''
import asyncio


def square(x):
    return x * x


def mul(a, b):
    return a * b


async def asquare(x):
    await asyncio.sleep(0)
    return x * x
'''
SQUARES = [i * i for i in range(20)]
SCRIPT = "/somewhere/else/mod_under_test.py"


def rec(executor: str, workers: int = 1, chunksize=None, start_method=None) -> Recommendation:
    return Recommendation(executor, workers, chunksize, start_method, 1.0 if executor == "serial" else 2.5, "r")


CASES = {
    "serial": rec("serial"),
    "threads": rec("threads", 4),
    "threads_chunked": rec("threads", 3, 4),
    "processes": rec("processes", 2, 3, "fork"),
    "processes_spawn": rec("processes", 2, None, "spawn"),
    "asyncio": rec("asyncio", 5),
}


def run_emitted(tmp_path: Path, code: str, items: str) -> subprocess.CompletedProcess:
    (tmp_path / "mod_under_test.py").write_text(MODULE)
    assert code.count("items = []") == 1
    (tmp_path / "advice.py").write_text(code.replace("items = []", f"items = {items}"))
    return subprocess.run([sys.executable, str(tmp_path / "advice.py")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)


def printed(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr
    return ast.literal_eval(result.stdout.strip().splitlines()[-1])


class TestEmit:
    @pytest.mark.parametrize("case", sorted(CASES))
    @pytest.mark.parametrize("style", ["single", "star"])
    def test_compiles(self, case, style):
        code = emit(CASES[case], SCRIPT, "asquare" if case == "asyncio" else "square", style,
                    is_coroutine=case == "asyncio")
        compile(code, "x", "exec")
        assert "from mod_under_test import" in code
        assert "paradvise:" in code.splitlines()[0]

    @pytest.mark.parametrize("case", ["serial", "threads", "threads_chunked", "processes", "processes_spawn"])
    def test_runs_and_prints_the_results(self, tmp_path, case):
        code = emit(CASES[case], SCRIPT, "square")
        assert printed(run_emitted(tmp_path, code, "list(range(20))")) == SQUARES

    def test_asyncio_runs(self, tmp_path):
        code = emit(CASES["asyncio"], SCRIPT, "asquare", is_coroutine=True)
        assert "Semaphore(5)" in code and "asyncio.run(map_asquare(items))" in code
        assert printed(run_emitted(tmp_path, code, "list(range(20))")) == SQUARES

    def test_threads_use_the_measured_workers(self):
        assert "ThreadPoolExecutor(max_workers=4)" in emit(CASES["threads"], SCRIPT, "square")
        chunked = emit(CASES["threads_chunked"], SCRIPT, "square")
        assert "ThreadPoolExecutor(max_workers=3)" in chunked and "chunks = [items[i:i + 4]" in chunked

    def test_processes_use_the_measured_configuration(self):
        code = emit(CASES["processes"], SCRIPT, "square")
        assert 'get_context("fork")' in code and "Pool(processes=2)" in code
        assert "pool.map(square, items, chunksize=3)" in code
        assert 'if __name__ == "__main__":' in code

    def test_star_processes_use_starmap(self, tmp_path):
        code = emit(CASES["processes"], SCRIPT, "mul", call_style="star")
        assert "pool.starmap(mul, items, chunksize=3)" in code
        assert printed(run_emitted(tmp_path, code, "[(i, i) for i in range(20)]")) == SQUARES

    @pytest.mark.parametrize("case", ["serial", "threads", "threads_chunked"])
    def test_star_style_runs(self, tmp_path, case):
        code = emit(CASES[case], SCRIPT, "mul", call_style="star")
        assert "mul(*x)" in code
        assert printed(run_emitted(tmp_path, code, "[(i, i) for i in range(20)]")) == SQUARES

    def test_summary(self):
        assert code_mod.summary(CASES["serial"]) == "stay serial"
        assert code_mod.summary(CASES["threads_chunked"]) == "use threads (3 workers, chunksize 4), 2.50x faster"


@pytest.mark.parametrize("script", ["/tmp/my-script.py", "/tmp/01_demo.py"])
def test_emit_compiles_for_scripts_whose_names_are_not_identifiers(script):
    compile(emit(CASES["threads"], script, "square"), "x", "exec")


def test_emit_works_for_a_target_named_like_a_template_helper(tmp_path):
    code = emit(CASES["serial"], SCRIPT, "run_all")
    (tmp_path / "mod_under_test.py").write_text("def run_all(x):\n    return x * x\n")
    (tmp_path / "advice.py").write_text(code.replace("items = []", "items = list(range(20))"))
    result = subprocess.run([sys.executable, str(tmp_path / "advice.py")], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert printed(result) == SQUARES


def test_asyncio_for_a_blocking_function_uses_to_thread():
    code = emit(CASES["asyncio"], SCRIPT, "square", is_coroutine=False)
    assert "await asyncio.to_thread(square, x)" in code
    compile(code, "x", "exec")
