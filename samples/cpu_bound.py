"""Count primes in consecutive chunks of an integer range using trial division.

Pure-Python CPU-bound work: each chunk is independent and takes tens of milliseconds.
"""
import sys


def count_primes(bounds):
    start, stop = bounds
    count = 0
    for n in range(max(start, 2), stop):
        if n % 2 == 0:
            count += n == 2
            continue
        d = 3
        while d * d <= n:
            if n % d == 0:
                break
            d += 2
        else:
            count += 1
    return count


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    chunk = 15_000
    base = 1_000_000
    chunks = [(base + i * chunk, base + (i + 1) * chunk) for i in range(24 * scale)]
    counts = [count_primes(c) for c in chunks]
    print(f"chunks={len(chunks)} primes={sum(counts)}")
    print("per-chunk:", ",".join(str(c) for c in counts[:8]), "...")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
