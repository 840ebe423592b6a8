"""Hand each day's ledger (CSV text) to a separate Python worker process via
subprocess.run, piping the rows through stdin; the child totals the amounts
per account, finds the busiest account and prints a JSON line that the
parent parses.  Kind: external processes (subprocess.run of sys.executable)."""
import json
import subprocess
import sys

HOT = "settle_ledger"

CHILD = r"""
import sys, json
totals = {}
counts = {}
for line in sys.stdin:
    acct, kind, cents = line.rstrip("\n").split(",")
    v = int(cents) if kind == "cr" else -int(cents)
    totals[acct] = totals.get(acct, 0) + v
    counts[acct] = counts.get(acct, 0) + 1
busiest = max(sorted(counts), key=counts.__getitem__)
print(json.dumps({"accounts": len(totals), "net": sum(totals.values()),
                  "busiest": busiest, "busiest_n": counts[busiest],
                  "max_balance": max(totals.values())}))
"""


def settle_ledger(day):
    day_id, rows = day
    proc = subprocess.run([sys.executable, "-c", CHILD], input=rows,
                          capture_output=True, text=True, check=True)
    out = json.loads(proc.stdout)
    return (day_id, out["accounts"], out["net"], out["busiest"],
            out["busiest_n"], out["max_balance"])


def items(scale=1):
    days = []
    for d in range(12 * scale):
        n = 7000 + 900 * (d % 5)
        lines = []
        x = 1013904223 + d
        for i in range(n):
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            lines.append(f"AC{(x >> 8) % 350:03d},{'cr' if x & 1 else 'dr'},{(x >> 12) % 90000}")
        days.append((f"2024-02-{d % 28 + 1:02d}#{d}", "\n".join(lines) + "\n"))
    return days


def main(scale=1):
    xs = items(scale)
    results = [settle_ledger(x) for x in xs]
    print(f"{len(results)} ledgers settled, overall net {sum(r[2] for r in results)} cents, "
          f"max rows on one account {max(r[4] for r in results)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
