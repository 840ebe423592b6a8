"""An async program that calls a blocking function from its event loop, one call at a time."""
import asyncio
import time


def read_sensor(sensor_id):
    time.sleep(0.02)  # a blocking driver call
    return sensor_id * 3 % 7


async def main():
    readings = []
    for sensor_id in range(30):
        readings.append(read_sensor(sensor_id))
    print(sum(readings))


if __name__ == "__main__":
    asyncio.run(main())
