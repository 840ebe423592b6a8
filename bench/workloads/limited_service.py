"""Look up 40 product prices from a local pricing service that serves 4 requests at a time.

The script starts the service itself on 127.0.0.1. The service handles each request in
about 20 ms but a semaphore lets only 4 requests be served at once (like a backend with a
small connection pool): beyond 4 concurrent clients, requests just queue up.
"""
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOT = "fetch_price"
N_PRODUCTS = 40
CAPACITY = 4
SERVICE_SECONDS = 0.02

_capacity = threading.BoundedSemaphore(CAPACITY)
_server = None


class PricingHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        product = int(self.path.rsplit("/", 1)[-1])
        with _capacity:
            time.sleep(SERVICE_SECONDS)
            body = json.dumps({"product": product, "cents": (product * 389) % 10_000}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class PricingServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients may connect at once; the semaphore queues them


def start_service():
    """Start the service once; return its base URL."""
    global _server
    if _server is None:
        _server = PricingServer(("127.0.0.1", 0), PricingHandler)
        threading.Thread(target=_server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{_server.server_address[1]}"


def teardown():
    global _server
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _server = None


def fetch_price(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        return json.loads(resp.read())["cents"]


def items(scale=1):
    # scale: SCALE times as many items, for a longer loop (bench/run.py --scale)
    base = start_service()
    return [f"{base}/products/{i}" for i in range(N_PRODUCTS * scale)]


def main(scale=1):
    try:
        urls = items(scale)
        prices = [fetch_price(u) for u in urls]
    finally:
        teardown()
    print(f"products={len(prices)} total_cents={sum(prices)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
