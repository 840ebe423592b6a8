"""Compress a folder of log files with Lempel-Ziv-Welch, one output file per input.

What it does: writes 30 deterministic web-server-style log files (8-20 KB each) into
out_writes_files/inputs/ next to this script, then calls
``compress(source_path, destination_path)`` once per file: it reads the file, turns
its bytes into a string of '0'/'1' characters, LZW-compresses that bit string,
prefixes the Elias-gamma-coded file length and writes the result to
out_writes_files/<name>.lzw. Prints the total input and output sizes.

Source: TheAlgorithms/Python, data_compression/lempel_ziv.py (commit
1ea05feffec48250a3d6d0ccbd1378242d680cbc, the file as of repository HEAD
f5988cc09713315817df6a7e327e258013a94440), licence MIT (the repository's
LICENSE.md).

What I changed: read_file_binary(), add_key_to_lexicon(), compress_data(),
add_file_length(), write_file_binary() and compress() are copied unchanged; the
original module docstring is kept as a comment. Removed: the command-line
``if __name__ == "__main__": compress(sys.argv[1], sys.argv[2])``. Added:
``import random``, OUT_DIR, IN_DIR, PATHS, AGENTS, the input generator
write_inputs(), items(), bench_call() and main(). items() writes the input files
(the same bytes every time) and returns the (source, destination) path pairs.

SHAPE: SIDE EFFECTS - the per-item function returns nothing; its whole effect is
writing one output file per call (5-30 ms each), into a folder shared by all calls
(each call writes a different file name). bench_call(item) is compress(*item).
"""

# Original module docstring of data_compression/lempel_ziv.py:
#
# One of the several implementations of Lempel-Ziv-Welch compression algorithm
# https://en.wikipedia.org/wiki/Lempel%E2%80%93Ziv%E2%80%93Welch

import random

import math
import os
import sys


def read_file_binary(file_path: str) -> str:
    """
    Reads given file as bytes and returns them as a long string
    """
    result = ""
    try:
        with open(file_path, "rb") as binary_file:
            data = binary_file.read()
        for dat in data:
            curr_byte = f"{dat:08b}"
            result += curr_byte
        return result
    except OSError:
        print("File not accessible")
        sys.exit()


def add_key_to_lexicon(
    lexicon: dict[str, str], curr_string: str, index: int, last_match_id: str
) -> None:
    """
    Adds new strings (curr_string + "0",  curr_string + "1") to the lexicon
    """
    lexicon.pop(curr_string)
    lexicon[curr_string + "0"] = last_match_id

    if math.log2(index).is_integer():
        for curr_key, value in lexicon.items():
            lexicon[curr_key] = f"0{value}"

    lexicon[curr_string + "1"] = bin(index)[2:]


def compress_data(data_bits: str) -> str:
    """
    Compresses given data_bits using Lempel-Ziv-Welch compression algorithm
    and returns the result as a string
    """
    lexicon = {"0": "0", "1": "1"}
    result, curr_string = "", ""
    index = len(lexicon)

    for i in range(len(data_bits)):
        curr_string += data_bits[i]
        if curr_string not in lexicon:
            continue

        last_match_id = lexicon[curr_string]
        result += last_match_id
        add_key_to_lexicon(lexicon, curr_string, index, last_match_id)
        index += 1
        curr_string = ""

    while curr_string != "" and curr_string not in lexicon:
        curr_string += "0"

    if curr_string != "":
        last_match_id = lexicon[curr_string]
        result += last_match_id

    return result


def add_file_length(source_path: str, compressed: str) -> str:
    """
    Adds given file's length in front (using Elias  gamma coding) of the compressed
    string
    """
    file_length = os.path.getsize(source_path)
    file_length_binary = bin(file_length)[2:]
    length_length = len(file_length_binary)

    return "0" * (length_length - 1) + file_length_binary + compressed


def write_file_binary(file_path: str, to_write: str) -> None:
    """
    Writes given to_write string (should only consist of 0's and 1's) as bytes in the
    file
    """
    byte_length = 8
    try:
        with open(file_path, "wb") as opened_file:
            result_byte_array = [
                to_write[i : i + byte_length]
                for i in range(0, len(to_write), byte_length)
            ]

            if len(result_byte_array[-1]) % byte_length == 0:
                result_byte_array.append("10000000")
            else:
                result_byte_array[-1] += "1" + "0" * (
                    byte_length - len(result_byte_array[-1]) - 1
                )

            for elem in result_byte_array:
                opened_file.write(int(elem, 2).to_bytes(1, byteorder="big"))
    except OSError:
        print("File not accessible")
        sys.exit()


def compress(source_path: str, destination_path: str) -> None:
    """
    Reads source file, compresses it and writes the compressed result in destination
    file
    """
    data_bits = read_file_binary(source_path)
    compressed = compress_data(data_bits)
    compressed = add_file_length(source_path, compressed)
    write_file_binary(destination_path, compressed)


HOT = "compress"

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out_writes_files")
IN_DIR = os.path.join(OUT_DIR, "inputs")

PATHS = ["/", "/index.html", "/api/items", "/api/items/42", "/api/users", "/login",
         "/static/app.js", "/static/style.css", "/search?q=python", "/favicon.ico"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64)", "curl/8.4.0", "python-requests/2.31",
          "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"]


def write_inputs(count, seed=7):
    """Write `count` deterministic access logs of 8-20 KB; return their paths."""
    os.makedirs(IN_DIR, exist_ok=True)
    rng = random.Random(seed)
    paths = []
    for n in range(count):
        size = rng.randint(8_000, 20_000)
        lines = []
        total = 0
        t = 1_700_000_000 + n * 86_400
        while total < size:
            t += rng.randint(0, 5)
            line = '10.0.%d.%d - - [%d] "GET %s HTTP/1.1" %d %d "%s"\n' % (
                rng.randint(0, 3), rng.randint(1, 254), t, rng.choice(PATHS),
                rng.choice((200, 200, 200, 304, 404)), rng.randint(100, 9999),
                rng.choice(AGENTS))
            lines.append(line)
            total += len(line)
        path = os.path.join(IN_DIR, "access_%03d.log" % n)
        with open(path, "w", encoding="ascii", newline="\n") as fp:
            fp.write("".join(lines))
        paths.append(path)
    return paths


def items(scale=1):
    sources = write_inputs(30 * scale)
    return [(src, os.path.join(OUT_DIR, os.path.basename(src) + ".lzw"))
            for src in sources]


def bench_call(item):
    return compress(*item)


def main(scale=1):
    jobs = items(scale)
    for source_path, destination_path in jobs:
        compress(source_path, destination_path)
    size_in = sum(os.path.getsize(src) for src, _ in jobs)
    size_out = sum(os.path.getsize(dst) for _, dst in jobs)
    print("%d files compressed: %d bytes -> %d bytes (%.1f%%)"
          % (len(jobs), size_in, size_out, 100.0 * size_out / size_in))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
