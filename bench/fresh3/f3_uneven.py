"""Freight container loading: for each shipment, choose which parcels go into
a container of limited weight capacity to maximise declared value (0/1
knapsack by dynamic programming, with item reconstruction). Shipments differ
a lot in size, so task durations vary by well over 10x."""
import random
import sys

HOT = "load_container"


def load_container(shipment):
    """shipment = dict(id, capacity, parcels=[(weight, value), ...])."""
    cap = shipment["capacity"]
    parcels = shipment["parcels"]
    best = [0] * (cap + 1)
    keep = []
    for w, v in parcels:
        took = bytearray(cap + 1)
        if w <= cap:
            for c in range(cap, w - 1, -1):
                cand = best[c - w] + v
                if cand > best[c]:
                    best[c] = cand
                    took[c] = 1
        keep.append(took)
    # reconstruct chosen parcels
    chosen = []
    c = cap
    for idx in range(len(parcels) - 1, -1, -1):
        if keep[idx][c]:
            chosen.append(idx)
            c -= parcels[idx][0]
    chosen.reverse()
    weight = sum(parcels[i][0] for i in chosen)
    return {"id": shipment["id"], "value": best[cap], "weight": weight,
            "chosen": tuple(chosen)}


def items(scale):
    rng = random.Random(1911)
    shipments = []
    for k in range(30 * scale):
        # work ~ n_parcels * capacity; spread about 16x between smallest and largest
        size = rng.choice((1, 1, 1, 2, 2, 3, 4, 6, 9, 12, 14))
        n_parcels = 16 + 6 * size
        capacity = 1200 + 300 * size
        parcels = [(rng.randint(5, 60), rng.randint(10, 500)) for _ in range(n_parcels)]
        shipments.append({"id": f"SHP-{k:04d}", "capacity": capacity, "parcels": parcels})
    rng.shuffle(shipments)
    return shipments


def main(scale):
    xs = items(scale)
    plans = {}
    for s in xs:
        plans[s["id"]] = load_container(s)
    value = sum(p["value"] for p in plans.values())
    fill = sum(p["weight"] for p in plans.values()) / sum(s["capacity"] for s in xs)
    print(f"loaded {len(plans)} containers; total value {value}; mean fill {fill:.1%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
