"""Poll a list of simulated remote endpoints with asyncio, awaiting each request in turn.

Each request waits ~20 ms (asyncio.sleep standing in for network latency) and then parses a small payload.
"""
import asyncio
import json
import sys


async def fetch_reading(sensor_id):
    await asyncio.sleep(0.02)
    payload = json.dumps({"sensor": sensor_id, "values": [(sensor_id * k) % 97 for k in range(200)]})
    data = json.loads(payload)
    return sum(data["values"]) / len(data["values"])


async def run_all(sensor_ids):
    readings = []
    for sensor_id in sensor_ids:
        readings.append(await fetch_reading(sensor_id))
    return readings


def main(scale=1):
    # scale: run SCALE times as many items (bench/run.py uses it for longer loops)
    sensor_ids = list(range(1, 30 * scale + 1))
    readings = asyncio.run(run_all(sensor_ids))
    print(f"sensors={len(readings)} mean_reading={sum(readings) / len(readings):.4f} max={max(readings):.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
