"""A loop that calls no function of the script's own: compress and hash each document.

zlib and hashlib release the GIL on large buffers, so threads can run the loop's bodies
side by side; paradvise measures the body as a function of the loop variable.
"""
import hashlib
import random
import zlib


def main():
    rng = random.Random(5)
    letters = bytes(b"abcdefghij "[i % 11] for i in range(256))
    text = rng.randbytes(1_000_000).translate(letters)
    docs = [text[i:] + text[:i] for i in range(0, 12_000, 1_000)]  # cheap to build: the loop dominates
    digests = []
    for doc in docs:
        packed = zlib.compress(doc, 6)
        digests.append(hashlib.sha256(packed).hexdigest()[:16])
    print(len(digests), digests[0], digests[-1])


if __name__ == "__main__":
    main()
