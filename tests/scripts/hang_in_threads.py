"""CPU work that hangs for ever when called from a worker thread."""
import threading
import time


def work(n):
    if threading.current_thread() is not threading.main_thread():
        time.sleep(3600)
    return sum(i * i for i in range(n))


def main():
    print(sum(work(60_000) for _ in range(16)))


if __name__ == "__main__":
    main()
