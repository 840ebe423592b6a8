"""Weather-station data client: a local HTTP API (started by items()) serves
hourly readings per station and day with 15-50 ms latency; each call fetches
one station/day as JSON and computes daily statistics and degree-days."""
import http.client
import json
import random
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOT = "fetch_station_day"

_server = None
_thread = None


class _StationHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        parts = urlsplit(self.path)
        segs = parts.path.strip("/").split("/")
        if len(segs) != 2 or segs[0] != "stations":
            self.send_error(404)
            return
        station = segs[1]
        day = parse_qs(parts.query).get("day", ["0"])[0]
        seed = zlib.crc32(f"{station}/{day}".encode())
        rng = random.Random(seed)
        time.sleep(0.015 + (seed % 36) / 1000.0)  # 15-50 ms backend latency
        base = rng.uniform(-5, 25)
        readings = []
        for h in range(24):
            temp = base + 6 * ((h - 6) / 12.0 if h < 18 else (24 - h) / 6.0) + rng.gauss(0, 1.2)
            readings.append({
                "hour": h,
                "temp_c": round(temp, 2),
                "rh": round(min(100, max(5, rng.gauss(65, 15))), 1),
                "wind_ms": round(abs(rng.gauss(3, 2)), 2),
            })
        body = json.dumps({"station": station, "day": int(day), "unit": "C",
                           "readings": readings}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


def _start_server():
    global _server, _thread
    if _server is None:
        _server = ThreadingHTTPServer(("127.0.0.1", 0), _StationHandler)
        _server.daemon_threads = True
        _thread = threading.Thread(target=_server.serve_forever, daemon=True)
        _thread.start()
    return _server.server_address


def teardown():
    global _server, _thread
    if _server is not None:
        _server.shutdown()
        _server.server_close()
        _thread.join(timeout=5)
        _server = None
        _thread = None


def fetch_station_day(url):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", parts.path + "?" + parts.query)
        resp = conn.getresponse()
        payload = resp.read()
        status = resp.status
    finally:
        conn.close()
    if status != 200:
        return {"url_path": parts.path, "error": status}
    doc = json.loads(payload)
    temps = [r["temp_c"] for r in doc["readings"]]
    heating = sum(max(0.0, 18.0 - t) for t in temps) / 24.0
    cooling = sum(max(0.0, t - 22.0) for t in temps) / 24.0
    return {
        "station": doc["station"],
        "day": doc["day"],
        "tmin": min(temps),
        "tmax": max(temps),
        "tmean": round(sum(temps) / len(temps), 3),
        "hdd": round(heating, 3),
        "cdd": round(cooling, 3),
        "gust": max(r["wind_ms"] for r in doc["readings"]),
    }


def items(scale):
    host, port = _start_server()
    rng = random.Random(314)
    stations = [f"ST{n:04d}" for n in rng.sample(range(10000), 12)]
    urls = []
    for _ in range(15 * scale):
        st = rng.choice(stations)
        day = rng.randrange(1, 366)
        urls.append(f"http://{host}:{port}/stations/{st}?day={day}")
    return urls


def main(scale):
    xs = items(scale)
    try:
        days = []
        for url in xs:
            days.append(fetch_station_day(url))
    finally:
        teardown()
    hdd = sum(d.get("hdd", 0.0) for d in days)
    hottest = max(days, key=lambda d: d.get("tmax", -99))
    print(f"fetched {len(days)} station-days; total HDD {hdd:.1f}; "
          f"hottest {hottest['station']} day {hottest['day']} {hottest['tmax']:.1f}C")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
