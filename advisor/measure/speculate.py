"""One run that locates the loop and records it, where the script says which loop it is.

``paradvise profile`` runs the script twice before the sweep: once with every function
counted (to find the loop), once with the loop's function recorded. On a loop of about a
second that second run is a fifth of the advice's cost. Most scripts show the loop in
their text: one loop that calls one of the script's own functions. For those the count
run records that function's calls too, and a call added right after the loop statement
(``LOOP_DONE``) checks, from the counts so far, that it is the loop the count would find;
if so it measures there, while the script's environment is alive, as the second run would
have at its last call. Where the guess is wrong, the recording cannot stand in for the
second run (calls too many and short to record each, counters inside the calls costing
more than ``NESTED_COST_SHARE`` of them) or the loop never ends by its last statement,
nothing is measured and the second run goes ahead as before (see pipeline.py).

This module is the parent's half, on the AST: which call to guess, and where the check
goes. The child's half is ``count_and_record.py``.
"""
from __future__ import annotations

import ast
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Optional, Union

from . import loop_body
from .user_script import TOP_LEVEL, FunctionDef, is_generator

LOOP_DONE = "__paradvise_loop_done__"
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
Scope = Union[ast.Module, ast.FunctionDef]


@dataclass(frozen=True)
class Guess:
    """The loop's function as the script's text shows it, and the statement that runs its loop."""

    function: str  # a top-level function of the script
    call_line: int  # the line of its one call
    after_line: int  # the statement holding the loop: its first and last lines
    after_end: int
    # The script's names of the functions it reaches (its own top-level ones, and names it
    # imports, through the calls its text shows): they run uncounted while the loop does.
    inside: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Guess":
        return cls(**{**data, "inside": tuple(data.get("inside", ()))})


def guess_target(tree: ast.Module, source: str, functions: dict[str, FunctionDef]) -> Optional[Guess]:
    """The function the script's entry point calls in a loop, when its text shows one.

    Of the calls by name inside a ``for`` loop or a comprehension, in the module's own
    statements and the top-level functions they call (``_depths``), of a function of the
    script's own (a top-level ``def``, a ``def`` in the same function, or a closure a
    top-level factory returns, bound once), those nearest the module's own statements are
    taken (a loop at module level before one in ``main``, one in ``main`` before one in the
    ``items`` that main calls to build its inputs); there must be exactly one. Its call must
    be that name's only use in the code the script runs; the statement holding its loop must
    be one the check can follow (not a ``return``); and its result must be kept (where it is
    dropped, the loop's body is measured instead: loop_body.py).
    """
    plain = {name: name for name, fn in functions.items()
             if fn.kind == TOP_LEVEL and not fn.is_coroutine and not fn.is_generator}
    depth = _depths(tree)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    scopes: list[Scope] = [tree, *(defs[name] for name in depth if name)]
    found = []
    for scope in scopes:
        names = {**plain, **bound_functions(tree, scope, defs)}
        found += [(depth[_scope_name(scope)], call.func.id, names[call.func.id], stmt, call)  # type: ignore
                  for stmt, call in _calls_in_loops(scope) if call.func.id in names]  # type: ignore[attr-defined]
    if not found:
        return None
    nearest = min(f[0] for f in found)
    found = [f for f in found if f[0] == nearest]
    if len(found) != 1:
        return None
    _, callee, function, stmt, call = found[0]
    factory = function.partition(".")[0] if "." in function else ""
    others = [sc for sc in scopes if _scope_name(sc) != factory or sc is _scope_of(scopes, call)]  # its return
    uses = sum(1 for scope in others for n in _own_nodes(scope) if isinstance(n, ast.Name) and n.id == callee)
    assigned = any(isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == callee for t in n.targets)
                   for scope in others for n in _own_nodes(scope))
    if (uses != 1 + assigned or isinstance(stmt, ast.Return)
            or loop_body.find(tree, source, callee, call.lineno)):
        return None
    return Guess(function, call.lineno, stmt.lineno, stmt.end_lineno or stmt.lineno, reached_from(tree, function))


def _scope_of(scopes: list[Scope], node: ast.AST) -> Optional[Scope]:
    return next((sc for sc in scopes if any(n is node for n in _own_nodes(sc))), None)


def bound_functions(tree: ast.Module, scope: Scope, defs: dict[str, ast.FunctionDef]) -> dict[str, str]:
    """Names in ``scope`` bound to the script's own nested functions, with their display names:
    a ``def`` in the function itself (``main.score``), and a closure that a top-level factory
    returns, bound once (``price = make_pricer(rates)``, where make_pricer ends ``return price``
    after ``def price``: ``make_pricer.price``), in the function or at module level."""
    found: dict[str, str] = {}
    owners = [tree] if isinstance(scope, ast.Module) else [tree, scope]
    for owner in owners:
        prefix = "" if isinstance(owner, ast.Module) else f"{owner.name}."
        for node in owner.body:
            if isinstance(node, ast.FunctionDef) and prefix and not is_generator(node):
                found[node.name] = f"{prefix}{node.name}"
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Name)):
                factory = defs.get(node.value.func.id)
                inner = _returned_def(factory) if factory is not None else None
                if inner is not None:
                    found[node.targets[0].id] = f"{factory.name}.{inner.name}"  # type: ignore[union-attr]
    return found


