"""Speedup models fitted to measured trials (pure functions, numpy least squares).

Amdahl: S(w) = 1 / (s + (1 - s) / w), with s the serial fraction.
Universal Scalability Law (Gunther): S(w) = w / (1 + a (w - 1) + b w (w - 1)), with a the
contention and b the coherency (crosstalk) cost. Both are linear in their parameters
after a change of variables, so ordinary least squares fits them.
"""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ..model import Trial

# A fit needs the serial point plus at least this many worker counts.
MIN_POINTS = 2


def best_per_workers(trials: list[Trial], executor: str) -> dict[int, float]:
    """Best measured speedup at each worker count for one executor (any chunk size)."""
    best: dict[int, float] = {}
    for t in trials:
        if t.executor == executor and t.ok and t.speedup:
            best[t.workers] = max(best.get(t.workers, 0.0), t.speedup)
    return dict(sorted(best.items()))


def fit_amdahl(points: dict[int, float]) -> float:
    """Serial fraction s from (workers, speedup) points; 1/S - 1/w = s (1 - 1/w)."""
    w = np.array([1.0, *points.keys()])
    s = np.array([1.0, *points.values()])
    x, y = 1 - 1 / w, 1 / s - 1 / w
    denominator = float(np.dot(x, x))
    return float(np.clip(np.dot(x, y) / denominator, 0.0, 1.0)) if denominator else 1.0


def fit_usl(points: dict[int, float]) -> tuple[float, float]:
    """(contention a, coherency b) from points; w/S - 1 = a (w - 1) + b w (w - 1)."""
    w = np.array([1.0, *points.keys()])
    s = np.array([1.0, *points.values()])
    design = np.column_stack([w - 1, w * (w - 1)])
    (a, b), *_ = np.linalg.lstsq(design, w / s - 1, rcond=None)
    return max(0.0, float(a)), max(0.0, float(b))


def amdahl(s: float, w: float) -> float:
    return 1.0 / (s + (1 - s) / w)


def usl(a: float, b: float, w: float) -> float:
    return w / (1 + a * (w - 1) + b * w * (w - 1))


def holdout_error(points: dict[int, float]) -> Optional[float]:
    """Fit without the largest worker count, predict it: relative error of that prediction."""
    if len(points) < MIN_POINTS + 1:
        return None
    *head, last = points.items()
    a, b = fit_usl(dict(head))
    predicted = usl(a, b, last[0])
    return round(abs(predicted - last[1]) / last[1], 4)


def fit_scaling(trials: list[Trial], executor: str, predict_to: int) -> Optional[dict[str, Any]]:
    points = best_per_workers(trials, executor)
    if len(points) < 1:
        return None
    s = fit_amdahl(points)
    a, b = fit_usl(points) if len(points) >= MIN_POINTS else (s, 0.0)
    upper = max(predict_to, *points)
    return {
        "measured": {str(w): round(v, 4) for w, v in points.items()},
        "amdahl_serial_fraction": round(s, 4),
        "usl_contention": round(a, 5),
        "usl_coherency": round(b, 6),
        "predicted": {str(w): round(usl(a, b, w), 4) for w in range(1, upper + 1)},
        "holdout_error": holdout_error(points),
    }


def fit_all(trials: list[Trial], predict_to: int) -> dict[str, dict[str, Any]]:
    executors = sorted({t.executor for t in trials if t.executor != "serial"})
    fits = {e: fit_scaling(trials, e, predict_to) for e in executors}
    return {e: f for e, f in fits.items() if f is not None}
