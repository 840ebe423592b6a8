"""Runnable code for a recommendation: one template per concurrency model.

The snippet imports the target from the user's script (by module name) and maps it
over ``items``, with the exact pool, workers and chunksize that were measured.
"""
from __future__ import annotations

from pathlib import Path

from ..model import Recommendation

HEADER = '''# paradvise: {summary}, as measured on this machine.
from {module} import {name}

'''

TEMPLATES = {
    "serial": '''def run_all(items):
    return [{call}(x) for x in items]
''',
    "threads": '''from concurrent.futures import ThreadPoolExecutor


def run_all(items):
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return list(pool.map({call}, items))
''',
    "threads_chunked": '''from concurrent.futures import ThreadPoolExecutor

CHUNKSIZE = {chunksize}


def _run_chunk(chunk):
    return [{call}(x) for x in chunk]


def run_all(items):
    items = list(items)
    chunks = [items[i:i + CHUNKSIZE] for i in range(0, len(items), CHUNKSIZE)]
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return [result for part in pool.map(_run_chunk, chunks) for result in part]
''',
    "processes": '''import multiprocessing


def run_all(items):
    # The main guard below matters: worker processes may import this module.
    context = multiprocessing.get_context("{start_method}")
    with context.Pool(processes={workers}) as pool:
        return pool.{map_name}({name}, items, chunksize={chunksize})
''',
    "asyncio": '''import asyncio


async def run_all(items):
    gate = asyncio.Semaphore({workers})  # at most {workers} awaiting at once

    async def one(x):
        async with gate:
            return await {call}(x)

    return await asyncio.gather(*(one(x) for x in items))
''',
}

FOOTER = {
    "asyncio": '''

if __name__ == "__main__":
    items = []  # the same items your loop passes to {name}
    print(asyncio.run(run_all(items)))
''',
    "default": '''

if __name__ == "__main__":
    items = []  # the same items your loop passes to {name}
    print(run_all(items))
''',
}


def _template_key(rec: Recommendation) -> str:
    if rec.executor == "threads" and rec.chunksize and rec.chunksize > 1:
        return "threads_chunked"
    return rec.executor if rec.executor in TEMPLATES else "serial"


def emit(rec: Recommendation, script: str, name: str, call_style: str = "single") -> str:
    """Python source for ``rec``; ``call_style`` "star" means items are argument tuples."""
    key = _template_key(rec)
    star = call_style == "star"
    fields = {
        "module": Path(script).stem, "name": name, "workers": rec.workers,
        "chunksize": rec.chunksize or 1, "start_method": rec.start_method or "fork",
        "call": name, "map_name": "starmap" if star else "map",
        "summary": summary(rec),
    }
    body = TEMPLATES[key].format(**fields)
    if star and key != "processes":
        body = body.replace(f"{name}(x)", f"{name}(*x)").replace(f"pool.map({name}, items)",
                                                                   f"pool.map(lambda x: {name}(*x), items)")
    footer = FOOTER["asyncio" if key == "asyncio" else "default"].format(**fields)
    return HEADER.format(**fields) + body + footer


def summary(rec: Recommendation) -> str:
    if rec.executor == "serial":
        return "stay serial"
    parts = [rec.executor, f"{rec.workers} workers"]
    if rec.chunksize and rec.chunksize > 1:
        parts.append(f"chunksize {rec.chunksize}")
    return ", ".join(parts) + f": {rec.expected_speedup:.2f}x faster than serial"
