"""``--emit`` / ``--patch`` files: check the paths before any work, write the rewrite atomically.

The rewrite itself (``present/rewrite.py``) is pure text; this is where it touches the
user's disk, and where a path that would overwrite the script is refused.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

from ..errors import UsageError
from ..model import Report
from ..present.rewrite import Rewrite, rewrite_report


def check_paths(script: str, emit_path: Optional[str], patch_path: Optional[str]) -> None:
    """Refuse, before any work, output paths that would overwrite the script or cannot be written."""
    given = [(option, path) for option, path in (("--emit", emit_path), ("--patch", patch_path)) if path]
    for option, path in given:
        if _same_file(path, script):
            raise UsageError(f"{option} {path} is the script itself; paradvise never modifies your script, "
                             "so name another file.")
        folder = Path(path).parent
        if not folder.is_dir():
            raise UsageError(f"Cannot write {option} to {path}: the folder {folder} does not exist.")
    if emit_path and patch_path and _same_file(emit_path, patch_path):
        raise UsageError(f"--emit and --patch both name {emit_path}; give them different files.")


def write_rewrite(report: Report, emit_path: Optional[str], patch_path: Optional[str]) -> Rewrite:
    """Write the rewritten script to ``emit_path`` and/or its diff to ``patch_path``, atomically."""
    done = prepare_rewrite(report, emit_path, patch_path)
    write_prepared(done, emit_path, patch_path)
    return done


def prepare_rewrite(report: Report, emit_path: Optional[str], patch_path: Optional[str]) -> Rewrite:
    """The rewrite ``write_rewrite`` would write; raises ``UsageError`` (before anything is
    written) when the paths are unusable or the target cannot be rewritten."""
    check_paths(report.target.file, emit_path, patch_path)
    return rewrite_report(report, Path(emit_path).name if emit_path else None)


def write_prepared(done: Rewrite, emit_path: Optional[str], patch_path: Optional[str]) -> None:
    from ..present.files import write_atomic

    for option, path, text in (("--emit", emit_path, done.text), ("--patch", patch_path, done.diff)):
        if path:
            try:
                write_atomic(path, text)
            except OSError as exc:
                raise UsageError(f"Cannot write {option} to {path}: {exc.strerror or exc}.") from None


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return Path(a).resolve() == Path(b).resolve()