def _returned_def(factory: ast.FunctionDef) -> Optional[ast.FunctionDef]:
    """The plain function defined in ``factory``'s own body that it returns by name, if one."""
    inner = {n.name: n for n in factory.body if isinstance(n, ast.FunctionDef) and not is_generator(n)}
    returned = [n.value.id for n in factory.body if isinstance(n, ast.Return) and isinstance(n.value, ast.Name)]
    return inner.get(returned[0]) if len(returned) == 1 else None


def _own_nodes(scope: Scope) -> Iterator[ast.AST]:
    """The nodes of a scope's code: the module's own statements (not its functions), or a
    function's whole body."""
    if isinstance(scope, ast.Module):
        for stmt in scope.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from ast.walk(stmt)
    else:
        for stmt in scope.body:
            yield from ast.walk(stmt)


def reached_from(tree: ast.Module, function: str) -> tuple[str, ...]:
    """The module-level names of functions ``function`` uses, and those use, as the text shows:
    the script's own top-level functions and the names it imports (``from helpers import
    clean``). Not methods, nor a name a call reaches some other way: those stay counted, and
    a recording whose counters cost too much is not used (count_and_record.NESTED_COST_SHARE)."""
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    outer, _, inner = function.partition(".")
    start: Optional[ast.AST] = defs.get(outer)
    if inner and start is not None:
        start = next((n for n in start.body if isinstance(n, ast.FunctionDef) and n.name == inner), None)  # type: ignore
    imported = {(a.asname or a.name).partition(".")[0] for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))
                for a in n.names}
    seen: set[str] = set()
    todo: list[ast.AST] = [start] if start is not None else []
    while todo:
        for node in ast.walk(todo.pop()):
            if isinstance(node, ast.Name) and node.id != function and node.id not in seen and (
                    node.id in defs or node.id in imported):
                seen.add(node.id)
                if node.id in defs:
                    todo.append(defs[node.id])
    return tuple(sorted(seen))


def _scope_name(scope: Scope) -> str:
    return "" if isinstance(scope, ast.Module) else scope.name


def _depths(tree: ast.Module) -> dict[str, int]:
    """How far each top-level function is from the module's own statements ("": 0) in the
    calls by name the text shows: ``main()`` at module level 1, what main calls 2."""
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    module_code = [n for n in tree.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]

    def callees(nodes: list[ast.stmt]) -> set[str]:
        return {c.func.id for node in nodes for c in _calls_outside_definitions(node)
                if isinstance(c.func, ast.Name) and c.func.id in defs}

    depth, frontier, level = {"": 0}, callees(module_code), 1
    while frontier:
        frontier -= depth.keys()
        depth.update(dict.fromkeys(frontier, level))
        frontier = set().union(*(callees(defs[name].body) for name in frontier)) if frontier else set()
        level += 1
    return depth


def _calls_in_loops(scope: Scope) -> Iterator[tuple[ast.stmt, ast.Call]]:
    """(outermost statement of the loop, call) for each call by name inside a loop of ``scope``."""
    for stmt in _statements(scope.body):
        for call in _looped_calls(stmt):
            if isinstance(call.func, ast.Name):
                yield stmt, call


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a block, looking into ``if``/``with``/``try`` but not into loops,
    functions or classes: a loop is taken whole, as the statement the check follows."""
    for stmt in body:
        if isinstance(stmt, (ast.If, ast.With, ast.Try)):
            for block in _blocks(stmt):
                yield from _statements(block)
        elif not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield stmt


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(stmt, name, None) or [] for name in ("body", "orelse", "finalbody")]
    return blocks + [h.body for h in getattr(stmt, "handlers", [])]


def _looped_calls(stmt: ast.stmt) -> Iterator[ast.Call]:
    """Calls that run once per item of a loop in ``stmt``: in a ``for`` body or a comprehension."""
    if isinstance(stmt, ast.For):
        for part in stmt.body:
            yield from _calls_outside_definitions(part)
        return
    for node in _walk_outside_definitions(stmt):
        if isinstance(node, COMPREHENSIONS):
            elements = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            for element in elements:
                yield from _calls_outside_definitions(element)


def _calls_outside_definitions(node: ast.AST) -> Iterator[ast.Call]:
    yield from (n for n in _walk_outside_definitions(node) if isinstance(n, ast.Call))


def _walk_outside_definitions(node: ast.AST) -> Iterator[ast.AST]:
    todo = [node]
    while todo:
        current = todo.pop()
        yield current
        if not isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(current))


def with_check(tree: ast.Module, guess: Guess) -> ast.Module:
    """``tree`` with ``LOOP_DONE()`` right after the statement that holds the guessed loop
    (in place: the tree is the run's own parse). Unchanged where that statement is not found."""
    for block in _all_blocks(tree):
        for index, stmt in enumerate(block):
            if stmt.lineno == guess.after_line and (stmt.end_lineno or stmt.lineno) == guess.after_end:
                check = ast.Expr(ast.Call(func=ast.Name(id=LOOP_DONE, ctx=ast.Load()), args=[], keywords=[]))
                block.insert(index + 1, ast.copy_location(check, stmt))
                return ast.fix_missing_locations(tree)
    return tree


def _all_blocks(tree: ast.Module) -> Iterator[list[ast.stmt]]:
    for node in ast.walk(tree):
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                yield block
