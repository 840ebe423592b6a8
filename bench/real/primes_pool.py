"""Test 20,000 small numbers for primality with a multiprocessing.Pool - badly.

What it does: maps the Python documentation's is_prime() over range(20_000 * scale)
with ``multiprocessing.Pool(8).map(..., chunksize=1)`` and prints how many primes it
found. Each is_prime() call on numbers this small takes only a few microseconds, so
the pool spends almost all its time pickling single items, passing them through pipes
and waking 8 workers (on a machine that may have far fewer cores); the parallel loop
is many times slower than the plain serial ``[is_prime(n) for n in numbers]``.

Source: python/cpython, Doc/library/concurrent.futures.rst, section
"ProcessPoolExecutor Example" (is_prime() and the PRIMES/main() example), licence
PSF License v2 (code in the CPython documentation is also dual-licensed under the
Zero-Clause BSD licence, see CPython's LICENSE). The Pool(...)/map() idiom is the one
from Doc/library/multiprocessing.rst's first example ("with Pool(5) as p:
print(p.map(f, [1, 2, 3]))").

What I changed: is_prime() is copied unchanged. The docs' main() maps it over six
15-16 digit numbers with concurrent.futures.ProcessPoolExecutor; here main() maps it
over range(20_000 * scale) with multiprocessing.Pool(8) and chunksize=1 (the classic
over-parallelised mistake), and prints a summary instead of one line per number.
items() is new. The ``if __name__ == "__main__":`` guard is kept (the pool needs it).

SHAPE: ALREADY PARALLEL, BADLY - the script already uses a process pool, but the
mapped function is tiny (a few microseconds), there are 8 workers and chunksize=1, so
the per-task overhead dwarfs the work and serial is faster. HOT is the mapped
function.
"""

import math
import multiprocessing
import sys

HOT = "is_prime"


def is_prime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False

    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


def items(scale=1):
    return list(range(20_000 * scale))


def main(scale=1):
    numbers = items(scale)
    with multiprocessing.Pool(8) as pool:
        results = pool.map(is_prime, numbers, chunksize=1)
    primes = [n for n, prime in zip(numbers, results) if prime]
    print('%d numbers tested, %d are prime, largest prime %d'
          % (len(numbers), len(primes), primes[-1]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
