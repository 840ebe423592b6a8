"""Look up shipping quotes for a list of parcels from a slow local quoting
service.  The service is a ThreadingHTTPServer on 127.0.0.1 started by this
script in a background thread; each request sleeps ~35 ms to imitate a remote
backend and answers JSON computed from the query string.  Kind: I/O-bound
network calls (urllib.request against a local HTTP service)."""
import json
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOT = "fetch_quote"

SERVICE_DELAY = 0.035
_server = None
_thread = None


class _QuoteHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        parsed = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(parsed.query)
        time.sleep(SERVICE_DELAY)
        grams = int(q["g"][0])
        zone = int(q["zone"][0])
        cents = 250 + grams // 20 * (3 + zone) + 75 * zone
        body = json.dumps({"parcel": q["id"][0], "cents": cents,
                           "days": 1 + zone + grams // 5000}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class _QuoteServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def _start_service():
    global _server, _thread
    if _server is None:
        _server = _QuoteServer(("127.0.0.1", 0), _QuoteHandler)
        _thread = threading.Thread(target=_server.serve_forever,
                                   kwargs={"poll_interval": 0.05}, daemon=True)
        _thread.start()
    return _server.server_address[1]


def teardown():
    global _server, _thread
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _thread.join(timeout=5)
        _server = None
        _thread = None


def fetch_quote(url):
    with urllib.request.urlopen(url, timeout=30) as resp:
        data = json.loads(resp.read().decode())
    return (data["parcel"], data["cents"], data["days"])


def items(scale=1):
    port = _start_service()
    urls = []
    for k in range(17 * scale):
        grams = 120 + (k * 787) % 9000
        zone = k % 4
        urls.append(f"http://127.0.0.1:{port}/quote?id=P{k:04d}&g={grams}&zone={zone}")
    return urls


def main(scale=1):
    try:
        xs = items(scale)
        results = [fetch_quote(x) for x in xs]
        total = sum(c for _, c, _ in results)
        print(f"{len(results)} quotes, total ${total / 100:.2f}, "
              f"slowest {max(d for _, _, d in results)} days")
    finally:
        teardown()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
