"""Turning recorded calls into mappable items, and comparing results.

A target called as ``f(x)`` everywhere is mapped as ``f`` over the ``x`` values, exactly
as the user would write ``pool.map(f, xs)``. Any other call shape is mapped through
``StarCall`` over ``(args, kwargs)`` pairs.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from ..measure.capture import Call
from ..measure.equality import count_differences, same  # noqa: F401 - re-exported for the sweep


@dataclass(frozen=True)
class StarCall:
    fn: Callable[..., Any]

    def __call__(self, item: tuple[tuple[Any, ...], dict[str, Any]]) -> Any:
        args, kwargs = item
        return self.fn(*args, **kwargs)


@dataclass(frozen=True)
class Consume:
    """A generator function called as a loop consumes it: the replay is ``list(fn(...))``.

    Picklable when ``fn`` is (by reference), so process pools can run it too.
    """

    fn: Callable[..., Any]

    def __call__(self, *args: Any, **kwargs: Any) -> list[Any]:
        return list(self.fn(*args, **kwargs))


# Functions pickle cannot send (closures, lambdas), by key, for process pools whose workers
# are forked after they are registered: the workers inherit this dict, and ``Registered``
# pickles as its key alone. This is what a module-level trampoline does in the user's code.
REGISTRY: dict[int, Callable[..., Any]] = {}


@dataclass(frozen=True)
class Registered:
    key: int

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return REGISTRY[self.key](*args, **kwargs)


def registered(fn: Callable[..., Any]) -> Registered:
    REGISTRY[id(fn)] = fn
    return Registered(id(fn))


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
    """The arguments as they were at call time.

    The script's own objects are used wherever they are unchanged since the call: a copy
    from the pickled snapshot would lose the sharing between items (the same string in
    every tuple becomes 600,000 strings), and pickling those for a worker process costs
    measurably more than pickling what the user's loop really passes. Arguments that
    changed after the call come from the snapshot.
    """
    items = []
    for call in calls:
        args, kwargs = arguments_at_call(call)
        items.append(args[0] if style == "single" else (args, kwargs))
    return items


def arguments_at_call(call: Call) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``(args, kwargs)`` as they were when the call was made (see ``items_from_calls``)."""
    if call.args_pickle is not None and not _unchanged(call.args, call.kwargs, call.args_pickle):
        return pickle.loads(call.args_pickle)
    return call.args, call.kwargs


_ATOMS = frozenset((int, float, complex, str, bytes, bool, type(None)))


def _immutable(value: Any, depth: int = 0) -> bool:
    """True for values nothing can change in place: atoms, and tuples/frozensets of them.

    Written as plain loops: it runs once per recorded call, up to millions of times.
    """
    kind = type(value)
    if kind in _ATOMS:
        return True
    if (kind is tuple or kind is frozenset) and depth < 8:
        for part in value:
            if type(part) not in _ATOMS and not _immutable(part, depth + 1):
                return False
        return True
    return False


def _unchanged(args: tuple[Any, ...], kwargs: dict[str, Any], snapshot: bytes) -> bool:
    if not kwargs and _immutable(args):
        return True
    try:
        return pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL) == snapshot
    except Exception:  # noqa: BLE001 - it pickled at call time; if not now, it changed
        return False


def mappable(fn: Callable[..., Any], style: str, is_coroutine: bool, catch: bool) -> Callable[[Any], Any]:
    if style == "star":
        fn = AsyncStarCall(fn) if is_coroutine else StarCall(fn)
    if catch:
        fn = AsyncCatchErrors(fn) if is_coroutine else CatchErrors(fn)
    return fn
