"""Making a function of a loop's body or a comprehension's element, and placing it in the
module (shared by loop_body.py and loop_comprehension.py, and the text side's placing)."""
from __future__ import annotations

import ast
import copy
from typing import Union

Scope = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef]
TUPLE_PARAMETER = "loop_item"


def function_of(name: str, target: ast.expr, body: list[ast.stmt], at: ast.AST) -> ast.FunctionDef:
    """``def name(x): body`` for the loop variable ``x``; a tuple of them is one parameter,
    unpacked first."""
    if isinstance(target, ast.Name):
        parameter, unpack = target.id, []
    else:
        parameter = TUPLE_PARAMETER
        unpack = [ast.copy_location(ast.Assign([copy.deepcopy(target)], ast.Name(TUPLE_PARAMETER, ast.Load())),
                                    body[0])]
    args = ast.arguments(posonlyargs=[], args=[ast.arg(parameter)], kwonlyargs=[], kw_defaults=[], defaults=[])
    function = ast.FunctionDef(name=name, args=args, body=[*unpack, *body], decorator_list=[], returns=None)
    return ast.copy_location(function, at)


def as_load(target: ast.expr) -> ast.expr:
    made = copy.deepcopy(target)
    for node in ast.walk(made):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()  # type: ignore[attr-defined]
    return made


def insert_point(tree: ast.Module, scope: Scope, loop: ast.stmt, nested: bool) -> tuple[list[ast.stmt], int]:
    """Where the function goes: just before the loop in its block, or before the module-level
    statement that holds the loop."""
    if not nested:
        top = top_statement(tree, loop)
        return tree.body, tree.body.index(top)
    for node in ast.walk(scope):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and loop in block:
                return block, block.index(loop)
        for part in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
            if loop in part.body:
                return part.body, part.body.index(loop)
    raise ValueError("the loop is in no block")


def top_statement(tree: ast.Module, loop: ast.AST) -> ast.stmt:
    return next(stmt for stmt in tree.body if any(n is loop for n in ast.walk(stmt)))


def indent_of(line: str) -> str:
    return line[:len(line) - len(line.lstrip())]
