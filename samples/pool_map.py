"""Check which of a range of numbers are squares of a prime, with a process pool, the classic way.

The script already runs in parallel: ``Pool(8).map(work, numbers, chunksize=1)``. Each call
takes well under a microsecond, so handing them to worker processes one at a time costs
far more than the work. paradvise times the script's own pool beside serial and the rest.
"""
import multiprocessing
import sys

HOT = "is_prime_square"


def is_prime_square(n):
    root = int(n ** 0.5)
    if root * root != n or root < 2:
        return False
    return all(root % d for d in range(2, int(root ** 0.5) + 1))


def items(scale=1):
    return list(range(20_000 * scale))


def main(scale=1):
    numbers = items(scale)
    with multiprocessing.Pool(8) as pool:
        found = pool.map(is_prime_square, numbers, chunksize=1)
    print(f"numbers={len(numbers)} prime squares={sum(found)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
