"""Score candidate strings against a target with a closure built inside main().

The scoring function captures the target and its weights from main()'s scope, so pickle
cannot send it to worker processes: a process pool fails on it, while joblib (loky sends
functions with cloudpickle) can run it in parallel.
"""


def main():
    target = "should I parallelize this loop, and how?"
    weights = [1 + (i % 5) for i in range(len(target))]

    def score(candidate):
        # A weighted edit distance between candidate and target: pure-Python CPU work.
        previous = list(range(len(target) + 1))
        for i, ch in enumerate(candidate, 1):
            current = [i]
            for j, want in enumerate(target, 1):
                cost = 0 if ch == want else weights[j - 1]
                current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
            previous = current
        return previous[-1]

    words = ["loop", "parallel", "this", "how", "should", "and", "I", "pool", "thread"]
    candidates = [" ".join(words[(k * 7 + i) % len(words)] for i in range(400 + 8 * k)) for k in range(24)]
    results = [score(c) for c in candidates]
    print(f"best {min(results)}, worst {max(results)} over {len(results)} candidates")


if __name__ == "__main__":
    main()
