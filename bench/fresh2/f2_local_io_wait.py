"""Look up current prices for catalogue SKUs from a (local) pricing service.

items() starts a small JSON-over-HTTP pricing service on 127.0.0.1 in a
daemon thread (standing in for a remote pricing microservice whose backend
takes 10-40 ms per lookup) and returns one request spec per SKU.  The hot
function opens an HTTP connection, issues GET /price?sku=..., waits for the
answer, decodes the JSON and returns (sku, price, currency, status).  Almost
all of the time is spent waiting on the socket.

Kind: waiting on local I/O (HTTP to 127.0.0.1, server sleeps 10-40 ms), ~42 calls at scale 3.
"""
import hashlib
import http.client
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

HOT = "fetch_price"


class _PriceHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def do_GET(self):
        url = urlparse(self.path)
        sku = parse_qs(url.query).get("sku", [""])[0]
        h = int.from_bytes(hashlib.md5(sku.encode()).digest()[:4], "big")
        time.sleep((10 + h % 31) / 1000.0)  # simulated backend latency
        body = json.dumps({"sku": sku, "price": round(1 + (h % 99900) / 100, 2),
                           "currency": "EUR"}).encode()
        self.send_response(200 if url.path == "/price" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


def _start_server():
    server = _Server(("127.0.0.1", 0), _PriceHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def fetch_price(item):
    host, port, sku = item
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", f"/price?sku={sku}")
        resp = conn.getresponse()
        data = json.loads(resp.read())
    finally:
        conn.close()
    return (data["sku"], data["price"], data["currency"], resp.status)


def items(scale=1):
    port = _start_server()
    rng = random.Random(4242)
    skus = [f"{rng.choice('ABCDEFGH')}{rng.randrange(100000):05d}" for _ in range(14 * scale)]
    return [("127.0.0.1", port, sku) for sku in skus]


def main(scale=1):
    xs = items(scale)
    results = [fetch_price(x) for x in xs]
    ok = [r for r in results if r[3] == 200]
    print(f"{len(ok)}/{len(results)} prices fetched, basket total "
          f"{sum(r[1] for r in ok):.2f} {ok[0][2] if ok else ''}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
