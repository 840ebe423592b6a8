"""``--emit`` and ``--patch``: the user's script with its hot loop rewritten to the advice.

The rewrite works on libcst's concrete syntax tree, so everything it does not touch keeps
its comments and formatting byte for byte. It recognises these call sites of the target
``f`` (a top-level function of the script) and maps them with the recommended model:

- ``[f(x) for x in xs]`` and ``{f(x) for x in xs}`` (any arguments, ``for`` and ``if`` clauses)
- ``list(map(f, xs))`` and ``map(f, xs, ys)`` passed to ``sum``, ``sorted``, ``tuple``...
- ``sum(f(x) for x in xs)`` and a generator passed to ``max``, ``min``, ``list``, ``set``...
- ``for x in xs: out.append(f(x))``, ``for x in xs: f(x)`` and, generally, a ``for`` loop
  whose body calls ``f(x)`` once, unconditionally, and uses ``x`` nowhere else
- the same shapes with ``await f(x)`` for a coroutine target (``asyncio.gather`` with a semaphore)

A target defined inside a function (``main.score``: a closure, a nested ``def`` or a
lambda bound there) is rewritten where it is in scope: the call sites in ``main`` become
``map_score(score, items)``, and ``map_score`` (a module-level function that takes the
function to map) goes right after ``main``. With no such call site there is no
standalone fallback (the closure cannot be imported), so the rewrite is refused.

A helper that maps ``f`` (``map_f``) goes right after ``f``'s definition, the imports it
needs after the script's own, and a process pool gets an ``if __name__ == "__main__":`` guard
around the module-level code that runs it when the script has none. Where no call site has
one of these shapes, the output is a standalone module that imports ``f`` and maps it
(``present.code.emit``). A serial recommendation gives an unchanged copy with one comment
line at the top. The user's script itself is never written: files are written by ``cli_rewrite``, and
the call sites are found by ``rewrite_find``.
"""
from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Optional

import libcst as cst
import libcst.matchers as m
from libcst.metadata import MetadataWrapper

from .. import executors
from ..errors import UsageError
from ..measure.loop_body import LoopBody
from ..model import Recommendation, Report
from .code import emit, map_helper, summary, through_trampoline
from .loop_body_text import extract_source
from .rewrite_find import Builder, Finder, Site

# Executors whose workers may import the script: its module-level code must sit under a main guard.
NEEDS_MAIN_GUARD = frozenset(n for n, e in executors.REGISTRY.items() if e.needs_main_guard)
REWRITABLE = frozenset(n for n, e in executors.REGISTRY.items() if e.family != "serial")


@dataclass(frozen=True)
class Rewrite:
    """The emitted module, the same change as a unified diff, and what was done."""

    text: str
    diff: str
    mode: str  # "rewrite" (loops rewritten in a copy), "serial" (copy + comment) or "standalone"
    sites: tuple[Site, ...] = ()
    added_main_guard: bool = False
    description: str = ""


# -- entry points ------------------------------------------------------------------------
def rewrite_report(report: Report, emit_name: Optional[str] = None) -> Rewrite:
    """The rewrite of the script ``report`` was measured on (read again from disk)."""
    script = report.target.file
    try:
        source = Path(script).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"Cannot read the profiled script {script}: {exc}.") from None
    name = report.target.name
    if report.target.kind == "method":
        raise UsageError(f"Cannot write --emit/--patch: {name} is a method, and paradvise does not rewrite loops "
                         "over methods yet; use the code in the report, which maps it with the instance.")
    module, _, qualname = name.rpartition(":")
    if module and "." not in qualname:  # imported from the user's module: the script calls it by name
        name = qualname
    style = report.data.call_style
    dask_address = (report.dask or {}).get("scheduler")
    if report.target.loop_body and report.recommendation.executor != "serial":
        return _rewrite_loop_body(source, LoopBody.from_json(report.target.loop_body), report, emit_name)
    return rewrite_source(source, name, report.recommendation, script=script,
                          is_coroutine=report.target.is_coroutine, call_style=style,
                          dask_address=dask_address, emit_name=emit_name)


