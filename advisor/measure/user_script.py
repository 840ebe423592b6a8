"""Reading and running the user's script exactly as ``python SCRIPT ARGS`` would.

Runs happen in a child process (``advisor.measure.measuring_child``), never in the paradvise process:
the script may call ``sys.exit``, start threads or crash the interpreter.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..errors import ScriptNotFound, ScriptSyntaxError, TargetNotFound

# Name under which a capture decorator is placed in the script's globals.
CAPTURE_DECORATOR = "__paradvise_capture_{}__"
# A global that returns the capture decorator for a display name: functions nested in
# other functions, and lambdas bound to a name, are wrapped through it (``decorate``).
CAPTURE_BY_NAME = "__paradvise_capture_by_name__"

# Kinds of function paradvise can replay.
TOP_LEVEL, NESTED, LAMBDA, METHOD = "def", "nested", "lambda", "method"
# Decorators that make a method something other than a function of its instance: a
# property is no call in a loop, and a classmethod pickles as a bound method.
NOT_REPLAYED_DECORATORS = ("property", "classmethod", "setter", "getter", "deleter", "cached_property")


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
    # Its work is done while the generator it returns is consumed (see capture.timed_generator).
    is_generator: bool = False
    # The user's module it is defined in, when not the script itself ("pkg.helpers"); its
    # display name is then ``pkg.helpers:qualname`` (see wrapped_run.py).
    module: str = ""
    file: str = ""

    @property
    def qualname(self) -> str:
        """The name within its module: ``score``, ``main.score``, ``Encoder.encode``."""
        return self.name.rpartition(":")[2]

    @property
    def local_name(self) -> str:
        """The name it is bound to where it is defined (``inner`` for ``outer.inner``)."""
        return self.qualname.rpartition(".")[2]

    @property
    def outer(self) -> str:
        """The function it is defined in (``outer`` for ``outer.inner``); "" at module level
        and for a method (its class is no scope a call can be made from)."""
        return "" if self.kind == METHOD else self.qualname.rpartition(".")[0]

    @property
    def owner(self) -> str:
        """A method's class (``Encoder`` for ``Encoder.encode``); "" for anything else."""
        return self.qualname.rpartition(".")[0] if self.kind == METHOD else ""

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
                                           TOP_LEVEL, _first_line(node), is_generator(node))
    return found


def is_generator(node: ast.AST) -> bool:
    """Whether a ``def`` is a generator function: a ``yield`` in its own body, not a nested one's."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(node, ast.AsyncFunctionDef):
        return False
    todo: list[ast.AST] = list(node.body)
    while todo:
        current = todo.pop()
        if isinstance(current, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        todo.extend(ast.iter_child_nodes(current))
    return False


def replayable_functions(tree: ast.Module, module: str = "", file: str = "") -> dict[str, FunctionDef]:
    """Every function paradvise can replay, by display name (see ``FunctionDef``).

    Top-level ``def``s (as ``top_level_functions`` finds them), ``def``s nested in other
    functions (closures included), and lambdas bound to a plain name by an assignment at
    module level or inside a function. Class bodies are not searched: methods need their
    instance, which travels with each call as its first argument. A name defined more
    than once (in both branches of an ``if``, say) is one entry, at its first definition;
    every definition is wrapped, so calls add up. ``module``: a user's module's name, which
    prefixes each display name (``helpers:score``).
    """
    found: dict[str, FunctionDef] = {}
    for kind, name, node in _definitions(tree):
        if name not in found:
            is_async = isinstance(node, ast.AsyncFunctionDef)
            first = node.value.lineno if kind == LAMBDA else _first_line(node)  # type: ignore[attr-defined]
            shown = f"{module}:{name}" if module else name
            found[shown] = FunctionDef(shown, node.lineno, is_async, kind, first, is_generator(node), module, file)
    return found


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
                if top:
                    yield from _methods(node)
                continue
            elif (bound := _lambda_name(node)) is not None:
                yield LAMBDA, ".".join((*path, bound)), node
            else:
                for block in _blocks(node):
                    yield from walk(block, path, in_function, False)

    return walk(tree.body, (), False, True)


def _methods(cls: ast.ClassDef) -> Iterator[tuple[str, str, ast.stmt]]:
    """The methods of a module-level class that a loop can call on an instance (or statically)."""
    for node in cls.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name.startswith("__"):
            continue
        names = {ast.unparse(d).rpartition(".")[2] for d in node.decorator_list}
        if names & set(NOT_REPLAYED_DECORATORS):
            continue
        yield METHOD, f"{cls.name}.{node.name}", node


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


def decorate(tree: ast.Module, wanted: Callable[[str], bool], module: str = "") -> ast.Module:
    """Add a capture decorator to each function whose display name ``wanted`` accepts.

    Done on the AST so line numbers, tracebacks and the rest of the file stay as written.
    In the script, a top-level ``def f`` gets ``@__paradvise_capture_f__`` as its outermost
    decorator; anything else gets ``@__paradvise_capture_by_name__("outer.inner")``,
    evaluated each time the ``def`` runs (each new closure is wrapped by the same
    recorder); a lambda bound to a name is wrapped in place:
    ``score = __paradvise_capture_by_name__("score")(lambda x: ...)``. A plain method's or
    a staticmethod's goes innermost, so a ``staticmethod`` around it still applies. In a user's module
    (``module``) every wrapper is looked up by name (``helpers:score``).
    """
    for kind, name, node in _definitions(tree):
        shown = f"{module}:{name}" if module else name
        if not wanted(shown):
            continue
        if kind == TOP_LEVEL and not module:
            decorator: ast.expr = ast.Name(id=CAPTURE_DECORATOR.format(name), ctx=ast.Load())
            ast.copy_location(decorator, node)
            node.decorator_list.insert(0, decorator)  # type: ignore[attr-defined]
            continue
        lookup = ast.Call(func=ast.Name(id=CAPTURE_BY_NAME, ctx=ast.Load()), args=[ast.Constant(shown)], keywords=[])
        if kind == LAMBDA:
            value = node.value  # type: ignore[attr-defined]
            node.value = ast.copy_location(ast.Call(func=lookup, args=[value], keywords=[]), value)  # type: ignore
            ast.copy_location(lookup, value)
            continue
        ast.copy_location(lookup, node)
        decorators = node.decorator_list  # type: ignore[attr-defined]
        if kind == METHOD and all(ast.unparse(d) == "staticmethod" for d in decorators):
            decorators.append(lookup)  # inside staticmethod, which must stay outermost
        else:  # outermost: a decorator that compiles or inspects the function (a JIT) gets it as written
            decorators.insert(0, lookup)
    return ast.fix_missing_locations(tree)
