"""Independent simulations, one per seed: the loop's output is what each world ends as.

The hot call, ``world.run(steps)``, returns nothing: it changes the world. So the unit to
hand out is the loop's whole body (seed the generator, build a world, run it, count),
which paradvise makes a function of the seed (measure/loop_body.py).
"""
import random

STEPS = 120_000


class World:
    def __init__(self, size):
        self.cells = [random.randint(0, 9) for _ in range(size)]

    def run(self, steps):
        cells = self.cells
        for _ in range(steps):
            i = random.randrange(len(cells))
            cells[i] = (cells[i] + cells[i - 1] + random.randint(1, 3)) % 10


def main():
    seeds = range(10)
    results = []
    for seed in seeds:
        random.seed(seed)
        world = World(200)
        world.run(STEPS)
        results.append(sum(world.cells))
    print("cells:", results)


if __name__ == "__main__":
    main()
