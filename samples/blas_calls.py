"""Fit a small least-squares model per customer segment with numpy's BLAS-backed solver.

Each call multiplies and solves 300x300 matrices: the work happens in OpenBLAS, which
runs its own pool of one thread per core inside every call.
"""
import sys

import numpy as np


def fit_segment(seed):
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((300, 300))
    target = rng.standard_normal(300)
    gram = features.T @ features + 0.1 * np.eye(300)
    weights = np.linalg.solve(gram, features.T @ target)
    return float(np.abs(weights).sum())


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    segments = list(range(40 * scale))
    scores = [fit_segment(s) for s in segments]
    print(f"segments={len(scores)} total={sum(scores):.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
