"""Fingerprint backup chunks for a content-addressed deduplicating store.

Each item is one 4 MiB chunk of a backup stream (chunk id + raw bytes).  The
hot function computes the chunk's SHA3-512 content address and a SHA-256
integrity checksum -- both in C inside hashlib, which releases the GIL for
buffers this large -- and returns (chunk id, size, short address, checksum).
The summary reports how many distinct addresses were found.

Kind: C code that releases the GIL on large buffers (hashlib), ~36 calls at scale 3.
"""
import hashlib
import random
import sys

HOT = "fingerprint_chunk"

CHUNK = 4 * 1024 * 1024


def fingerprint_chunk(item):
    chunk_id, data = item
    address = hashlib.sha3_512(data).hexdigest()
    checksum = hashlib.sha256(data).hexdigest()
    return (chunk_id, len(data), address[:32], checksum)


def items(scale=1):
    rng = random.Random(99)
    # One random base block; each chunk is a distinct rotation of it with a
    # small per-chunk header, which is cheap to build but hashes differently.
    base = rng.randbytes(CHUNK)
    out = []
    for i in range(12 * scale):
        off = rng.randrange(CHUNK)
        header = f"chunk-{i:06d}".encode()
        data = header + base[off + len(header):] + base[:off]
        out.append((i, data))
    # a few exact duplicates, as in a real backup stream
    for j in range(0, len(out), 6):
        out[j] = (out[j][0], out[max(j - 1, 0)][1])
    return out


def main(scale=1):
    xs = items(scale)
    results = [fingerprint_chunk(x) for x in xs]
    distinct = len({r[2] for r in results})
    print(f"{len(results)} chunks ({sum(r[1] for r in results) >> 20} MiB) hashed, "
          f"{distinct} distinct addresses, first={results[0][2][:16]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
