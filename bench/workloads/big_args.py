"""Summarise a batch of ~1.5 MB web-server log chunks: status counts and slow requests.

Each chunk is passed as a bytes object of about 1.5 MB; the function splits it into lines
(C) and then parses every line in Python (moderate pure-Python work per byte), so a
process pool must copy a lot of data to its workers for each call.
"""
import sys

HOT = "summarize_chunk"
N_CHUNKS = 32
CHUNK_BYTES = 1_500_000

PATHS = [b"/", b"/login", b"/api/items", b"/api/cart", b"/static/app.js", b"/search"]
STATUSES = [b"200", b"200", b"200", b"304", b"404", b"500"]


def summarize_chunk(chunk):
    statuses = {}
    slow = 0
    total_ms = 0
    for line in chunk.split(b"\n"):
        if not line:
            continue
        fields = line.split(b" ")
        status = fields[3]
        statuses[status] = statuses.get(status, 0) + 1
        ms = int(fields[4])
        total_ms += ms
        if ms > 900:
            slow += 1
    return slow, total_ms, sorted(statuses.items())


def _make_lines():
    """About CHUNK_BYTES of log lines; arithmetic instead of random calls keeps this cheap."""
    lines = []
    size = i = 0
    while size < CHUNK_BYTES:
        h = (i * 2654435761) & 0xFFFFFFFF
        line = b"10.0.%d.%d GET %s %s %d" % (
            h & 255, (h >> 8) & 255, PATHS[(h >> 16) % 6], STATUSES[(h >> 20) % 6], (h >> 12) % 1000)
        lines.append(line)
        size += len(line) + 1
        i += 1
    return lines


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    lines = _make_lines()
    # Rotating one list of lines keeps data building cheap next to the hot loop, while
    # every chunk is a distinct bytes object.
    return [b"\n".join(lines[i * 997:] + lines[:i * 997]) for i in range(N_CHUNKS * scale)]


def main(scale=1):
    chunks = items(scale)
    summaries = [summarize_chunk(c) for c in chunks]
    print(f"chunks={len(chunks)} MB={sum(map(len, chunks)) / 1e6:.1f} "
          f"slow={sum(s[0] for s in summaries)} total_ms={sum(s[1] for s in summaries)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
