"""The tuning cache: which configuration ``@advise`` picked, per function, machine and input size.

One SQLite file in the user's cache folder (``PARADVISE_CACHE_DIR`` overrides it). Each
entry is keyed by three fingerprints, so any of these misses the cache and tunes again:

- the function: its qualified name plus a hash of its byte code, constants, names and
  source (decorators and comments left out), so editing the body re-tunes;
- the machine: ``machine.machine_fingerprint`` (CPU model, usable CPUs, caches, Python);
- the input-size class: ``len(items)`` rounded down to a power of two.

Values are JSON (never pickle: the file may be shared and must not run code when read).
Several processes may tune at once: the file is in WAL mode, every write is one
``BEGIN IMMEDIATE`` transaction with ``INSERT OR REPLACE``, and a busy timeout makes
writers wait for each other instead of failing.
"""
from __future__ import annotations

import ast
import contextlib
import hashlib
import inspect
import json
import os
import sqlite3
import textwrap
import time
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

CACHE_DIR_ENV = "PARADVISE_CACHE_DIR"
DB_NAME = "tuning.sqlite3"
# Bump when the meaning of a stored value changes; older rows are then ignored.
CACHE_SCHEMA = 1
# Writers wait this long for each other (SQLite's busy handler) before giving up.
BUSY_TIMEOUT_S = 30.0
# Creating the file and switching it to WAL can race between first writers; retry a few times.
SETUP_ATTEMPTS = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    key TEXT PRIMARY KEY,
    function_fp TEXT NOT NULL,
    machine_fp TEXT NOT NULL,
    size_class TEXT NOT NULL,
    function TEXT NOT NULL,
    schema INTEGER NOT NULL,
    created REAL NOT NULL,
    value TEXT NOT NULL
)
"""


def cache_dir() -> Path:
    """``$PARADVISE_CACHE_DIR``, else platformdirs' user cache folder, else ~/.cache/paradvise."""
    override = os.environ.get(CACHE_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("paradvise"))
    except ImportError:
        return Path.home() / ".cache" / "paradvise"


def db_path() -> Path:
    return cache_dir() / DB_NAME


# -- fingerprints ----------------------------------------------------------------------
def size_class(n: int) -> str:
    """The power-of-two bucket of ``n`` items: "0", "1", "2-3", "4-7", ..., "64-127"."""
    if n <= 1:
        return str(max(n, 0))
    low = 1 << (n.bit_length() - 1)
    return f"{low}-{2 * low - 1}"


def _code_parts(code: types.CodeType) -> Iterator[bytes]:
    """co_code, co_names and co_consts, recursing into nested code (lambdas, comprehensions).

    A code object's repr holds its address, and a frozenset's order depends on the string
    hash seed, so both are spelled out in a stable way instead of with ``repr``.
    """
    yield code.co_code
    yield repr(code.co_names).encode()
    for const in code.co_consts:
        yield from _const_parts(const)


def _const_parts(const: Any) -> Iterator[bytes]:
    if isinstance(const, types.CodeType):
        yield b"<code>"
        yield from _code_parts(const)
    elif isinstance(const, frozenset):
        yield b"frozenset" + repr(sorted(repr(c) for c in const)).encode()
    elif isinstance(const, tuple):
        yield b"("
        for item in const:
            yield from _const_parts(item)
        yield b")"
    else:
        yield repr(const).encode()


def function_source(fn: Callable[..., Any]) -> Optional[str]:
    """The ``def`` without its decorators and comments (so changing ``budget=`` does not re-tune)."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        node = ast.parse(source).body[0]
    except (SyntaxError, IndexError):
        return source
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        node.decorator_list = []
        return ast.unparse(node)
    return source


def function_fingerprint(fn: Callable[..., Any]) -> str:
    digest = hashlib.sha256()
    digest.update(f"{fn.__module__}.{fn.__qualname__}".encode())
    code = getattr(fn, "__code__", None)
    if code is not None:
        for part in _code_parts(code):
            digest.update(part)
    source = function_source(fn)
    if source is not None:
        digest.update(source.encode())
    return digest.hexdigest()


def entry_key(function_fp: str, machine_fp: str, size: str) -> str:
    """The short key ``paradvise cache show`` takes: function, machine and size class."""
    return f"{function_fp[:12]}-{machine_fp}-{size}"


# -- the store ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    key: str
    function: str
    function_fp: str
    machine_fp: str
    size_class: str
    created: float
    value: dict[str, Any]


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    # isolation_level=None: no implicit transactions; every write says BEGIN IMMEDIATE itself.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    for attempt in range(SETUP_ATTEMPTS):
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(_SCHEMA)
            return conn
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                conn.close()
                raise
            time.sleep(0.05 * (attempt + 1))
    conn.close()
    raise sqlite3.OperationalError(f"{path} stayed locked while being set up")


class TuningCache:
    """A handle on the cache file; each method opens, works and closes (safe across forks)."""

    def __init__(self, path: Optional[Path] = None) -> None:
        self.path = Path(path) if path is not None else db_path()

    def _conn(self) -> sqlite3.Connection:
        return _connect(self.path)

    def get(self, key: str) -> Optional[Entry]:
        if not self.path.exists():
            return None
        conn = self._conn()
        try:
            row = conn.execute("SELECT * FROM plans WHERE key = ? AND schema = ?", (key, CACHE_SCHEMA)).fetchone()
        finally:
            conn.close()
        return _entry(row) if row else None

    def put(self, key: str, function: str, function_fp: str, machine_fp: str, size: str,
            value: dict[str, Any]) -> None:
        text = json.dumps(value)
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("INSERT OR REPLACE INTO plans VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (key, function_fp, machine_fp, size, function, CACHE_SCHEMA, time.time(), text))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()

    def entries(self) -> list[Entry]:
        if not self.path.exists():
            return []
        conn = self._conn()
        try:
            rows = conn.execute("SELECT * FROM plans ORDER BY function, size_class, created").fetchall()
        finally:
            conn.close()
        return [e for e in (_entry(r) for r in rows) if e is not None]

    def find(self, prefix: str) -> list[Entry]:
        """Entries whose key starts with ``prefix`` (a whole key, or enough of it to be unique)."""
        return [e for e in self.entries() if e.key.startswith(prefix)]

    def clear(self) -> int:
        if not self.path.exists():
            return 0
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            count = conn.execute("DELETE FROM plans").rowcount
            conn.execute("COMMIT")
        finally:
            conn.close()
        return int(count)

    def integrity(self) -> str:
        conn = self._conn()
        try:
            return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            conn.close()


def _entry(row: tuple[Any, ...]) -> Optional[Entry]:
    key, function_fp, machine_fp, size, function, _schema, created, text = row
    try:
        value = json.loads(text)
    except ValueError:  # a damaged row is a miss, not a crash
        return None
    return Entry(key, function, function_fp, machine_fp, size, created, value)


@contextlib.contextmanager
def tuning_lock(key: str) -> Iterator[bool]:
    """Hold the lock for tuning ``key`` across processes; yields whether another held it first.

    Three processes tuning one function at once each measured on a machine the others
    kept busy, and the last to finish left its plan in the cache; with the lock one tunes
    and the others wait and take its plan. Where there is no ``fcntl`` (Windows) or the
    folder cannot be written, there is no lock and each tunes, as before.
    """
    try:
        import fcntl

        folder = cache_dir() / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{key}.lock", "a+b")
    except (ImportError, OSError):
        yield False
        return
    waited = False
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            waited = True
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield waited
    finally:
        handle.close()  # closing releases the lock
