"""Find the start under each of a series of limits that gives the longest Collatz chain.

What it does: for each limit n in a list that climbs from 4,000 to 96,000 in steps of
4,000 (and starts again, once per scale), it calls Project Euler problem 14's
solution(n), which walks the Collatz sequence of every number under n, memoising
chain lengths in a dict of its own, and returns the start of the longest chain. The
loop keeps the answers and prints them.

Source: TheAlgorithms/Python, project_euler/problem_014/sol1.py (commit
10f751f59cfa2e2aad14cf7bf97abe67a587ca61), licence MIT (the repository's LICENSE.md).

What I changed: the module docstring (kept below as a comment) and solution() are
copied unchanged, doctests included. Removed: the ``if __name__ == "__main__":`` block
that reads one limit from standard input. Added: ``import sys``, items() and main().

SHAPE: UNEVEN CALLS IN A RISING ORDER - a call's time grows with its limit (about
0.4 ms per thousand numbers of it), so the items come in runs from short to 24x
as long: handed out in large chunks, one worker gets the long tail of each run. Pure
Python holding the GIL; each call builds and drops a dict of up to 96,000 entries.
HOT is the function the loop calls.
"""

# Original module docstring of project_euler/problem_014/sol1.py:
#
# Problem 14: https://projecteuler.net/problem=14
#
# Problem Statement:
# The following iterative sequence is defined for the set of positive integers:
#
#     n → n/2 (n is even)
#     n → 3n + 1 (n is odd)
#
# Using the rule above and starting with 13, we generate the following sequence:
#
#     13 → 40 → 20 → 10 → 5 → 16 → 8 → 4 → 2 → 1
#
# It can be seen that this sequence (starting at 13 and finishing at 1) contains
# 10 terms. Although it has not been proved yet (Collatz Problem), it is thought
# that all starting numbers finish at 1.
#
# Which starting number, under one million, produces the longest chain?

import sys

HOT = "solution"


def solution(n: int = 1000000) -> int:
    """Returns the number under n that generates the longest sequence using the
    formula:
    n → n/2 (n is even)
    n → 3n + 1 (n is odd)

    # The code below has been commented due to slow execution affecting Travis.
    # >>> solution(1000000)
    # 837799
    >>> solution(200)
    171
    >>> solution(5000)
    3711
    >>> solution(15000)
    13255
    """
    largest_number = 1
    pre_counter = 1
    counters = {1: 1}

    for input1 in range(1, n):
        counter = 0
        number = input1

        while True:
            if number in counters:
                counter += counters[number]
                break
            if number % 2 == 0:
                number //= 2
                counter += 1
            else:
                number = (3 * number) + 1
                counter += 1

        if input1 not in counters:
            counters[input1] = counter

        if counter > pre_counter:
            largest_number = input1
            pre_counter = counter
    return largest_number


STEPS = 24
STEP = 4000


def items(scale=1):
    """The limits: 4,000 to 96,000 in steps of 4,000, once per scale."""
    return [STEP * (1 + k % STEPS) for k in range(STEPS * scale)]


def main(scale=1):
    limits = items(scale)
    answers = [solution(n) for n in limits]
    print("%d limits up to %d: longest chains start at %s" % (len(limits), max(limits), answers[:STEPS]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
