"""The workloads: samples/, bench/workloads/ and bench/real/, imported under another name than
``__main__``, with the items each one's main loop maps its hot function over."""
from __future__ import annotations

import importlib.util
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from settings import FRESH, FRESH2, FRESH3, HAVE_JOBLIB, REAL, SAMPLES, WORKLOADS

# ---------------------------------------------------------------- workloads

@dataclass
class Workload:
    name: str  # e.g. samples/cpu_bound, workloads/tiny_events
    path: Path


@dataclass
class Prepared:
    hot: str
    items: list[Any]
    teardown: Optional[Callable[[], None]] = None
    # One iteration of the loop as the script makes it, when that is not ``HOT(item)``: a
    # method on the script's instance, several arguments, a generator consumed (bench/real).
    call: Optional[Callable[[Any], Any]] = None
    # Objects main() keeps alive during its loop. They matter: with a 4 MB array still
    # referenced, glibc keeps mmap-ing each 4 MB temporary, and numpy_arrays' loop runs
    # ~5x slower than when that array has been freed (the mmap threshold then rises).
    keep: Any = None


def discover(only: Optional[str]) -> list[Workload]:
    found = [Workload(f"samples/{p.stem}", p) for p in sorted(SAMPLES.glob("*.py"))]
    found += [Workload(f"workloads/{p.stem}", p) for p in sorted(WORKLOADS.glob("*.py"))]
    # Only the scripts: a real script's own helper modules say no HOT.
    found += [Workload(f"real/{p.stem}", p) for p in sorted(REAL.glob("*.py")) if "\nHOT = " in p.read_text()]
    found += [Workload(f"fresh/{p.stem}", p) for p in sorted(FRESH.glob("*.py"))]
    found += [Workload(f"fresh2/{p.stem}", p) for p in sorted(FRESH2.glob("*.py"))]
    found += [Workload(f"fresh3/{p.stem}", p) for p in sorted(FRESH3.glob("*.py"))]
    wanted = [part for part in (only or "").split(",") if part]
    if not wanted:
        return found
    # In the order asked for: with --time-limit, the first named are the ones that run.
    ordered = {w.name: w for part in wanted for w in found if part in w.name}
    return list(ordered.values())


def load_module(path: Path) -> Any:
    """Import a script by path under its own name (not __main__, so its main() does not run).

    Its folder goes on sys.path so that pool workers unpickle the hot function by module
    name: forked ones find it in sys.modules, spawned ones import the file (running its
    top-level code, as a spawned worker of the user's own script would). Each workload is
    benched in its own process, so two workloads' names never meet.
    """
    name = path.stem
    sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    if HAVE_JOBLIB:
        # loky's workers are fresh interpreters that cannot import this module by its
        # made-up name; pickle its functions by value, as cloudpickle does for a script's
        # own __main__ functions when the user calls joblib from the script.
        import cloudpickle
        cloudpickle.register_pickle_by_value(module)
    return module


def as_script(module: Any) -> None:
    """In a trial child: make the workload the __main__ module, as it is in the user's run.

    Spawned pool workers (start method spawn or forkserver, loky's) re-import the main
    module as __mp_main__; without this they would import bench/run.py instead, paying
    its imports rather than the script's.
    """
    sys.modules["__main__"] = module


# Adapters for samples/: each rebuilds the items exactly as the sample's main() does.
def _cpu_bound(m, scale):
    chunk, base = 15_000, 1_000_000
    return Prepared("count_primes", [(base + i * chunk, base + (i + 1) * chunk) for i in range(24 * scale)])


def _global_state(m, scale):
    return Prepared("score_record", [(f"rec-{i:03d}", 200_000 + 2_000 * i) for i in range(24 * scale)])


def _hashing(m, scale):
    import random
    rng = random.Random(2024)
    return Prepared("pack_blob", [rng.randbytes(2_000_000).translate(m.TABLE) for _ in range(24 * scale)])


def _numpy_arrays(m, scale):
    noise = m.np.random.default_rng(12345).standard_normal(500_000)
    return Prepared("signal_energy", [noise * (1.0 + 0.05 * i) for i in range(24 * scale)], keep=noise)


def _blas_calls(m, scale):
    return Prepared("fit_segment", list(range(40 * scale)))


def _subprocess_calls(m, scale):
    return Prepared("count_words", [m.make_document(i) for i in range(20 * scale)])


def _tiny_calls(m, scale):
    prefixes = ["ab", " cd_x", "ef  ", "gh_y", "ij "]
    return Prepared("normalize", [f"{prefixes[i % 5]}_{i % 50_000:05d}" for i in range(600_000 * scale)])


def _uneven_tasks(m, scale):
    small, large = 1_500, 22_000
    jobs = [(100_000 + i * small, small) for i in range(30 * scale)]
    return Prepared("collatz_job", jobs + [(500_000 + i * large, large) for i in range(3 * scale)])


def _async_fetch(m, scale):
    return Prepared("fetch_reading", list(range(1, 30 * scale + 1)))  # asyncio.sleep: no server needed


def _http_fetch(m, scale):
    # main() builds its server inline; do the same with the sample's own handler class,
    # in this process, so every forked trial (and its pool workers) can reach it.
    # The sample's own server class: its listen backlog (128, not socketserver's 5) decides
    # whether 48 concurrent requests are served or their connections wait a 1 s SYN retry.
    server = m.APIServer(("127.0.0.1", 0), m.SlowJSONHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]

    def stop():
        server.shutdown()
        server.server_close()

    return Prepared("fetch_item", [f"http://127.0.0.1:{port}/items/{i}" for i in range(30 * scale)], stop)


SAMPLE_ADAPTERS: dict[str, Callable[[Any, int], Prepared]] = {
    "async_fetch": _async_fetch, "blas_calls": _blas_calls, "cpu_bound": _cpu_bound, "global_state": _global_state,
    "hashing": _hashing, "http_fetch": _http_fetch, "numpy_arrays": _numpy_arrays,
    "subprocess_calls": _subprocess_calls, "tiny_calls": _tiny_calls, "uneven_tasks": _uneven_tasks,
}


def prepare(workload: Workload, scale: int) -> tuple[Any, Prepared]:
    """Import the workload and build its items; raise LookupError to skip it with a reason."""
    module = load_module(workload.path)
    if hasattr(module, "items") and hasattr(module, "HOT"):
        return module, Prepared(module.HOT, module.items(scale), getattr(module, "teardown", None),
                                call=getattr(module, "bench_call", None))
    adapter = SAMPLE_ADAPTERS.get(workload.path.stem)
    if adapter is None:
        raise LookupError("no items()/HOT and no adapter in bench/run.py SAMPLE_ADAPTERS")
    return module, adapter(module, scale)
