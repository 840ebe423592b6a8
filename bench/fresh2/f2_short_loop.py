"""Price a handful of mortgage products with full amortization schedules.

Each item is one loan product on offer (product code, principal, annual
rate, term in months, fixed-rate period, expected prepayment rate).  The hot
function builds the month-by-month amortization schedule in pure Python
(rate reset after the fixed period, partial prepayments), then computes the
total interest paid, the payoff month and the APR-like effective rate by
bisection on the schedule's cash flows -- for the base case and a ladder of
16 prepayment speeds.  A branch only offers a dozen products, so the loop is
short.

Kind: very short loop (12 calls at scale 3, ~0.1 s in total).
"""
import random
import sys

HOT = "price_product"


def _npv(rate, flows):
    acc = 0.0
    f = 1.0
    m = 1.0 + rate / 12.0
    for cf in flows:
        f /= m
        acc += cf * f
    return acc


def _schedule(principal, rate, months, fixed, prepay):
    balance = principal
    r = rate / 12.0
    payment = principal * r / (1 - (1 + r) ** -months)
    interest_total = 0.0
    flows = []
    payoff = months
    for m in range(1, months + 1):
        if m == fixed + 1:                        # rate reset
            r = (rate + 0.015) / 12.0
            left = months - fixed
            payment = balance * r / (1 - (1 + r) ** -left)
        interest = balance * r
        principal_part = min(payment - interest, balance)
        extra = min(balance - principal_part, balance * prepay / 12.0)
        balance -= principal_part + extra
        interest_total += interest
        flows.append(interest + principal_part + extra)
        if balance <= 0.005:
            payoff = m
            break
    lo, hi = 0.0, 0.5                             # effective rate by bisection
    for _ in range(50):
        mid = (lo + hi) / 2
        if _npv(mid, flows) > principal:
            lo = mid
        else:
            hi = mid
    return interest_total, payoff, (lo + hi) / 2


def price_product(item):
    code, principal, rate, months, fixed, prepay = item
    # base case plus a prepayment-speed sensitivity ladder (0x .. 3.75x)
    runs = [_schedule(principal, rate, months, fixed, prepay * k / 4.0) for k in range(16)]
    base = runs[4]
    effs = [r[2] for r in runs]
    return (code, round(base[0], 2), base[1], round(base[2], 8),
            round(max(effs) - min(effs), 8))


def items(scale=1):
    rng = random.Random(360)
    return [(f"MTG-{i:02d}", rng.randrange(150, 800) * 1000.0, rng.uniform(0.025, 0.06),
             rng.choice([240, 300, 360]), rng.choice([60, 120, 180]), rng.uniform(0.0, 0.04))
            for i in range(4 * scale)]


def main(scale=1):
    xs = items(scale)
    results = [price_product(x) for x in xs]
    cheapest = min(results, key=lambda r: r[3])
    print(f"{len(results)} products priced; cheapest {cheapest[0]} eff. rate "
          f"{cheapest[3] * 100:.3f}% total interest {cheapest[1]:.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
