"""The count pass's wrapper: calls, time, callers and call sites of every function.

One run of the script wraps every function of the script and of the user's own modules
with a ``CallCounter``. Together they keep, per thread, the stack of counted functions
running, so each counter learns which counted function encloses its calls (its parent
in the call tree) and from which line it is called. ``locate`` reads the loop from
that: the outermost function called repeatedly from one place, not a helper inside it.

A generator function's call only makes the generator; its work happens while the
caller consumes it. Its counter times the consumption (each resumption), not the call.
"""
from __future__ import annotations

import functools
import inspect
import sys
import threading
import time
from typing import Any, Callable, Generator, Optional

from .user_pools import COUNTED_NAME

# Call sites are read from the first calls only: a frame lookup per call would double
# the counter's cost on millions of tiny calls, and a loop's site shows in its first calls.
SITE_SAMPLES = 256
# A function whose first LIGHT_AFTER_CALLS calls took under LIGHT_BELOW_S each is then only
# counted: no clocks, no stack (about a quarter of the full cost). Its time is taken at the
# mean of those calls, its parents in their proportions. Pyperformance's richards makes
# ten million such calls, and counting them in full made the first run 10x the script's.
LIGHT_AFTER_CALLS = 5000
LIGHT_BELOW_S = 5e-6


class CallTree:
    """Shared by the counters of one run: which counted functions run in each thread, innermost last."""

    def __init__(self) -> None:
        self._local = threading.local()

    def stack(self) -> list[str]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack


