"""Comparing results: do two configurations produce the same outcome?"""
from __future__ import annotations

import math
import pickle
from typing import Any, Sequence


# Floating-point results may differ in their last bits between configurations: a BLAS on
# one thread or on four sums in a different order. That is the same answer.
FLOAT_REL_TOL = 1e-9
FLOAT_ABS_TOL = 1e-12


def same(a: Any, b: Any) -> bool:
    """Equality that also works for numpy arrays and NaN, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=FLOAT_REL_TOL, abs_tol=FLOAT_ABS_TOL) or (math.isnan(a) and math.isnan(b))
    if type(a).__module__ == "numpy" and hasattr(a, "shape"):
        import numpy as np

        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=FLOAT_REL_TOL, atol=FLOAT_ABS_TOL, equal_nan=True))
        return bool(np.array_equal(a, b))
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
    try:
        # The usual case, all equal, checked in C: a million results in milliseconds. It
        # can raise (numpy arrays) or say False for NaN; then element by element.
        if all(type(a) is type(b) for a, b in zip(expected, got)) and list(expected) == list(got):
            return 0
    except Exception:  # noqa: BLE001 - any failure of == sends us to the careful comparison
        pass
    return sum(1 for a, b in zip(expected, got) if not same(a, b))
