"""The loop's body as the unit of work, where the target's own result is not the loop's output.

A loop like::

    for seed in seeds:
        random.seed(seed)
        world = World(50, 50)
        world.run(steps)              # the hot call: its result is dropped
        results.append(world.census())

spends its time in ``World.run``, but replaying ``run`` alone cannot give the loop's output:
run works on its instance, which a worker process would change in a copy. The unit to hand
out is the whole iteration, whose input is the loop variable and whose output is the one
value it appends. Where the body has that shape (the hot call unconditional and its result
dropped, ``append``s to lists as its last statements and only output, no name it sets read
outside the loop, no ``break``, ``continue``, ``return`` or ``yield``, nothing from outside it
changed in place), paradvise makes the body a function of the loop variable and measures that::

    def main_loop_body(seed):
        random.seed(seed)
        ...
        return world.census()

    for seed in seeds:
        results.append(main_loop_body(seed))

A body that appends to several lists returns a tuple of their values, and the loop runs
over the function's results: ``for a_item, b_item in [f(x) for x in xs]:``, then appends each.

The function goes at module level when the body reads no local of the function around the
loop, and inside that function (a closure) when it does. The measuring runs make the change
on the AST (``extract_tree``: line numbers stay as written); ``--emit`` makes the same change
in the text (``present/loop_body_text.py``), keeping the body's lines as written.
"""
from __future__ import annotations

import ast
import copy
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Optional, Union

from .body_function import (
    Scope,
    as_load,
    function_of,
    indent_of,
    insert_point,
)

# Methods that change the object they are called on: called on something from outside the
# body, they are an output of the loop that worker processes would make in copies.
MUTATING_METHODS = frozenset((
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard",
    "clear", "sort", "reverse", "appendleft", "extendleft", "popleft", "rotate", "write", "writelines",
    "put", "put_nowait", "send"))
NOT_IN_BODY = (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal, ast.FunctionDef,
               ast.AsyncFunctionDef, ast.ClassDef, ast.AsyncFor, ast.AsyncWith)


@dataclass(frozen=True)
class LoopBody:
    """A loop body paradvise measures as a function (see the module docstring)."""

    name: str  # its display name: ``main_loop_body``, or ``main.main_loop_body`` when nested
    calls: str  # the target it calls and whose result it drops: ``WaTor.run``
    loop_line: int  # the ``for`` statement's line
    scope: str  # the function the loop is in (``main``), "" at module level
    nested: bool  # defined inside ``scope`` (it reads its locals), not at module level
    # "for": a for statement's body; "comprehension": a list comprehension's element
    # (loop_comprehension.py), at ``column`` of ``loop_line``.
    kind: str = "for"
    column: int = 0
    # The appends the body ends with, one per list it fills; with several, the function
    # returns a tuple of their values and the loop appends each (see extract_tree).
    outputs: int = 1

    @property
    def function_name(self) -> str:
        return self.name.rpartition(".")[2]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LoopBody":
        return cls(**data)


def find(tree: ast.Module, source: str, target: str, call_line: int) -> Optional[LoopBody]:
    """The loop body to measure instead of ``target`` (display name) called at ``call_line``, if any."""
    local = target.rpartition(":")[2].rpartition(".")[2]
    for scope, path, loop in _loops(tree):
        if loop.lineno <= call_line <= (loop.end_lineno or loop.lineno) and _calls_and_drops(loop, local, call_line):
            return _qualify(tree, source, scope, path, loop, target, used_names(tree))
    return None


def candidates(tree: ast.Module, source: str) -> list[LoopBody]:
    """Every loop whose body has the shape ``find`` accepts, whatever it calls: for a script
    whose loop calls no function of its own (``out.append(zlib.compress(b))``), the locate
    pass counts these bodies as the script's functions and finds the one that dominates."""
    from .loop_comprehension import element_candidates

    taken = used_names(tree)
    found = []
    for scope, path, loop in _loops(tree):
        body = _qualify(tree, source, scope, path, loop, "", taken, shortest=1)
        if body is not None:
            taken.add(body.function_name)
            found.append(body)
    return found + element_candidates(tree, taken)


