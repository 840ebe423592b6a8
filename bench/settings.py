"""The bench's settings: where things are, the grid's sizes, the time limits and rounds."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# joblib is optional: its default is measured only where it is installed. It is imported
# only where used, as importing it (and numpy with it) takes ~0.2 s.
HAVE_JOBLIB = importlib.util.find_spec("joblib") is not None

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SAMPLES = ROOT / "samples"
WORKLOADS = BENCH / "workloads"
REAL = BENCH / "real"  # real public code, each file citing its source (see bench/real/README.md)
FRESH = BENCH / "fresh"  # held-out scripts, written without reading paradvise (see bench/fresh/README.md)
FRESH2 = BENCH / "fresh2"  # a second such suite, written later, benched before anyone here read it
FRESH3 = BENCH / "fresh3"  # a third, written by a helper while this tree changed, benched unread
RESULTS = BENCH / "results"

# The grid (CONTRACT: processes use fork; threads and asyncio are capped at the item count).
THREAD_WORKERS = (2, 4, 8, 16, 32, 64)
PROCESS_WORKERS = (2, 4, 8, 16)
FIXED_CHUNKS = (1, 2, 4, 8, 16)
ASYNC_WORKERS = (2, 4, 8, 16, 32, 64)
QUICK_THREAD_WORKERS = (2, 8, 64)
QUICK_ASYNC_WORKERS = (4, 16, 64)

# Work whose CPU time is under this share of its wall time is "waiting" (I/O, sleeps):
# for it, process pools larger than 2 x CPUs are worth measuring too.
WAITING_CPU_SHARE = 0.5
# One timing may take at most this many times the serial loop (at least MIN_TIMEOUT_S):
# a configuration that slow cannot be the best, and some (600k single-item tasks to a
# process pool) would otherwise run for minutes.
TIMEOUT_FACTOR = 10
MIN_TIMEOUT_S = 5.0
SERIAL_TIMEOUT_S = 300.0
# A configuration whose first run takes this many times the best median so far is not
# repeated: it cannot win, and its ratio is already clear to one significant digit.
HOPELESS_FACTOR = 3.0
PARADVISE_TIMEOUT_S = 900
# The confirmation rounds (see confirm): the grid's configurations within this factor of
# its fastest median, at most this many, go into them with serial and the recommendation.
CONFIRM_MARGIN = 1.5
CONFIRM_MAX = 4
CONFIRM_ROUNDS = 5
# Every workload takes a first argument: run with that many times its items. The samples'
# own size (1) gives 0.2-0.9 s loops, short enough for the test suite; advice on loops
# that short is dominated by fixed costs (two interpreter starts, scalene's start-up,
# the probes: about 2 s together), so the bench measures loops nearer what people ask
# about, and says which scale it used.
DEFAULT_SCALE = 3


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
