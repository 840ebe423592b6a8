"""Its text shows one loop in main (over ``describe``), but the time goes to the loop that
builds main's inputs (over ``simulate``): the count run's guess is wrong, and paradvise
must measure ``simulate`` in a second run."""
import sys


def simulate(seed):
    total = 0
    for i in range(60_000):
        total = (total * 31 + seed + i) % 1_000_003
    return total


def prepare(n):
    return [simulate(seed) for seed in range(n)]


def describe(value):
    return value % 7


def main(n):
    values = prepare(n)
    labels = [describe(v) for v in values]
    print(sum(labels))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 24)
