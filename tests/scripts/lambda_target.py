"""The work is done by a lambda bound to a name inside main(); --function weigh names it."""


def main():
    modulus = 7
    weigh = lambda n: sum(i * i % modulus for i in range(n))  # noqa: E731 - the point of this script
    sizes = [30_000 + 1_000 * k for k in range(16)]
    totals = [weigh(n) for n in sizes]
    print(sum(totals))


if __name__ == "__main__":
    main()