def _rewrite_loop_body(source: str, body: LoopBody, report: Report, emit_name: Optional[str]) -> Rewrite:
    """Make the loop's body the function that was measured (measure/loop_body.py), then map it."""
    script = report.target.file
    try:
        extracted = extract_source(source, ast.parse(source), body)
    except (SyntaxError, ValueError):
        raise UsageError(f"Cannot write --emit/--patch: {script} has changed since it was profiled "
                         f"(no loop at line {body.loop_line} any more); profile it again.") from None
    done = rewrite_source(extracted, body.name, report.recommendation, script=script,
                          call_style=report.data.call_style, dask_address=(report.dask or {}).get("scheduler"),
                          emit_name=emit_name)
    script_name = Path(script).name
    what = (f"made the body of the loop at line {body.loop_line} a function, {body.function_name}, and "
            + (f"mapped it with {report.recommendation.executor}" if done.mode == "rewrite" else done.description))
    return replace(done, diff=unified_diff(source, done.text, f"a/{script_name}", f"b/{script_name}"),
                   description=what + (", added a main guard" if done.added_main_guard else ""))


def rewrite_source(source: str, name: str, rec: Recommendation, *, script: str = "script.py",
                   is_coroutine: bool = False, call_style: str = "single", dask_address: Optional[str] = None,
                   emit_name: Optional[str] = None) -> Rewrite:
    """Rewrite ``source`` (the script at ``script``) so the loops over ``name`` follow ``rec``.

    ``name`` is the target's display name: ``f``, or ``main.score`` for one defined inside ``main``.
    """
    script_name = Path(script).name
    outer, _, local = name.rpartition(".")
    if rec.executor == "serial":
        text = _serial_copy(source, rec)
        return Rewrite(text, unified_diff(source, text, f"a/{script_name}", f"b/{script_name}"), "serial",
                       description=f"kept {script_name} serial (one comment line added), as advised")
    rewritten, why = None, ""
    executor = executors.get(rec.executor)
    # A closure reaches workers that need pickle by reference only through a fork trampoline.
    unsendable = bool(outer) and executor.pickles_by_reference and not executor.forked_trampoline
    tried = rec.executor in REWRITABLE and is_coroutine == (rec.executor == "asyncio") and not unsendable
    if tried:
        try:
            rewritten = _rewrite_module(source, name, rec, is_coroutine, dask_address)
        except Exception as exc:  # noqa: BLE001 - syntax libcst cannot parse, or a bug here: never lose the advice
            why = f" (the rewrite failed: {type(exc).__name__}: {exc})".replace("\n", " ")
    if rewritten is not None:
        text, sites, guard = rewritten
        where = ", ".join(f"line {s.line} ({s.shape})" for s in sites)
        loops = "loop" if len(sites) == 1 else "loops"
        note = f"rewrote the {loops} at {where} to {rec.executor}" + (", added a main guard" if guard else "")
        return Rewrite(text, unified_diff(source, text, f"a/{script_name}", f"b/{script_name}"), "rewrite",
                       tuple(sites), guard, note)
    if outer:
        cause = (f"no call of it there has a loop shape paradvise rewrites{why}" if tried
                 else f"{rec.executor} sends functions to its workers by reference, which it cannot be"
                 if unsendable else f"paradvise does not rewrite loops of {'coroutines' if is_coroutine else 'plain calls'} "
                      f"to {rec.executor}")
        raise UsageError(
            f"Cannot write --emit/--patch: {local} is defined inside {outer}(), so a separate module cannot "
            f"import it, and {cause}; use the code in the report inside {outer}() instead.")
    text = _standalone(rec, script, name, call_style, dask_address, is_coroutine)
    new_name = emit_name or f"{Path(script).stem}_parallel.py"
    return Rewrite(text, unified_diff("", text, "/dev/null", f"b/{new_name}"), "standalone",
                   description=(f"no call of {name} in {script_name} has a shape paradvise can rewrite{why}; "
                                f"wrote a standalone module that imports {name} and maps it"))


