"""Find the zero-sum triplets of each batch of ledger adjustments, skipping small batches.

What it does: generates 30 deterministic batches per scale of signed integer
adjustments (-99..99, 30-140 entries per batch), and for every batch of at least
MIN_BATCH (75) entries finds all distinct triplets of entries that cancel out (sum to
zero) with find_triplets_with_0_sum(); smaller batches are skipped by the
comprehension's ``if``. It prints how many batches were searched and skipped, the
number of triplets found in total and per batch, and the first triplets of the
richest batch.

Source: TheAlgorithms/Python, data_structures/arrays/find_triplets_with_0_sum.py
(commit eb989c08cdbf82e1a4db6481371f3e9ccb3bcf99, the file as of repository HEAD
f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md).

What I changed: find_triplets_with_0_sum() is copied unchanged, doctest included
(the original file has no module docstring). Not copied: the file's second function,
find_triplets_with_0_sum_hashing(), which the loop does not use, and the
``if __name__ == "__main__":`` block (doctest.testmod()). Added: this docstring, the
imports of random and sys, HOT, MIN_BATCH, the batch generator make_batches(),
items() and main().

SHAPE: A FILTERED LIST COMPREHENSION - the loop is

    [find_triplets_with_0_sum(batch) for batch in batches if len(batch) >= MIN_BATCH]

where the ``if`` is a cheap length test that drops about a third of the items before
any call: the calls and their results are fewer than the items, and a parallel map
has to filter first (or map only the kept items). The function is built from
library pieces held under the GIL: ``sorted()``, ``itertools.combinations(..., 3)``
over 67,000-450,000 triples, a set comprehension with ``sum()`` per triple, and a
second ``sorted()``; it returns a fresh list of about a hundred to eight hundred
3-element lists (a larger result than an int to send back). Calls take 5-40 ms,
growing with the cube of the batch length. HOT is the function; items() is every
batch, the short ones included, as the comprehension iterates them.
"""

import random
import sys
from itertools import combinations

HOT = "find_triplets_with_0_sum"


def find_triplets_with_0_sum(nums: list[int]) -> list[list[int]]:
    """
    Given a list of integers, return elements a, b, c such that a + b + c = 0.
    Args:
        nums: list of integers
    Returns:
        list of lists of integers where sum(each_list) == 0
    Examples:
        >>> find_triplets_with_0_sum([-1, 0, 1, 2, -1, -4])
        [[-1, -1, 2], [-1, 0, 1]]
        >>> find_triplets_with_0_sum([])
        []
        >>> find_triplets_with_0_sum([0, 0, 0])
        [[0, 0, 0]]
        >>> find_triplets_with_0_sum([1, 2, 3, 0, -1, -2, -3])
        [[-3, 0, 3], [-3, 1, 2], [-2, -1, 3], [-2, 0, 2], [-1, 0, 1]]
    """
    return [
        list(x)
        for x in sorted({abc for abc in combinations(sorted(nums), 3) if not sum(abc)})
    ]


BATCHES = 30  # per scale
MIN_BATCH = 75


def make_batches(count, seed=731):
    """Deterministic batches of 30-140 signed adjustments in -99..99."""
    rng = random.Random(seed)
    return [[rng.randint(-99, 99) for _ in range(rng.randint(30, 140))]
            for _ in range(count)]


def items(scale=1):
    return make_batches(BATCHES * scale)


def main(scale=1):
    batches = items(scale)
    found = [find_triplets_with_0_sum(batch) for batch in batches if len(batch) >= MIN_BATCH]
    counts = [len(triplets) for triplets in found]
    richest = max(range(len(found)), key=counts.__getitem__)
    print("%d batches searched, %d skipped (under %d entries): %d zero-sum triplets, "
          "%d-%d per batch" % (len(found), len(batches) - len(found), MIN_BATCH,
                               sum(counts), min(counts), max(counts)))
    print("richest batch: %d triplets, first %s" % (counts[richest], found[richest][:4]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
