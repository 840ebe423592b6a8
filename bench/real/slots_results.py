"""Run pyperformance's float benchmark for many point counts; each call returns a Point.

What it does: for each size n in a list, benchmark(n) builds n Point objects from
sin/cos, normalizes each and folds them with Point.maximize(), returning the final
Point - an instance of a small class with ``__slots__ = ('x', 'y', 'z')`` and no
``__eq__`` (so two equal results compare unequal with ==).

Source: python/pyperformance, pyperformance/data-files/benchmarks/bm_float/
run_benchmark.py (commit 1d3e21798ebf2420b62c1eded4ce94453ba15151; file last changed
in 11ee8985749f60d2de4a07e35034865b4afe582f), licence MIT (the repository's COPYING).
"Artificial, floating point-heavy benchmark originally used by Factor."

What I changed: Point, maximize() and benchmark() are copied unchanged; the pyperf
runner (one call with POINTS = 100000) is replaced by items(), a list of sizes, and
main(), which calls benchmark(n) for each size and prints the coordinates' sums.

SHAPE: RESULTS WITHOUT __eq__ - each call (~2-20 ms) returns a fresh instance of a
__slots__ class that has no __eq__/__hash__ of its own, so results can only be
compared field by field (or by repr), not with ==.
"""
import sys

from math import sin, cos, sqrt

HOT = "benchmark"

POINTS = 100000


class Point(object):
    __slots__ = ('x', 'y', 'z')

    def __init__(self, i):
        self.x = x = sin(i)
        self.y = cos(i) * 3
        self.z = (x * x) / 2

    def __repr__(self):
        return "<Point: x=%s, y=%s, z=%s>" % (self.x, self.y, self.z)

    def normalize(self):
        x = self.x
        y = self.y
        z = self.z
        norm = sqrt(x * x + y * y + z * z)
        self.x /= norm
        self.y /= norm
        self.z /= norm

    def maximize(self, other):
        self.x = self.x if self.x > other.x else other.x
        self.y = self.y if self.y > other.y else other.y
        self.z = self.z if self.z > other.z else other.z
        return self


def maximize(points):
    next = points[0]
    for p in points[1:]:
        next = next.maximize(p)
    return next


def benchmark(n):
    points = [None] * n
    for i in range(n):
        points[i] = Point(i)
    for p in points:
        p.normalize()
    return maximize(points)


################ Benchmark driver (not in the original)

def items(scale=1):
    "Point counts: 60 sizes from 4,000 to 33,500 (repeated scale times)."
    return [4000 + 500 * i for i in range(60)] * scale


def main(scale=1):
    sizes = items(scale)
    results = [benchmark(n) for n in sizes]
    print("calls={} points={} sum_x={:.9f} sum_y={:.9f} sum_z={:.9f} last={!r}".format(
        len(results), sum(sizes), sum(p.x for p in results), sum(p.y for p in results),
        sum(p.z for p in results), results[-1]))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
