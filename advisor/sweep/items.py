"""Turning recorded calls into mappable items, and comparing results.

A target called as ``f(x)`` everywhere is mapped as ``f`` over the ``x`` values, exactly
as the user would write ``pool.map(f, xs)``. Any other call shape is mapped through
``StarCall`` over ``(args, kwargs)`` pairs.
"""
from __future__ import annotations

import math
import pickle
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..capture import Call


@dataclass(frozen=True)
class StarCall:
    fn: Callable[..., Any]

    def __call__(self, item: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        args, kwargs = item
        return self.fn(*args, **kwargs)


@dataclass(frozen=True)
class AsyncStarCall:
    fn: Callable[..., Any]

    async def __call__(self, item: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        args, kwargs = item
        return await self.fn(*args, **kwargs)


@dataclass(frozen=True)
class CatchErrors:
    """Record an exception as an outcome, so one bad item does not abort the whole map."""

    fn: Callable[[Any], Any]

    def __call__(self, item: Any) -> Any:
        try:
            return self.fn(item)
        except Exception as exc:  # noqa: BLE001 - exceptions are outcomes to compare
            return RaisedOutcome(type(exc).__name__, str(exc))


@dataclass(frozen=True)
class AsyncCatchErrors:
    fn: Callable[[Any], Any]

    async def __call__(self, item: Any) -> Any:
        try:
            return await self.fn(item)
        except Exception as exc:  # noqa: BLE001
            return RaisedOutcome(type(exc).__name__, str(exc))


@dataclass(frozen=True)
class RaisedOutcome:
    type_name: str
    message: str


def call_style(calls: Sequence[Call]) -> str:
    return "single" if all(len(c.args) == 1 and not c.kwargs for c in calls) else "star"


def items_from_calls(calls: Sequence[Call], style: str) -> list[Any]:
    """The arguments as they were at call time (from the pickled snapshot when there is one)."""
    items = []
    for call in calls:
        args, kwargs = (call.args, call.kwargs) if call.args_pickle is None else pickle.loads(call.args_pickle)
        items.append(args[0] if style == "single" else (args, kwargs))
    return items


def mappable(fn: Callable[..., Any], style: str, is_coroutine: bool, catch: bool) -> Callable[[Any], Any]:
    if style == "star":
        fn = AsyncStarCall(fn) if is_coroutine else StarCall(fn)
    if catch:
        fn = AsyncCatchErrors(fn) if is_coroutine else CatchErrors(fn)
    return fn


def same(a: Any, b: Any) -> bool:
    """Equality that also works for numpy arrays and NaN, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if type(a).__module__ == "numpy" and hasattr(a, "shape"):
        import numpy as np

        return bool(a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - objects whose == fails: compare their pickles
        try:
            return pickle.dumps(a) == pickle.dumps(b)
        except Exception:  # noqa: BLE001
            return False


def count_differences(expected: Sequence[Any], got: Sequence[Any]) -> int:
    if len(expected) != len(got):
        return max(len(expected), len(got))
    return sum(1 for a, b in zip(expected, got) if not same(a, b))
