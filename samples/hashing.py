"""Checksum and compress a batch of in-memory data blobs before archiving them.

Each blob (~2 MB) is fingerprinted with SHA-256 and compressed with zlib, both done in C.
"""
import hashlib
import random
import sys
import zlib

ALPHABET = b"etaoinshrdlu \n.,"
TABLE = bytes(ALPHABET[i % len(ALPHABET)] for i in range(256))


def pack_blob(blob):
    digest = hashlib.sha256(blob).hexdigest()
    packed = zlib.compress(blob, 1)
    return digest, len(packed)


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    rng = random.Random(2024)
    blobs = [rng.randbytes(2_000_000).translate(TABLE) for _ in range(24 * scale)]
    results = [pack_blob(b) for b in blobs]
    total_in = sum(len(b) for b in blobs)
    total_out = sum(size for _, size in results)
    combined = hashlib.sha256("".join(d for d, _ in results).encode()).hexdigest()
    print(f"blobs={len(blobs)} in={total_in} out={total_out} ratio={total_out / total_in:.4f}")
    print(f"first={results[0][0][:16]} combined={combined[:16]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
