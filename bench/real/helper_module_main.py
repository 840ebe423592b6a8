"""Checksum a batch of messages with a pure-Python MD5 kept in a helper module.

What it does: generates a few hundred byte-string messages deterministically and
computes the MD5 digest of each with md5_me(), imported from the user's own helper
module helper_module_lib.py (which lives next to this script); it checks a few
digests against hashlib and prints a summary.

Source of md5_me (in helper_module_lib.py): TheAlgorithms/Python, hashes/md5.py
(commit f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md). This driver script is new: the original file has no main loop, only
doctests.

What I changed: md5.py is copied unchanged into helper_module_lib.py (minus its
doctest ``__main__`` block); items() and main() here are new.

SHAPE: the hot function lives in a HELPER MODULE of the user's project
(``from helper_module_lib import md5_me``), not in the script itself; the loop is a
list comprehension calling it once per message.
"""
import hashlib
import random
import sys

from helper_module_lib import md5_me

HOT = "md5_me"
N_MESSAGES = 400


def items(scale=1):
    "Deterministic messages of 200-1500 bytes (scale times as many for scale > 1)."
    rng = random.Random(1321)
    return [rng.randbytes(rng.randrange(200, 1500)) for _ in range(N_MESSAGES * scale)]


def main(scale=1):
    messages = items(scale)
    digests = [md5_me(message) for message in messages]
    for message, digest in zip(messages[:3], digests[:3]):
        assert digest == hashlib.md5(message).hexdigest().encode("utf-8")
    print("messages={} bytes={} first={} last={}".format(
        len(messages), sum(map(len, messages)), digests[0].decode(), digests[-1].decode()))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
