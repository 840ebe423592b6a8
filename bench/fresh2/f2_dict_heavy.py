"""Build per-shard word-bigram statistics tables for an n-gram language model.

Each item is one shard of a text corpus (shard id + ~21k whitespace-separated
tokens; sentences drawn from a Zipf-like vocabulary, with the repetition of
boilerplate found in real crawls).  The hot function normalises every token
(lower-case, strip punctuation, light suffix stemming), then records each
adjacent word pair and returns the full table as a dict mapping
"w1 w2" -> (count, first offset, last offset) (about 15k-16k entries per
shard).  main() merges the shard tables into a corpus-wide count table.  The
results are large, so shipping them back from worker processes is a real cost.

Kind: pure-Python dict building with large results (~15k-entry dicts), ~36 calls at scale 3.
"""
import itertools
import random
import sys

HOT = "bigram_table"

_STRIP = str.maketrans("", "", ".,;:!?\"'()")
_SUFFIXES = ("ings", "ing", "edly", "ed", "es", "ly", "s")


def _norm(tok):
    w = tok.lower().translate(_STRIP)
    if len(w) > 4:
        for suf in _SUFFIXES:
            if w.endswith(suf) and len(w) - len(suf) >= 3:
                return w[:-len(suf)]
    return w


def bigram_table(item):
    shard_id, text = item
    words = [_norm(t) for t in text.split()]
    table = {}
    prev = words[0] if words else ""
    for pos in range(1, len(words)):
        cur = words[pos]
        key = prev + " " + cur
        entry = table.get(key)
        if entry is None:
            table[key] = (1, pos - 1, pos - 1)
        else:
            table[key] = (entry[0] + 1, entry[1], pos - 1)
        prev = cur
    return table


def items(scale=1):
    rng = random.Random(2026)
    letters = "etaoinshrdlucmfwypvbgkjqxz"
    stems = sorted({"".join(rng.choices(letters, k=rng.randrange(2, 8))) for _ in range(5000)})
    vocab = [s + rng.choice(["", "", "", "s", "ing", "ed", "ly"]) for s in stems]
    vocab = [w.capitalize() if i % 13 == 0 else w for i, w in enumerate(vocab)]
    rng.shuffle(vocab)
    cum = list(itertools.accumulate(1.0 / (r + 10) for r in range(len(vocab))))
    sentences = []
    for _ in range(3000):
        n = rng.randrange(8, 22)
        toks = rng.choices(vocab, cum_weights=cum, k=n)
        toks[0] = toks[0].capitalize()
        sentences.append(" ".join(toks) + rng.choice([".", ".", ".", "!", "?", ";"]))
    return [(f"shard-{i:04d}", " ".join(rng.choices(sentences, k=1400)))
            for i in range(12 * scale)]


def main(scale=1):
    xs = items(scale)
    results = [bigram_table(x) for x in xs]
    total = {}
    for table in results:
        for k, v in table.items():
            total[k] = total.get(k, 0) + v[0]
    top = max(total, key=total.get)
    print(f"{len(results)} shards, {sum(len(t) for t in results)} shard entries, "
          f"{len(total)} distinct bigrams, top '{top}' x{total[top]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
