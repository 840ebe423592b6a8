"""How much of the target's CPU time is Python bytecode, native code, and the kernel.

Measured in the run that records the target, by scalene's method in the few lines this
needs: a timer signal every ``INTERVAL_S`` of the process's CPU time (``ITIMER_PROF``)
whose Python handler the interpreter runs only between bytecodes. While Python code
runs the handler runs at once; a call into native code (numpy, hashlib, zlib) holds it
back until the call returns, and it then runs at that call's instruction: such a sample
is native code's. As in scalene, a signal that came while Python code ran but was
handled as a builtin returned counts as native too, so Python code that calls many small
builtins shows a larger native share than it has (a dict-counting loop beside zlib:
85% native; about half is). Running the whole script under scalene for this one split cost 0.6-0.8 s
of its start-up and shut-down on this 2-core machine (a one-line script: 0.58 s under
scalene, 0.01 s without), a third to all of a 0.5-3 s loop; ``paradvise profile
--scalene`` still runs the locate pass under it.

Only the main thread takes the signal; only CPU time spent while the main thread is
inside a recorded call (``inside``) is counted.
"""
from __future__ import annotations

import bisect
import dis
import functools
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable

# Scalene's default sampling interval: a hundred samples a second of CPU time.
INTERVAL_S = 0.01
# A handler held back past this many intervals ran after a native call (pure Python code
# runs it within the kernel's timer tick of the interval).
HELD_BACK = 2.0
# Calls that used less CPU time than this in all (five intervals) are too little to split.
MIN_CPU_S = 5 * INTERVAL_S


# CALL, CALL_FUNCTION_EX, and 3.11's PRECALL (whose specialised forms call builtins themselves).
CALL_OPCODES = frozenset(code for name, code in dis.opmap.items() if name.startswith(("CALL", "PRECALL")))
# paradvise's own recording code, which runs inside the recorded calls' span (the
# arguments' snapshot): its samples are not the target's.
OWN_FILES = str(Path(__file__).resolve().parent.parent)


def at_call(frame: Any) -> bool:
    """Whether ``frame`` stands at a call instruction (the handler runs as the call returns)."""
    if frame is None:
        return False
    offsets, opcodes = _instructions(frame.f_code)
    # f_lasti may point into the instruction's inline caches (3.11+): take the instruction
    # that begins at or before it.
    at = bisect.bisect_right(offsets, frame.f_lasti) - 1
    return at >= 0 and opcodes[at] in CALL_OPCODES


@functools.lru_cache(maxsize=1024)
def _instructions(code: Any) -> tuple[list[int], list[int]]:
    found = list(dis.get_instructions(code))
    return [i.offset for i in found], [i.opcode for i in found]


class CpuSplit:
    def __init__(self, inside: Callable[[], bool]) -> None:
        self.inside = inside
        self.python_s = self.native_s = self.system_s = 0.0
        self.samples = 0
        self.running = False
        self._previous: Any = None
        self._last_cpu = self._last_system = 0.0

    def start(self) -> bool:
        """Start sampling; False where it cannot (not the main thread, no SIGPROF, or the
        script uses the profiling timer itself)."""
        if self.running or not hasattr(signal, "setitimer"):
            return False
        if threading.current_thread() is not threading.main_thread():
            return False
        if signal.getsignal(signal.SIGPROF) not in (signal.SIG_DFL, None) or signal.getitimer(signal.ITIMER_PROF)[0]:
            return False
        self._previous = signal.signal(signal.SIGPROF, self._sample)
        self._last_cpu, self._last_system = time.process_time(), os.times().system
        signal.setitimer(signal.ITIMER_PROF, INTERVAL_S, INTERVAL_S)
        self.running = True
        return True

    def stop(self) -> None:
        if not self.running:
            return
        self.running = False
        if signal.getsignal(signal.SIGPROF) != self._sample:
            return  # the script set a handler of its own since: it is its to keep
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, self._previous if self._previous is not None else signal.SIG_DFL)

    def _sample(self, signum: int, frame: Any) -> None:
        cpu, system = time.process_time(), os.times().system
        elapsed, in_kernel = cpu - self._last_cpu, system - self._last_system
        self._last_cpu, self._last_system = cpu, system
        if not self.inside() or frame is None or frame.f_code.co_filename.startswith(OWN_FILES):
            return
        if at_call(frame):
            # As scalene does: the handler ran as a call returned, so the signal came while
            # that call ran, in native code (Python code it called would have run the
            # handler itself, at its own next instruction).
            python = 0.0
        elif elapsed > HELD_BACK * INTERVAL_S:
            # Held back elsewhere: the native call began somewhere in the last interval
            # that Python ran, half-way on average.
            python = INTERVAL_S / 2
        else:
            # On time, give or take the kernel's timer tick (4 ms at 250 Hz stretched a
            # 10 ms interval to 12 ms): Python code ran all of it.
            python = elapsed
        self.python_s += python
        self.native_s += elapsed - python
        self.system_s += min(in_kernel, elapsed)
        self.samples += 1

    def percents(self) -> dict[str, float]:
        """Shares of the calls' CPU time, in percent, as scalene's rows give them; {} when
        the calls used too little CPU to tell."""
        total = self.python_s + self.native_s
        if total < MIN_CPU_S:
            return {}
        return {"python_percent": 100.0 * self.python_s / total, "native_percent": 100.0 * self.native_s / total,
                "system_percent": 100.0 * self.system_s / total, "samples": float(self.samples)}
