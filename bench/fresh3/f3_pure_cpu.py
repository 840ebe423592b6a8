"""Transit network planner: for each depot query, run Dijkstra over a city
street graph and summarise travel times / fare zones to a set of stops.

Pure-Python CPU work (dict/list/heapq) holding the GIL.
"""
import heapq
import random
import sys

HOT = "plan_from_depot"

N_NODES = 21000
ZONE_EDGES = (6.0, 12.0, 20.0, 30.0)  # minutes -> fare zone boundaries


def _build_city(seed=20240611):
    rng = random.Random(seed)
    side = int(N_NODES ** 0.5)
    n = side * side
    adj = [[] for _ in range(n)]

    def link(a, b, minutes):
        adj[a].append((b, minutes))
        adj[b].append((a, minutes))

    for r in range(side):
        for c in range(side):
            u = r * side + c
            if c + 1 < side:
                link(u, u + 1, round(rng.uniform(0.4, 2.5), 2))
            if r + 1 < side:
                link(u, u + side, round(rng.uniform(0.4, 2.5), 2))
    # express bus lines: a few long hops
    for _ in range(n // 25):
        a = rng.randrange(n)
        b = rng.randrange(n)
        if a != b:
            link(a, b, round(rng.uniform(3.0, 9.0), 2))
    return adj


CITY = _build_city()


def plan_from_depot(query):
    """query = (depot, stops). Returns per-stop (minutes, hops, zone) plus totals."""
    depot, stops = query
    n = len(CITY)
    inf = float("inf")
    dist = [inf] * n
    prev = [-1] * n
    dist[depot] = 0.0
    heap = [(0.0, depot)]
    pop = heapq.heappop
    push = heapq.heappush
    while heap:
        d, u = pop(heap)
        if d > dist[u]:
            continue
        for v, w in CITY[u]:
            nd = d + w
            if nd < dist[v]:
                dist[v] = nd
                prev[v] = u
                push(heap, (nd, v))
    plan = []
    for s in stops:
        hops = 0
        x = s
        while x != depot and x != -1:
            x = prev[x]
            hops += 1
        minutes = round(dist[s], 3)
        zone = 1
        for edge in ZONE_EDGES:
            if minutes > edge:
                zone += 1
        plan.append((s, minutes, hops, zone))
    reachable = sum(1 for d in dist if d < inf)
    worst = max(p[1] for p in plan) if plan else 0.0
    return {"depot": depot, "reachable": reachable, "worst": worst, "plan": plan}


def items(scale):
    rng = random.Random(7 + scale)
    n = len(CITY)
    queries = []
    for _ in range(10 * scale):
        depot = rng.randrange(n)
        stops = [rng.randrange(n) for _ in range(40)]
        queries.append((depot, stops))
    return queries


def main(scale):
    xs = items(scale)
    results = []
    for q in xs:
        results.append(plan_from_depot(q))
    zones = [0] * (len(ZONE_EDGES) + 2)
    for r in results:
        for _, _, _, z in r["plan"]:
            zones[z] += 1
    worst = max(r["worst"] for r in results)
    print(f"planned {len(results)} depots; zone counts {zones[1:]}; worst trip {worst:.1f} min")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
