"""Score RNA-like sequences by their longest palindromic subsequence, into a dict.

What it does: generates 14 deterministic sequences per scale over the letters ACGU
(260-500 letters each, so lengths and call times differ), computes
longest_palindromic_subsequence() of each - a pure-Python O(n^2) dynamic programme
over the sequence and its reverse - and stores the length in a dict keyed by the
sequence itself. It then prints how many sequences were scored and the shortest,
mean and longest palindromic subsequence relative to sequence length.

Source: TheAlgorithms/Python, dynamic_programming/longest_palindromic_subsequence.py
(commit 1fda96b7044d9fa08c84f09f54a345ebf052b2eb, the file as of repository HEAD
f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md).

What I changed: longest_palindromic_subsequence() is copied unchanged, doctests
included; the original module docstring is kept as a comment. Removed: the
``if __name__ == "__main__":`` block (doctest.testmod()). Added: the imports of random
and sys, HOT, the sequence generator make_sequences(), items() and main().

SHAPE: RESULTS STORED IN A DICT KEYED BY THE INPUT - the loop is

    results = {}
    for seq in sequences:
        results[seq] = longest_palindromic_subsequence(seq)

an assignment to a subscript, not an append or a comprehension: a parallel version
has to rebuild the same dict (same keys, same order) from the mapped results. Each
call is pure Python holding the GIL (a (n+1) x (n+1) list-of-lists table, 70,000-
250,000 cells, about 12-50 ms) and returns one small int. HOT is the function the
loop calls with the item itself.
"""

# Original module docstring of dynamic_programming/longest_palindromic_subsequence.py:
#
# author: Sanket Kittad
# Given a string s, find the longest palindromic subsequence's length in s.
# Input: s = "bbbab"
# Output: 4
# Explanation: One possible longest palindromic subsequence is "bbbb".
# Leetcode link: https://leetcode.com/problems/longest-palindromic-subsequence/description/

import random
import sys

HOT = "longest_palindromic_subsequence"


def longest_palindromic_subsequence(input_string: str) -> int:
    """
    This function returns the longest palindromic subsequence in a string
    >>> longest_palindromic_subsequence("bbbab")
    4
    >>> longest_palindromic_subsequence("bbabcbcab")
    7
    """
    n = len(input_string)
    rev = input_string[::-1]
    m = len(rev)
    dp = [[-1] * (m + 1) for i in range(n + 1)]
    for i in range(n + 1):
        dp[i][0] = 0
    for i in range(m + 1):
        dp[0][i] = 0

    # create and initialise dp array
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            # If characters at i and j are the same
            # include them in the palindromic subsequence
            if input_string[i - 1] == rev[j - 1]:
                dp[i][j] = 1 + dp[i - 1][j - 1]
            else:
                dp[i][j] = max(dp[i - 1][j], dp[i][j - 1])

    return dp[n][m]


SEQUENCES = 14  # per scale


def make_sequences(count, seed=4177):
    """Deterministic, distinct ACGU sequences of 260-500 letters."""
    rng = random.Random(seed)
    sequences = []
    seen = set()
    while len(sequences) < count:
        seq = "".join(rng.choices("ACGU", k=rng.randint(260, 500)))
        if seq not in seen:
            seen.add(seq)
            sequences.append(seq)
    return sequences


def items(scale=1):
    return make_sequences(SEQUENCES * scale)


def main(scale=1):
    sequences = items(scale)
    results = {}
    for seq in sequences:
        results[seq] = longest_palindromic_subsequence(seq)
    shares = [results[seq] / len(seq) for seq in sequences]
    longest = max(results, key=results.get)
    print("%d sequences scored: palindromic subsequence / length min %.3f, mean %.3f, "
          "max %.3f" % (len(results), min(shares), sum(shares) / len(shares), max(shares)))
    print("longest: %d of %d letters (%s...)" % (results[longest], len(longest),
                                                 longest[:30]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
