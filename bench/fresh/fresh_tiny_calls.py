"""Normalize a batch of semi-structured sensor readings such as
" Unit-07 | 08:15:02.250 | temp=21.5C | ok | Site:North " into canonical
(unit_id, site_code, seconds_of_day, quantity, value_si, flag) tuples: trims,
case-folds, splits fields and converts units.  Kind: tiny calls - a function
costing a couple of microseconds called a few hundred thousand times."""
import sys

HOT = "normalize_reading"

_UNIT_SCALE = {"c": ("temp_k", 1.0, 273.15), "f": ("temp_k", 5 / 9, 255.372),
               "kpa": ("pressure_pa", 1000.0, 0.0), "hpa": ("pressure_pa", 100.0, 0.0),
               "%": ("humidity", 0.01, 0.0)}

_SITES = {"north": 1, "south": 2, "east": 3, "west": 4}


def normalize_reading(line):
    unit, stamp, measure, flag, site = line.split("|")
    site_code = _SITES.get(site.strip().lower().partition(":")[2], -1)
    unit = unit.strip().lower().replace("unit-", "")
    hh, mm, ss = stamp.strip().split(":")
    seconds = int(hh) * 3600 + int(mm) * 60 + float(ss)
    name, _, raw = measure.strip().partition("=")
    i = len(raw)
    while i and not (raw[i - 1].isdigit() or raw[i - 1] == "."):
        i -= 1
    qty, mul, off = _UNIT_SCALE[raw[i:].lower()]
    value = float(raw[:i]) * mul + off
    return (int(unit), site_code, seconds, qty, round(value, 3), flag.strip().upper() == "OK")


def items(scale=1):
    suffixes = ("C", "F", "kPa", "hPa", "%")
    names = ("temp", "temp", "press", "press", "rh")
    flags = ("ok", " OK", "fault", "ok ", "stale")
    sites = ("North", "south", "EAST", "West ", "lab")
    block = []
    for k in range(1009):
        s = k % 5
        value = ((k * 7919) % 10000) / 100.0
        pad = " " * (k % 3)
        stamp = f"{(k * 13) % 24:02d}:{(k * 7) % 60:02d}:{(k * 31) % 60:02d}.{(k * 3) % 1000:03d}"
        block.append(f"{pad}Unit-{k % 97:02d} | {stamp} |{pad}{names[s]}={value}{suffixes[s]} | {flags[(k // 5) % 5]} | Site:{sites[k % 5]}")
    n = 140_000 * scale
    return (block * (n // len(block) + 1))[:n]


def main(scale=1):
    xs = items(scale)
    results = []
    for x in xs:
        results.append(normalize_reading(x))
    ok = sum(1 for r in results if r[5])
    kinds = {}
    for r in results:
        kinds[r[3]] = kinds.get(r[3], 0) + 1
    print(f"{len(results)} readings, {ok} ok, by quantity: {sorted(kinds.items())}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
