"""asyncio: ``asyncio.gather`` over all items, at most ``workers`` awaiting at once (CONTRACT.md).

A coroutine target is awaited directly; a blocking function called from async code is moved
off the event loop with ``asyncio.to_thread``.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..analyse.workload import Config, waiting_upper, worker_levels
from .base import Code, CodeSpec, Executor

if TYPE_CHECKING:
    from ..analyse.workload import Workload


def run_async(fn: Callable[[Any], Any], items: list[Any], workers: int,
              chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """``asyncio.gather`` over all items with at most ``workers`` awaiting at once."""

    async def bounded() -> list[Any]:
        gate = asyncio.Semaphore(workers)

        async def one(x: Any) -> Any:
            async with gate:
                return await fn(x)

        return list(await asyncio.gather(*(one(x) for x in items)))

    return asyncio.run(bounded())


def run(fn: Callable[[Any], Any], items: list[Any], workers: int,
        chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """A blocking function called from async code, moved off the loop with asyncio.to_thread."""
    return run_async(lambda x: asyncio.to_thread(fn, x), items, workers)


def configs(load: "Workload") -> list[Config]:
    # A plain function only when it is called from async code: there asyncio.to_thread applies.
    if not load.is_coroutine and not load.in_event_loop:
        return []
    return [Config("asyncio", w) for w in worker_levels(waiting_upper(load))]


def predict(load: "Workload", config: Config) -> float:
    return load.serial_s / max(1, min(config.workers, load.items)) + load.items * load.thread_task_s


def code(spec: CodeSpec) -> Code:
    awaited = spec.call() if spec.is_coroutine else (
        f"asyncio.to_thread({spec.fn}, *x)" if spec.star else f"asyncio.to_thread({spec.fn}, x)")
    text = (f"async def {spec.helper}(items):\n"
            f"    gate = asyncio.Semaphore({spec.workers})  # at most {spec.workers} awaiting at once\n\n"
            "    async def bounded(x):\n"
            "        async with gate:\n"
            f"            return await {awaited}\n\n"
            "    return await asyncio.gather(*(bounded(x) for x in items))\n")
    return Code(text, ("import asyncio",), is_async=True)


EXECUTOR = Executor("asyncio", "threads", run, code, run_async=run_async, configs=configs, predict=predict,
                    preload=("concurrent.futures.thread",), default=True, simplicity=1, colour="#2ca02c")
