"""Order text chunks by their ELF hash, using a pure-Python ELF (PJW) hash as sort key.

What it does: generates 2,500 deterministic text chunks (log-like lines of words and
numbers, 1,200-2,400 characters each), sorts them with ``sorted(records,
key=elf_hash)`` - a stable pseudo-random order that does not depend on the input
order, e.g. for sharding or sampling - and prints the first and last chunk ids and a
checksum of the order. elf_hash() walks the string one character at a time with
shifts and masks, so one key costs about 0.1-0.3 ms.

Source: TheAlgorithms/Python, hashes/elf.py (commit
94b51f6a91def387b82369401a42710cae4ee4e0, the file as of repository HEAD
f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md).

What I changed: elf_hash() is copied unchanged, doctest included (the original file
has no module docstring). Removed: the ``if __name__ == "__main__":`` block
(doctest.testmod()). Added: this docstring, the imports of hashlib, random and sys,
HOT, the chunk generator make_records(), items() and main().

SHAPE: A FUNCTION PASSED TO sorted() - the loop is not written out: sorted() calls the
key function elf_hash() once per record (a module-level function of one argument), and
all the time is in those key calls; the comparisons of the int keys are cheap.
HOT is the key function.
"""

import hashlib
import random
import sys

HOT = "elf_hash"


def elf_hash(data: str) -> int:
    """
    Implementation of ElfHash Algorithm, a variant of PJW hash function.

    >>> elf_hash('lorem ipsum')
    253956621
    """
    hash_ = x = 0
    for letter in data:
        hash_ = (hash_ << 4) + ord(letter)
        x = hash_ & 0xF0000000
        if x != 0:
            hash_ ^= x >> 24
        hash_ &= ~x
    return hash_


WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
         "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
         "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
         "xray", "yankee", "zulu", "GET", "POST", "200", "404", "503", "ok", "retry",
         "timeout", "cache", "miss", "hit", "user", "session", "upstream"]


def make_records(count, seed=42):
    """Deterministic text chunks (str) of 1,200-2,400 characters, ids first."""
    rng = random.Random(seed)
    records = []
    for i in range(count):
        target = rng.randint(1200, 2400)
        body = " ".join(rng.choices(WORDS, k=target // 5))
        line = "chunk-%06d %s" % (100000 + i, body)
        while len(line) < target:
            line += " " + " ".join(rng.choices(WORDS, k=20))
        records.append(line[:target])
    return records


def items(scale=1):
    return make_records(2500 * scale)


def main(scale=1):
    records = items(scale)
    ranked = sorted(records, key=elf_hash)
    order_check = hashlib.md5(
        "".join(r.split(" ", 1)[0] for r in ranked).encode("utf-8")).hexdigest()
    print("%d chunks ranked; first %s, last %s; order checksum %s"
          % (len(ranked), ranked[0].split(" ", 1)[0], ranked[-1].split(" ", 1)[0],
             order_check))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
