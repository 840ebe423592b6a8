"""Serial: the user's own loop, ``[f(x) for x in items]`` (or one await after another)."""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Optional

from .base import Code, CodeSpec, Executor


def run(fn: Callable[[Any], Any], items: list[Any], workers: int = 1,
        chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    return [fn(x) for x in items]


def run_async(fn: Callable[[Any], Any], items: list[Any], workers: int = 1,
              chunksize: Optional[int] = None, start_method: Optional[str] = None) -> list[Any]:
    """The user's own loop for a coroutine target: await one call after another."""

    async def sequential() -> list[Any]:
        return [await fn(x) for x in items]

    return asyncio.run(sequential())


def code(spec: CodeSpec) -> Code:
    if spec.is_coroutine:
        return Code(f"async def {spec.helper}(items):\n    return [await {spec.call()} for x in items]\n",
                    is_async=True)
    return Code(f"def {spec.helper}(items):\n    return [{spec.call()} for x in items]\n")


EXECUTOR = Executor("serial", "serial", run, code, run_async=run_async, default=True, simplicity=0,
                    colour="#7f7f7f")
