"""Monte-Carlo evaluation of (s, S) reorder policies for warehouse SKUs.

Each item is one candidate inventory policy for one SKU: reorder point s,
order-up-to level S, the SKU's mean daily demand and a simulation seed.  The
hot function simulates thousands of days of Poisson demand with random
supplier lead times (orders in transit, stock-outs, holding and ordering
costs) and returns the average daily cost, the fill rate and the order count.
A planner sweeps a grid of candidate policies and keeps the cheapest one.

Kind: pure-Python CPU work (Monte-Carlo), ~36 calls of ~22-32 ms at scale 3.
"""
import math
import random
import sys

HOT = "simulate_policy"

HOLDING_COST = 0.25   # per unit per day
STOCKOUT_COST = 4.0   # per unit of unmet demand
ORDER_COST = 30.0     # fixed cost per purchase order


def _poisson(rng, lam):
    # Knuth's multiplicative method (fine for small lambda)
    limit = math.exp(-lam)
    k = 0
    p = rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def simulate_policy(item):
    sku, s, big_s, mean_demand, seed, days = item
    rng = random.Random(seed)
    on_hand = big_s
    pipeline = {}            # arrival day -> quantity
    in_transit = 0
    cost = 0.0
    demanded = served = orders = 0
    for day in range(days):
        qty = pipeline.pop(day, 0)
        if qty:
            on_hand += qty
            in_transit -= qty
        demand = _poisson(rng, mean_demand)
        demanded += demand
        sold = demand if demand <= on_hand else on_hand
        served += sold
        on_hand -= sold
        cost += HOLDING_COST * on_hand + STOCKOUT_COST * (demand - sold)
        position = on_hand + in_transit
        if position <= s:
            lead = 1 + int(rng.expovariate(1 / 3.0))
            qty = big_s - position
            pipeline[day + lead] = pipeline.get(day + lead, 0) + qty
            in_transit += qty
            cost += ORDER_COST
            orders += 1
    return (sku, s, big_s, round(cost / days, 6),
            round(served / max(demanded, 1), 6), orders)


def items(scale=1):
    rng = random.Random(20240611)
    out = []
    for i in range(12 * scale):
        mean_demand = rng.choice([4.0, 6.5, 9.0])
        s = int(mean_demand * rng.uniform(2.0, 6.0))
        big_s = s + int(mean_demand * rng.uniform(3.0, 12.0))
        days = int(rng.uniform(360000, 420000) / (mean_demand + 4.0))
        out.append((f"SKU-{i // 4:04d}", s, big_s, mean_demand,
                    rng.randrange(1 << 30), days))
    return out


def main(scale=1):
    xs = items(scale)
    results = [simulate_policy(x) for x in xs]
    best = min(results, key=lambda r: r[3])
    print(f"{len(results)} policies simulated; best {best[0]} s={best[1]} S={best[2]} "
          f"cost/day={best[3]:.3f} fill={best[4]:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
