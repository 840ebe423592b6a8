"""Run a few independent n-body simulations of the outer solar system.

What it does: for each of 6 jobs (a reference body whose momentum is offset, and
a number of steps) it builds a fresh copy of the five-body system, offsets its
momentum, reports the energy, advances the simulation and reports the energy
again, exactly what pyperformance's bench_nbody() does for one loop.

Source: python/pyperformance, pyperformance/data-files/benchmarks/bm_nbody/
run_benchmark.py (commit 1d3e21798ebf2420b62c1eded4ce94453ba15151), licence MIT
(the repository's COPYING). Itself from the Computer Language Benchmarks Game
(contributed by Kevin Carson, modified by Tupteq, Fredrik Johansson and Daniel Nanz).

What I changed: combinations(), the constants, BODIES, SYSTEM, PAIRS, advance(),
report_energy() and offset_momentum() are copied unchanged. bench_nbody() (which
mutates the module-level SYSTEM and times itself with pyperf) is replaced by
run_nbody(reference, iterations), which does the same steps on a private
copy.deepcopy of BODIES so that the simulations are independent of each other;
items() and main() are new. The pyperf runner and command line are removed.

SHAPE: FEW LONG CALLS - the loop makes only 6 calls (scale multiplies the number
of steps per call, not the number of calls), each 0.05-0.2 s of pure Python; the
function takes two arguments, so bench_call(item) unpacks one job.
"""

import copy
import sys

HOT = "run_nbody"

def combinations(l):
    """Pure-Python implementation of itertools.combinations(l, 2)."""
    result = []
    for x in range(len(l) - 1):
        ls = l[x + 1:]
        for y in ls:
            result.append((l[x], y))
    return result


PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24

BODIES = {
    'sun': ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0], SOLAR_MASS),

    'jupiter': ([4.84143144246472090e+00,
                 -1.16032004402742839e+00,
                 -1.03622044471123109e-01],
                [1.66007664274403694e-03 * DAYS_PER_YEAR,
                 7.69901118419740425e-03 * DAYS_PER_YEAR,
                 -6.90460016972063023e-05 * DAYS_PER_YEAR],
                9.54791938424326609e-04 * SOLAR_MASS),

    'saturn': ([8.34336671824457987e+00,
                4.12479856412430479e+00,
                -4.03523417114321381e-01],
               [-2.76742510726862411e-03 * DAYS_PER_YEAR,
                4.99852801234917238e-03 * DAYS_PER_YEAR,
                2.30417297573763929e-05 * DAYS_PER_YEAR],
               2.85885980666130812e-04 * SOLAR_MASS),

    'uranus': ([1.28943695621391310e+01,
                -1.51111514016986312e+01,
                -2.23307578892655734e-01],
               [2.96460137564761618e-03 * DAYS_PER_YEAR,
                2.37847173959480950e-03 * DAYS_PER_YEAR,
                -2.96589568540237556e-05 * DAYS_PER_YEAR],
               4.36624404335156298e-05 * SOLAR_MASS),

    'neptune': ([1.53796971148509165e+01,
                 -2.59193146099879641e+01,
                 1.79258772950371181e-01],
                [2.68067772490389322e-03 * DAYS_PER_YEAR,
                 1.62824170038242295e-03 * DAYS_PER_YEAR,
                 -9.51592254519715870e-05 * DAYS_PER_YEAR],
                5.15138902046611451e-05 * SOLAR_MASS)}


SYSTEM = list(BODIES.values())
PAIRS = combinations(SYSTEM)


def advance(dt, n, bodies=SYSTEM, pairs=PAIRS):
    for i in range(n):
        for (([x1, y1, z1], v1, m1),
             ([x2, y2, z2], v2, m2)) in pairs:
            dx = x1 - x2
            dy = y1 - y2
            dz = z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** (-1.5))
            b1m = m1 * mag
            b2m = m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for (r, [vx, vy, vz], m) in bodies:
            r[0] += dt * vx
            r[1] += dt * vy
            r[2] += dt * vz


def report_energy(bodies=SYSTEM, pairs=PAIRS, e=0.0):
    for (((x1, y1, z1), v1, m1),
         ((x2, y2, z2), v2, m2)) in pairs:
        dx = x1 - x2
        dy = y1 - y2
        dz = z1 - z2
        e -= (m1 * m2) / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    for (r, [vx, vy, vz], m) in bodies:
        e += m * (vx * vx + vy * vy + vz * vz) / 2.
    return e


def offset_momentum(ref, bodies=SYSTEM, px=0.0, py=0.0, pz=0.0):
    for (r, [vx, vy, vz], m) in bodies:
        px -= vx * m
        py -= vy * m
        pz -= vz * m
    (r, v, m) = ref
    v[0] = px / m
    v[1] = py / m
    v[2] = pz / m


################ Benchmark driver (not in the original)

# (reference body, advance() steps): different offsets and lengths, 6 jobs in all
JOBS = [('sun', 36000), ('jupiter', 24000), ('saturn', 30000),
        ('uranus', 18000), ('neptune', 27000), ('sun', 21000)]


def run_nbody(reference, iterations):
    "One pyperformance bench_nbody() loop, on a fresh copy of the system."
    bodies_by_name = copy.deepcopy(BODIES)
    bodies = list(bodies_by_name.values())
    pairs = combinations(bodies)
    offset_momentum(bodies_by_name[reference], bodies)
    e_before = report_energy(bodies, pairs)
    advance(0.01, iterations, bodies, pairs)
    e_after = report_energy(bodies, pairs)
    return e_before, e_after


def items(scale=1):
    "The simulation jobs: always 6, each scale times longer for scale > 1."
    return [(reference, iterations * scale) for reference, iterations in JOBS]


def bench_call(item):
    "One iteration of main()'s loop."
    return run_nbody(*item)


def main(scale=1):
    jobs = items(scale)
    results = []
    for reference, iterations in jobs:
        results.append(run_nbody(reference, iterations))
    for (reference, iterations), (e0, e1) in zip(jobs, results):
        print('%-8s steps=%6d energy %.9f -> %.9f' % (reference, iterations, e0, e1))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
