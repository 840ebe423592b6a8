"""Stage telemetry batches through CSV spool files (an ETL staging step).

items() creates a spool directory under the system temp dir and returns one
batch descriptor per incoming telemetry batch.  The hot function renders the
batch's readings as CSV, writes the file to the spool directory (flush +
fsync, as a durable staging step would), reads it back, re-parses every row
with the csv module, validates it and aggregates per-device min/mean/max,
returning a sorted tuple of per-device statistics.  main() removes the spool
directory at the end.

Kind: file I/O per call (write + fsync + read back + parse), ~60 calls of ~10-30 ms at scale 3.
"""
import csv
import os
import random
import shutil
import sys
import tempfile

HOT = "stage_batch"


def stage_batch(item):
    spool_dir, batch_id, seed, n_rows = item
    rng = random.Random(seed)
    path = os.path.join(spool_dir, f"batch_{batch_id:05d}.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["ts", "device", "metric", "value", "quality"])
        for k in range(n_rows):
            w.writerow([1718000000 + batch_id * 10000 + k, f"dev{rng.randrange(40):02d}",
                        rng.choice(("temp", "hum", "volt")),
                        f"{rng.gauss(20.0, 5.0):.3f}", rng.choice("GGGGGGGB")])
        f.flush()
        os.fsync(f.fileno())
    stats = {}
    bad = 0
    with open(path, newline="") as f:
        r = csv.reader(f)
        next(r)
        for ts, dev, metric, value, quality in r:
            if quality != "G":
                bad += 1
                continue
            v = float(value)
            s = stats.get((dev, metric))
            if s is None:
                stats[(dev, metric)] = [v, v, v, 1]
            else:
                if v < s[0]:
                    s[0] = v
                if v > s[1]:
                    s[1] = v
                s[2] += v
                s[3] += 1
    agg = tuple(sorted((k[0], k[1], round(s[0], 3), round(s[2] / s[3], 6), round(s[1], 3), s[3])
                       for k, s in stats.items()))
    return (batch_id, os.path.getsize(path), bad, agg)


def items(scale=1):
    spool = tempfile.mkdtemp(prefix="f2_spool_", dir=tempfile.gettempdir())
    rng = random.Random(2718)
    return [(spool, i, rng.randrange(1 << 30), rng.randrange(3000, 6000))
            for i in range(20 * scale)]


def main(scale=1):
    xs = items(scale)
    results = [stage_batch(x) for x in xs]
    shutil.rmtree(xs[0][0], ignore_errors=True)
    print(f"{len(results)} batches staged, {sum(r[1] for r in results)} bytes spooled, "
          f"{sum(r[2] for r in results)} bad rows dropped")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
