"""Report formats by name and by file extension: the one place a format is chosen.

Each renderer is ``render(report) -> str``. Renderer modules are imported only when
used, so asking for JSON never imports matplotlib.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Callable

from ..errors import UsageError
from ..model import Report

Renderer = Callable[[Report], str]


def _lazy(module: str) -> Renderer:
    def render(report: Report) -> str:
        return importlib.import_module(f"{__package__}.{module}").render(report)  # type: ignore[no-any-return]

    render.__name__ = f"render_{module.rstrip('_')}"
    return render


RENDERERS: dict[str, Renderer] = {"json": _lazy("json_"), "markdown": _lazy("markdown"), "html": _lazy("html")}

EXTENSIONS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


def render(report: Report, fmt: str) -> str:
    try:
        renderer = RENDERERS[fmt]
    except KeyError:
        raise UsageError(f"Unknown report format {fmt!r}; known formats: {', '.join(RENDERERS)}.") from None
    return renderer(report)


def format_for_path(path: str) -> str:
    """The format a file name asks for, by its extension (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    try:
        return EXTENSIONS[suffix]
    except KeyError:
        known = ", ".join(EXTENSIONS)
        raise UsageError(f"Cannot tell the report format of {path} from its extension; use one of {known}.") from None
