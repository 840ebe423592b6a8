"""Score a stream of 600,000 small telemetry events, one function call per event.

Each call is a dictionary lookup, a clamp, a bit of arithmetic and a short string:
about a microsecond.
"""
import sys

HOT = "score_event"
N_EVENTS = 600_000

WEIGHTS = {"click": 1.0, "view": 0.2, "buy": 5.0, "scroll": 0.05, "share": 2.5}
KINDS = list(WEIGHTS)


def score_event(event):
    kind, value = event
    weight = WEIGHTS.get(kind, 0.0)
    if value < 0:
        value = 0
    elif value > 100:
        value = 100
    return f"{kind[0]}{round(weight * value / 100.0, 2)}"


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    return [(KINDS[i % 5], (i * 37) % 130 - 10) for i in range(N_EVENTS * scale)]


def main(scale=1):
    events = items(scale)
    scores = [score_event(e) for e in events]
    print(f"events={len(scores)} distinct_scores={len(set(scores))} first={scores[:3]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
