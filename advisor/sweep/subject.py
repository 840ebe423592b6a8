"""The target as the sweep sees it: where it lives, what to map it over, how a trial reaches it."""
from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from ..measure import state
from . import items as items_mod


@dataclass
class Subject:
    """The target as the sweep sees it: where it lives and what to map it over."""

    module: types.ModuleType
    name: str
    original: Callable[..., Any]
    is_coroutine: bool
    style: str
    items: list[Any]
    catch: bool
    restore: dict[str, bytes] = field(default_factory=dict)  # globals as they were at loop start
    recorded: Optional[list[Any]] = None  # what the real calls returned, when it could be kept
    walls: list[float] = field(default_factory=list)  # recorded wall time of each item's real call
    in_event_loop: bool = False  # a plain function the script called from inside an event loop
    total_items: int = 0  # calls in the whole loop; more than ``items`` when trials use a subset
    total_wall: float = 0.0  # the recorded wall time of all the loop's calls (0: not known)
    is_generator: bool = False  # a generator function: each call is consumed (items.Consume)
    # Pickle cannot send the target (a closure): fork process pools reach it through
    # items.REGISTRY, which their workers inherit.
    by_registry: bool = False

    def loop_scale(self) -> float:
        """How many times the subset's work the whole loop holds.

        By recorded time where it is known, not by calls: items differ in size, and a
        subset of 220 of 1,260 words (17% of the calls) took 23% of the loop's recorded
        time, so scaling by calls projected serial at 1.55 s for a 1.19 s loop.
        """
        n = max(1, len(self.items))
        measured = sum(self.walls)
        if self.total_wall > 0 and measured > 0 and len(self.walls) == len(self.items):
            return max(1.0, self.total_wall / measured)
        return max(1.0, self.total_items / n)

    def prepare_child(self, executor: Optional[str] = None) -> Callable[[Any], Any]:
        """In a trial child: put the loop-start state back and return the function to map."""
        state.restore(self.module.__dict__, self.restore)
        bind_original(self.module, self.name, self.original)
        if self.is_coroutine or self.in_event_loop:
            asyncio.events._set_running_loop(None)  # the script's loop belongs to the parent
        fn = items_mod.Consume(self.original) if self.is_generator else self.original
        if self.by_registry and executor == "processes":
            fn = items_mod.registered(fn)
        return items_mod.mappable(fn, self.style, self.is_coroutine, self.catch)


def bind_original(script: types.ModuleType, name: str, original: Callable[..., Any]) -> None:
    """Put the unwrapped function where pickle looks for it, so pools send it by reference.

    ``score`` in the script; ``helpers:score`` in the user's module ``helpers``; a method
    ``Encoder.encode`` on its class (a staticmethod stays one). A nested function,
    ``main.score``, has no such place: pickle cannot send it, cloudpickle can.
    """
    module_name, _, qualname = name.rpartition(":")
    module = sys.modules.get(module_name) if module_name else script
    if module is None:
        return
    owner_name, _, local = qualname.rpartition(".")
    if not owner_name:
        if local.isidentifier():
            setattr(module, local, original)
        return
    owner = getattr(module, owner_name, None)
    if isinstance(owner, type) and local in owner.__dict__:
        raw = owner.__dict__[local]
        setattr(owner, local, staticmethod(original) if isinstance(raw, staticmethod) else original)