class CallCounter:
    """Counts and times the outermost calls of one function, and notes their parents and sites.

    It runs around every call of every function in the script, so it does little: two
    clock reads, a stack push and pop, a dict increment (about half a microsecond).
    """

    def __init__(self, name: str = "", tree: Optional[CallTree] = None) -> None:
        self.name = name
        self.tree = tree or CallTree()
        self.calls = 0
        self.total_s = 0.0
        self.parents: dict[str, int] = {}  # enclosing counted function ("" for none) -> calls
        self.sites: dict[str, int] = {}  # "file:line" of the calling code -> calls, over SITE_SAMPLES
        self.is_generator = False
        self.is_coroutine = False
        self.file, self.line = "", 0
        self._entered = 0
        self.light_from = 0  # calls counted in full before it went light (0: it did not)
        self.recursive = False
        self._lock = threading.Lock()

    def summary(self) -> dict[str, Any]:
        calls, total, parents = self.calls, self.total_s, self.parents
        light_calls = calls - self.light_from if self.light_from else 0
        if light_calls:
            scale = calls / self.light_from
            total, parents = total * scale, {p: n * scale for p, n in parents.items()}
        return {"calls": calls, "light_calls": light_calls, "total_s": total, "parents": parents,
                "sites": self.sites, "is_generator": self.is_generator, "is_coroutine": self.is_coroutine,
                "file": self.file, "line": self.line}

    def _enter(self, stack: list[str]) -> bool:
        """Note the call's parent; True while its call site should be noted too."""
        parent = stack[-1] if stack else ""
        self.parents[parent] = self.parents.get(parent, 0) + 1
        self._entered += 1
        return self._entered <= SITE_SAMPLES

    def _note_site(self, caller: Any) -> None:
        site = f"{caller.f_code.co_filename}:{caller.f_lineno}"
        self.sites[site] = self.sites.get(site, 0) + 1

    def _add(self, wall: float, calls: int = 1) -> None:
        with self._lock:
            self.calls += calls
            self.total_s += wall

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        code = getattr(inspect.unwrap(fn), "__code__", None)
        if code is not None:
            self.file, self.line = code.co_filename, code.co_firstlineno
        stack_of, clock, name = self.tree.stack, time.perf_counter, self.name
        if inspect.iscoroutinefunction(fn):
            self.is_coroutine = True
            return self._wrap_coroutine(fn)
        if inspect.isgeneratorfunction(fn):
            self.is_generator = True
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # the hot path: keep it lean
            if self.light_from:
                self.calls += 1  # no lock: the GIL makes a lost increment rare, and a count near enough
                return fn(*args, **kwargs)
            stack = stack_of()
            if name in stack:  # a recursive call: counted in the outermost one
                self.recursive = True  # so never light: that would count the inner calls too
                return fn(*args, **kwargs)
            if self._enter(stack):
                self._note_site(sys._getframe(1))
            stack.append(name)
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = clock() - started
                stack.pop()
                self._add(elapsed)
                if (self.calls >= LIGHT_AFTER_CALLS and self.total_s < LIGHT_BELOW_S * self.calls
                        and not self.recursive):
                    self.light_from = self.calls
        setattr(wrapper, COUNTED_NAME, name)  # a pool's map learns whose calls it runs (user_pools.py)
        return wrapper

    def _wrap_coroutine(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        # Coroutines interleave in one thread: while one awaits, others run, so it is not
        # pushed on the stack (it would look like the parent of whatever runs meanwhile).
        depth, clock = threading.local(), time.perf_counter

        @functools.wraps(fn)
        async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
            if getattr(depth, "value", 0):
                return await fn(*args, **kwargs)
            if self._enter(self.tree.stack()):
                self._note_site(sys._getframe(1))
            depth.value = 1
            started = clock()
            try:
                return await fn(*args, **kwargs)
            finally:
                depth.value = 0
                self._add(clock() - started)
        return async_wrapper

    def _wrap_generator(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def gen_wrapper(*args: Any, **kwargs: Any) -> Any:
            stack = self.tree.stack()
            if self.name in stack:
                return fn(*args, **kwargs)
            if self._enter(stack):
                self._note_site(sys._getframe(1))
            self._add(0.0)
            return timed_generator(fn(*args, **kwargs), self.name, self.tree, lambda s: self._add(s, 0))
        return gen_wrapper


def timed_generator(gen: Generator[Any, Any, Any], name: str, tree: Optional[CallTree],
                    on_time: Callable[[float], None]) -> Generator[Any, Any, Any]:
    """Yield what ``gen`` yields, timing only the time spent inside it (each resumption).

    While it runs, ``name`` is on ``tree``'s stack, so what it calls counts as inside it.
    Values sent in and exceptions thrown in are passed on, as ``yield from`` would.
    """
    clock = time.perf_counter
    sent: Any = None
    pending: Optional[BaseException] = None
    while True:
        stack = tree.stack() if tree is not None else None
        if stack is not None:
            stack.append(name)
        started = clock()
        try:
            value = gen.throw(pending) if pending is not None else gen.send(sent)
        except StopIteration as stop:
            return stop.value
        finally:
            on_time(clock() - started)
            if stack is not None:
                stack.pop()
        pending, sent = None, None
        try:
            sent = yield value
        except GeneratorExit:
            gen.close()
            raise
        except BaseException as exc:  # noqa: BLE001 - thrown in by the consumer: pass it on
            pending = exc


def counter_overhead(calls: int = 20_000) -> tuple[float, float, float]:
    """Seconds a CallCounter adds per call, measured here (so under scalene when it runs):
    (inside, whole, light). ``inside`` is what it adds to the time it records for the call
    it wraps: what it records for a function that does nothing, less what calling that
    function costs anyway. ``whole`` is all it adds to its caller's time, which is what it
    adds to the recorded time of the function around it; ``light`` the same once it only counts.

    Subtracting ``whole`` from the call's own time took a 0.76 us call to zero, and a
    1.4 s loop to a reported 0 s: most of the wrapper's cost (the stack and lock, the
    second clock read) falls outside the interval it times.
    """
    def nothing() -> None:
        return None

    def per_call(fn: Callable[[], None]) -> float:
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - started) / calls

    inside = whole = light = float("inf")
    for _ in range(3):
        bare = per_call(nothing)
        counter = CallCounter("nothing")
        counted = counter.wrap(nothing)
        counter.total_s, counter.calls = 0.0, 0
        whole = min(whole, per_call(counted) - bare)
        inside = min(inside, counter.total_s / max(1, counter.calls) - bare)
        counter.light_from = 1
        light = min(light, per_call(counted) - bare)
    return max(0.0, inside), max(0.0, whole), max(0.0, light)


def summarize(counters: dict[str, CallCounter], inside: float, whole: float,
              light: float) -> tuple[dict[str, dict[str, Any]], float]:
    """Each counter's summary with the counters' own cost taken out, and that cost in all.

    The wrapper's own cost is in each timed call: a third of a microsecond, more under
    scalene, and most of the time of a sub-microsecond call. Take it out, and the whole
    cost of the counted calls made inside it (Richards.run makes millions: its loop
    measured 7.8 s counted, 0.45 s as the script runs it). ``inside``, ``whole`` and
    ``light`` are ``counter_overhead``'s.
    """
    counts = {name: c.summary() for name, c in counters.items()}
    cost = {name: ((c["calls"] - c["light_calls"]) * whole + c["light_calls"] * light) / max(1, c["calls"])
            for name, c in counts.items()}
    nested = nested_seconds(counts, cost)
    for name, c in counts.items():
        c["total_s"] = max(0.0, c["total_s"] - (c["calls"] - c["light_calls"]) * inside - nested[name])
    return counts, sum(cost[name] * c["calls"] for name, c in counts.items())


def nested_seconds(counts: dict[str, dict[str, Any]], cost_per_call: dict[str, float]) -> dict[str, float]:
    """Per function, what the counters of the calls made inside its calls added to its time.

    From the parents each counter noted: a child's own cost and its nested cost are shared
    among its parents in proportion to the calls each made. Recursion through the stack is cut.
    """
    children: dict[str, list[str]] = {}
    for name, c in counts.items():
        for parent in c.get("parents", {}):
            if parent and parent != name:
                children.setdefault(parent, []).append(name)
    memo: dict[str, float] = {}

    def total(name: str, path: frozenset[str]) -> float:
        if name in memo:
            return memo[name]
        out = 0.0
        for child in children.get(name, []):
            if child in path:
                continue
            from_here = counts[child]["parents"].get(name, 0)
            per_call = total(child, path | {child}) / max(1, counts[child]["calls"])
            out += from_here * (cost_per_call.get(child, 0.0) + per_call)
        memo[name] = out
        return out

    return {name: total(name, frozenset({name})) for name in counts}


class ImportClock:
    """Time spent importing modules during the run (outermost imports only).

    A short script's run is often mostly imports (numpy: 0.05 s, several times that under
    scalene), which no loop can speed up; a loop's share is taken of the rest. Every
    import statement and ``importlib.import_module`` go through
    ``importlib._bootstrap._find_and_load``, which the interpreter looks up on each import.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = threading.local()

    def install(self) -> None:
        import importlib._bootstrap as bootstrap

        find_and_load = bootstrap._find_and_load
        clock = time.perf_counter

        def timed_find_and_load(*args: Any, **kwargs: Any) -> Any:
            if getattr(self._depth, "value", 0):
                return find_and_load(*args, **kwargs)
            self._depth.value = 1
            started = clock()
            try:
                return find_and_load(*args, **kwargs)
            finally:
                self._depth.value = 0
                self.seconds += clock() - started

        bootstrap._find_and_load = timed_find_and_load
