"""CPU work driven from module level, with no `if __name__ == "__main__":` guard."""


def work(n):
    return sum(i * i for i in range(n))


print(sum(work(150_000) for _ in range(24)))
