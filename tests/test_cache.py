"""The tuning cache: keys, the SQLite store under concurrent writers, and `paradvise cache`."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from advisor.api import cache
from advisor.api.cache import TuningCache, entry_key, function_fingerprint, size_class
from advisor.cli.cache_commands import cache as cache_group

ROOT = Path(__file__).resolve().parent.parent
# Hang guard for the writer processes, not a timing assertion.
WRITERS_TIMEOUT_S = 120


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> TuningCache:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    return TuningCache()


def define(source: str, name: str = "f", module: str = "fp_demo") -> types.FunctionType:
    """A function compiled from ``source`` (no file: fingerprints use code only)."""
    namespace: dict = {"__name__": module}
    exec(compile(textwrap.dedent(source), f"<{module}>", "exec"), namespace)
    return namespace[name]


# -- keys ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n, expected", [(0, "0"), (1, "1"), (2, "2-3"), (3, "2-3"), (4, "4-7"),
                                         (100, "64-127"), (128, "128-255")])
def test_size_class_is_a_power_of_two_bucket(n: int, expected: str) -> None:
    assert size_class(n) == expected


def test_function_fingerprint_follows_the_body() -> None:
    base = define("def f(x):\n    return x + 1\n")
    same = define("def f(x):\n    return x + 1\n")
    edited = define("def f(x):\n    return x + 2\n")
    other_call = define("def f(x):\n    return g(x)\n")
    other_name = define("def f(x):\n    return h(x)\n")
    assert function_fingerprint(base) == function_fingerprint(same)
    assert function_fingerprint(base) != function_fingerprint(edited)
    # Same byte code, other global called: co_names tells them apart.
    assert function_fingerprint(other_call) != function_fingerprint(other_name)
    assert function_fingerprint(base) != function_fingerprint(define("def f(x):\n    return x + 1\n", module="m2"))


def test_function_fingerprint_ignores_decorators_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "fp_source_demo.py"
    sources = [
        "def deco(**kw):\n    return lambda f: f\n\n@deco(budget=2)\ndef f(x):\n    return x * 3\n",
        "def deco(**kw):\n    return lambda f: f\n\n@deco(budget=9)\ndef f(x):\n    # a comment\n    return x * 3\n",
        "def deco(**kw):\n    return lambda f: f\n\n@deco(budget=9)\ndef f(x):\n    return x * 4\n",
    ]
    prints = []
    for source in sources:
        path.write_text(source)
        namespace: dict = {"__name__": "fp_source_demo"}
        code = compile(source, str(path), "exec")
        exec(code, namespace)
        import linecache

        linecache.checkcache(str(path))
        prints.append(function_fingerprint(namespace["f"]))
    assert prints[0] == prints[1]
    assert prints[1] != prints[2]


def test_function_fingerprint_is_stable_across_processes() -> None:
    """Frozenset constants and nested code objects must not leak hash seeds or addresses."""
    program = textwrap.dedent("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from advisor.api.cache import function_fingerprint
        def f(x):
            if x in {"alpha", "beta", "gamma", "delta"}:
                return sorted([x], key=lambda s: s[::-1])
            return [y for y in range(3)]
        print(function_fingerprint(f))
    """)
    prints = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", program, str(ROOT)], env=env, capture_output=True,
                             text=True, check=True)
        prints.add(out.stdout.strip())
    assert len(prints) == 1


def test_cache_dir_override_and_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "here"))
    assert cache.db_path() == tmp_path / "here" / cache.DB_NAME
    monkeypatch.delenv(cache.CACHE_DIR_ENV)
    assert cache.cache_dir().name == "paradvise"


# -- the store ------------------------------------------------------------------------------
def test_put_get_round_trip_as_json(store: TuningCache) -> None:
    key = entry_key("f" * 64, "machine01", "4-7")
    assert store.get(key) is None
    value = {"plan": {"executor": "threads", "workers": 4, "chunksize": None}, "items": 5}
    store.put(key, "mod.f", "f" * 64, "machine01", "4-7", value)
    entry = store.get(key)
    assert entry is not None and entry.value == value and entry.function == "mod.f"
    store.put(key, "mod.f", "f" * 64, "machine01", "4-7", {**value, "items": 6})  # replaced, not added
    assert len(store.entries()) == 1 and store.get(key).value["items"] == 6
    raw = sqlite3.connect(str(store.path)).execute("SELECT value FROM plans").fetchone()[0]
    assert json.loads(raw)["items"] == 6  # stored as JSON text, never pickle
    assert sqlite3.connect(str(store.path)).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_damaged_row_is_a_miss(store: TuningCache) -> None:
    store.put("k1", "mod.f", "a" * 64, "m", "1", {"plan": {}})
    with sqlite3.connect(str(store.path)) as conn:
        conn.execute("UPDATE plans SET value = '{not json'")
    assert store.get("k1") is None
    assert store.entries() == []


