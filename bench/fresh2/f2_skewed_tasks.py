"""Compute edit scripts between document revisions for a wiki's history view.

Each item is one (page id, old revision text, new revision text) pair,
tokenised into lines-as-words.  The hot function runs a pure-Python
Levenshtein dynamic program over the token sequences and returns
(page id, edit distance, similarity ratio).  The queue is ordered as it comes
from the database: a handful of huge pages (full-article rewrites, 10-30x the
work of a normal page) come FIRST, followed by many small talk/stub pages.

Kind: highly skewed pure-Python tasks, large items at the start; ~156 calls at scale 3.
"""
import random
import sys

HOT = "revision_distance"


def revision_distance(item):
    page_id, old, new = item
    a, b = old.split(), new.split()
    prev = list(range(len(b) + 1))
    for i, ta in enumerate(a, 1):
        cur = [i]
        left = i
        for j, tb in enumerate(b, 1):
            sub = prev[j - 1] + (ta != tb)
            dele = prev[j] + 1
            ins = left + 1
            left = sub if sub < dele else dele
            if ins < left:
                left = ins
            cur.append(left)
        prev = cur
    dist = prev[-1]
    return (page_id, dist, round(1 - dist / max(len(a), len(b), 1), 6))


def _revision(rng, vocab, n):
    old = rng.choices(vocab, k=n)
    new = list(old)
    for _ in range(max(1, n // 8)):          # random edits
        k = rng.randrange(len(new))
        op = rng.random()
        if op < 0.4:
            new[k] = rng.choice(vocab)
        elif op < 0.7:
            del new[k]
        else:
            new.insert(k, rng.choice(vocab))
    return " ".join(old), " ".join(new)


def items(scale=1):
    rng = random.Random(555)
    vocab = [f"w{i}" for i in range(400)]
    out = []
    for i in range(2 * scale):                       # large pages first
        n = rng.randrange(760, 900)                  # ~15-25x the cells of a small page
        out.append((f"Article:{i}",) + _revision(rng, vocab, n))
    for i in range(50 * scale):                      # then many small ones
        n = rng.randrange(150, 210)
        out.append((f"Talk:{i}",) + _revision(rng, vocab, n))
    return out


def main(scale=1):
    xs = items(scale)
    results = []
    for x in xs:
        results.append(revision_distance(x))
    print(f"{len(results)} revision pairs diffed, total edit distance "
          f"{sum(r[1] for r in results)}, min similarity {min(r[2] for r in results):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
