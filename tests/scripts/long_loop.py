"""A loop long enough to interrupt part-way through the sweep."""


def work(n):
    return sum(i * i for i in range(n))


def main():
    print(sum(work(300_000) for _ in range(60)))


if __name__ == "__main__":
    main()