def test_find_and_clear(store: TuningCache) -> None:
    assert store.clear() == 0
    for size in ("1", "2-3"):
        store.put(entry_key("b" * 64, "m", size), "mod.g", "b" * 64, "m", size, {"plan": {}})
    assert len(store.find("bbbb")) == 2
    assert [e.size_class for e in store.find(entry_key("b" * 64, "m", "2-3"))] == ["2-3"]
    assert store.clear() == 2 and store.entries() == []


WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from advisor.api.cache import TuningCache
    store, me, count = TuningCache(), int(sys.argv[2]), int(sys.argv[3])
    for i in range(count):
        value = {"plan": {"executor": "processes", "workers": me, "chunksize": i}, "writer": me}
        store.put(f"own-{me}-{i}", "mod.f", "c" * 64, "m", str(i), value)   # one row per write
        store.put(f"shared-{i % 5}", "mod.f", "c" * 64, "m", str(i), value)  # contended rows
""")


def test_concurrent_writers_do_not_corrupt_the_cache(store: TuningCache) -> None:
    writers, count = 6, 40
    env = {**os.environ, cache.CACHE_DIR_ENV: str(store.path.parent)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT), str(me), str(count)], env=env,
                              stderr=subprocess.PIPE, text=True) for me in range(writers)]
    for proc in procs:
        _, err = proc.communicate(timeout=WRITERS_TIMEOUT_S)
        assert proc.returncode == 0, err
    assert store.integrity() == "ok"
    entries = store.entries()
    assert len(entries) == writers * count + 5
    shared = [e for e in entries if e.key.startswith("shared-")]
    assert all(e.value["writer"] in range(writers) for e in shared)


# -- paradvise cache ... ----------------------------------------------------------------------
def test_cli_list_show_clear(store: TuningCache) -> None:
    runner = CliRunner()
    empty = runner.invoke(cache_group, ["list"])
    assert empty.exit_code == 0 and "0 entries" in empty.output
    key = entry_key("d" * 64, "m1", "8-15")
    report = {"recommendation": {"reason": "processes 2w measured 1.9x faster"}}
    store.put(key, "mod.work", "d" * 64, "m1", "8-15",
              {"plan": {"executor": "processes", "workers": 2, "chunksize": 3, "expected_speedup": 1.9},
               "report": report})
    store.put(entry_key("e" * 64, "m1", "8-15"), "mod.other", "e" * 64, "m1", "8-15",
              {"plan": {"executor": "serial", "workers": 1}})

    listed = runner.invoke(cache_group, ["list"])
    assert listed.exit_code == 0
    assert key in listed.output and "mod.work" in listed.output and "processes 2w chunk 3" in listed.output
    as_json = json.loads(runner.invoke(cache_group, ["list", "--json"]).output)
    assert {e["key"] for e in as_json["entries"]} == {key, entry_key("e" * 64, "m1", "8-15")}

    shown = runner.invoke(cache_group, ["show", key[:8]])
    assert shown.exit_code == 0
    data = json.loads(shown.output)
    assert data["plan"]["workers"] == 2 and data["reason"].startswith("processes 2w")
    missing = runner.invoke(cache_group, ["show", "zzz"])
    assert missing.exit_code == 1 and "no cached plan" in missing.output
    store.put(entry_key("d" * 64, "m1", "16-31"), "mod.work", "d" * 64, "m1", "16-31", {"plan": {}})
    ambiguous = runner.invoke(cache_group, ["show", "dddd"])
    assert ambiguous.exit_code == 2 and "matches 2 entries" in ambiguous.output

    cleared = runner.invoke(cache_group, ["clear"])
    assert cleared.exit_code == 0 and "removed 3" in cleared.output
    assert store.entries() == []


def test_cli_reports_an_unusable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cache.CACHE_DIR_ENV, str(tmp_path / "cache"))
    (tmp_path / "cache" / cache.DB_NAME).mkdir(parents=True)  # a folder where the database should be
    result = CliRunner().invoke(cache_group, ["list"])
    assert result.exit_code == 1
    assert "could not be used" in result.output and "Traceback" not in result.output
