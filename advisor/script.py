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
from typing import Any, Callable, Iterable, Iterator, Optional

from .errors import ScriptNotFound, ScriptSyntaxError, TargetNotFound

# Name under which a capture decorator is placed in the script's globals.
CAPTURE_DECORATOR = "__paradvise_capture_{}__"
# A global that returns the capture decorator for a display name: functions nested in
# other functions, and lambdas bound to a name, are wrapped through it (``_decorate``).
CAPTURE_BY_NAME = "__paradvise_capture_by_name__"

# Kinds of function paradvise can replay.
TOP_LEVEL, NESTED, LAMBDA = "def", "nested", "lambda"


@dataclass(frozen=True)
class FunctionDef:
    """A function the script defines that paradvise can wrap, count and replay.

    ``name`` is its display name, the one ``--function`` takes: ``f`` for a top-level
    ``def f``; ``outer.inner`` for a ``def inner`` inside ``outer`` (Python's qualname
    without ``<locals>``); the bound name for a lambda (``score = lambda x: ...``),
    qualified the same way when the assignment is inside a function (``main.score``).
    """

    name: str
    line: int
    is_coroutine: bool
    kind: str = TOP_LEVEL
    first_line: int = 0  # where its code object starts (co_firstlineno: the first decorator's line)

    @property
    def local_name(self) -> str:
        """The name it is bound to where it is defined (``inner`` for ``outer.inner``)."""
        return self.name.rpartition(".")[2]

    @property
    def outer(self) -> str:
        """The function it is defined in (``outer`` for ``outer.inner``); "" at module level."""
        return self.name.rpartition(".")[0]

    @property
    def code_line(self) -> int:
        return self.first_line or self.line


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
    """Functions defined at the top level of the script."""
    found: dict[str, FunctionDef] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = FunctionDef(node.name, node.lineno, isinstance(node, ast.AsyncFunctionDef),
                                           TOP_LEVEL, _first_line(node))
    return found


def replayable_functions(tree: ast.Module) -> dict[str, FunctionDef]:
    """Every function paradvise can replay, by display name (see ``FunctionDef``).

    Top-level ``def``s (as ``top_level_functions`` finds them), ``def``s nested in other
    functions (closures included), and lambdas bound to a plain name by an assignment at
    module level or inside a function. Class bodies are not searched: methods need their
    instance. A name defined more than once (in both branches of an ``if``, say) is one
    entry, at its first definition; every definition is wrapped, so calls add up.
    """
    found: dict[str, FunctionDef] = {}
    for kind, name, node in _definitions(tree):
        if kind != TOP_LEVEL and name not in found:
            is_async = isinstance(node, ast.AsyncFunctionDef)
            first = _first_line(node) if kind == NESTED else node.value.lineno  # type: ignore[attr-defined]
            found[name] = FunctionDef(name, node.lineno, is_async, kind, first)
    return {**found, **top_level_functions(tree)}


def _first_line(node: ast.AST) -> int:
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)])  # type: ignore[attr-defined]


