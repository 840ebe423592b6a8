"""Each argument array is made inside the loop, after the first call: the zygote cannot have it."""
import numpy as np


def energy(samples):
    return float(np.sqrt(samples * samples + 1.0).mean())


def main():
    print(sum(energy(np.full(200_000, 0.5 + i)) for i in range(16)))


if __name__ == "__main__":
    main()
