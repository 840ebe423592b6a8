"""What one trial runs and what it is checked for, mixed into ``runner.Sweep``.

The body of a trial maps the target over the items with the configuration's executor,
timed; the first serial trial also looks at what the target changes (module globals,
files in the script's folders, its own arguments). Each trial's results are compared
with serial's by content, and an executor that fails or differs where serial did not
is marked unsafe: none of its configurations is recommended.
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from .. import executors
from ..analyse import space
from ..executors import dask_cluster
from ..measure import state
from ..model import Trial, Warning
from . import items as items_mod
from . import probes


def _pickled_or_none(value: Any) -> Optional[bytes]:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - unpicklable arguments: mutation cannot be checked
        return None


# The serial trial checks whether the target changes its arguments in place on the first
# items up to this many pickled bytes: a function that mutates its arguments does so on
# every call, and pickling forty 8 MB arrays twice over took 1.6 s of a 3 s budget.
MUTATION_SAMPLE_BYTES = 16 * 2**20


def mutation_sample(items: list[Any]) -> list[Any]:
    """The first items, up to ``MUTATION_SAMPLE_BYTES`` pickled (all of them when small)."""
    total = 0
    for index, item in enumerate(items):
        try:
            total += len(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:  # noqa: BLE001 - unpicklable: arguments_changed cannot tell anyway
            return items
        if total >= MUTATION_SAMPLE_BYTES:
            return items[:index + 1]
    return items


def _reset_by_each_call(changed: list[str], after: dict[str, Optional[str]], namespace: dict[str, Any],
                        fn: Callable[[Any], Any], mapped: list[Any], is_coroutine: bool) -> list[str]:
    """The changed globals that running the last item once more, from the state the whole
    map left, leaves as they were: the call sets them afresh (a generator it reseeds, a
    value it overwrites) or adds nothing new (a cache that holds its entry already). A
    counter or a growing list changes again. Worker processes' results are still compared
    with serial's by content; what they lose is only this process's final value of these."""
    if not changed or not mapped or is_coroutine:
        return []
    try:
        fn(mapped[-1])
    except Exception:  # noqa: BLE001 - it raised this time: no evidence either way
        return []
    again = state.globals_digest(namespace)
    return [name for name in changed if again.get(name) is not None and again.get(name) == after.get(name)]


@dataclass(frozen=True)
class Unsafe:
    """How an executor went wrong where serial did not: trials that failed or differed."""

    trials: int
    results_differ: int  # results that differed from serial's, over those trials
    first: str  # the first failure, with its configuration


def space_label(config: space.Config) -> str:
    return Trial(config.executor, config.workers, config.chunksize, config.start_method, None, None, True,
                 blas_threads=config.blas_threads).label


class TrialChecks:
    """Mixed into ``runner.Sweep``: it provides subject, options, warnings and the state below."""

    subject: Any
    options: Any
    warnings: list[Warning]
    reference: Optional[list[Any]]
    mutated_globals: list[str]
    reset_globals: list[str]
    mutated_args: bool
    nondeterministic: bool
    results_unpicklable: Optional[str]
    unsafe: dict[str, Unsafe]

    def _body(self, config: space.Config, first: bool, inspect_state: bool,
              items: Optional[list[Any]] = None) -> Callable[[], dict[str, Any]]:
        subject, options = self.subject, self.options
        mapped = subject.items if items is None else items

        def body() -> dict[str, Any]:
            fn = subject.prepare_child(config.executor)
            run = executors.backend_for(config.executor, subject.is_coroutine, options.dask)
            if inspect_state:
                before_globals = state.globals_digest(subject.module.__dict__)
                before_files = probes.folder_listing(options.folders)
                watched = mutation_sample(subject.items)
                before_items = _pickled_or_none(watched)
            # A trial is a fork of the host, so the items' pages are shared copy-on-write and
            # the first reference to each copies its page: a cost the user's program, which
            # made the items, never pays (100,000 tuples: 0.085 s untouched, 0.075 s touched).
            for _ in mapped:
                pass
            with executors.blas_limit(config.blas_threads):
                seconds, results = executors.timed(
                    lambda: run(fn, mapped, config.workers, config.chunksize, config.start_method))
            out: dict[str, Any] = {"seconds": seconds, "results": results if first else None,
                                   "phases": dict(dask_cluster.DASK_PHASES)}
            if inspect_state:
                after = state.globals_digest(subject.module.__dict__)
                out["globals"] = state.changed_globals(before_globals, after)
                out["reset_globals"] = _reset_by_each_call(out["globals"], after, subject.module.__dict__, fn, mapped,
                                                           subject.is_coroutine)
                out["files"] = probes.changed_files(before_files, probes.folder_listing(options.folders))
                out["args_changed"] = before_items is not None and state.arguments_changed(watched, before_items)
            return out

        return body

    def _check(self, config: space.Config, value: dict[str, Any]) -> Optional[bool]:
        results = value["results"]
        if value.get("results_error"):
            self.results_unpicklable = value["results_error"]
        if config.executor == "serial":
            self.reference = results
            self._note_side_effects(value)
            self.reset_globals = value.get("reset_globals", [])
            self.mutated_globals = [n for n in value.get("globals", []) if n not in self.reset_globals]
            self.mutated_args = bool(value.get("args_changed"))
            recorded = self.subject.recorded
            if recorded is not None and results is not None and items_mod.count_differences(recorded, results):
                self.nondeterministic = True
            return True
        if self.reference is None or self.nondeterministic or results is None:
            return None
        differ = items_mod.count_differences(self.reference, results)
        if differ:
            self.note_unsafe(config, f"{differ} of {len(self.reference)} results differ from serial's", differ)
        return differ == 0

    def note_unsafe(self, config: space.Config, what: str, differ: int = 0) -> None:
        if config.executor == "serial":
            return
        known = self.unsafe.get(config.executor)
        if known is None:
            self.unsafe[config.executor] = Unsafe(1, differ, f"{space_label(config)}: {what}")
        else:
            self.unsafe[config.executor] = replace(known, trials=known.trials + 1,
                                                   results_differ=known.results_differ + differ)

    def _note_side_effects(self, value: dict[str, Any]) -> None:
        if value.get("files"):
            shown = ", ".join(value["files"][:3])
            self.warnings.append(Warning("side-effect-io", (
                f"Replaying the target changed files ({shown}); paradvise runs it many times, "
                "so such writes repeat in every trial.")))
