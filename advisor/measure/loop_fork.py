"""A fork of the host taken at the target's first call, to measure from later.

The sweep runs when the loop has finished (at its last call), but by then the process
is no longer the one the user's parallel version would run in: the loop has warmed the
allocator (glibc raises its mmap threshold after the first big free, so numpy temporaries
stop costing page faults), filled caches and grown the heap. Thread pools on
numpy_arrays measured 0.047 s forked from a warmed process against 0.121 s in a process
like the user's, where the map replaces the loop and runs first.

So at the first call, before it runs, the host forks this zygote. It waits on a pipe
while the script's loop runs in the parent. At the last call the parent sends it what
was recorded (arguments, results, timings: one pickle, so items that share objects
still share them) and the zygote runs the whole measurement from the state the loop
started in, forking each trial from there. The parent waits, keeping whatever the
script started (a server thread, say) alive for the trials to use.
"""
from __future__ import annotations

import ctypes
import io
import itertools
import json
import mmap
import os
import pickle
import signal
import struct
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from ..sweep.isolate import kill_tree

# How often the parent checks whether the zygote has finished.
POLL_SECONDS = 0.01
PR_SET_PDEATHSIG = 1


# The zygote matters for calls that allocate large buffers, which are few and slow; sending
# it the recording of hundreds of thousands of tiny calls would cost seconds (~5 us each).
ZYGOTE_MAX_CALLS = 20_000


