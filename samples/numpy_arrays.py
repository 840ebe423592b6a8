"""Summarise a batch of multi-megabyte sensor-signal arrays with numpy.

Each array (~4 MB of float64) gets a few light vectorised operations returning one float.
"""
import numpy as np
import sys


def signal_energy(samples):
    clipped = np.clip(samples, -3.0, 3.0)
    level = np.sqrt(clipped * clipped + 1.0).mean()
    jitter = np.abs(np.diff(clipped)).max()
    return float(level + 0.01 * jitter)


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    rng = np.random.default_rng(12345)
    n_signals = 24 * scale
    length = 500_000  # 4 MB of float64 per signal
    noise = rng.standard_normal(length)
    signals = [noise * (1.0 + 0.05 * i) for i in range(n_signals)]
    energies = [signal_energy(s) for s in signals]
    print(f"signals={len(signals)} MB_each={signals[0].nbytes / 1e6:.1f}")
    print(f"mean_energy={sum(energies) / len(energies):.6f} max_energy={max(energies):.6f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
