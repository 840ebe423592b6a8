"""The loop body made a function (measure/loop_body.py), in the script's text: for --emit
and --patch, and the report's code. The body's own lines move as written, comments included."""
from __future__ import annotations

import ast

from ..measure.body_function import TUPLE_PARAMETER, indent_of, top_statement
from ..measure.loop_body import LoopBody, loop_at, output_names, used_names
from ..measure.loop_comprehension import comprehension_at


def extract_source(source: str, tree: ast.Module, body: LoopBody) -> str:
    """``source`` with the same change as ``extract_tree``, its other lines as written."""
    if body.kind == "comprehension":
        return _element_source(source, tree, body)
    lines = source.splitlines(keepends=True)
    loop = loop_at(tree, body)
    appends = loop.body[-body.outputs:]
    outer = indent_of(lines[loop.lineno - 1])
    new_loop = _new_loop(source, tree, loop, body, outer)
    rest = lines[(appends[-1].end_lineno or appends[-1].lineno):]
    if body.nested:
        before = lines[:loop.lineno - 1]
        gap = ["\n"] if before and before[-1].strip() else []
        made = [*gap, *_function_lines(source, loop, body, outer), "\n"]
        return "".join(before + made + new_loop + rest)
    top = top_statement(tree, loop)
    start = min([top.lineno, *(d.lineno for d in getattr(top, "decorator_list", []))]) - 1
    made = [*_gap(lines[:start]), *_function_lines(source, loop, body, ""), "\n", "\n"]
    return "".join(lines[:start] + made + lines[start:loop.lineno - 1] + new_loop + rest)


def function_source(source: str, tree: ast.Module, body: LoopBody) -> str:
    """The function ``extract_source`` makes of the body, at column 0 (for the report's code)."""
    if body.kind == "comprehension":
        return "".join(_element_function(source, tree, body, ""))
    return "".join(_function_lines(source, loop_at(tree, body), body, ""))


def _new_loop(source: str, tree: ast.Module, loop: ast.For, body: LoopBody, outer: str) -> list[str]:
    """The loop calling the function: ``for x in xs: out.append(f(x))``; with several appends,
    ``for a_item, b_item in [f(x) for x in xs]:`` and an append of each."""
    lines = source.splitlines(keepends=True)
    appends = loop.body[-body.outputs:]
    inner = indent_of(lines[loop.body[0].lineno - 1])
    call = f"{body.function_name}({_argument(source, loop.target)})"
    receivers = [ast.unparse(a.value.func.value) for a in appends]  # type: ignore[attr-defined]
    if body.outputs == 1:
        return [*lines[loop.lineno - 1:loop.body[0].lineno - 1], f"{inner}{receivers[0]}.append({call})\n"]
    names = output_names(appends, used_names(tree))
    target = ast.get_source_segment(source, loop.target) or ast.unparse(loop.target)
    iterable = ast.get_source_segment(source, loop.iter) or ast.unparse(loop.iter)
    iterable = iterable if "\n" not in iterable else f"({iterable})"
    header = f"{outer}for {', '.join(names)} in [{call} for {target} in {iterable}]:\n"
    return [header, *(f"{inner}{r}.append({n})\n" for r, n in zip(receivers, names))]


def _function_lines(source: str, loop: ast.For, body: LoopBody, indent: str) -> list[str]:
    """``def NAME(x):``, the body's lines as written (but the appends), ``return`` what it
    appended (a tuple of the values, with several); indented by ``indent`` (the body's own
    lines re-indented to match)."""
    lines = source.splitlines(keepends=True)
    appends = loop.body[-body.outputs:]
    inner = indent_of(lines[loop.body[0].lineno - 1])
    step = indent + "    "
    work = _reindent(lines[loop.body[0].lineno - 1:appends[0].lineno - 1], inner, step)
    values = [a.value.args[0] for a in appends]  # type: ignore[attr-defined]
    return _def_lines(source, body.function_name, loop.target, work, values, indent)


def _def_lines(source: str, name: str, target: ast.expr, work: list[str], values: list[ast.expr],
               indent: str) -> list[str]:
    """``def name(x):`` (a tuple of loop variables: one parameter, unpacked), the ``work``
    lines, then ``return`` the value as written (several: a tuple of them)."""
    text = ast.get_source_segment(source, target) or ast.unparse(target)
    written = [ast.get_source_segment(source, v) or ast.unparse(v) for v in values]
    parts = [w if "\n" not in w else f"({w})" for w in written]
    returned = parts[0] if len(parts) == 1 else ", ".join(parts)
    single = isinstance(target, ast.Name)
    step = indent + "    "
    unpack = [] if single else [f"{step}{text} = {TUPLE_PARAMETER}\n"]
    return [f"{indent}def {name}({text if single else TUPLE_PARAMETER}):\n", *unpack, *work,
            f"{step}return {returned}\n"]


def _argument(source: str, target: ast.expr) -> str:
    """The loop variable(s) as one argument: ``x``, or ``(i, x)`` for a tuple of them."""
    text = ast.get_source_segment(source, target) or ast.unparse(target)
    return text if isinstance(target, ast.Name) or text.startswith(("(", "[")) else f"({text})"


def _reindent(lines: list[str], old: str, new: str) -> list[str]:
    return [new + line[len(old):] if line.startswith(old) else line for line in lines]


def _element_source(source: str, tree: ast.Module, body: LoopBody) -> str:
    """``extract_source`` for a comprehension's element (measure/loop_comprehension.py)."""
    scope, stmt, comp = comprehension_at(tree, body)
    lines = source.splitlines(keepends=True)
    argument = _argument(source, comp.generators[0].target)
    elt = comp.elt
    # Offsets are in UTF-8 bytes: cut the element's span out of the encoded lines.
    first = lines[elt.lineno - 1].encode()
    last = lines[(elt.end_lineno or elt.lineno) - 1].encode()
    replaced = (first[:elt.col_offset] + f"{body.function_name}({argument})".encode()
                + last[elt.end_col_offset or 0:]).decode()
    lines[elt.lineno - 1:elt.end_lineno or elt.lineno] = [replaced]
    if body.nested:
        indent = indent_of(lines[stmt.lineno - 1])
        made = [*_element_function(source, tree, body, indent), "\n"]
        return "".join(lines[:stmt.lineno - 1] + made + lines[stmt.lineno - 1:])
    top = top_statement(tree, stmt)
    start = min([top.lineno, *(d.lineno for d in getattr(top, "decorator_list", []))]) - 1
    made = [*_gap(lines[:start]), *_element_function(source, tree, body, ""), "\n", "\n"]
    return "".join(lines[:start] + made + lines[start:])


def _gap(before: list[str]) -> list[str]:
    """Blank lines enough to set a module-level def apart from the line before it."""
    if not before or not before[-1].strip():
        return [] if not before or len(before) < 2 or not before[-2].strip() else ["\n"]
    return ["\n", "\n"]


def _element_function(source: str, tree: ast.Module, body: LoopBody, indent: str) -> list[str]:
    _, _, comp = comprehension_at(tree, body)
    return _def_lines(source, body.function_name, comp.generators[0].target, [], [comp.elt], indent)