class Zygote:
    """The parent's handle on a zygote process."""

    def __init__(self, pid: int, request_fd: int, result_path: str) -> None:
        self.pid, self.request_fd, self.result_path = pid, request_fd, result_path

    @classmethod
    def fork_here(cls, serve: Callable[[bytes], dict[str, Any]]) -> Optional["Zygote"]:
        """Fork now. The child waits for a request, calls ``serve`` on it and exits.

        Returns None where fork is not available.
        """
        if not hasattr(os, "fork"):
            return None
        fd, result_path = tempfile.mkstemp(prefix="paradvise-zygote-", suffix=".json")
        os.close(fd)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child; its result comes back through the file
            os.close(write_end)
            _serve_forever(read_end, result_path, serve)
        os.close(read_end)
        return cls(pid, write_end, result_path)

    def run(self, request: bytes, timeout: float) -> dict[str, Any]:
        """Send ``request``, wait for the zygote's answer (at most ``timeout`` seconds)."""
        try:
            _write_all(self.request_fd, struct.pack("<Q", len(request)) + request)
        except OSError as exc:
            self.discard()
            return {"host_error": f"could not reach the measuring process: {exc}"}
        os.close(self.request_fd)
        self.request_fd = -1
        deadline = time.monotonic() + timeout
        status = 0
        while True:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                self.discard()
                return {"host_error": f"the measuring process did not finish within {timeout:.0f} s"}
            time.sleep(POLL_SECONDS)
        try:
            with open(self.result_path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {"host_error": f"the measuring process died ({_describe(status)})"}
        finally:
            _unlink(self.result_path)

    def discard(self) -> None:
        """Stop the zygote (unused, or given up on) and everything it started."""
        if self.request_fd >= 0:
            os.close(self.request_fd)
            self.request_fd = -1
        kill_tree(self.pid)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass
        _unlink(self.result_path)


def _serve_forever(read_end: int, result_path: str, serve: Callable[[bytes], dict[str, Any]]) -> None:
    """In the zygote: wait for one request, answer it, exit without running the script's exit code."""
    _die_with_parent()
    code = 0
    try:
        request = _read_all(read_end)
        if request:  # an empty read: the parent discarded us
            answer = serve(request)
            with open(result_path, "w", encoding="utf-8") as handle:
                json.dump(answer, handle)
    except BaseException:  # noqa: BLE001 - the parent reports a zygote that gives no answer
        code = 1
    os._exit(code)


def _die_with_parent() -> None:
    """Linux: have the kernel kill the zygote if the host dies first (say, killed on a timeout)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _read_all(fd: int) -> Any:
    """The request, read into anonymous mmap'd memory rather than a malloc'd bytes object:
    freeing a large malloc'd block is exactly what warms glibc's allocator."""
    header = _read_exactly(fd, 8)
    if len(header) < 8:
        return b""
    (size,) = struct.unpack("<Q", header)
    buffer = mmap.mmap(-1, max(size, 1))
    view = memoryview(buffer)
    done = 0
    while done < size:
        got = os.readv(fd, [view[done:size]])
        if not got:
            raise EOFError("the request was cut short")
        done += got
    return view[:size]


def _read_exactly(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


# -- arrays sent by reference -------------------------------------------------------
@dataclass(frozen=True)
class ArrayRef:
    """A numpy array the zygote already holds: it existed when the loop started.

    Unpickling an array copies it out of a temporary bytes object, and freeing that
    temporary warms the allocator (see the module docstring); and a copy is not the
    user's array anyway. ``fingerprint`` tells the zygote's object at that address is
    this same array: same data pointer, shape, strides and dtype.
    """

    address: int
    fingerprint: tuple[Any, ...]


def is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "__array_interface__")


def array_fingerprint(array: Any) -> tuple[Any, ...]:
    face = array.__array_interface__
    return (face["data"][0], face["shape"], face.get("strides"), face["typestr"])


def as_reference(value: Any) -> Any:
    return ArrayRef(id(value), array_fingerprint(value)) if is_array(value) else value


# Looking for arrays: containers are searched this deep, and at most this many objects.
SEARCH_DEPTH = 3
SEARCH_LIMIT = 2_000_000


def arrays_in_reach(frame: Any, module_globals: dict[str, Any]) -> dict[int, Any]:
    """Arrays reachable from the stack's local variables and the script's globals, by id."""
    return _in_reach(frame, module_globals, is_array)


# A str or bytes this large that existed when the loop started goes to the zygote by
# reference: the zygote holds it already, as it was (they cannot change). Pickling, piping
# and unpickling 36 arguments of 4 MB took 0.6 s of a 6 s run.
BUFFER_BY_REFERENCE = 64 * 1024


def is_large_buffer(value: Any) -> bool:
    return type(value) in (bytes, str) and len(value) >= BUFFER_BY_REFERENCE


# How many elements of a container argument ``holds_large_buffer`` looks at.
FIRST_ELEMENTS = 64


def holds_large_buffer(arguments: list[Any]) -> bool:
    """Whether one of a call's arguments is, or directly holds, a large str or bytes.

    The search for buffers alive at the fork (``buffers_in_reach``) walks everything the
    script can reach, 0.29 s over a list of 300,000 small strings; it is worth it only
    where the loop passes large buffers, which its first call shows.
    """
    for value in arguments:
        inner = value.values() if type(value) is dict else value if type(value) in (list, tuple) else ()
        if is_large_buffer(value) or any(is_large_buffer(v) for v in itertools.islice(inner, FIRST_ELEMENTS)):
            return True
    return False


def buffers_in_reach(frame: Any, module_globals: dict[str, Any]) -> dict[int, Any]:
    """Large str and bytes reachable from the stack's local variables and the script's globals, by id."""
    return _in_reach(frame, module_globals, is_large_buffer)


def dumps_referring(value: Any, at_start: dict[int, Any]) -> bytes:
    """``value`` pickled, with the large buffers among ``at_start`` (the ones that existed
    when the zygote was forked, kept alive since, so their ids are theirs) sent as references."""
    if not at_start:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    class Referring(pickle.Pickler):
        def persistent_id(self, obj: Any) -> Any:
            if type(obj) in (bytes, str) and at_start.get(id(obj)) is obj:
                return ("buffer", id(obj), len(obj))
            return None

    out = io.BytesIO()
    Referring(out, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return out.getvalue()


def loads_referring(data: bytes, find: Callable[[], dict[int, Any]]) -> Any:
    """The inverse of ``dumps_referring`` in the zygote: ``find`` gives its own large buffers by
    id (looked for once, at the first reference). Raises LookupError for one it lacks."""
    found: list[dict[int, Any]] = []

    class Resolving(pickle.Unpickler):
        def persistent_load(self, pid: Any) -> Any:
            if not found:
                found.append(find())
            _, address, length = pid
            value = found[0].get(address)
            if value is None or len(value) != length:
                raise LookupError("a str or bytes argument did not exist when the loop started")
            return value

    return Resolving(io.BytesIO(data)).load()


def _in_reach(frame: Any, module_globals: dict[str, Any], wanted: Callable[[Any], bool]) -> dict[int, Any]:
    found: dict[int, Any] = {}
    seen = 0
    roots: list[Iterable[Any]] = [module_globals.values()]
    while frame is not None:
        roots.append(list(frame.f_locals.values()))
        frame = frame.f_back
    stack = [(value, 0) for root in roots for value in root]
    while stack and seen < SEARCH_LIMIT:
        value, depth = stack.pop()
        seen += 1
        if wanted(value):
            found[id(value)] = value
        elif depth < SEARCH_DEPTH and type(value) in (list, tuple, set, frozenset):
            stack.extend((v, depth + 1) for v in value)
        elif depth < SEARCH_DEPTH and type(value) is dict:
            stack.extend((v, depth + 1) for v in value.values())
    return found


def resolve(value: Any, arrays: dict[int, Any]) -> Any:
    """The zygote's own array for a reference; raise LookupError when it has none."""
    if not isinstance(value, ArrayRef):
        return value
    array = arrays.get(value.address)
    if array is None or array_fingerprint(array) != value.fingerprint:
        raise LookupError("an argument array did not exist when the loop started")
    return array


def here() -> Any:
    return sys._getframe(1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
