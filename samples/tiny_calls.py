"""Normalise a large list of short, messy product codes and append a check digit.

Each call is a tiny string operation (roughly a microsecond or less), repeated for a few hundred thousand records.
"""
import sys


def normalize(code):
    name = "-".join(code.replace("_", " ").split()).upper()
    check = sum(name.encode()) % 10
    return f"{name}-{check}"


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    prefixes = ["ab", " cd_x", "ef  ", "gh_y", "ij "]
    codes = [f"{prefixes[i % 5]}_{i % 50_000:05d}" for i in range(600_000 * scale)]
    out = [normalize(c) for c in codes]
    distinct = len(set(out))
    checksum = sum(len(s) for s in out)
    print(f"normalized={len(out)} distinct={distinct} chars={checksum}")
    print("sample:", out[0], out[1], out[3], out[-1])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
