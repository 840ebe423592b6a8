"""Scan DNA reads for a transcription-factor-like motif using a position
weight matrix.  main() builds the scanner with a factory,
make_motif_scanner(weights, threshold), which returns a nested function
closing over the matrix and threshold; that closure is then mapped over the
reads and reports the best window score, its offset and the number of hits.
Kind: closure as the hot function (not picklable by reference), pure-Python
CPU work; bench_call(read) performs one loop iteration."""
import random
import sys

HOT = "scan_sequence"

MOTIF_WIDTH = 14
THRESHOLD = 9.0


def build_weights():
    rng = random.Random(5)
    weights = []
    for pos in range(MOTIF_WIDTH):
        favored = "ACGT"[(pos * 3) % 4]
        col = {}
        for base in "ACGT":
            col[base] = round(1.6 if base == favored else -0.4 - rng.random(), 3)
        weights.append(col)
    return weights


def make_motif_scanner(weights, threshold):
    width = len(weights)
    columns = [(w["A"], w["C"], w["G"], w["T"]) for w in weights]
    index = {"A": 0, "C": 1, "G": 2, "T": 3}

    def scan_sequence(read):
        codes = [index[ch] for ch in read]
        best, best_at, hits = float("-inf"), -1, 0
        for start in range(len(codes) - width + 1):
            s = 0.0
            for offset in range(width):
                s += columns[offset][codes[start + offset]]
            if s > best:
                best, best_at = s, start
            if s >= threshold:
                hits += 1
        return (len(read), round(best, 6), best_at, hits)

    return scan_sequence


def bench_call(read):
    scan_sequence = make_motif_scanner(build_weights(), THRESHOLD)
    return scan_sequence(read)


_TO_DNA = bytes.maketrans(bytes(range(256)), b"ACGT" * 64)


def items(scale=1):
    rng = random.Random(31337)
    reads = []
    for k in range(11 * scale):
        n = 52000 + 4000 * (k % 6)
        reads.append(rng.randbytes(n).translate(_TO_DNA).decode())
    return reads


def main(scale=1):
    xs = items(scale)
    scan_sequence = make_motif_scanner(build_weights(), THRESHOLD)
    results = [scan_sequence(x) for x in xs]
    print(f"{len(results)} reads scanned, {sum(r[3] for r in results)} motif hits, "
          f"best score {max(r[1] for r in results):.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
