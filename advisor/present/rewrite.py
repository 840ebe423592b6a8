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
line at the top. The user's script itself is never written.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (BuiltinAssignment, FunctionScope, GlobalScope, MetadataWrapper, ParentNodeProvider,
                             PositionProvider, ScopeProvider)

from ..errors import UsageError
from ..model import Recommendation, Report
from .code import dask_fields, emit, summary, through_trampoline

# Builtins that consume a whole iterable, so an eager list of results can stand in for a
# lazy generator (any/all/next stop early and are left alone).
CONSUMERS = frozenset({"sum", "min", "max", "list", "tuple", "set", "frozenset", "sorted"})
# Models whose workers may import the script: its module-level code must sit under a main guard.
NEEDS_MAIN_GUARD = frozenset({"processes", "joblib", "dask"})
REWRITABLE = frozenset({"threads", "processes", "asyncio", "joblib", "dask"})
# Nodes that evaluate a sub-expression lazily, conditionally or in another scope.
_NOT_DIRECT = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.IfExp,
               cst.BooleanOperation)

Builder = Callable[[Any], Any]


@dataclass(frozen=True)
class Site:
    line: int  # in the original script
    shape: str


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
    from .files import write_atomic

    for option, path, text in (("--emit", emit_path, done.text), ("--patch", patch_path, done.diff)):
        if path:
            try:
                write_atomic(path, text)
            except OSError as exc:
                raise UsageError(f"Cannot write {option} to {path}: {exc.strerror or exc}.") from None


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
    local = name.rpartition(".")[2]
    style = "star" if (f"pool.starmap({local}," in report.code or f"{local}(*x)" in report.code) else "single"
    dask_address = (report.dask or {}).get("scheduler")
    return rewrite_source(source, name, report.recommendation, script=script,
                          is_coroutine=report.target.is_coroutine, call_style=style,
                          dask_address=dask_address, emit_name=emit_name)


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
    if rec.executor in REWRITABLE and is_coroutine == (rec.executor == "asyncio"):
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
        tried = rec.executor in REWRITABLE and is_coroutine == (rec.executor == "asyncio")
        cause = (f"no call of it there has a loop shape paradvise rewrites{why}" if tried
                 else f"paradvise does not rewrite loops of {'coroutines' if is_coroutine else 'plain calls'} "
                      f"to {rec.executor}")
        raise UsageError(
            f"Cannot write --emit/--patch: {local} is defined inside {outer}(), so a separate module cannot "
            f"import it, and {cause}; use the code in the report inside {outer}() instead.")
    text = _standalone(rec, script, name, call_style, dask_address)
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
                dask_address: Optional[str]) -> str:
    module = Path(script).stem
    lines = [
        f"# paradvise: no call of {name} in {Path(script).name} is a loop shape paradvise rewrites in place",
        "# ([f(x) for x in xs], list(map(f, xs)), for x in xs: out.append(f(x)), sum(f(x) for x in xs),",
        "# await f(x) in a for loop), so this module maps it instead. Run it next to the script (or with",
        f"# the script's folder on PYTHONPATH) so that `import {module}` finds it, and fill in the items.",
    ]
    return "\n".join(lines) + "\n" + emit(rec, script, name, call_style, dask_address)


# -- the rewrite -------------------------------------------------------------------------------
def _rewrite_module(source: str, name: str, rec: Recommendation, is_async: bool,
                    dask_address: Optional[str]) -> Optional[tuple[str, list[Site], bool]]:
    outer, _, name = name.rpartition(".")
    where = tuple(outer.split(".")) if outer else ()
    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    used = {n.value for n in m.findall(module, m.Name())}
    finder = _Finder(name, is_async, used, where)
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
        text, needed = _helper_source(rec, name, helper, style, dask_address)
        if where:  # the function to map is in scope only where it is defined: pass it in
            text = text.replace(f"def {helper}(items", f"def {helper}({name}, items", 1)
            if rec.executor == "processes":  # and pickle cannot send it: workers inherit it
                text = through_trampoline(text, name, ".".join(where), helper)
        helpers.append(text)
        imports.extend(x for x in needed if x not in imports)
    comment = f"# paradvise: {summary(rec)}, as measured on this machine."
    new = _add_helpers(new, where[0] if where else name, helpers, comment)
    new = _add_imports(new, imports)
    return new.code, sorted(finder.sites, key=lambda s: s.line), guard


