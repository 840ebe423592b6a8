"""Lab instrument batch QC: each run file (CSV text) is piped through an
isolated checker process (a fresh interpreter, as a sandboxed plugin would
be) that computes per-channel statistics and flags outliers; the parent
parses the checker's tab-separated report."""
import random
import subprocess
import sys

HOT = "qc_run"

CHECKER = r"""
import sys, statistics
chans = {}
for line in sys.stdin:
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    t, ch, val = line.split(",")
    chans.setdefault(ch, []).append(float(val))
for ch in sorted(chans):
    v = chans[ch]
    mu = statistics.fmean(v)
    sd = statistics.pstdev(v)
    out = sum(1 for x in v if sd and abs(x - mu) > 3 * sd)
    print(f"{ch}\t{len(v)}\t{mu:.6f}\t{sd:.6f}\t{min(v):.4f}\t{max(v):.4f}\t{out}")
"""


def qc_run(run):
    """run = (run_id, csv_text). Returns (run_id, {channel: stats}, n_flagged)."""
    run_id, text = run
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", CHECKER],
        input=text, capture_output=True, text=True, check=True, timeout=60,
    )
    report = {}
    flagged = 0
    for line in proc.stdout.splitlines():
        ch, n, mu, sd, lo, hi, out = line.split("\t")
        report[ch] = (int(n), float(mu), float(sd), float(lo), float(hi), int(out))
        flagged += int(out)
    return (run_id, report, flagged)


def items(scale):
    rng = random.Random(5150)
    runs = []
    for r in range(12 * scale):
        lines = [f"# run {r} instrument LC-{rng.randint(1, 4)}"]
        n_ch = rng.randint(3, 6)
        for t in range(rng.randint(1500, 2500)):
            ch = f"ch{t % n_ch}"
            val = rng.gauss(10 * (t % n_ch) + 5, 1.5)
            if rng.random() < 0.004:
                val += rng.choice((-1, 1)) * 12
            lines.append(f"{t * 0.05:.2f},{ch},{val:.4f}")
        runs.append((f"RUN{r:03d}", "\n".join(lines) + "\n"))
    return runs


def main(scale):
    xs = items(scale)
    reports = [qc_run(run) for run in xs]
    flagged = sum(f for _, _, f in reports)
    channels = sum(len(rep) for _, rep, _ in reports)
    print(f"checked {len(reports)} runs, {channels} channels, {flagged} outlier samples")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
