"""Align pairs of synthetic protein-like sequences with a Damerau-style edit
distance (insert/delete/substitute/adjacent-transpose, weighted costs) and
report the distance plus the alignment identity.  Kind: pure-Python CPU work
that holds the GIL; a few dozen calls of tens of milliseconds each."""
import random
import sys

HOT = "align_pair"

ALPHABET = "ACDEFGHIKLMNPQRSTVWY"
SUB_COST = 3
INDEL_COST = 2
SWAP_COST = 1


def align_pair(pair):
    a, b = pair
    n, m = len(a), len(b)
    prev2 = None
    prev = [j * INDEL_COST for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [i * INDEL_COST] + [0] * m
        ai = a[i - 1]
        for j in range(1, m + 1):
            bj = b[j - 1]
            best = prev[j - 1] + (0 if ai == bj else SUB_COST)
            d = prev[j] + INDEL_COST
            if d < best:
                best = d
            d = cur[j - 1] + INDEL_COST
            if d < best:
                best = d
            if (prev2 is not None and j > 1 and ai == b[j - 2]
                    and a[i - 2] == bj):
                d = prev2[j - 2] + SWAP_COST
                if d < best:
                    best = d
            cur[j] = best
        prev2, prev = prev, cur
    dist = prev[m]
    same = sum(1 for x, y in zip(a, b) if x == y)
    return (dist, round(same / max(n, m), 4))


def _mutate(rng, seq, rate):
    out = []
    for ch in seq:
        r = rng.random()
        if r < rate * 0.4:
            out.append(rng.choice(ALPHABET))
        elif r < rate * 0.6:
            continue
        elif r < rate * 0.8:
            out.append(ch)
            out.append(rng.choice(ALPHABET))
        else:
            out.append(ch)
    return "".join(out)


def items(scale=1):
    rng = random.Random(1729)
    pairs = []
    for k in range(14 * scale):
        length = 380 + (k * 37) % 160
        base = "".join(rng.choice(ALPHABET) for _ in range(length))
        pairs.append((base, _mutate(rng, base, 0.15 + 0.01 * (k % 10))))
    return pairs


def main(scale=1):
    xs = items(scale)
    results = [align_pair(x) for x in xs]
    total = sum(d for d, _ in results)
    print(f"{len(results)} alignments, total distance {total}, "
          f"mean identity {sum(s for _, s in results) / len(results):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
