"""A list comprehension's element as the unit of work, where the loop calls no function of
the script's own: ``[zlib.compress(b) for b in blobs]`` becomes::

    def main_loop_body(b):
        return zlib.compress(b)

    packed = [main_loop_body(b) for b in blobs]

Only the plain shape: one ``for`` clause, a flat loop variable, an element that calls
something and neither awaits, yields nor binds a name. ``if`` clauses stay where they are
(``[main_loop_body(b) for b in blobs if b]``): they choose the items, the element is the
work; one that binds a name (``if (n := len(b))``) is left alone, as the element may read it
and the function would not have it. As for a ``for`` body
(loop_body.py), the function goes at module level unless the element reads a local of
the function around it.
"""
from __future__ import annotations

import ast
import copy
from typing import Iterator, Optional

from .body_function import Scope, as_load, function_of, insert_point
from .loop_body import LoopBody, flat_names, locals_of, unique

NOT_IN_ELEMENT = (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)


def element_candidates(tree: ast.Module, taken: set[str]) -> list[LoopBody]:
    found = []
    for scope, path, _, comp in _comprehensions(tree):
        body = _qualify(scope, path, comp, taken)
        if body is not None:
            taken.add(body.function_name)
            found.append(body)
    return found


def extract_element(tree: ast.Module, body: LoopBody) -> ast.Module:
    """A copy of ``tree`` whose comprehension at ``body``'s line and column maps its function."""
    tree = copy.deepcopy(tree)
    scope, stmt, comp = comprehension_at(tree, body)
    target = comp.generators[0].target
    returned = ast.copy_location(ast.Return(comp.elt), comp.elt)
    function = function_of(body.function_name, target, [returned], stmt)
    comp.elt = ast.copy_location(ast.Call(ast.Name(body.function_name, ast.Load()), [as_load(target)], []), comp.elt)
    holder, position = insert_point(tree, scope, stmt, body.nested)
    holder.insert(position, function)
    return ast.fix_missing_locations(tree)


def comprehension_at(tree: ast.Module, body: LoopBody) -> tuple[Scope, ast.stmt, ast.ListComp]:
    for scope, _, stmt, comp in _comprehensions(tree):
        if (comp.lineno, comp.col_offset) == (body.loop_line, body.column):
            return scope, stmt, comp
    raise ValueError(f"no comprehension at line {body.loop_line}")


def _comprehensions(tree: ast.Module) -> Iterator[tuple[Scope, tuple[str, ...], ast.stmt, ast.ListComp]]:
    """Every list comprehension with its scope, the scope's path of names and the statement
    that holds it (not those inside a lambda or another comprehension)."""

    def in_statement(node: ast.AST) -> Iterator[ast.ListComp]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ListComp):
                yield child
            elif not isinstance(child, (ast.Lambda, ast.stmt, ast.ListComp, ast.SetComp, ast.DictComp,
                                        ast.GeneratorExp)):
                yield from in_statement(child)

    def walk(body: list[ast.stmt], scope: Scope, path: tuple[str, ...]) -> Iterator[
            tuple[Scope, tuple[str, ...], ast.stmt, ast.ListComp]]:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from walk(stmt.body, stmt, (*path, stmt.name))
                continue
            if isinstance(stmt, ast.ClassDef):
                continue
            for comp in in_statement(stmt):
                yield scope, path, stmt, comp
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None)
                if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                    yield from walk(block, scope, path)
            for part in [*getattr(stmt, "handlers", []), *getattr(stmt, "cases", [])]:
                yield from walk(part.body, scope, path)

    return walk(tree.body, tree, ())


def _qualify(scope: Scope, path: tuple[str, ...], comp: ast.ListComp, taken: set[str]) -> Optional[LoopBody]:
    if len(comp.generators) != 1:
        return None
    clause = comp.generators[0]
    names = flat_names(clause.target)
    if clause.is_async or names is None or any(isinstance(n, ast.NamedExpr) for i in clause.ifs for n in ast.walk(i)):
        return None
    inside = list(ast.walk(comp.elt))
    if any(isinstance(n, NOT_IN_ELEMENT) for n in inside) or not any(isinstance(n, ast.Call) for n in inside):
        return None
    own = {id(n) for c in inside if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
    reads = {n.id for n in inside if isinstance(n, ast.Name) and id(n) not in own} - set(names)
    nested = not isinstance(scope, ast.Module) and (bool(reads & locals_of(scope)) or len(path) > 1)
    name = unique(f"{path[-1]}_loop_body" if path else "loop_body", taken)
    shown = ".".join((*path, name)) if nested else name
    return LoopBody(shown, "", comp.lineno, ".".join(path), nested, kind="comprehension", column=comp.col_offset)
