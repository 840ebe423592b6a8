"""Locally align many pairs of DNA reads with the Smith-Waterman algorithm.

What it does: builds 120 deterministic pairs of DNA strings (a random read of 60-140
bases and a mutated copy of part of the same read, or of an unrelated one:
substitutions, insertions and deletions), fills the Smith-Waterman score matrix for
each pair with ``smith_waterman(query, subject, match=1, mismatch=-1, gap=-2)`` (the
keyword arguments of the original demo), and prints the best local-alignment score
of the pairs in summary plus the start of the traceback of the best-scoring pair.

Source: TheAlgorithms/Python, dynamic_programming/smith_waterman.py (commit
467903aa33ad746262bd46d803231d0930131197, the file as of repository HEAD
f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md).

What I changed: score_function(), smith_waterman() and traceback() are copied
unchanged, doctests included; the original module docstring is kept as a comment.
Removed: the ``if __name__ == "__main__":`` demo (one alignment of "HEAGAWGHEE" and
"PAWHEAE" with the same keyword arguments). Added: the imports of
random and sys, MATCH/MISMATCH/GAP, the input generator make_pairs(), items(),
bench_call() and main().

SHAPE: A FUNCTION OF SEVERAL ARGUMENTS WITH KEYWORDS - the loop is
``[smith_waterman(q, s, match=MATCH, mismatch=MISMATCH, gap=GAP) for q, s in pairs]``:
two positional arguments that change per item and three keyword arguments that do
not; each call returns a whole (len(q)+1) x (len(s)+1) matrix of ints (about 10,000
of them). bench_call(item) makes exactly that call for one (query, subject) pair.
"""

# Original module docstring of dynamic_programming/smith_waterman.py:
#
# https://en.wikipedia.org/wiki/Smith%E2%80%93Waterman_algorithm
# The Smith-Waterman algorithm is a dynamic programming algorithm used for sequence
# alignment. It is particularly useful for finding similarities between two sequences,
# such as DNA or protein sequences. In this implementation, gaps are penalized
# linearly, meaning that the score is reduced by a fixed amount for each gap introduced
# in the alignment. However, it's important to note that the Smith-Waterman algorithm
# supports other gap penalty methods as well.

import random
import sys

HOT = "smith_waterman"

MATCH = 1
MISMATCH = -1
GAP = -2


def score_function(
    source_char: str,
    target_char: str,
    match: int = 1,
    mismatch: int = -1,
    gap: int = -2,
) -> int:
    """
    Calculate the score for a character pair based on whether they match or mismatch.
    Returns 1 if the characters match, -1 if they mismatch, and -2 if either of the
    characters is a gap.
    >>> score_function('A', 'A')
    1
    >>> score_function('A', 'C')
    -1
    >>> score_function('-', 'A')
    -2
    >>> score_function('A', '-')
    -2
    >>> score_function('-', '-')
    -2
    """
    if "-" in (source_char, target_char):
        return gap
    return match if source_char == target_char else mismatch


def smith_waterman(
    query: str,
    subject: str,
    match: int = 1,
    mismatch: int = -1,
    gap: int = -2,
) -> list[list[int]]:
    """
    Perform the Smith-Waterman local sequence alignment algorithm.
    Returns a 2D list representing the score matrix. Each value in the matrix
    corresponds to the score of the best local alignment ending at that point.
    >>> smith_waterman('ACAC', 'CA')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]
    >>> smith_waterman('acac', 'ca')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]
    >>> smith_waterman('ACAC', 'ca')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]
    >>> smith_waterman('acac', 'CA')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]
    >>> smith_waterman('ACAC', '')
    [[0], [0], [0], [0], [0]]
    >>> smith_waterman('', 'CA')
    [[0, 0, 0]]
    >>> smith_waterman('ACAC', 'CA')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]

    >>> smith_waterman('acac', 'ca')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]

    >>> smith_waterman('ACAC', 'ca')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]

    >>> smith_waterman('acac', 'CA')
    [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]]

    >>> smith_waterman('ACAC', '')
    [[0], [0], [0], [0], [0]]

    >>> smith_waterman('', 'CA')
    [[0, 0, 0]]

    >>> smith_waterman('AGT', 'AGT')
    [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3]]

    >>> smith_waterman('AGT', 'GTA')
    [[0, 0, 0, 0], [0, 0, 0, 1], [0, 1, 0, 0], [0, 0, 2, 0]]

    >>> smith_waterman('AGT', 'GTC')
    [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]]

    >>> smith_waterman('AGT', 'G')
    [[0, 0], [0, 0], [0, 1], [0, 0]]

    >>> smith_waterman('G', 'AGT')
    [[0, 0, 0, 0], [0, 0, 1, 0]]

    >>> smith_waterman('AGT', 'AGTCT')
    [[0, 0, 0, 0, 0, 0], [0, 1, 0, 0, 0, 0], [0, 0, 2, 0, 0, 0], [0, 0, 0, 3, 1, 1]]

    >>> smith_waterman('AGTCT', 'AGT')
    [[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3], [0, 0, 0, 1], [0, 0, 0, 1]]

    >>> smith_waterman('AGTCT', 'GTC')
    [[0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 3], [0, 0, 1, 1]]
    """
    # make both query and subject uppercase
    query = query.upper()
    subject = subject.upper()

    # Initialize score matrix
    m = len(query)
    n = len(subject)
    score = [[0] * (n + 1) for _ in range(m + 1)]
    kwargs = {"match": match, "mismatch": mismatch, "gap": gap}

    for i in range(1, m + 1):
        for j in range(1, n + 1):
            # Calculate scores for each cell
            match = score[i - 1][j - 1] + score_function(
                query[i - 1], subject[j - 1], **kwargs
            )
            delete = score[i - 1][j] + gap
            insert = score[i][j - 1] + gap

            # Take maximum score
            score[i][j] = max(0, match, delete, insert)

    return score


