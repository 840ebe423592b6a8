"""CPU work whose worker processes are killed (SIGKILL, as the out-of-memory killer does)."""
import multiprocessing
import os
import signal


def work(n):
    if multiprocessing.current_process().name != "MainProcess":
        os.kill(os.getpid(), signal.SIGKILL)
    return sum(i * i for i in range(n))


def main():
    print(sum(work(60_000) for _ in range(16)))


if __name__ == "__main__":
    main()