def _lambda_name(node: ast.stmt) -> Optional[str]:
    """``name`` for ``name = lambda ...`` or ``name: T = lambda ...``; None otherwise."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
    elif isinstance(node, ast.AnnAssign) and node.simple:
        target = node.target
    else:
        return None
    if isinstance(target, ast.Name) and isinstance(node.value, ast.Lambda):
        return target.id
    return None


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    """The statement lists directly inside a compound statement (if, for, with, try, match...)."""
    out = []
    for field in ("body", "orelse", "finalbody"):
        block = getattr(node, field, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            out.append(block)
    for part in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
        out.append(part.body)
    return out


def _definitions(tree: ast.Module) -> Iterator[tuple[str, str, ast.stmt]]:
    """(kind, display name, node) of every definition ``replayable_functions`` considers.

    A ``def`` that is a direct child of the module is TOP_LEVEL; one inside a function is
    NESTED. A ``def`` inside a module-level ``if``/``try``/... is not replayable itself
    (with spawn, worker processes may not define it), though what it contains is.
    """

    def walk(body: list[ast.stmt], path: tuple[str, ...], in_function: bool, top: bool) -> Iterator[
            tuple[str, str, ast.stmt]]:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner = (*path, node.name)
                if top:
                    yield TOP_LEVEL, node.name, node
                elif in_function:
                    yield NESTED, ".".join(inner), node
                yield from walk(node.body, inner, True, False)
            elif isinstance(node, ast.ClassDef):
                continue
            elif (bound := _lambda_name(node)) is not None:
                yield LAMBDA, ".".join((*path, bound)), node
            else:
                for block in _blocks(node):
                    yield from walk(block, path, in_function, False)

    return walk(tree.body, (), False, True)


def resolve_function(functions: dict[str, FunctionDef], name: str, script: str) -> FunctionDef:
    """The function ``--function NAME`` means: its display name, or a unique local name.

    ``--function score`` finds ``main.score`` when no other function is called ``score``.
    """
    if name in functions:
        return functions[name]
    matches = sorted(n for n, f in functions.items() if f.local_name == name)
    if len(matches) == 1:
        return functions[matches[0]]
    if matches:
        raise TargetNotFound(f"{name!r} names {len(matches)} functions in {script} ({', '.join(matches)}); "
                             "pass one of these to --function.")
    known = ", ".join(sorted(functions)) or "none"
    raise TargetNotFound(f"No function named {name!r} in {script} (its functions: {known}).")


def require_function(tree: ast.Module, name: str, path: Path) -> FunctionDef:
    return resolve_function(replayable_functions(tree), name, path.name)


def _decorate(tree: ast.Module, functions: Iterable[str]) -> ast.Module:
    """Add a capture decorator as the outermost decorator of each of ``functions``.

    Done on the AST so line numbers, tracebacks and the rest of the file stay as written.
    A top-level ``def f`` gets ``@__paradvise_capture_f__``; a nested ``def`` gets
    ``@__paradvise_capture_by_name__("outer.inner")``, evaluated each time ``outer`` runs
    (each new closure is wrapped by the same recorder); a lambda bound to a name is
    wrapped in place: ``score = __paradvise_capture_by_name__("score")(lambda x: ...)``.
    """
    wanted = set(functions)
    for kind, name, node in _definitions(tree):
        if name not in wanted:
            continue
        if kind == TOP_LEVEL:
            decorator: ast.expr = ast.Name(id=CAPTURE_DECORATOR.format(name), ctx=ast.Load())
            ast.copy_location(decorator, node)
            node.decorator_list.insert(0, decorator)  # type: ignore[attr-defined]
            continue
        lookup = ast.Call(func=ast.Name(id=CAPTURE_BY_NAME, ctx=ast.Load()), args=[ast.Constant(name)], keywords=[])
        if kind == NESTED:
            ast.copy_location(lookup, node)
            node.decorator_list.insert(0, lookup)  # type: ignore[attr-defined]
        else:
            value = node.value  # type: ignore[attr-defined]
            node.value = ast.copy_location(ast.Call(func=lookup, args=[value], keywords=[]), value)  # type: ignore
            ast.copy_location(lookup, value)
    return ast.fix_missing_locations(tree)


def run_script(
    path: Path,
    argv: list[str],
    wrappers: Optional[dict[str, Callable[[Any], Any]]] = None,
) -> types.ModuleType:
    """Execute the script as ``__main__`` (like runpy.run_path), optionally wrapping one function.

    ``argv`` is the full ``sys.argv`` (argv[0] as the user typed it, like python keeps it).
    ``wrappers`` maps function display names (``replayable_functions``) to decorators applied to them.
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
        module.__dict__[CAPTURE_BY_NAME] = dict(wrappers).__getitem__
    code = compile(tree, str(path), "exec")
    sys.argv = list(argv)
    sys.path[0] = os.path.dirname(str(path))
    sys.modules["__main__"] = module
    exec(code, module.__dict__)
    return module