def _unique(used: set[str], *names: str) -> str:
    """The first of ``names`` the module does not use, else the last one made unique."""
    for candidate in (*names, f"_paradvise_{names[-1]}"):
        if candidate not in used:
            return candidate
    i = 2
    while f"_paradvise_{names[-1]}_{i}" in used:
        i += 1
    return f"_paradvise_{names[-1]}_{i}"


class _Finder(cst.CSTVisitor):
    """First pass: find the call sites with a known shape; record how to rebuild each one.

    ``builders`` maps ``id(original node)`` to a function from the updated node (children
    already rewritten) to its replacement, applied by ``_Apply`` in a second pass.
    """

    METADATA_DEPENDENCIES = (ScopeProvider, ParentNodeProvider, PositionProvider)

    def __init__(self, name: str, is_async: bool, used: set[str], where: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.name, self.is_async, self.used = name, is_async, used
        self.where = where  # the functions the target is defined in (outermost first); () at module level
        verb = "gather" if is_async else "map"
        self.helper_names = {"single": _unique(used, f"{verb}_{name}"), "star": _unique(used, f"star{verb}_{name}")}
        self.builders: dict[int, Builder] = {}
        self.sites: list[Site] = []
        self.styles: set[str] = set()
        self.top_level: set[int] = set()  # ids of module-level statements that hold a site
        self._inside_target = 0
        self._result_name: Optional[str] = None

    # -- bookkeeping
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == self.name:  # never map the target from inside itself
            self._inside_target += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if original_node.name.value == self.name:
            self._inside_target -= 1

    def _record(self, node: cst.CSTNode, shape: str, style: str, build: Builder) -> None:
        self.builders[id(node)] = build
        self.styles.add(style)
        self.sites.append(Site(self.get_metadata(PositionProvider, node).start.line, shape))
        top = node
        parent = self.get_metadata(ParentNodeProvider, top, None)
        while parent is not None and not isinstance(parent, cst.Module):
            top, parent = parent, self.get_metadata(ParentNodeProvider, parent, None)
        self.top_level.add(id(top))

    def _mapped(self, style: str, items: cst.BaseExpression) -> cst.BaseExpression:
        passed = [cst.Arg(cst.Name(self.name))] if self.where else []
        call = cst.Call(func=cst.Name(self.helper_names[style]), args=[*passed, cst.Arg(items)])
        return cst.Await(call) if self.is_async else call

    def _result(self) -> str:
        if self._result_name is None:
            self._result_name = _unique(self.used, "result", f"{self.name}_result")
        return self._result_name

    # -- name resolution
    def _global_target(self, node: cst.BaseExpression) -> bool:
        """``node`` is the name of the target, and means the target here: the module-level
        function, or for a target defined inside a function, the one bound in that function."""
        if not (isinstance(node, cst.Name) and node.value == self.name):
            return False
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        found = scope[node.value]
        return bool(found) and all(not isinstance(a, BuiltinAssignment) and _functions_of(a.scope) == self.where
                                   for a in found)

    def _builtin(self, node: cst.BaseExpression, names: frozenset[str] | set[str]) -> bool:
        if not (isinstance(node, cst.Name) and node.value in names):
            return False
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        found = scope[node.value]
        return bool(found) and all(isinstance(a, BuiltinAssignment) for a in found)

    def _target_call(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Call) and self._global_target(node.func)

    def _mentions_target(self, node: cst.CSTNode) -> bool:
        return any(self._global_target(n) for n in m.findall(node, m.Name(self.name)))

    # -- comprehensions: [f(x) for x in xs], {f(x) ...}, and generators in a consumer
    def _comprehension(self, comp: Any) -> Optional[tuple[str, Builder]]:
        if self._inside_target:
            return None
        elt = comp.elt
        awaited = isinstance(elt, cst.Await)
        call = elt.expression if awaited else elt
        if awaited != self.is_async or not self._target_call(call):
            return None
        style = _args_style(call.args)
        if style is None or any(self._mentions_target(a) for a in call.args) or \
                m.findall(comp.for_in, m.NamedExpr()) or self._mentions_target(comp.for_in):
            return None
        direct = (comp.for_in.inner_for_in is None and not comp.for_in.ifs and not comp.for_in.asynchronous
                  and _args_are_target(call.args, comp.for_in.target))

        def items(updated: Any) -> cst.BaseExpression:
            if direct:
                return updated.for_in.iter
            ucall = updated.elt.expression if awaited else updated.elt
            return cst.ListComp(elt=_item_expr(ucall.args), for_in=updated.for_in)

        return style, items

    def visit_ListComp(self, node: cst.ListComp) -> None:
        found = self._comprehension(node)
        if found:
            style, items = found
            self._record(node, "list comprehension", style,
                         lambda u: self._mapped(style, items(u)).with_changes(lpar=u.lpar, rpar=u.rpar))

    def visit_SetComp(self, node: cst.SetComp) -> None:
        found = self._comprehension(node)
        if found and not self.is_async:
            style, items = found
            self._record(node, "set comprehension", style, lambda u: cst.Call(
                func=cst.Name("set"), args=[cst.Arg(self._mapped(style, items(u)))], lpar=u.lpar, rpar=u.rpar))

    def visit_Call(self, node: cst.Call) -> None:
        """``sum(f(x) for x in xs)``, ``list(map(f, xs))`` and the like."""
        if self._inside_target or self.is_async or not self._builtin(node.func, CONSUMERS):
            return
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return
        first = node.args[0].value
        consumer = node.func.value  # type: ignore[attr-defined]
        if isinstance(first, cst.GeneratorExp):
            found, shape = self._comprehension(first), f"generator in {consumer}()"
        else:
            found, shape = self._map(first), f"map() in {consumer}()"
        if not found:
            return
        style, items = found
        alone = consumer == "list" and len(node.args) == 1

        def build(u: cst.Call) -> cst.BaseExpression:
            mapped = self._mapped(style, items(u.args[0].value))
            if alone:  # the helper returns a new list already
                return mapped.with_changes(lpar=u.lpar, rpar=u.rpar)
            return u.with_changes(args=[u.args[0].with_changes(value=mapped), *u.args[1:]])

        self._record(node, shape, style, build)

    def _map(self, node: cst.BaseExpression) -> Optional[tuple[str, Builder]]:
        if not (isinstance(node, cst.Call) and self._builtin(node.func, {"map"})):
            return None
        args = node.args
        if len(args) < 2 or any(a.keyword is not None or a.star for a in args) or \
                not self._global_target(args[0].value) or any(self._mentions_target(a) for a in args[1:]):
            return None
        if len(args) == 2:
            return "single", lambda u: u.args[1].value
        if not self._builtin_here(node, "zip"):
            return None
        return "star", lambda u: cst.Call(func=cst.Name("zip"), args=[cst.Arg(a.value) for a in u.args[1:]])

    def _builtin_here(self, node: cst.CSTNode, name: str) -> bool:
        scope = self.get_metadata(ScopeProvider, node, None)
        found = scope[name] if scope is not None else set()
        return not found or all(isinstance(a, BuiltinAssignment) for a in found)

    # -- for loops
    def visit_For(self, node: cst.For) -> None:
        if self._inside_target or node.orelse is not None or node.asynchronous is not None:
            return
        calls = [c for c in m.findall(node.body, m.Call(func=m.Name(self.name))) if self._target_call(c)]
        if len(calls) != 1 or self._mentions_target_elsewhere(node.body, calls[0]):
            return
        call = calls[0]
        style = _args_style(call.args)
        if style is None or not _args_are_target(call.args, node.target):
            return
        expr: cst.CSTNode = call
        parent = self.get_metadata(ParentNodeProvider, call)
        if isinstance(parent, cst.Await) != self.is_async:
            return
        if self.is_async:
            expr = parent
        small = self.get_metadata(ParentNodeProvider, expr)
        while not isinstance(small, cst.BaseSmallStatement):
            if isinstance(small, _NOT_DIRECT):
                return
            small = self.get_metadata(ParentNodeProvider, small)
        line = self.get_metadata(ParentNodeProvider, small)
        block = node.body
        lines = [block] if isinstance(block, cst.SimpleStatementSuite) else list(block.body)
        if not any(line is x for x in lines):
            return  # the call is inside a nested if/while/try/with: not made for every item
        if m.findall(node.body, m.Break() | m.Return() | m.Yield() | m.Global() | m.Nonlocal()):
            return
        if not self._loop_names_only_in(node.target, call):
            return
        smalls = [s for x in lines for s in (x.body if isinstance(x, (cst.SimpleStatementLine,
                                                                     cst.SimpleStatementSuite)) else [None])]
        footer_comments = isinstance(block, cst.IndentedBlock) and any(e.comment for e in block.footer)
        alone = len(smalls) == 1 and smalls[0] is small and not footer_comments
        if alone and isinstance(small, cst.Expr) and small.value is expr:
            self._record(node, "await loop" if self.is_async else "for loop", style,
                         lambda u: _collapse(u, lambda s: s.with_changes(value=self._mapped(style, u.iter))))
            return
        if alone and _is_append_of(small, expr):
            def extend(u: cst.For) -> cst.SimpleStatementLine:
                def change(s: cst.Expr) -> cst.Expr:
                    append = s.value
                    return s.with_changes(value=append.with_changes(
                        func=append.func.with_changes(attr=cst.Name("extend")),
                        args=[append.args[0].with_changes(value=self._mapped(style, u.iter))]))
                return _collapse(u, change)

            self._record(node, "for loop with await" if self.is_async else "for loop appending", style, extend)
            return
        result = self._result()
        self.builders[id(expr)] = lambda u: cst.Name(result).with_changes(lpar=u.lpar, rpar=u.rpar)
        self._record(node, "for loop with await" if self.is_async else "for loop", style,
                     lambda u: u.with_changes(target=cst.Name(result), iter=self._mapped(style, u.iter)))

    def _mentions_target_elsewhere(self, body: cst.CSTNode, call: cst.Call) -> bool:
        """The target's name appears in the loop other than as the one call (passed around, say)."""
        names = [n for n in m.findall(body, m.Name(self.name)) if self._global_target(n)]
        return len(names) != 1 or names[0] is not call.func or any(self._mentions_target(a) for a in call.args)

    def _loop_names_only_in(self, target: cst.BaseAssignTargetExpression, call: cst.Call) -> bool:
        """Every read of the loop variables (in the loop, after it, in closures) is an argument of ``call``."""
        names = [target] if isinstance(target, cst.Name) else [e.value for e in getattr(target, "elements", [])]
        allowed = {id(a.value) for a in call.args}
        for name in names:
            if not isinstance(name, cst.Name):
                return False
            scope = self.get_metadata(ScopeProvider, name, None)
            if scope is None:
                return False
            mine = [a for a in scope.assignments[name.value] if getattr(a, "node", None) is name]
            if not mine:
                return False
            for assignment in mine:
                if any(id(ref.node) not in allowed for ref in assignment.references):
                    return False
        return True


def _functions_of(scope: Any) -> Optional[tuple[str, ...]]:
    """The names of the functions a scope is nested in, outermost first: () for the module,
    None for a scope inside a class, lambda or comprehension."""
    names: list[str] = []
    while not isinstance(scope, GlobalScope):
        if not (isinstance(scope, FunctionScope) and isinstance(scope.node, cst.FunctionDef)):
            return None
        names.append(scope.node.name.value)
        scope = scope.parent
    return tuple(reversed(names))


class _Apply(cst.CSTTransformer):
    """Second pass: replace each recorded node, innermost first."""

    def __init__(self, builders: dict[int, Builder]) -> None:
        super().__init__()
        self.builders = builders

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        build = self.builders.get(id(original_node))
        return build(updated_node) if build else updated_node


def _args_style(args: Any) -> Optional[str]:
    """"single" for f(a), "star" for f(a, b) or f(*a); None for keywords, ** or no arguments."""
    if not args or any(a.keyword is not None or a.star == "**" for a in args):
        return None
    if len(args) == 1:
        return "star" if args[0].star == "*" else "single"
    return None if any(a.star for a in args) else "star"


def _args_are_target(args: Any, target: cst.CSTNode) -> bool:
    """The call passes exactly the loop variables: f(x) or f(*x) for x, f(a, b) for a, b."""
    if isinstance(target, cst.Name):
        return len(args) == 1 and isinstance(args[0].value, cst.Name) and args[0].value.value == target.value
    elements = getattr(target, "elements", None)
    if not elements or not isinstance(target, (cst.Tuple, cst.List)) or len(elements) != len(args):
        return False
    return all(isinstance(e, cst.Element) and isinstance(e.value, cst.Name) and not a.star
               and isinstance(a.value, cst.Name) and a.value.value == e.value.value for e, a in zip(elements, args))


def _item_expr(args: Any) -> cst.BaseExpression:
    """What one item of the mapped sequence is, for the call's arguments."""
    if len(args) == 1:
        return args[0].value
    return cst.Tuple(elements=[cst.Element(a.value) for a in args])


def _is_append_of(small: cst.BaseSmallStatement, expr: cst.CSTNode) -> bool:
    return (isinstance(small, cst.Expr) and isinstance(small.value, cst.Call)
            and isinstance(small.value.func, cst.Attribute) and small.value.func.attr.value == "append"
            and len(small.value.args) == 1 and small.value.args[0].keyword is None
            and not small.value.args[0].star and small.value.args[0].value is expr)


def _collapse(loop: cst.For, change: Callable[[Any], Any]) -> cst.SimpleStatementLine:
    """A loop whose body is one simple statement becomes that statement, changed; comments kept."""
    block = loop.body
    leading = list(loop.leading_lines)
    if isinstance(block, cst.SimpleStatementSuite):
        inner, trailing = block.body[0], block.trailing_whitespace
    else:
        line = block.body[0]
        inner, trailing = line.body[0], line.trailing_whitespace
        leading += list(line.leading_lines)
        header = block.header
        if header.comment is not None:
            if trailing.comment is None:
                trailing = header
            else:
                leading.append(cst.EmptyLine(comment=header.comment))
    return cst.SimpleStatementLine(body=[change(inner).with_changes(semicolon=cst.MaybeSentinel.DEFAULT)],
                                   leading_lines=leading, trailing_whitespace=trailing)


# -- module-level additions -----------------------------------------------------------------
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
def _helper_source(rec: Recommendation, name: str, helper: str, style: str,
                   dask_address: Optional[str]) -> tuple[str, list[str]]:
    star = style == "star"
    call = f"{name}(*x)" if star else f"{name}(x)"
    workers, chunksize = rec.workers, rec.chunksize or 1
    if rec.executor == "processes":
        method = "starmap" if star else "map"
        return (f'''def {helper}(items):
    context = multiprocessing.get_context("{rec.start_method or 'fork'}")
    with context.Pool(processes={workers}) as pool:
        return pool.{method}({name}, items, chunksize={chunksize})
''', ["import multiprocessing"])
    if rec.executor == "threads" and chunksize > 1:
        return (f'''def {helper}(items, chunksize={chunksize}):
    def run_chunk(chunk):
        return [{call} for x in chunk]

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return [result for part in pool.map(run_chunk, chunks) for result in part]
''', ["from concurrent.futures import ThreadPoolExecutor"])
    if rec.executor == "threads":
        fn = f"lambda x: {call}" if star else name
        return (f'''def {helper}(items):
    with ThreadPoolExecutor(max_workers={workers}) as pool:
        return list(pool.map({fn}, items))
''', ["from concurrent.futures import ThreadPoolExecutor"])
    if rec.executor == "asyncio":
        return (f'''async def {helper}(items):
    gate = asyncio.Semaphore({workers})  # at most {workers} awaiting at once

    async def bounded(x):
        async with gate:
            return await {call}

    return await asyncio.gather(*(bounded(x) for x in items))
''', ["import asyncio"])
    if rec.executor == "joblib":
        batch = rec.chunksize if rec.chunksize else '"auto"'
        args = "*x" if star else "x"
        return (f'''def {helper}(items):
    return Parallel(n_jobs={workers}, backend="loky", batch_size={batch})(delayed({name})({args}) for x in items)
''', ["from joblib import Parallel, delayed"])
    if rec.executor == "dask":
        fields = dask_fields(workers, dask_address)
        fn = f"lambda x: {call}" if star else name
        if chunksize > 1:
            return (f'''def {helper}(items, chunksize={chunksize}):
    def run_chunk(chunk):
        return [{call} for x in chunk]

    items = list(items)
    chunks = [items[i:i + chunksize] for i in range(0, len(items), chunksize)]
    {fields["dask_with"]}
        parts = client.gather(client.map(run_chunk, chunks, pure=False))
    return [result for part in parts for result in part]
''', [fields["dask_import"]])
        return (f'''def {helper}(items):
    {fields["dask_with"]}
        return client.gather(client.map({fn}, list(items), pure=False))
''', [fields["dask_import"]])
    raise ValueError(f"no in-place rewrite for {rec.executor}")


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return Path(a).resolve() == Path(b).resolve()
