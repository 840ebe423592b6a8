"""``@advise`` on a method: the descriptor that binds the instance, so ``obj.score.map(items)`` works."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence

from ..model import Report

if TYPE_CHECKING:
    from .decorator import Advisor, Plan


def is_method(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` is being defined in a class body (``Scorer.score``, not ``main.<locals>.score``)."""
    qualname = getattr(fn, "__qualname__", "")
    owner = qualname.rpartition(".")[0]
    return bool(owner) and not owner.endswith("<locals>")


class AdvisedMethod:
    """``@advise`` on a method: ``obj.score(x)`` is the method as written; ``obj.score.map(items)``
    maps it over ``items`` with ``obj`` bound, tuned like ``f.starmap`` over ``(obj, item)``,
    so the instance travels with each call to a worker process."""

    def __init__(self, fn: Callable[..., Any], advisor: "Advisor") -> None:
        self.fn, self.advisor = fn, advisor
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    def __get__(self, obj: Any, owner: Optional[type] = None) -> Any:
        if obj is None:
            return self.fn  # Class.score: the plain function (so pickle finds it by name)
        return BoundAdvised(self, obj)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)


class BoundAdvised:
    """``obj.score`` for an advised method: callable as the method, with ``map``/``starmap``."""

    def __init__(self, method: AdvisedMethod, obj: Any) -> None:
        self._method, self._obj = method, obj

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._method.fn(self._obj, *args, **kwargs)

    def map(self, iterable: Iterable[Any]) -> list[Any]:
        return self._method.advisor.map((self._obj, x) for x in iterable)

    def starmap(self, iterable: Iterable[Sequence[Any]]) -> list[Any]:
        return self._method.advisor.map((self._obj, *args) for args in iterable)

    def report(self) -> Report:
        return self._method.advisor.report()

    @property
    def plan(self) -> Optional[Plan]:
        return self._method.advisor.plan
