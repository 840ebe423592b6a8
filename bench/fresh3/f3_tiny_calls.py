"""Payment-card batch validator: Luhn checksum and issuer classification for
a large batch of card numbers. Each call is a few microseconds."""
import random
import sys

HOT = "check_card"

_ISSUERS = (
    ("34", "amex"), ("37", "amex"), ("4", "visa"), ("51", "mastercard"),
    ("52", "mastercard"), ("53", "mastercard"), ("54", "mastercard"),
    ("55", "mastercard"), ("6011", "discover"), ("65", "discover"),
)


def check_card(number):
    digits = number.replace(" ", "")
    total = 0
    odd = len(digits) & 1
    for i, ch in enumerate(digits):
        d = ord(ch) - 48
        if (i & 1) == odd:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    issuer = "other"
    for prefix, name in _ISSUERS:
        if digits.startswith(prefix):
            issuer = name
            break
    return (total % 10 == 0, issuer)


def _luhn_complete(rng, prefix, length):
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    for last in "0123456789":
        if check_card(body + last)[0]:
            return body + last
    return body + "0"


def items(scale):
    rng = random.Random(4242)
    prefixes = ["4", "51", "55", "37", "6011", "65", "36", "9"]
    pool = []
    for i in range(2000):
        p = prefixes[i % len(prefixes)]
        num = _luhn_complete(rng, p, 15 if p == "37" else 16)
        if rng.random() < 0.15:  # typo
            k = rng.randrange(len(num))
            num = num[:k] + str((int(num[k]) + 1) % 10) + num[k + 1:]
        if rng.random() < 0.3:
            num = " ".join(num[j:j + 4] for j in range(0, len(num), 4))
        pool.append(num)
    return [pool[rng.randrange(len(pool))] for _ in range(120_000 * scale)]


def main(scale):
    xs = items(scale)
    results = [check_card(x) for x in xs]
    valid = sum(1 for ok, _ in results if ok)
    visa = sum(1 for _, iss in results if iss == "visa")
    print(f"checked {len(results)} cards: {valid} valid, {visa} visa")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
