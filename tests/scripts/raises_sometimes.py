"""A target that raises on some inputs; the script handles the errors itself."""


def work(n):
    if n % 5 == 0:
        raise ValueError(f"bad item {n}")
    return sum(i * i for i in range(40_000 + n))


def main():
    ok = errors = 0
    for n in range(1, 21):
        try:
            work(n)
            ok += 1
        except ValueError:
            errors += 1
    print(ok, errors)


if __name__ == "__main__":
    main()
