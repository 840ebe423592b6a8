"""Validate and classify raw access-log records from an edge proxy.

Each item is one pipe-delimited log line as it arrives from the proxy
("epoch|client_ip|method|path|status|bytes|latency_ms").  The hot function
splits the line, validates every field (known HTTP method, dotted-quad IP,
numeric status / size / latency, absolute path) and returns a compact tuple
(ok flag, status class, route prefix, bytes, slow flag) or a rejection
reason.  The summary counts rejects, 5xx responses, slow requests and bytes.

Kind: very many tiny calls (~300k records of a few microseconds each at scale 3).
"""
import random
import sys

HOT = "parse_record"

METHODS = frozenset(("GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"))


def parse_record(item):
    parts = item.split("|")
    if len(parts) != 7:
        return (False, "fields")
    ts, ip, method, path, status, size, latency = parts
    if method not in METHODS:
        return (False, "method")
    octets = ip.split(".")
    if len(octets) != 4 or not all(o.isdigit() and int(o) < 256 for o in octets):
        return (False, "ip")
    if not (status.isdigit() and size.isdigit() and ts.isdigit()):
        return (False, "number")
    code = int(status)
    if not 100 <= code <= 599:
        return (False, "status")
    if not path.startswith("/"):
        return (False, "path")
    try:
        ms = float(latency)
    except ValueError:
        return (False, "latency")
    route = path.split("/", 2)[1] if len(path) > 1 else ""
    return (True, code // 100, route, int(size), ms > 250.0)


def items(scale=1):
    rng = random.Random(7)
    routes = ["api", "static", "img", "auth", "search", "cart", "health"]
    pool = []
    for _ in range(5000):
        line = "|".join((
            str(1718000000 + rng.randrange(86400)),
            ".".join(str(rng.randrange(1, 255)) for _ in range(4)),
            rng.choice(["GET"] * 8 + ["POST"] * 3 + ["PUT", "DELETE", "HEAD"]),
            f"/{rng.choice(routes)}/{rng.randrange(10000)}",
            str(rng.choice([200] * 20 + [201, 204, 301, 304, 404, 404, 500, 503])),
            str(rng.randrange(50, 200000)),
            f"{rng.lognormvariate(3.5, 1.2):.1f}",
        ))
        r = rng.random()
        if r < 0.01:
            line = line.replace("GET", "GTE")
        elif r < 0.02:
            line = line.rsplit("|", 1)[0]
        elif r < 0.025:
            line = line.replace(".", ",", 1)
        pool.append(line)
    return rng.choices(pool, k=100000 * scale)


def main(scale=1):
    xs = items(scale)
    results = [parse_record(x) for x in xs]
    ok = [r for r in results if r[0]]
    print(f"{len(results)} records: {len(results) - len(ok)} rejected, "
          f"{sum(1 for r in ok if r[1] == 5)} 5xx, {sum(1 for r in ok if r[4])} slow, "
          f"{sum(r[3] for r in ok)} bytes")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
