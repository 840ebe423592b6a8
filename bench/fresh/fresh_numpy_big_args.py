"""Summarize a day of high-rate vibration captures: each capture is a large
float64 numpy array (about 5 MB) and the per-capture summary is a handful of
vectorized reductions (RMS, peak-to-peak, crest factor, a coarse histogram,
a percentile, roughness and zero crossings).  Kind: numpy with big arguments -
the argument is far larger than the work done on it."""
import sys

import numpy as np

HOT = "summarize_capture"

SAMPLES = 640_000


def summarize_capture(signal):
    centered = signal - signal.mean()
    rms = float(np.sqrt(np.mean(centered * centered)))
    p2p = float(np.ptp(signal))
    crest = float(np.max(np.abs(centered)) / rms)
    counts, _ = np.histogram(centered, bins=16, range=(-3.0, 3.0))
    p99 = float(np.percentile(np.abs(centered), 99.0))
    crossings = int(np.count_nonzero(np.diff(np.signbit(centered))))
    roughness = float(np.mean(np.abs(np.diff(signal))))
    return (round(rms, 9), round(p2p, 9), round(crest, 9), round(p99, 9),
            round(roughness, 9), crossings,
            tuple(int(c) for c in counts))


def items(scale=1):
    rng = np.random.default_rng(20240611)
    bases = [rng.random(SAMPLES) - 0.5 for _ in range(3)]
    captures = []
    for k in range(15 * scale):
        gain = 0.5 + 0.1 * (k % 7)
        x = bases[k % 3] * (4.0 * gain)
        x += 0.01 * k
        captures.append(x)
    return captures


def main(scale=1):
    xs = items(scale)
    results = []
    for x in xs:
        results.append(summarize_capture(x))
    worst = max(range(len(results)), key=lambda i: results[i][2])
    print(f"{len(results)} captures, mean rms {sum(r[0] for r in results) / len(results):.4f}, "
          f"highest crest factor in capture {worst} ({results[worst][2]:.3f})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