def extract_tree(tree: ast.Module, body: LoopBody) -> ast.Module:
    """A copy of ``tree`` with the loop at ``body.loop_line`` calling ``body``'s function."""
    if body.kind == "comprehension":
        from .loop_comprehension import extract_element

        return extract_element(tree, body)
    tree = copy.deepcopy(tree)
    for scope, _, loop in _loops(tree):
        if loop.lineno != body.loop_line:
            continue
        function = _body_function(loop, body.function_name, body.outputs)
        call = ast.Call(ast.Name(body.function_name, ast.Load()), [as_load(loop.target)], [])
        appends = loop.body[-body.outputs:]
        if body.outputs == 1:
            appends[0].value.args = [ast.copy_location(call, appends[0].value.args[0])]  # type: ignore[attr-defined]
        else:
            # for a_item, b_item in [f(x) for x in xs]: a.append(a_item); b.append(b_item)
            names = output_names(appends, used_names(tree))
            comp = ast.comprehension(loop.target, loop.iter, [], 0)
            loop.iter = ast.copy_location(ast.ListComp(ast.copy_location(call, loop.iter), [comp]), loop.iter)
            loop.target = ast.copy_location(ast.Tuple([ast.Name(n, ast.Store()) for n in names], ast.Store()),
                                            loop.target)
            for append, name in zip(appends, names):
                append.value.args = [ast.copy_location(ast.Name(name, ast.Load()), append)]  # type: ignore[attr-defined]
        loop.body = appends
        holder, position = insert_point(tree, scope, loop, body.nested)
        holder.insert(position, function)
        return ast.fix_missing_locations(tree)
    raise ValueError(f"no loop at line {body.loop_line}")


def loop_at(tree: ast.Module, body: LoopBody) -> ast.For:
    for _, _, loop in _loops(tree):
        if loop.lineno == body.loop_line:
            return loop
    raise ValueError(f"no loop at line {body.loop_line}")