def traceback(score: list[list[int]], query: str, subject: str) -> str:
    r"""
    Perform traceback to find the optimal local alignment.
    Starts from the highest scoring cell in the matrix and traces back recursively
    until a 0 score is found. Returns the alignment strings.
    >>> traceback([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]], 'ACAC', 'CA')
    'CA\nCA'
    >>> traceback([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]], 'acac', 'ca')
    'CA\nCA'
    >>> traceback([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]], 'ACAC', 'ca')
    'CA\nCA'
    >>> traceback([[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 2], [0, 1, 0]], 'acac', 'CA')
    'CA\nCA'
    >>> traceback([[0, 0, 0]], 'ACAC', '')
    ''
    """
    # make both query and subject uppercase
    query = query.upper()
    subject = subject.upper()
    # find the indices of the maximum value in the score matrix
    max_value = float("-inf")
    i_max = j_max = 0
    for i, row in enumerate(score):
        for j, value in enumerate(row):
            if value > max_value:
                max_value = value
                i_max, j_max = i, j
    # Traceback logic to find optimal alignment
    i = i_max
    j = j_max
    align1 = ""
    align2 = ""
    gap = score_function("-", "-")
    # guard against empty query or subject
    if i == 0 or j == 0:
        return ""
    while i > 0 and j > 0:
        if score[i][j] == score[i - 1][j - 1] + score_function(
            query[i - 1], subject[j - 1]
        ):
            # optimal path is a diagonal take both letters
            align1 = query[i - 1] + align1
            align2 = subject[j - 1] + align2
            i -= 1
            j -= 1
        elif score[i][j] == score[i - 1][j] + gap:
            # optimal path is a vertical
            align1 = query[i - 1] + align1
            align2 = f"-{align2}"
            i -= 1
        else:
            # optimal path is a horizontal
            align1 = f"-{align1}"
            align2 = subject[j - 1] + align2
            j -= 1

    return f"{align1}\n{align2}"


def make_pairs(count, seed=2024):
    """Deterministic (query, subject) pairs: a random read, and a mutated slice
    (about 10% substitutions, 3% insertions, 3% deletions) of the same read for even
    pairs or of an unrelated read for odd ones."""
    rng = random.Random(seed)
    reads = ["".join(rng.choice("ACGT") for _ in range(rng.randint(60, 140)))
             for _ in range(count)]
    pairs = []
    for i in range(count):
        source = reads[i] if i % 2 == 0 else reads[(i * 7 + 3) % count]
        start = rng.randint(0, len(source) // 3)
        mutated = []
        for base in source[start:]:
            r = rng.random()
            if r < 0.03:
                continue  # deletion
            if r < 0.13:
                base = rng.choice("ACGT")  # substitution
            mutated.append(base)
            if rng.random() < 0.03:
                mutated.append(rng.choice("ACGT"))  # insertion
        pairs.append((reads[i], "".join(mutated)))
    return pairs


def items(scale=1):
    return make_pairs(120 * scale)


def bench_call(item):
    return smith_waterman(item[0], item[1], match=MATCH, mismatch=MISMATCH, gap=GAP)


def main(scale=1):
    pairs = items(scale)
    scores = [smith_waterman(query, subject, match=MATCH, mismatch=MISMATCH, gap=GAP)
              for query, subject in pairs]
    best = [max(max(row) for row in score) for score in scores]
    top = max(range(len(pairs)), key=best.__getitem__)
    print("%d pairs aligned: best local score min %d, mean %.2f, max %d (pair %d)"
          % (len(pairs), min(best), sum(best) / len(best), best[top], top))
    align1, align2 = traceback(scores[top], *pairs[top]).split("\n")
    print("alignment length %d: %s... / %s..." % (len(align1), align1[:40], align2[:40]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
