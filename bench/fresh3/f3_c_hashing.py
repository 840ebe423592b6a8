"""Backup manifest builder: for each file snapshot (multi-MB bytes), compute
whole-file digests in several algorithms plus fixed-size chunk digests used
for deduplication. Almost all time is in hashlib (which releases the GIL on
large buffers)."""
import hashlib
import random
import sys

HOT = "fingerprint"

CHUNK = 1 << 20  # 1 MiB dedup chunks
ALGOS = ("sha256", "sha1", "md5", "blake2b")


def fingerprint(snapshot):
    """snapshot = (name, data). Returns a manifest entry (a plain dict)."""
    name, data = snapshot
    digests = {}
    for algo in ALGOS:
        digests[algo] = hashlib.new(algo, data).hexdigest()
    chunks = []
    view = memoryview(data)
    for off in range(0, len(data), CHUNK):
        chunks.append(hashlib.sha256(view[off:off + CHUNK]).hexdigest()[:16])
    return {"name": name, "size": len(data), "digests": digests, "chunks": chunks}


def items(scale):
    rng = random.Random(99)
    # a pool of 1 MiB "extents"; snapshots share many of them (like real backups)
    pool = [rng.randbytes(CHUNK) for _ in range(24)]
    snaps = []
    for i in range(10 * scale):
        n_chunks = rng.randint(3, 7)
        parts = []
        for _ in range(n_chunks):
            if rng.random() < 0.75:
                parts.append(pool[rng.randrange(len(pool))])
            else:  # freshly modified extent
                parts.append(rng.randbytes(CHUNK))
        tail = rng.randbytes(rng.randint(1000, 200_000))
        snaps.append((f"vol{i % 4}/file{i:03d}.img", b"".join(parts) + tail))
    return snaps


def main(scale):
    xs = items(scale)
    manifest = {}
    for snap in xs:
        manifest[snap[0]] = fingerprint(snap)
    seen = set()
    total = unique = 0
    for entry in manifest.values():
        for c in entry["chunks"]:
            total += 1
            if c not in seen:
                seen.add(c)
                unique += 1
    size = sum(e["size"] for e in manifest.values())
    print(f"manifest: {len(manifest)} files, {size / 1e6:.1f} MB, {unique}/{total} unique chunks")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
