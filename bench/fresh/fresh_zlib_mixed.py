"""Prepare a batch of chat-transcript exports for archiving: for each
transcript, tokenize the text in pure Python to count words and find the
most frequent terms, then build the multi-megabyte archive payload (the
transcript replicated per retention copy with a header) and deflate it with
zlib, reporting the compressed size and CRC.  Kind: mixed - pure-Python
tokenizing/counting (holds the GIL) plus zlib compression of a few MB (C code
that releases the GIL)."""
import random
import sys
import zlib

HOT = "archive_transcript"

COPIES = 12
_PUNCT = ".,;:!?\"'()"


def archive_transcript(doc):
    doc_id, text = doc
    counts = {}
    tokens = 0
    for raw in text.split():
        word = raw.strip(_PUNCT).lower()
        if len(word) < 3:
            continue
        tokens += 1
        counts[word] = counts.get(word, 0) + 1
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    header = f"#{doc_id} tokens={tokens} distinct={len(counts)}\n".encode()
    payload = header + text.encode() * COPIES
    packed = zlib.compress(payload, 4)
    return (doc_id, tokens, len(counts), tuple(top), len(packed), zlib.crc32(packed))


def items(scale=1):
    rng = random.Random(404)
    letters = "etaoinshrdlucmfwypvbgkqjxz"
    vocab = []
    for _ in range(4000):
        n = rng.randint(2, 10)
        vocab.append("".join(rng.choice(letters[: 8 + n * 2]) for _ in range(n)))
    marks = ("", "", "", "", "", ",", ".", "?", "!", ";")
    vocab = [w + marks[i % len(marks)] for i, w in enumerate(vocab)]
    cum, acc = [], 0.0
    for i in range(len(vocab)):
        acc += 1.0 / (i % 1000 + 1)
        cum.append(acc)
    pool = rng.choices(vocab, cum_weights=cum, k=40000)
    steps = (1, 3, 7, 9, 11, 13, 17)
    docs = []
    for k in range(10 * scale):
        start, step = (k * 7919) % len(pool), steps[k % len(steps)]
        n = 30000 + 1000 * (k % 5)
        words = [pool[(start + i * step) % len(pool)] for i in range(n)]
        docs.append((f"T{k:03d}", " ".join(words)))
    return docs


def main(scale=1):
    xs = items(scale)
    results = [archive_transcript(x) for x in xs]
    packed = sum(r[4] for r in results)
    print(f"{len(results)} transcripts archived, {sum(r[1] for r in results)} tokens, "
          f"{packed / 1e6:.2f} MB compressed")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
