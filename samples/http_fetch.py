"""Fetch a list of JSON records one by one from a slow local HTTP API.

The script starts its own server on 127.0.0.1 whose handler takes ~20 ms per request, like a remote service.
"""
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

RESPONSE_DELAY = 0.02


class APIServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a real service's listen backlog, not socketserver's default of 5


class SlowJSONHandler(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(RESPONSE_DELAY)
        item_id = int(self.path.rsplit("/", 1)[-1])
        body = json.dumps({"id": item_id, "price": (item_id * 37) % 101, "stock": item_id % 7}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


def fetch_item(url):
    with urllib.request.urlopen(url, timeout=10) as resp:
        record = json.loads(resp.read())
    return record["price"] * record["stock"]


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    server = APIServer(("127.0.0.1", 0), SlowJSONHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        urls = [f"http://127.0.0.1:{port}/items/{i}" for i in range(30 * scale)]
        values = []
        for url in urls:
            values.append(fetch_item(url))
    finally:
        server.shutdown()
        server.server_close()
    print(f"fetched={len(values)} inventory_value={sum(values)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