# -- finding the loop ---------------------------------------------------------------------
def _loops(tree: ast.Module) -> Iterator[tuple[Scope, tuple[str, ...], ast.For]]:
    """Every ``for`` loop with the function it is in (the module at top level) and that
    function's path of names (``("main",)``; empty at module level)."""

    def walk(node: ast.AST, scope: Scope, path: tuple[str, ...]) -> Iterator[tuple[Scope, tuple[str, ...], ast.For]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from walk(child, child, (*path, child.name))
            elif isinstance(child, (ast.ClassDef, ast.Lambda)):
                continue  # a class body is no scope a body function can close over
            else:
                if isinstance(child, ast.For):
                    yield scope, path, child
                yield from walk(child, scope, path)

    return walk(tree, tree, ())


def _calls_and_drops(loop: ast.For, local: str, call_line: int) -> bool:
    """Whether a statement of the loop's own body is just the call of ``local`` at ``call_line``."""
    for stmt in loop.body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            named = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if named == local and stmt.lineno <= call_line <= (stmt.end_lineno or stmt.lineno):
                return True
    return False


def _qualify(tree: ast.Module, source: str, scope: Scope, path: tuple[str, ...], loop: ast.For,
             target: str, taken: set[str], shortest: int = 2) -> Optional[LoopBody]:
    """The body as a LoopBody if it has the module docstring's shape (``shortest``: the
    fewest statements, the append included), named apart from the ``taken`` names."""
    if loop.orelse or len(loop.body) < shortest or loop.body[0].lineno == loop.lineno:
        return None
    loop_vars = flat_names(loop.target)
    receivers = _trailing_receivers(loop.body)
    if loop_vars is None or not receivers:
        return None
    tail = loop.body[-len(receivers) - 1:]  # the appends, and the statement before them
    if any(later.lineno <= (earlier.end_lineno or 0) for earlier, later in zip(tail, tail[1:])):
        return None  # an append sharing a line (``a; b.append(a)``) cannot be moved line by line
    if not _plain_body(loop.body):
        return None
    stores, loads = _names(loop.body)
    if stores & set(loop_vars) or set(receivers) & stores or any(loads.count(r) != 1 for r in receivers):
        return None
    if stores & _names_outside(scope, loop):  # the loop itself still binds its variables
        return None
    if _changes_outside(loop.body, stores, _module_imports(tree), len(receivers)):
        return None
    if isinstance(scope, ast.Module):
        reads_locals = False
    else:
        enclosing_locals = locals_of(scope)
        free = set(loads) - stores - set(loop_vars) - set(receivers)
        reads_locals = bool(free & enclosing_locals) or len(path) > 1
    nested = reads_locals or not _reindentable(source, loop)
    name = unique(f"{path[-1]}_loop_body" if path else "loop_body", taken)
    shown = ".".join((*path, name)) if nested else name
    return LoopBody(shown, target, loop.lineno, ".".join(path), nested, outputs=len(receivers))


def flat_names(target: ast.expr) -> Optional[list[str]]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


def _trailing_receivers(body: list[ast.stmt]) -> list[str]:
    """The lists the body's last statements append to, in order (``a.append(x); b.append(y)``:
    a, b), each once; empty when the body does not end with an append."""
    receivers: list[str] = []
    for stmt in reversed(body):
        receiver = _append_receiver(stmt)
        if receiver is None or receiver in receivers:
            break
        receivers.insert(0, receiver)
    return receivers


def output_names(appends: list[ast.stmt], taken: set[str]) -> list[str]:
    """A name per appended value, for the loop over the function's tuples: ``a_item``."""
    names: list[str] = []
    for stmt in appends:
        names.append(unique(f"{_append_receiver(stmt)}_item", taken | set(names)))
    return names


def _append_receiver(stmt: ast.stmt) -> Optional[str]:
    """``out`` for the statement ``out.append(value)``."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    call = stmt.value
    func = call.func
    if (isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name)
            and len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred)):
        return func.value.id
    return None


def _plain_body(body: list[ast.stmt]) -> bool:
    """No statement that leaves or suspends the iteration, or defines something in it; a
    ``break``/``continue`` only inside a loop of its own."""

    def ok(node: ast.AST, in_loop: bool) -> bool:
        if isinstance(node, NOT_IN_BODY) or (isinstance(node, (ast.Break, ast.Continue)) and not in_loop):
            return False
        inner = in_loop or isinstance(node, (ast.For, ast.While))
        return all(ok(child, inner) for child in ast.iter_child_nodes(node))

    return all(ok(stmt, False) for stmt in body)


def _names(body: list[ast.stmt]) -> tuple[set[str], list[str]]:
    """Names the body binds (comprehension variables aside: they are the comprehension's
    own) and every name it reads, as often as it reads it."""
    stores: set[str] = set()
    loads: list[str] = []
    own: set[int] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.comprehension):
                own.update(id(n) for n in ast.walk(node.target))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                stores.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                stores.update((a.asname or a.name).partition(".")[0] for a in node.names)
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and id(node) not in own:
                if isinstance(node.ctx, ast.Load):
                    loads.append(node.id)
                else:
                    stores.add(node.id)
    return stores, loads


def _names_outside(scope: Scope, loop: ast.For) -> set[str]:
    """Every name the scope mentions outside the loop (nested functions included)."""
    inside = {id(n) for n in ast.walk(loop)}
    found = set()
    for node in ast.walk(scope):
        if id(node) in inside:
            continue
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
    return found


def _module_imports(tree: ast.Module) -> set[str]:
    out = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).partition(".")[0] for a in node.names)
    return out


def _root(node: ast.expr) -> Optional[str]:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changes_outside(body: list[ast.stmt], stores: set[str], modules: set[str], outputs: int = 1) -> bool:
    """Whether the body changes in place an object it did not make: an item, a local of
    the function around it, a module global (a module's own functions aside). The last
    ``outputs`` statements are the appends that are the loop's output."""
    work = body[:len(body) - outputs]
    for stmt in body:
        for node in ast.walk(stmt):
            targets: list[ast.expr] = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = list(node.targets)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
                targets = [node.target]
            for target in targets:
                for part in ast.walk(target):
                    if isinstance(part, (ast.Attribute, ast.Subscript)) and isinstance(part.ctx, (ast.Store, ast.Del)):
                        if _root(part) not in stores:
                            return True
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_METHODS:
                root = _root(node.func.value)
                if root is not None and root not in stores and root not in modules and any(stmt is w for w in work):
                    return True
    return False


def locals_of(scope: Union[ast.FunctionDef, ast.AsyncFunctionDef]) -> set[str]:
    names = {a.arg for a in ast.walk(scope.args) if isinstance(a, ast.arg)}
    # A comprehension's variables are its own, not the function's.
    own = {id(n) for c in ast.walk(scope) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)}
    for node in ast.walk(scope):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and id(node) not in own:
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node is not scope:
            names.add(node.name)
    return names


def _reindentable(source: str, loop: ast.For) -> bool:
    """Whether the body's lines can move to module level: each starts with its indentation
    (a multi-line string that does not would change if re-indented)."""
    lines = source.splitlines()
    inner = indent_of(lines[loop.body[0].lineno - 1])
    return all(not line.strip() or line.startswith(inner)
               for line in lines[loop.body[0].lineno - 1:loop.body[-1].end_lineno or loop.body[-1].lineno])


def used_names(tree: ast.Module) -> set[str]:
    return ({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            | {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))})


def unique(base: str, used: set[str]) -> str:
    name, n = base, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    return name


# -- making the function --------------------------------------------------------------------
def _body_function(loop: ast.For, name: str, outputs: int = 1) -> ast.FunctionDef:
    work, appends = loop.body[:-outputs], loop.body[-outputs:]
    values = [a.value.args[0] for a in appends]  # type: ignore[attr-defined]
    value = values[0] if outputs == 1 else ast.copy_location(ast.Tuple(values, ast.Load()), appends[0])
    returned = ast.copy_location(ast.Return(value), appends[0])
    return function_of(name, loop.target, [*work, returned], loop)