def unified_diff(old: str, new: str, from_name: str, to_name: str) -> str:
    """A unified diff that ``patch`` applies, including a last line without a newline."""
    out = []
    for line in difflib.unified_diff(_lines(old), _lines(new), from_name, to_name):
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as ``patch`` sees them: split at "\\n" only (str.splitlines also splits at form feeds)."""
    parts = [part + "\n" for part in text.split("\n")]
    parts[-1] = parts[-1][:-1]
    return parts if parts[-1] else parts[:-1]


# -- serial and standalone -----------------------------------------------------------------
def _serial_copy(source: str, rec: Recommendation) -> str:
    reason = " ".join(rec.reason.split())
    if not reason:
        comment = "# paradvise: stay serial; no parallel model measured enough faster to be worth it here."
    elif reason.lower().startswith("stay serial"):
        comment = f"# paradvise: {reason}"
    else:
        comment = f"# paradvise: stay serial. {reason}"
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError:
        return comment + "\n" + source
    header = list(module.header)
    at = 0  # after a shebang and an encoding cookie, which must stay on the first two lines
    while at < len(header) and at < 2 and header[at].comment is not None and (
            header[at].comment.value.startswith("#!") or "coding" in header[at].comment.value):
        at += 1
    header.insert(at, cst.EmptyLine(comment=cst.Comment(comment)))
    return module.with_changes(header=header).code


def _standalone(rec: Recommendation, script: str, name: str, call_style: str,
                dask_address: Optional[str], is_coroutine: bool) -> str:
    module = Path(script).stem
    lines = [
        f"# paradvise: no call of {name} in {Path(script).name} is a loop shape paradvise rewrites in place",
        "# ([f(x) for x in xs], list(map(f, xs)), for x in xs: out.append(f(x)), sum(f(x) for x in xs),",
        "# await f(x) in a for loop), so this module maps it instead. Run it next to the script (or with",
        f"# the script's folder on PYTHONPATH) so that `import {module}` finds it, and fill in the items.",
    ]
    return "\n".join(lines) + "\n" + emit(rec, script, name, call_style, dask_address, is_coroutine)


# -- the rewrite -------------------------------------------------------------------------------
def _rewrite_module(source: str, name: str, rec: Recommendation, is_async: bool,
                    dask_address: Optional[str]) -> Optional[tuple[str, list[Site], bool]]:
    outer, _, name = name.rpartition(".")
    where = tuple(outer.split(".")) if outer else ()
    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    used = {n.value for n in m.findall(module, m.Name())}
    finder = Finder(name, is_async, used, where)
    wrapper.visit(finder)
    if not finder.sites:
        return None
    new = module.visit(_Apply(finder.builders))
    guard = False
    if rec.executor in NEEDS_MAIN_GUARD:
        # ``_Apply`` replaces module-level statements one for one, so positions still match.
        holding = {i for i, stmt in enumerate(module.body) if id(stmt) in finder.top_level}
        new, guard = _add_main_guard(new, holding)
    helpers, imports = [], []
    for style in sorted(finder.styles):
        helper = finder.helper_names[style]
        text, needed = map_helper(rec, name, helper, style, dask_address)
        if where:  # the function to map is in scope only where it is defined: pass it in
            text = text.replace(f"def {helper}(items", f"def {helper}({name}, items", 1)
            if executors.get(rec.executor).forked_trampoline:  # pickle cannot send it: workers inherit it
                text = through_trampoline(text, name, ".".join(where), helper)
        helpers.append(text)
        imports.extend(x for x in needed if x not in imports)
    comment = f"# paradvise: {summary(rec)}, as measured on this machine."
    new = _add_helpers(new, where[0] if where else name, helpers, comment)
    new = _add_imports(new, imports)
    return new.code, sorted(finder.sites, key=lambda s: s.line), guard


class _Apply(cst.CSTTransformer):
    """Second pass: replace each recorded node, innermost first."""

    def __init__(self, builders: dict[int, Builder]) -> None:
        super().__init__()
        self.builders = builders

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        build = self.builders.get(id(original_node))
        return build(updated_node) if build else updated_node


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _is_import_line(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body)


def _is_definition(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, (cst.FunctionDef, cst.ClassDef)) or _is_import_line(stmt) or _is_docstring(stmt)


def _is_setup(stmt: cst.CSTNode) -> bool:
    """Definitions, and plain assignments before any code runs (constants the functions may use)."""
    return _is_definition(stmt) or (isinstance(stmt, cst.SimpleStatementLine) and all(
        isinstance(s, (cst.Assign, cst.AnnAssign, cst.AugAssign, cst.Pass)) for s in stmt.body))


def _is_main_guard(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.If):
        return False
    return any(n.value == "__name__" for n in m.findall(stmt.test, m.Name()))


def _add_main_guard(module: cst.Module, holding: set[int]) -> tuple[cst.Module, bool]:
    """Put the module-level code that runs the pool under ``if __name__ == "__main__":``.

    From the first statement that runs code (or holds a rewritten loop) to the end of the
    file, each run of statements other than imports, ``def`` and ``class`` is guarded; the
    definitions stay at module level, where worker processes that import the module find them.
    """
    body = list(module.body)
    if any(_is_main_guard(s) for s in body):
        return module, False
    start = next((i for i, s in enumerate(body) if i in holding or not _is_setup(s)), None)
    if start is None:
        return module, False
    out, run = body[:start], []

    def flush() -> None:
        if not run:
            return
        first = run[0]
        lines = list(first.leading_lines)
        blank = 0
        while blank < len(lines) and lines[blank].comment is None:
            blank += 1
        stmts = [first.with_changes(leading_lines=lines[blank:]), *run[1:]]
        out.append(cst.If(test=cst.parse_expression('__name__ == "__main__"'), body=cst.IndentedBlock(body=stmts),
                          leading_lines=lines[:blank]))
        run.clear()

    for stmt in body[start:]:
        if _is_definition(stmt):
            flush()
            out.append(stmt)
        else:
            run.append(stmt)
    flush()
    return module.with_changes(body=out), True


def _add_helpers(module: cst.Module, name: str, helpers: list[str], comment: str) -> cst.Module:
    stmts: list[cst.BaseStatement] = []
    for text in helpers:
        stmts.extend(cst.parse_module(text).body)
    blank = [cst.EmptyLine(), cst.EmptyLine()]
    stmts[0] = stmts[0].with_changes(leading_lines=[*blank, cst.EmptyLine(comment=cst.Comment(comment))])
    for i in range(1, len(stmts)):
        if isinstance(stmts[i], (cst.FunctionDef, cst.ClassDef)):
            stmts[i] = stmts[i].with_changes(leading_lines=blank)
    body = list(module.body)
    at = next((i + 1 for i, s in enumerate(body) if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
    if at is None:
        at = _import_position(body)
    if at < len(body):  # two blank lines after the helper, as after any function
        lines = list(body[at].leading_lines)
        empty = next((i for i, line in enumerate(lines) if line.comment is not None), len(lines))
        if empty < 2:
            body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine()] * (2 - empty) + lines)
    return module.with_changes(body=body[:at] + stmts + body[at:])


def _import_position(body: list[cst.BaseStatement]) -> int:
    at = 1 if body and _is_docstring(body[0]) else 0
    while at < len(body) and _is_import_line(body[at]):
        at += 1
    return at


def _bound_names(body: list[cst.BaseStatement]) -> dict[str, str]:
    """Module-level imports as {bound name: what it is}."""
    bound: dict[str, str] = {}
    for stmt in body:
        if not _is_import_line(stmt):
            continue
        for small in stmt.body:  # type: ignore[attr-defined]
            if isinstance(small, cst.Import):
                for alias in small.names:
                    dotted = cst.Module([]).code_for_node(alias.name)
                    if alias.asname is None:
                        bound[dotted.split(".")[0]] = dotted.split(".")[0]
                    else:
                        bound[alias.asname.name.value] = dotted  # type: ignore[union-attr]
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar) \
                    and small.module is not None and not small.relative:
                origin = cst.Module([]).code_for_node(small.module)
                for alias in small.names:
                    own = alias.name.value  # type: ignore[union-attr]
                    bound[alias.asname.name.value if alias.asname else own] = f"{origin}.{own}"  # type: ignore
    return bound


def _add_imports(module: cst.Module, lines: list[str]) -> cst.Module:
    body = list(module.body)
    have = _bound_names(body)
    new: list[cst.BaseStatement] = []
    for line in lines:
        stmt = cst.parse_statement(line)
        wanted = _bound_names([stmt])
        if any(have.get(k) != v for k, v in wanted.items()):
            new.append(stmt)
    if not new:
        return module
    at = _import_position(body)
    if at > 0 and not _is_import_line(body[at - 1]):  # right after the docstring: one blank line
        new[0] = new[0].with_changes(leading_lines=[cst.EmptyLine()])
    if at < len(body) and not _is_import_line(body[at]) and not any(
            line.comment is None for line in body[at].leading_lines[:1]):  # code right after: a blank line
        body[at] = body[at].with_changes(leading_lines=[cst.EmptyLine(), *body[at].leading_lines])
    return module.with_changes(body=body[:at] + new + body[at:])


# -- the helper that maps the target, one per recommendation ------------------------------------
