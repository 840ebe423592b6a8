"""Compress and fingerprint 400 KB blocks of a backup image with bz2 and BLAKE2.

Both bz2.compress and hashlib release the GIL on large buffers, so threads can run the
C code in parallel; the Python code per call is a couple of lines.
"""
import bz2
import hashlib
import random
import sys

HOT = "pack_block"
N_BLOCKS = 24
BLOCK_BYTES = 400_000

ALPHABET = b"abcdefghij \n{}:,\"0123456789"
TABLE = bytes(ALPHABET[i % len(ALPHABET)] for i in range(256))


def pack_block(block):
    packed = bz2.compress(block, 6)
    return hashlib.blake2b(block).hexdigest()[:16], len(packed)


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    rng = random.Random(5)
    return [rng.randbytes(BLOCK_BYTES).translate(TABLE) for _ in range(N_BLOCKS * scale)]


def main(scale=1):
    blocks = items(scale)
    results = [pack_block(b) for b in blocks]
    print(f"blocks={len(results)} packed={sum(r[1] for r in results)} first={results[0][0]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
