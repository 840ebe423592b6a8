"""Index a batch of text documents: tokenise in Python, then compress and hash in C.

About half of each call is a pure-Python word and word-pair count (holds the GIL) and
half is zlib/sha256 over the whole document (C that releases the GIL).
"""
import hashlib
import random
import sys
import zlib

HOT = "index_document"
N_DOCS = 30
WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
         "incididunt ut labore et dolore magna aliqua").split()


def index_document(doc):
    counts = {}
    pairs = {}
    previous = None
    for word in doc.split():
        counts[word] = counts.get(word, 0) + 1
        if previous is not None:
            pairs[previous, word] = pairs.get((previous, word), 0) + 1
        previous = word
    packed = zlib.compress(doc.encode(), 6)
    digest = hashlib.sha256(packed).hexdigest()
    top = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
    return digest[:12], len(packed), top, len(pairs)


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    rng = random.Random(3)
    return [" ".join(rng.choices(WORDS, k=40_000)) for _ in range(N_DOCS * scale)]


def main(scale=1):
    docs = items(scale)
    results = [index_document(d) for d in docs]
    print(f"docs={len(results)} packed={sum(r[1] for r in results)} top={results[0][2]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
