"""Simulate a day at a bank branch for a batch of scenarios whose sizes vary a lot.

Each scenario is a pure-Python discrete-event queue simulation; scenario sizes are drawn
from a heavy-tailed (log-normal) distribution with a fixed seed, so a few scenarios take
many times longer than the typical one and they sit at random places in the list.
"""
import heapq
import random
import sys

HOT = "simulate_branch"
N_SCENARIOS = 40


def simulate_branch(scenario):
    seed, customers, tellers = scenario
    rng = random.Random(seed)
    free_at = [0.0] * tellers
    heapq.heapify(free_at)
    clock = waited = longest = 0.0
    for _ in range(customers):
        clock += rng.expovariate(1.0)
        start = max(clock, heapq.heappop(free_at))
        wait = start - clock
        waited += wait
        longest = max(longest, wait)
        heapq.heappush(free_at, start + rng.expovariate(1.0 / (tellers * 0.9)))
    return round(waited / customers, 6), round(longest, 6)


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    rng = random.Random(7)
    return [(1000 + i, int(rng.lognormvariate(9.9, 1.0)), rng.choice((2, 3, 4)))
            for i in range(N_SCENARIOS * scale)]


def main(scale=1):
    scenarios = items(scale)
    results = [simulate_branch(s) for s in scenarios]
    worst = max(results, key=lambda r: r[1])
    print(f"scenarios={len(results)} customers={sum(s[1] for s in scenarios)} worst_wait={worst[1]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
