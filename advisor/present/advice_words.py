"""A configuration in words, said one way everywhere: the report's title, the terminal's
verdict, the comment above the code, the trials table and the tuning cache's listing.

``short`` for tables and lists ("processes 2w chunk 4 (spawn)"), long for sentences
("processes (2 workers, chunksize 4)").
"""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from ..measure.loop_body import LoopBody


def config_parts(workers: int, chunksize: Optional[int] = None, start_method: Optional[str] = None,
                 blas_threads: Optional[int] = None, *, short: bool = False) -> list[str]:
    """What sets this configuration apart from the executor's defaults: worker count, a chunk
    size above one, a start method other than fork, a BLAS thread limit."""
    parts = [f"{workers}w" if short else f"{workers} workers"]
    if chunksize and chunksize > 1:
        parts.append(f"chunk {chunksize}" if short else f"chunksize {chunksize}")
    if start_method and start_method != "fork":
        parts.append(f"({start_method})" if short else f"start method {start_method}")
    if blas_threads:
        threads = f"{blas_threads} thread{'s' if blas_threads > 1 else ''}"
        parts.append(f"BLAS {threads}" if short else f"BLAS on {threads} per worker")
    return parts


def config_label(executor: str, workers: int, chunksize: Optional[int] = None,
                 start_method: Optional[str] = None, blas_threads: Optional[int] = None) -> str:
    """``processes 2w chunk 4``; serial is just ``serial``."""
    if executor == "serial":
        return "serial"
    return " ".join([executor, *config_parts(workers, chunksize, start_method, blas_threads, short=True)])


def advice_phrase(executor: str, workers: int, chunksize: Optional[int] = None,
                  start_method: Optional[str] = None, blas_threads: Optional[int] = None,
                  speedup: Optional[float] = None) -> str:
    """``use processes (2 workers, chunksize 4), 1.83x faster``, or ``stay serial``."""
    if executor == "serial":
        return "stay serial"
    parts = ", ".join(config_parts(workers, chunksize, start_method, blas_threads))
    faster = f", {speedup:.2f}x faster" if speedup is not None else ""
    return f"use {executor} ({parts}){faster}"


def body_sentence(body: LoopBody, script: Path) -> str:
    """Why the unit measured is the loop's body, not the function it spends its time in."""
    function = body.name.rpartition(".")[2]
    made = (f"The unit measured is the body of the loop at {script.name}:{body.loop_line}, made a function "
            f"({function}) of the loop variable")
    if not body.calls:
        return made + ": the loop calls no function of the script's own many times, so its body is the unit."
    return (f"{made}: it calls {body.calls} and drops its result, so the loop's output is what the body "
            f"appends, not what {body.calls} returns.")
