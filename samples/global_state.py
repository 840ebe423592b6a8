"""Score a batch of records while keeping running totals in module-level dicts.

The per-record function does real CPU work and also updates module globals (a cache and counters) that main reports at the end.
"""
import sys

STATS = {"calls": 0, "total_rounds": 0}
BUCKET_COUNTS = {}
SEEN = {}


def score_record(record):
    key, rounds = record
    h = 2166136261
    for i in range(rounds):
        h = ((h ^ (i & 0xFF)) * 16777619) & 0xFFFFFFFF
        h ^= h >> 13
    bucket = h % 8
    STATS["calls"] += 1
    STATS["total_rounds"] += rounds
    BUCKET_COUNTS[bucket] = BUCKET_COUNTS.get(bucket, 0) + 1
    SEEN[key] = h
    return h


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    records = [(f"rec-{i:03d}", 200_000 + 2_000 * i) for i in range(24 * scale)]
    scores = []
    for record in records:
        scores.append(score_record(record))
    print(f"scored={len(scores)} checksum={sum(scores) % 1_000_003}")
    print(f"stats={STATS} seen={len(SEEN)} buckets={dict(sorted(BUCKET_COUNTS.items()))}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
