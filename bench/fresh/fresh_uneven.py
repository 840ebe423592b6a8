"""Run a batch of one-dimensional cellular-automaton experiments (Wolfram
rules on a ring of cells, seeded from a bit pattern) and record the final
population, the number of distinct rows seen and a checksum.  Most jobs are
short, but the last few requested experiments run 15x as many generations.
Kind: uneven task durations, pure-Python CPU work holding the GIL."""
import sys

HOT = "run_automaton"


def run_automaton(job):
    rule, width, steps, seed = job
    table = [(rule >> i) & 1 for i in range(8)]
    cells = [(seed >> (i % 31)) & 1 for i in range(width)]
    seen = {}
    checksum = 0
    for t in range(steps):
        left = cells[-1:] + cells[:-1]
        right = cells[1:] + cells[:1]
        cells = [table[(l << 2) | (c << 1) | r] for l, c, r in zip(left, cells, right)]
        if t % 8 == 0:
            key = bytes(cells)
            if key not in seen:
                seen[key] = t
        checksum = (checksum * 31 + sum(cells)) % 1_000_000_007
    return (rule, sum(cells), len(seen), checksum)


def items(scale=1):
    rules = (30, 110, 90, 54, 150, 45, 73, 105)
    short, long_ = [], []
    for k in range(12 * scale):
        short.append((rules[k % len(rules)], 600, 320 + (k % 5) * 20, 0x5DEECE66D + 7 * k))
    for k in range(scale):
        long_.append((rules[(k * 3) % len(rules)], 600, 5400, 0x2545F491 + 11 * k))
    return short + long_


def main(scale=1):
    xs = items(scale)
    results = []
    for x in xs:
        results.append(run_automaton(x))
    alive = sum(r[1] for r in results)
    print(f"{len(results)} experiments, total live cells {alive}, "
          f"distinct rows {sum(r[2] for r in results)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
