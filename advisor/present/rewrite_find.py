"""``--emit``, first pass: the call sites of the target that have a shape paradvise rewrites.

``Finder`` visits the script's concrete syntax tree once and records, for each call site
of one of the shapes listed in ``present/rewrite.py``, how to rebuild it from its
(already rewritten) node; ``rewrite.Apply`` does the rebuilding in a second pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import libcst as cst
import libcst.matchers as m
from libcst.metadata import (
    BuiltinAssignment,
    FunctionScope,
    GlobalScope,
    ParentNodeProvider,
    PositionProvider,
    ScopeProvider,
)

# Builtins that consume a whole iterable, so an eager list of results can stand in for a
# lazy generator (any/all/next stop early and are left alone).
CONSUMERS = frozenset({"sum", "min", "max", "list", "tuple", "set", "frozenset", "sorted"})
# Nodes that evaluate a sub-expression lazily, conditionally or in another scope.
_NOT_DIRECT = (cst.Lambda, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp, cst.IfExp,
               cst.BooleanOperation)

Builder = Callable[[Any], Any]


@dataclass(frozen=True)
class Site:
    line: int  # in the original script
    shape: str


def unique_name(used: set[str], *names: str) -> str:
    """The first of ``names`` the module does not use, else the last one made unique."""
    for candidate in (*names, f"_paradvise_{names[-1]}"):
        if candidate not in used:
            return candidate
    i = 2
    while f"_paradvise_{names[-1]}_{i}" in used:
        i += 1
    return f"_paradvise_{names[-1]}_{i}"


class Finder(cst.CSTVisitor):
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
        self.helper_names = {"single": unique_name(used, f"{verb}_{name}"),
                             "star": unique_name(used, f"star{verb}_{name}")}
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
            self._result_name = unique_name(self.used, "result", f"{self.name}_result")
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
