"""Smart-meter billing batch: each upload is a zlib-compressed CSV of
half-hourly readings for a group of meters. Per upload: decompress, parse the
readings, bill every meter on a time-of-use tariff, and re-pack the raw data
at maximum compression for cold storage alongside the compressed bill file."""
import random
import sys
import zlib

HOT = "bill_upload"

TARIFFS = {
    "flat": ((0, 48, 0.245),),
    "tou": ((0, 14, 0.121), (14, 32, 0.262), (32, 40, 0.391), (40, 48, 0.262)),
    "ev": ((0, 10, 0.079), (10, 34, 0.281), (34, 42, 0.352), (42, 48, 0.281)),
}


def _slot_prices(tariff):
    prices = [0.0] * 48
    for lo, hi, p in TARIFFS[tariff]:
        for s in range(lo, hi):
            prices[s] = p
    return prices


def bill_upload(blob, tariff):
    raw = zlib.decompress(blob)
    prices = _slot_prices(tariff)
    usage = {}
    cost = {}
    peak = {}
    daily = {}
    bad = 0
    for line in raw.decode("ascii").splitlines():
        if not line or line[0] == "#":
            continue
        fields = line.split(",")
        if len(fields) != 4:
            bad += 1
            continue
        meter, day, slot, kwh = fields
        try:
            slot_i = int(slot)
            k = float(kwh)
        except ValueError:
            bad += 1
            continue
        usage[meter] = usage.get(meter, 0.0) + k
        cost[meter] = cost.get(meter, 0.0) + k * prices[slot_i]
        key = (meter, day)
        daily[key] = daily.get(key, 0.0) + k
        if k > peak.get(meter, (0.0, ""))[0]:
            peak[meter] = (k, f"{day}/{slot_i}")
    heavy_days = {}
    for (meter, day), total in daily.items():
        if total > 20.0:
            heavy_days[meter] = heavy_days.get(meter, 0) + 1
    bills = []
    for meter in sorted(usage):
        bills.append(f"{meter},{tariff},{usage[meter]:.3f},{cost[meter]:.2f},"
                     f"{peak[meter][1]},{heavy_days.get(meter, 0)}")
    bill_file = zlib.compress("\n".join(bills).encode(), 9)
    archive = zlib.compress(raw, 6)
    return {
        "meters": len(bills),
        "kwh": round(sum(usage.values()), 3),
        "amount": round(sum(cost.values()), 2),
        "bad_lines": bad,
        "heavy_days": sum(heavy_days.values()),
        "archive_bytes": len(archive),
        "bill_crc": zlib.crc32(bill_file),
    }


def bench_call(item):
    blob, tariff = item
    return bill_upload(blob, tariff)


def items(scale):
    rng = random.Random(2468)
    uploads = []
    for u in range(10 * scale):
        lines = [f"# upload {u} concentrator DC-{rng.randint(100, 999)}"]
        meters = [f"M{rng.randrange(10**7):07d}" for _ in range(rng.randint(11, 18))]
        for day in range(1, 27):
            for m in meters:
                base = rng.uniform(0.05, 0.6)
                for slot in range(48):
                    kwh = base * (1.8 if 34 <= slot < 42 else 1.0) * rng.uniform(0.6, 1.4)
                    if rng.random() < 0.002:
                        lines.append(f"{m},2024-03-{day:02d},{slot},ERR")
                    else:
                        lines.append(f"{m},2024-03-{day:02d},{slot},{kwh:.3f}")
        uploads.append((zlib.compress("\n".join(lines).encode(), 1),
                        rng.choice(("flat", "tou", "tou", "ev"))))
    return uploads


def main(scale):
    xs = items(scale)
    results = []
    for blob, tariff in xs:
        results.append(bill_upload(blob, tariff))
    amount = sum(r["amount"] for r in results)
    meters = sum(r["meters"] for r in results)
    stored = sum(r["archive_bytes"] for r in results)
    print(f"billed {meters} meters in {len(results)} uploads; total {amount:.2f}; archive {stored / 1e6:.2f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
