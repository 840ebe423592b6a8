"""Dask: ``client.map`` + ``client.gather`` on a fresh LocalCluster, or on the scheduler the
user named (``--dask ADDRESS``), for users who outgrow one machine."""
from __future__ import annotations

import math
import sys
import time
import types
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from ..analyse.workload import AMORTIZE_FACTOR, CHUNKS_PER_WORKER_DEFAULT, Config
from .base import ChunkCall, Code, CodeSpec, Executor, chunked_body, chunks_of, plain_fn

if TYPE_CHECKING:
    from ..analyse.workload import Workload

# A Dask LocalCluster: import, scheduler and a nanny plus a spawned worker per worker,
# then closing them all. Measured here: about 2 s for two workers on a 2-CPU machine;
# only used to order and budget trials, never reported.
DASK_START_S = 1.5
DASK_START_PER_WORKER_S = 0.25
# Dask's documentation puts the scheduler's cost at about 1 ms per task; the measured
# round trip on a LocalCluster is a few ms. Also only a prior for planning.
DASK_TASK_S = 2e-3
# Connecting to an existing scheduler gives up after this long (distributed's own default is 30 s).
DASK_CONNECT_TIMEOUT_S = 10.0
# Phases of the last Dask map in this process, in seconds: "startup_s" (import, cluster
# start-up or connection, until the workers are up), "map_s" (submit to last result) and
# "compute_s" (the tasks' own run time on the workers, summed: the rest of map_s is dispatch).
# A trial child runs exactly one map, so it reads back its own.
DASK_PHASES: dict[str, float] = {}


def available() -> bool:
    """Installed (found, not imported: importing distributed takes most of a second)."""
    import importlib.util

    return importlib.util.find_spec("distributed") is not None


def run(fn: Callable[[Any], Any], items: list[Any], workers: int, chunksize: Optional[int] = None,
        start_method: Optional[str] = None, address: str = "local") -> list[Any]:
    """``client.map`` + ``client.gather`` on a fresh LocalCluster or on the scheduler at ``address``."""
    started = time.perf_counter()
    with dask_client(address, workers) as client:
        ready = time.perf_counter()
        DASK_PHASES["startup_s"] = ready - started
        results = _dask_map(client, fn, items, chunksize)
        DASK_PHASES["map_s"] = time.perf_counter() - ready
    return results


@contextmanager
def dask_client(address: str, workers: int) -> Iterator[Any]:
    """A connected client; a local cluster is closed with it, workers and nannies included."""
    from distributed import Client, LocalCluster

    if address != "local":
        _ship_advisor_by_value()
        with Client(address, timeout=DASK_CONNECT_TIMEOUT_S) as client:
            yield client
        return
    with _main_without_path():
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)
    with cluster, Client(cluster) as client:
        yield client


@contextmanager
def _main_without_path() -> Iterator[None]:
    """Hide the script from Dask's spawned workers while they start.

    multiprocessing's spawn re-runs ``__main__.__file__`` in every new worker, which for a
    script without a main guard would run its whole loop again there. The target is sent
    by value (cloudpickle), so the workers do not need the script.
    """
    real = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = real


def _ship_advisor_by_value() -> None:
    """A remote cluster may not have paradvise installed: send its small wrappers by value."""
    import cloudpickle

    from ..sweep import items as items_mod
    from . import base

    for module in (sys.modules[__name__], base, items_mod):
        cloudpickle.register_pickle_by_value(module)


@dataclass(frozen=True)
class _TimedCall:
    """The call's result and its run time on the worker, to tell compute from dispatch."""

    fn: Callable[[Any], Any]

    def __call__(self, item: Any) -> tuple[Any, float]:
        started = time.perf_counter()
        result = self.fn(item)
        return result, time.perf_counter() - started


def _dask_map(client: Any, fn: Callable[[Any], Any], items: list[Any], chunksize: Optional[int]) -> list[Any]:
    chunked = bool(chunksize and chunksize > 1)
    call, parts = (ChunkCall(fn), chunks_of(items, chunksize or 1)) if chunked else (fn, items)
    pairs = client.gather(client.map(_TimedCall(call), parts, pure=False))
    DASK_PHASES["compute_s"] = sum(seconds for _, seconds in pairs)
    results = [result for result, _ in pairs]
    return [r for part in results for r in part] if chunked else results


def configs(load: "Workload") -> list[Config]:
    """One task per item (plain ``client.map``) and items batched so dispatch is amortized.

    The worker count is fixed: the usable CPUs for a local cluster, an existing cluster's size.
    """
    if load.is_coroutine or load.dask_workers < 1:
        return []
    w = min(load.dask_workers, max(1, load.items))
    amortized = math.ceil(AMORTIZE_FACTOR * DASK_TASK_S / max(load.per_call_s, 1e-9))
    default = math.ceil(load.items / (CHUNKS_PER_WORKER_DEFAULT * w))
    most = max(1, math.ceil(load.items / w))
    sizes = sorted({1, min(most, max(amortized, default))})
    return [Config("dask", w, c if c > 1 else None) for c in sizes]


def startup_estimate_s(workers: int) -> float:
    return DASK_START_S + DASK_START_PER_WORKER_S * workers


def predict(load: "Workload", config: Config) -> float:
    chunks = math.ceil(load.items / (config.chunksize or 1))
    return (startup_estimate_s(config.workers) + load.serial_s / max(1, min(config.workers, load.items))
            + chunks * DASK_TASK_S)


def code(spec: CodeSpec) -> Code:
    if spec.dask_address and spec.dask_address != "local":
        imports = ("from dask.distributed import Client",)
        open_line = ("    # The workers must be able to import the target's module (client.upload_file sends it).\n"
                     f"    with Client({spec.dask_address!r}) as client:")
    else:
        imports = ("from dask.distributed import Client, LocalCluster",)
        open_line = (f"    with LocalCluster(n_workers={spec.workers}, threads_per_worker=1, processes=True) "
                     "as cluster, Client(cluster) as client:")
    guard = "    # The script's main guard matters: Dask's worker processes may import it.\n"
    if spec.chunked:
        body = chunked_body(spec, open_line, "client.gather(client.map(run_chunk, chunks, pure=False))")
        return Code(f"def {spec.helper}(items):\n{guard}{body}", imports)
    return Code(f"def {spec.helper}(items):\n{guard}{open_line}\n"
                f"        return client.gather(client.map({plain_fn(spec)}, list(items), pure=False))\n", imports)


EXECUTOR = Executor("dask", "cluster", run, code, available=available, configs=configs, predict=predict,
                    preload=("distributed",), simplicity=6, colour="#e377c2", needs_main_guard=True, chunks=True)
