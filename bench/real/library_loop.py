"""Compress a list of log files one by one with zlib and report the compression ratio.

What it does: builds deterministic "log files" in memory (0.5-2 MB of access-log lines
each, 20 per scale), then runs the discrete-zlib measurement of python-zstandard's
benchmark script: every chunk is compressed on its own with ``zlib.compress(chunk,
level)`` at the script's default level 6, the compressed chunks and their ratios are
kept, and the total compressed size and the share of chunks that got smaller are
printed.

Source: indygreg/python-zstandard, bench.py, the ``if args.zlib and args.discrete:``
block of the script's ``if __name__ == "__main__":`` section (commit
c2756548ed9912f98d2b9e906d07d3281793c984, the file as of repository HEAD
4dac8f26dface12dd74eab69b9330abb5c22cbbe), licence BSD-3-Clause (the repository's
LICENSE, "Copyright (c) 2016, Gregory Szorc").

What I changed: the loop and the summary after it are copied unchanged into main():

    compressed_discrete_zlib = []
    ratios = []
    for chunk in chunks:
        c = zlib.compress(chunk, args.zlib_level)
        compressed_discrete_zlib.append(c)
        ratios.append(float(len(c)) / float(len(chunk)))

and so is the ``"%d chunks; %d bytes"`` line before it. ``args`` is the
argparse.Namespace the script would have with its default ``--zlib-level`` (6)
instead of a parsed command line, and the block runs without its
``if args.zlib and args.discrete:`` test (as with both options given). The chunks come from make_chunks(), one chunk per
generated file (as get_chunks() makes with no --split-input-size), instead of from
files read under PATH. Removed: everything about zstandard (the import, the zstd
measurements, the dictionary training, the timer). Added: HOT, make_chunks(),
items(), bench_call() and main().

SHAPE: A LOOP BODY OF LIBRARY CALLS ONLY - no function of the script is called in the
loop: its body is ``zlib.compress`` (C code that releases the GIL while it
compresses), ``len``, ``float`` and two ``list.append`` calls, directly in main().
There is no function for the loop to hand to a pool, so the target is the loop body
itself as a function (the tool names it ``main_loop_body``). Each iteration
compresses 0.5-2 MB, about 10-35 ms; the chunks are large items to send to a
process. bench_call(item) is one iteration of the body: it returns the compressed
chunk and its ratio, the two values the body appends.
"""

import argparse
import random
import sys
import zlib

HOT = "main_loop_body"

FILES = 20  # per scale
HOSTS = ["10.0.%d.%d" % (a, b) for a in range(4) for b in range(1, 40)]
PATHS = ["/", "/index.html", "/api/v1/items", "/api/v1/users", "/static/app.js",
         "/static/style.css", "/login", "/logout", "/search", "/img/logo.png"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.4.0", "python-requests/2.31",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Googlebot/2.1"]


def make_chunks(count, seed=1602):
    """Deterministic access-log files of 0.5-2 MB: lines drawn from a pool of 6,000."""
    rng = random.Random(seed)
    pool = []
    for k in range(6000):
        pool.append('%s - - [%02d/Mar/2024:%02d:%02d:%02d +0000] "GET %s?id=%d HTTP/1.1" '
                    '%d %d "-" "%s"\n' % (
                        rng.choice(HOSTS), rng.randint(1, 28), rng.randint(0, 23),
                        rng.randint(0, 59), rng.randint(0, 59), rng.choice(PATHS),
                        rng.randint(0, 99999), rng.choice((200, 200, 200, 304, 404)),
                        rng.randint(100, 60000), rng.choice(AGENTS)))
    line = sum(map(len, pool)) / len(pool)
    chunks = []
    for _ in range(count):
        size = rng.randint(500_000, 2_000_000)
        chunks.append("".join(rng.choices(pool, k=int(size / line))).encode())
    return chunks


def items(scale=1):
    return make_chunks(FILES * scale)


def bench_call(item):
    "One iteration of main()'s loop body for one chunk: (compressed chunk, ratio)."
    c = zlib.compress(item, 6)
    return c, float(len(c)) / float(len(item))


def main(scale=1):
    args = argparse.Namespace(zlib_level=6)
    chunks = items(scale)
    orig_size = sum(map(len, chunks))
    print("%d chunks; %d bytes" % (len(chunks), orig_size))

    compressed_discrete_zlib = []
    ratios = []
    for chunk in chunks:
        c = zlib.compress(chunk, args.zlib_level)
        compressed_discrete_zlib.append(c)
        ratios.append(float(len(c)) / float(len(chunk)))

    compressed_size = sum(map(len, compressed_discrete_zlib))
    ratio = float(compressed_size) / float(orig_size) * 100.0
    bad_count = sum(1 for r in ratios if r >= 1.00)
    good_ratio = 100.0 - (float(bad_count) / float(len(chunks)) * 100.0)
    print(
        "zlib discrete compressed size (l=%d): %d (%.2f%%); smaller: %.2f%%"
        % (args.zlib_level, compressed_size, ratio, good_ratio)
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
