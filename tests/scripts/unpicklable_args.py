"""Each call gets an object holding a lock, which cannot be pickled for a process pool."""
import threading


class Job:
    def __init__(self, n):
        self.n = n
        self.lock = threading.Lock()


def work(job):
    with job.lock:
        return sum(i * i for i in range(job.n))


def main():
    print(sum(work(Job(60_000)) for _ in range(16)))


if __name__ == "__main__":
    main()
