"""Compute Collatz statistics for a batch of jobs whose sizes are very uneven.

Most jobs cover a small range of numbers; the last few jobs in the queue cover ranges ~15x larger.
"""
import sys


def collatz_job(job):
    start, count = job
    longest = 0
    best = start
    for n in range(start, start + count):
        steps = 0
        x = n
        while x != 1:
            x = x // 2 if x % 2 == 0 else 3 * x + 1
            steps += 1
        if steps > longest:
            longest, best = steps, n
    return best, longest


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    small, large = 1_500, 22_000
    jobs = [(100_000 + i * small, small) for i in range(30 * scale)]
    jobs += [(500_000 + i * large, large) for i in range(3 * scale)]
    results = [collatz_job(job) for job in jobs]
    best, longest = max(results, key=lambda r: (r[1], -r[0]))
    print(f"jobs={len(jobs)} longest_chain={longest} at n={best}")
    print("tail:", results[-3:])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
