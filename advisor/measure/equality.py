"""Comparing results: do two configurations produce the same outcome?

By content, not identity: a result that is an object of a class without ``__eq__`` (a
small record class with ``__slots__``, a hashlib object) is equal to another when what it
holds is equal, as a user comparing the two by eye would say. Comparing such objects with
``==`` falls back to identity, so every replay "differed" from the recording and the
correctness check was switched off.
"""
from __future__ import annotations

import math
import pickle
from typing import Any, Optional, Sequence

# Floating-point results may differ in their last bits between configurations: a BLAS on
# one thread or on four sums in a different order. That is the same answer.
FLOAT_REL_TOL = 1e-9
FLOAT_ABS_TOL = 1e-12
def same(a: Any, b: Any, _pairs: Optional[set[tuple[int, int]]] = None) -> bool:
    """Equality by content, recursively: containers, floats to tolerance, NaN, numpy arrays,
    hash objects by digest, and objects without ``__eq__`` by their ``__dict__`` and ``__slots__``.

    A pair met again while it is being compared (a structure that refers to itself) is
    taken as equal there: any difference shows up elsewhere in the walk.
    """
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    deeper = set() if _pairs is None else _pairs
    pair = (id(a), id(b))
    if pair in deeper:
        return True
    deeper.add(pair)
    try:
        return _same_typed(a, b, deeper)
    finally:
        deeper.discard(pair)


def _same_typed(a: Any, b: Any, deeper: set[tuple[int, int]]) -> bool:
    if isinstance(a, (list, tuple)):
        if len(a) != len(b):
            return False
        try:  # the usual case, equal, checked in C; False or an error say nothing yet (NaN, arrays)
            if a == b:
                return True
        except Exception:  # noqa: BLE001
            pass
        return all(same(x, y, deeper) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], deeper) for k in a)
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL) or (math.isnan(a) and math.isnan(b))
    if type(a).__module__ == "numpy" and hasattr(a, "shape"):
        return _same_arrays(a, b)
    digest = _digest(a)
    if digest is not None:
        return digest == _digest(b)
    if type(a).__eq__ is object.__eq__:  # identity is all == would compare
        content = _content(a)
        return content is not None and same(content, _content(b), deeper)
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - objects whose == fails: compare what they hold
        content = _content(a)
        if content is not None:
            return same(content, _content(b), deeper)
        return _same_pickles(a, b)


def _same_arrays(a: Any, b: Any) -> bool:
    import numpy as np

    if a.shape != b.shape:
        return False
    if a.dtype.kind in "fc":
        return bool(np.allclose(a, b, rtol=FLOAT_REL_TOL, atol=FLOAT_ABS_TOL, equal_nan=True))
    return bool(np.array_equal(a, b))


def _digest(value: Any) -> Optional[bytes]:
    """A hash object's digest (hashlib, hmac: they define no __eq__); None for anything else."""
    if not (callable(getattr(value, "digest", None)) and hasattr(value, "digest_size")
            and callable(getattr(value, "copy", None))):
        return None
    try:
        return value.copy().digest()
    except TypeError:  # shake_128/256 want a length
        try:
            return value.copy().digest(64)
        except Exception:  # noqa: BLE001
            return None
    except Exception:  # noqa: BLE001
        return None


def _content(value: Any) -> Optional[dict[str, Any]]:
    """What an object holds: its ``__dict__`` and every ``__slots__`` entry set on it.

    None when it has neither (an opaque native object), so only its pickle can tell.
    """
    found: dict[str, Any] = {}
    has_any = False
    for cls in type(value).__mro__:
        slots = cls.__dict__.get("__slots__", ())
        for slot in (slots,) if isinstance(slots, str) else slots:
            if slot in ("__dict__", "__weakref__"):
                continue
            has_any = True
            try:
                found[f"{cls.__name__}.{slot}"] = getattr(value, slot)
            except AttributeError:  # a slot never set
                found[f"{cls.__name__}.{slot}"] = _UNSET
    attributes = getattr(value, "__dict__", None)
    if isinstance(attributes, dict):
        has_any = True
        found.update(attributes)
    return found if has_any else None


class _Unset:
    """Stands for a slot that was never set, in both objects alike."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unset)

    def __hash__(self) -> int:
        return 0


_UNSET = _Unset()


def _same_pickles(a: Any, b: Any) -> bool:
    try:
        return pickle.dumps(a) == pickle.dumps(b)
    except Exception:  # noqa: BLE001
        return False


def count_differences(expected: Sequence[Any], got: Sequence[Any]) -> int:
    if len(expected) != len(got):
        return max(len(expected), len(got))
    try:
        # The usual case, all equal, checked in C: a million results in milliseconds. It
        # can raise (numpy arrays) or say False for NaN; then element by element.
        if all(type(a) is type(b) for a, b in zip(expected, got)) and list(expected) == list(got):
            return 0
    except Exception:  # noqa: BLE001 - any failure of == sends us to the careful comparison
        pass
    return sum(1 for a, b in zip(expected, got) if not same(a, b))
