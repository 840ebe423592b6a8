"""Compute shortest walking routes across a handful of generated warehouse
floor plans (grids with shelving blocked out) using breadth-first search,
returning route length and the number of reachable cells.  Kind: a short
loop - only a few calls of roughly ten milliseconds each, so the whole loop
takes a small fraction of a second."""
import sys
from collections import deque

HOT = "route_length"


def route_length(plan):
    width, height, blocked = plan
    grid = [[False] * width for _ in range(height)]
    for x, y in blocked:
        grid[y][x] = True
    dist = [[-1] * width for _ in range(height)]
    dist[0][0] = 0
    queue = deque([(0, 0)])
    while queue:
        x, y = queue.popleft()
        d = dist[y][x] + 1
        for nx, ny in ((x + 1, y), (x - 1, y), (x, y + 1), (x, y - 1)):
            if 0 <= nx < width and 0 <= ny < height and not grid[ny][nx] and dist[ny][nx] < 0:
                dist[ny][nx] = d
                queue.append((nx, ny))
    reachable = sum(1 for row in dist for v in row if v >= 0)
    return (dist[height - 1][width - 1], reachable)


def items(scale=1):
    plans = []
    for k in range(4 * scale):
        width, height = 170 + (10 * k) % 40, 130 + (7 * k) % 30
        blocked = []
        for x in range(3, width - 2, 4):
            gap = (x * 7 + k * 13) % (height - 4) + 2
            for y in range(1, height - 1):
                if abs(y - gap) > 1 + (k % 2):
                    blocked.append((x, y))
        plans.append((width, height, tuple(blocked)))
    return plans


def main(scale=1):
    xs = items(scale)
    results = []
    for x in xs:
        results.append(route_length(x))
    print(f"{len(results)} floor plans, route lengths {[r[0] for r in results]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
