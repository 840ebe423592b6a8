"""Reading and running the user's script exactly as ``python SCRIPT ARGS`` would.

Runs happen in a child process (``advisor.host``), never in the paradvise process:
the script may call ``sys.exit``, start threads or crash the interpreter.
"""
from __future__ import annotations

import ast
import os
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from .errors import ScriptNotFound, ScriptSyntaxError, TargetNotFound

# Name under which a capture decorator is placed in the script's globals.
CAPTURE_DECORATOR = "__paradvise_capture_{}__"


@dataclass(frozen=True)
class FunctionDef:
    name: str
    line: int
    is_coroutine: bool


def read_script(path: str) -> tuple[Path, str]:
    """Return the script's absolute path and source, or raise a one-sentence error."""
    script = Path(path)
    if not script.exists():
        raise ScriptNotFound(f"No such file: {path}")
    if script.is_dir():
        raise ScriptNotFound(f"{path} is a directory; paradvise profiles a Python script file.")
    try:
        source = script.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptNotFound(f"Cannot read {path}: {exc}") from exc
    return script.resolve(), source


def check_syntax(path: Path, source: str) -> ast.Module:
    try:
        return ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise ScriptSyntaxError(
            f"{path}:{exc.lineno}: syntax error: {exc.msg}; fix the script and run again."
        ) from exc


def top_level_functions(tree: ast.Module) -> dict[str, FunctionDef]:
    """Functions defined at the top level of the script (the ones paradvise can replay)."""
    found: dict[str, FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = FunctionDef(node.name, node.lineno, isinstance(node, ast.AsyncFunctionDef))
    return found


def require_function(tree: ast.Module, name: str, path: Path) -> FunctionDef:
    functions = top_level_functions(tree)
    if name in functions:
        return functions[name]
    known = ", ".join(sorted(functions)) or "none"
    raise TargetNotFound(
        f"No top-level function named {name!r} in {path.name} (its top-level functions: {known})."
    )


def _decorate(tree: ast.Module, functions: Iterable[str]) -> ast.Module:
    """Add a capture decorator as the outermost decorator of each of ``functions``.

    Done on the AST so line numbers, tracebacks and the rest of the file stay as written.
    """
    wanted = set(functions)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in wanted:
            decorator = ast.Name(id=CAPTURE_DECORATOR.format(node.name), ctx=ast.Load())
            ast.copy_location(decorator, node)
            node.decorator_list.insert(0, decorator)
    return ast.fix_missing_locations(tree)


def run_script(
    path: Path,
    argv: list[str],
    wrappers: Optional[dict[str, Callable[[Any], Any]]] = None,
) -> types.ModuleType:
    """Execute the script as ``__main__`` (like runpy.run_path), optionally wrapping one function.

    ``argv`` is the full ``sys.argv`` (argv[0] as the user typed it, like python keeps it).
    ``wrappers`` maps top-level function names to decorators applied to them.
    Exceptions, including SystemExit, propagate.
    """
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    module = types.ModuleType("__main__")
    module.__dict__.update(
        __file__=str(path), __builtins__=__builtins__, __spec__=None, __loader__=None, __cached__=None
    )
    if wrappers:
        tree = _decorate(tree, wrappers)
        for name, decorator in wrappers.items():
            module.__dict__[CAPTURE_DECORATOR.format(name)] = decorator
    code = compile(tree, str(path), "exec")
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(str(path))
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    return module
