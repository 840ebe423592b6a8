"""joblib: ``Parallel(n_jobs=workers, backend="loky", batch_size=chunksize or "auto")``.

loky starts fresh interpreters and sends functions with cloudpickle, so closures and
lambdas can run too; it keeps its workers between calls in a user's program.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from ..analyse.workload import Config, chunk_candidates
from . import processes
from .base import Code, CodeSpec, Executor

if TYPE_CHECKING:
    from ..analyse.workload import Workload

# loky starts its workers by spawning fresh interpreters: several times a fork's cost.
LOKY_START_FACTOR = 5


def available() -> bool:
    """Installed (found, not imported: the command line asks this at start-up)."""
    import importlib.util

    return importlib.util.find_spec("joblib") is not None


def run(fn: Callable[[Any], Any], items: list[Any], workers: int,
        chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    import joblib

    _forget_inherited_workers()
    batch = chunksize if chunksize and chunksize > 1 else "auto"
    try:
        return list(joblib.Parallel(n_jobs=workers, backend="loky", batch_size=batch)(
            joblib.delayed(fn)(x) for x in items))
    finally:
        _stop_loky_workers()


def _forget_inherited_workers() -> None:
    """Drop a loky executor this process inherited by fork, from a script that used joblib first.

    Its manager thread did not survive the fork, so a map on it waits for ever (a trial forked
    from such a script hung until its timeout); the workers belong to the parent, and a new
    executor starts its own.
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    manager = getattr(executor, "_executor_manager_thread", None)
    if manager is not None and not manager.is_alive():
        reusable_executor._executor = None


def _stop_loky_workers() -> None:
    """Leave no worker processes behind, as a ``with Pool`` block does (a few ms).

    loky keeps its workers for the next ``Parallel`` call (a user's program pays their
    start-up once); a map here is the only one in its process, so they are stopped.
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def configs(load: "Workload") -> list[Config]:
    """One or two batch sizes at the full worker count."""
    if load.is_coroutine or (load.usable_cpus < 2 and not load.waiting):
        return []
    w = min(max(2, load.usable_cpus), max(2, load.items))
    batches = {None, chunk_candidates(load, w)[0]}
    return [Config("joblib", w, b if b and b > 1 else None) for b in batches]


def predict(load: "Workload", config: Config) -> float:
    return processes.predict(load, config, start_factor=LOKY_START_FACTOR)


def code(spec: CodeSpec) -> Code:
    batch = spec.chunksize if spec.chunked else '"auto"'
    args = "*x" if spec.star else "x"
    text = (f"def {spec.helper}(items):\n"
            "    # loky worker processes; functions are sent with cloudpickle.\n"
            f'    return Parallel(n_jobs={spec.workers}, backend="loky", batch_size={batch})(\n'
            f"        delayed({spec.fn})({args}) for x in items)\n")
    return Code(text, ("from joblib import Parallel, delayed",))


EXECUTOR = Executor("joblib", "processes", run, code, available=available, configs=configs, predict=predict,
                    preload=("joblib",), simplicity=3, colour="#9467bd", needs_main_guard=True, chunks=True)
