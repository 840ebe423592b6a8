"""``@advise``: a function that tunes its own parallel map, with a persistent tuning cache.

    from advisor import advise

    @advise                       # or @advise(budget=5, executors=["threads", "processes"])
    def score(item): ...

    score(x)                      # exactly the original function: the decorator returns it
    score.map(items)              # == [score(x) for x in items], run the measured-fastest way
    score.plan                    # what the last map used (executor, workers, chunksize, ...)
    score.report()                # the full Report behind that plan, for every renderer

The first ``map`` on a machine for a size class of input (``len(items)`` rounded down to
a power of two) calls the function serially, recording each call as ``paradvise
profile`` does (those results are the answer), then runs the same measure → analyse
engine on the recorded calls and stores the chosen plan in the tuning cache
(``advisor.api.cache``). Later calls, in this process or any later one, take the plan from
the cache. Pools are kept warm per function and shut down at interpreter exit.

``PARADVISE=off`` makes ``map`` a plain serial loop; ``PARADVISE=record`` runs it serially
and keeps the recorded calls on ``f.recorded``, without tuning.

Why the decorator returns the function itself: a direct call then costs nothing extra,
and pool workers unpickle ``module.name`` to the very same function, under every start
method. ``__wrapped__`` is a twin function sharing the original's code (setting it to the
function itself would make ``inspect.unwrap`` loop).

Process plans keep their worker processes between calls: workers forked at the first
such call do not see module globals changed later (the sweep already refuses process
pools for functions that change module state themselves).
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import os
import sqlite3
import threading
import types
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Optional, ParamSpec, Protocol, Sequence, TypeVar, cast, overload

from ..errors import AdvisorError
from ..executors import warm_names
from ..measure.capture import Call, Recorder
from ..model import Report
from .engine import DEFAULT_EXECUTORS, tune_recorded
from .methods import AdvisedMethod, is_method
from .pools import RunnerSet, shutdown_pools  # noqa: F401 - shutdown_pools is public here

MODE_ENV = "PARADVISE"
EXECUTORS = warm_names()  # what f.map has pools for
_OFF = ("off", "0", "false", "no")
_ON = ("", "on", "1", "true", "yes", "auto")

P = ParamSpec("P")
R = TypeVar("R")


class NotTuned(AdvisorError, LookupError):
    """``f.report()`` before any ``f.map`` has chosen a plan."""


@dataclass(frozen=True)
class Plan:
    """How ``f.map`` runs. ``source``: "tuned" (measured in this process), "cache" (measured
    earlier, read from the tuning cache), "off"/"record" (PARADVISE), "fallback" (tuning failed)."""

    executor: str
    workers: int
    chunksize: Optional[int]
    start_method: Optional[str]
    source: str
    expected_speedup: float = 1.0
    size_class: str = ""
    key: str = ""

    def stored(self) -> dict[str, Any]:
        """The JSON kept in the cache (where it came from is not part of it)."""
        return {k: v for k, v in asdict(self).items() if k != "source"}

    @classmethod
    def from_stored(cls, data: dict[str, Any], source: str) -> "Plan":
        known = {k: data[k] for k in ("executor", "workers", "chunksize", "start_method",
                                      "expected_speedup", "size_class", "key") if k in data}
        return cls(source=source, **known)


class Advised(Protocol[P, R]):
    """What ``@advise`` gives back: the function itself, with these attributes (for type checkers)."""

    plan: Optional[Plan]
    recorded: list[Call]
    __wrapped__: Callable[P, R]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R: ...
    def map(self, iterable: Iterable[Any]) -> list[R]: ...
    def report(self) -> Report: ...
    def tune(self, iterable: Optional[Iterable[Any]] = None) -> Plan: ...


def serial_plan(source: str, size: str = "") -> Plan:
    return Plan("serial", 1, None, None, source, 1.0, size)


def mode() -> str:
    """"on", "off" or "record", from $PARADVISE (anything unknown counts as "on", with a warning)."""
    value = os.environ.get(MODE_ENV, "").strip().lower()
    if value in _OFF:
        return "off"
    if value == "record":
        return "record"
    if value not in _ON:
        _warn_once(f"mode:{value}", f"{MODE_ENV}={value!r} is not one of on, off, record; treating it as on.")
    return "on"


_WARNED: set[str] = set()


def _warn_once(tag: str, message: str) -> None:
    if tag not in _WARNED:
        _WARNED.add(tag)
        warnings.warn(f"paradvise: {message}", RuntimeWarning, stacklevel=3)


# -- the decorator ------------------------------------------------------------------------
@overload
def advise(fn: Callable[P, R]) -> Advised[P, R]: ...
@overload
def advise(*, budget: Optional[float] = ..., executors: Optional[Sequence[str]] = ...,
           timeout: Optional[float] = ..., cpus: Optional[int] = ...) -> Callable[[Callable[P, R]], Advised[P, R]]: ...


def advise(fn: Optional[Callable[P, R]] = None, *, budget: Optional[float] = None,
           executors: Optional[Sequence[str]] = None, timeout: Optional[float] = None,
           cpus: Optional[int] = None) -> Any:
    """Give ``fn`` a self-tuning ``map``; ``fn`` itself is returned, so direct calls are unchanged.

    ``budget`` bounds the tuning sweep in seconds (default: as ``paradvise profile``, about
    ten times the serial loop, at least 4 s); ``timeout`` bounds one trial; ``executors``
    limits what is tried (serial, threads, processes); ``cpus`` adds to ``f.report`` the
    what-if for a machine with that many usable CPUs (``report.what_if``).
    """
    chosen = _check_executors(executors)
    for label, value in (("budget", budget), ("timeout", timeout)):
        if value is not None and value <= 0:
            raise ValueError(f"advise({label}=...) must be a positive number of seconds")
    if cpus is not None and (not isinstance(cpus, int) or cpus < 1):
        raise ValueError("advise(cpus=...) must be a whole number of CPUs, at least 1")

    def decorate(target: Callable[P, R]) -> Advised[P, R]:
        if is_method(target):  # obj.score.map(items) must pass obj: see AdvisedMethod
            return cast("Advised[P, R]", AdvisedMethod(target, Advisor(target, budget, chosen, timeout, star=True,
                                                                       cpus=cpus)))
        Advisor(target, budget, chosen, timeout, cpus=cpus).attach()
        return cast("Advised[P, R]", target)

    return decorate(fn) if fn is not None else decorate


def _check_executors(executors: Optional[Sequence[str]]) -> tuple[str, ...]:
    if executors is None:
        return DEFAULT_EXECUTORS
    names = tuple(dict.fromkeys(["serial", *executors]))
    unknown = [n for n in names if n not in EXECUTORS]
    if unknown:
        raise ValueError(f"advise(executors=...) cannot use {', '.join(unknown)}; choose from {', '.join(EXECUTORS)}")
    return names


def _twin(fn: types.FunctionType) -> types.FunctionType:
    """A separate function object with the same code, defaults, closure and metadata."""
    twin = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
    twin.__kwdefaults__ = fn.__kwdefaults__
    for name in ("__module__", "__qualname__", "__doc__", "__annotations__"):
        setattr(twin, name, getattr(fn, name))
    return twin


class Advisor:
    """The per-function state behind ``f.map``: plans per size class, warm pools, the last report."""

    def __init__(self, fn: Callable[..., Any], budget: Optional[float] = None,
                 executors: Sequence[str] = DEFAULT_EXECUTORS, timeout: Optional[float] = None,
                 star: bool = False, cpus: Optional[int] = None) -> None:
        if not isinstance(fn, types.FunctionType):
            raise TypeError(f"@advise decorates plain Python functions (def), not {type(fn).__name__}")
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise TypeError(f"@advise cannot map coroutine function {fn.__qualname__}; "
                            "use `paradvise profile` to measure asyncio for it")
        self.fn, self.budget, self.executors, self.timeout = fn, budget, tuple(executors), timeout
        self.cpus = cpus
        self.recorder = Recorder()
        self._record_call = self.recorder.wrap(fn)
        self._plans: dict[str, Plan] = {}
        self._reports: dict[str, Any] = {}  # size class -> Report, or its JSON from the cache
        self._last_size: Optional[str] = None
        self._function_fp: Optional[str] = None
        self._lock = threading.RLock()
        # ``star``: items are argument tuples, each call ``fn(*item)`` (``f.starmap``, methods).
        self.star = star
        self.runners = RunnerSet(fn, _warn_once, star=star)
        self.plan: Optional[Plan] = None
        self.attached = False
        self._starred: Optional[Advisor] = None

    def _call(self, fn: Callable[..., Any], item: Any) -> Any:
        return fn(*item) if self.star else fn(item)

    def starmap(self, iterable: Iterable[Sequence[Any]]) -> list[Any]:
        """``[f(*args) for args in iterable]``, tuned and cached apart from ``f.map``."""
        if self.star:
            return self.map(iterable)
        if self._starred is None:
            self._starred = Advisor(self.fn, self.budget, self.executors, self.timeout, star=True)
        return self._starred.map(iterable)

    def attach(self) -> None:
        fn = self.fn
        if "__wrapped__" not in fn.__dict__:
            fn.__wrapped__ = _twin(fn)  # type: ignore[attr-defined]
        fn.map = self.map  # type: ignore[attr-defined]
        fn.starmap = self.starmap  # type: ignore[attr-defined]
        fn.report = self.report  # type: ignore[attr-defined]
        fn.tune = self.tune  # type: ignore[attr-defined]
        fn.plan = None  # type: ignore[attr-defined]
        fn.recorded = self.recorder.calls  # type: ignore[attr-defined]
        fn.__paradvise__ = self  # type: ignore[attr-defined]
        self.attached = True

    # -- f.map ---------------------------------------------------------------------------
    def map(self, iterable: Iterable[Any]) -> list[Any]:
        """``[f(x) for x in iterable]``, in input order, run by the plan for this input size."""
        items = [tuple(x) for x in iterable] if self.star else list(iterable)
        current = mode()
        if current == "off":
            self._use(serial_plan("off"))
            return [self._call(self.fn, x) for x in items]
        if current == "record":
            self._use(serial_plan("record"))
            return [self._call(self._record_call, x) for x in items]
        if not items:
            return []
        size = _size_class(len(items))
        plan = self._plans.get(size) or self._from_cache(size)
        if plan is None:
            from .cache import tuning_lock

            with self._lock, tuning_lock(self._key(size)) as waited:
                # Another process that held the lock may have tuned it meanwhile: its plan
                # stands, even one measured on a machine that process kept busy itself.
                plan = self._plans.get(size) or (self._from_cache(size, provisional_too=True) if waited else None)
                if plan is None:
                    return self._tune_serially(items, size)
        self._use(plan, size)
        return self.runners.run(plan, items)

    def tune(self, iterable: Optional[Iterable[Any]] = None) -> Plan:
        """Measure now (even if the cache has a plan), store and use the result.

        With no argument, measure on the calls kept by ``PARADVISE=record`` (``f.recorded``).
        """
        with self._lock:
            if iterable is not None:
                items = list(iterable)
                if not items:
                    raise ValueError(f"{self.fn.__qualname__}.tune() needs at least one item to measure")
                self._tune_serially(items, _size_class(len(items)))
            else:
                self._tune_from(self._recorded_so_far(), _size_class(len(self.recorder.calls)))
        assert self.plan is not None
        return self.plan

    def _recorded_so_far(self) -> Recorder:
        """A finished copy of the recording, so that recording itself can go on."""
        if not self.recorder.calls:
            raise ValueError(f"{self.fn.__qualname__}.tune() without items needs calls recorded "
                             f"under {MODE_ENV}=record")
        copy = Recorder(calls=list(self.recorder.calls), original=self.fn, completed=True,
                        pickle_error=self.recorder.pickle_error)
        return copy

    def report(self) -> Report:
        """The report behind the plan the last ``map`` used."""
        size = self._last_size
        stored = self._reports.get(size) if size is not None else None
        if size is None or stored is None:
            source = self.plan.source if self.plan is not None else None
            reason = {None: "call f.map(items) first", "off": "PARADVISE=off skips tuning",
                      "record": "PARADVISE=record skips tuning",
                      "fallback": "tuning failed, so it runs serially"}.get(source, "no report kept")
            raise NotTuned(f"{self.fn.__qualname__} has no tuning report yet: {reason}.")
        if not isinstance(stored, Report):
            try:
                stored = self._reports[size] = Report.from_json(stored)
            except (ValueError, TypeError, KeyError) as exc:
                raise NotTuned(f"the cached report of {self.fn.__qualname__} cannot be read ({exc}); "
                               "f.tune(items) measures again.") from None
        return stored

    def _use(self, plan: Plan, size: Optional[str] = None) -> None:
        self.plan, self._last_size = plan, size
        if self.attached:
            self.fn.plan = plan  # type: ignore[attr-defined]

    # -- tuning --------------------------------------------------------------------------
    def _tune_serially(self, items: list[Any], size: str) -> list[Any]:
        recorder = Recorder()
        call = recorder.wrap(self.fn)
        results = [self._call(call, x) for x in items]  # an exception ends the map here, as in a serial loop
        recorder.finish()
        self._tune_from(recorder, size)
        return results

    def _tune_from(self, recorder: Recorder, size: str) -> None:
        try:
            report = tune_recorded(self.fn, recorder, budget=self.budget, timeout=self.timeout,
                                   executors=self.executors, cpus=self.cpus)
        except Exception as exc:  # noqa: BLE001 - the answer is computed; tuning is best effort
            _warn_once(f"tune:{self.fn.__qualname__}", (
                f"could not tune {self.fn.__qualname__} ({type(exc).__name__}: {exc}); it runs serially."))
            self._plans[size] = serial_plan("fallback", size)
            self._use(self._plans[size])
            return
        rec = report.recommendation
        plan = Plan(rec.executor, rec.workers, rec.chunksize, rec.start_method, "tuned",
                    rec.expected_speedup, size, self._key(size))
        if plan.executor not in EXECUTORS:  # advice ``map`` has no pool for: keep the serial loop
            plan = dataclasses.replace(plan, executor="serial", workers=1, chunksize=None, start_method=None)
        self._plans[size], self._reports[size] = plan, report
        self._store(plan, report, len(recorder.calls))
        self._use(plan, size)

    # -- the cache -----------------------------------------------------------------------
    def _key(self, size: str) -> str:
        from .cache import entry_key, function_fingerprint

        if self._function_fp is None:
            self._function_fp = function_fingerprint(self.fn) + ("*" if self.star else "")
        return entry_key(self._function_fp, machine_fp(), size)

    def _from_cache(self, size: str, provisional_too: bool = False) -> Optional[Plan]:
        """The cached plan for ``size``; a provisional one (measured on a busy machine) only
        when ``provisional_too``, so a later run on a quieter machine measures again."""
        from .cache import TuningCache

        key = self._key(size)
        try:
            entry = TuningCache().get(key)
        except (sqlite3.Error, OSError) as exc:
            _warn_once("cache-read", f"the tuning cache could not be read ({exc}); tuning without it.")
            return None
        if entry is None or "plan" not in entry.value or (entry.value.get("provisional") and not provisional_too):
            return None
        try:
            plan = Plan.from_stored(entry.value["plan"], "cache")
        except TypeError:
            return None
        if plan.executor not in self.executors:  # tuned with other executors allowed than now
            return None
        self._plans[size] = plan
        if entry.value.get("report"):
            self._reports[size] = entry.value["report"]
        return plan

    def _store(self, plan: Plan, report: Report, n_items: int) -> None:
        from ..version import __version__
        from .cache import TuningCache

        assert self._function_fp is not None
        value = {"plan": plan.stored(), "items": n_items, "tool_version": __version__,
                 "executors": list(self.executors), "report": report.to_json(),
                 # Other programs took CPUs while it was measured: not a plan to keep for good.
                 "provisional": any(w.code == "busy-machine" for w in report.warnings)}
        try:
            TuningCache().put(plan.key, f"{self.fn.__module__}.{self.fn.__qualname__}", self._function_fp,
                              machine_fp(), plan.size_class, value)
        except (sqlite3.Error, OSError) as exc:
            _warn_once("cache-write", f"the tuning cache could not be written ({exc}); the plan is kept in memory.")


def _size_class(n: int) -> str:
    from .cache import size_class

    return size_class(n)


@functools.lru_cache(maxsize=1)
def machine_fp() -> str:
    from ..machine import detect_machine, machine_fingerprint

    return machine_fingerprint(detect_machine())
