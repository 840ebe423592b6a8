"""CPU work whose worker processes die of SIGSEGV (as a broken C extension would)."""
import multiprocessing
import os
import signal


def work(n):
    if multiprocessing.current_process().name != "MainProcess":
        os.kill(os.getpid(), signal.SIGSEGV)
    return sum(i * i for i in range(n))


def main():
    print(sum(work(60_000) for _ in range(16)))


if __name__ == "__main__":
    main()
