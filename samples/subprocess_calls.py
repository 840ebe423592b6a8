"""Run an external word-count tool once per document and collect its output.

Each call starts a separate Python interpreter process (like shelling out to a CLI tool) and waits for it.
"""
import json
import subprocess
import sys

WORDCOUNT_TOOL = r"""
import collections, json, sys
words = sys.stdin.read().split()
counts = collections.Counter(words)
top, n = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
print(json.dumps({"words": len(words), "unique": len(counts), "top": top, "top_n": n}))
"""

VOCAB = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def count_words(document):
    proc = subprocess.run(
        [sys.executable, "-c", WORDCOUNT_TOOL],
        input=document,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)


def make_document(seed):
    return " ".join(VOCAB[(seed * 7 + i * i) % len(VOCAB)] for i in range(2000 + 50 * seed))


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    documents = [make_document(i) for i in range(20 * scale)]
    reports = [count_words(doc) for doc in documents]
    total = sum(r["words"] for r in reports)
    tops = ",".join(r["top"] for r in reports[:4])
    print(f"documents={len(reports)} words={total} top(first 4)={tops}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
