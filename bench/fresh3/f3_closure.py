"""Options desk end-of-day marks: price a book of American/European equity
options on a Cox-Ross-Rubinstein binomial tree. The pricer is a closure built
once from the desk's market configuration (steps, rate, dividend yield)."""
import math
import random
import sys


def make_pricer(steps, rate, div_yield):
    """Return price(option) for a fixed tree configuration."""
    def price(option):
        kind, style, spot, strike, vol, years = option
        dt = years / steps
        up = math.exp(vol * math.sqrt(dt))
        down = 1.0 / up
        growth = math.exp((rate - div_yield) * dt)
        p = (growth - down) / (up - down)
        q = 1.0 - p
        disc = math.exp(-rate * dt)
        call = kind == "call"
        american = style == "american"
        # terminal payoffs
        values = []
        s = spot * down ** steps
        ratio = up * up
        for _ in range(steps + 1):
            values.append(max(s - strike, 0.0) if call else max(strike - s, 0.0))
            s *= ratio
        early = 0
        for n in range(steps - 1, -1, -1):
            s = spot * down ** n
            for j in range(n + 1):
                cont = disc * (p * values[j + 1] + q * values[j])
                if american:
                    ex = (s - strike) if call else (strike - s)
                    if ex > cont:
                        cont = ex
                        early += 1
                values[j] = cont
                s *= ratio
        return (round(values[0], 8), early)
    return price


price = make_pricer(steps=800, rate=0.035, div_yield=0.012)
HOT = "price"


def bench_call(item):
    return price(item)


def items(scale):
    rng = random.Random(8080)
    book = []
    for _ in range(12 * scale):
        spot = round(rng.uniform(20, 400), 2)
        book.append((
            rng.choice(("call", "put")),
            rng.choice(("american", "american", "european")),
            spot,
            round(spot * rng.uniform(0.8, 1.2), 2),
            round(rng.uniform(0.12, 0.65), 4),
            round(rng.uniform(0.1, 2.0), 3),
        ))
    return book


def main(scale):
    xs = items(scale)
    marks = []
    for opt in xs:
        marks.append(price(opt))
    total = sum(m[0] for m in marks)
    early = sum(1 for m in marks if m[1])
    print(f"marked {len(marks)} options; book value {total:.2f}; {early} with early-exercise nodes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
