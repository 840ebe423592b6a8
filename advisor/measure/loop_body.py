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
dropped, one ``append`` to a list as its last statement and only output, no name it sets read
outside the loop, no ``break``, ``continue``, ``return`` or ``yield``, nothing from outside it
changed in place), paradvise makes the body a function of the loop variable and measures that::

    def main_loop_body(seed):
        random.seed(seed)
        ...
        return world.census()

    for seed in seeds:
        results.append(main_loop_body(seed))

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

Scope = Union[ast.Module, ast.FunctionDef, ast.AsyncFunctionDef]

# Methods that change the object they are called on: called on something from outside the
# body, they are an output of the loop that worker processes would make in copies.
MUTATING_METHODS = frozenset((
    "append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard",
    "clear", "sort", "reverse", "appendleft", "extendleft", "popleft", "rotate", "write", "writelines",
    "put", "put_nowait", "send"))
NOT_IN_BODY = (ast.Return, ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal, ast.FunctionDef,
               ast.AsyncFunctionDef, ast.ClassDef, ast.AsyncFor, ast.AsyncWith)
TUPLE_PARAMETER = "loop_item"


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
        function = _body_function(loop, body.function_name)
        append = loop.body[-1]
        call = ast.Call(ast.Name(body.function_name, ast.Load()), [as_load(loop.target)], [])
        append.value.args = [ast.copy_location(call, append.value.args[0])]  # type: ignore[attr-defined]
        loop.body = [append]
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
    receiver = _append_receiver(loop.body[-1])
    if loop_vars is None or receiver is None:
        return None
    if len(loop.body) > 1 and loop.body[-1].lineno <= (loop.body[-2].end_lineno or 0):
        return None
    if not _plain_body(loop.body):
        return None
    stores, loads = _names(loop.body)
    if stores & set(loop_vars) or receiver in stores or loads.count(receiver) != 1:
        return None
    if stores & _names_outside(scope, loop):  # the loop itself still binds its variables
        return None
    if _changes_outside(loop.body, stores, _module_imports(tree)):
        return None
    if isinstance(scope, ast.Module):
        reads_locals = False
    else:
        enclosing_locals = locals_of(scope)
        free = set(loads) - stores - set(loop_vars) - {receiver}
        reads_locals = bool(free & enclosing_locals) or len(path) > 1
    nested = reads_locals or not _reindentable(source, loop)
    name = unique(f"{path[-1]}_loop_body" if path else "loop_body", taken)
    shown = ".".join((*path, name)) if nested else name
    return LoopBody(shown, target, loop.lineno, ".".join(path), nested)


def flat_names(target: ast.expr) -> Optional[list[str]]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts):
        return [e.id for e in target.elts]  # type: ignore[attr-defined]
    return None


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


def _changes_outside(body: list[ast.stmt], stores: set[str], modules: set[str]) -> bool:
    """Whether the body changes in place an object it did not make: an item, a local of
    the function around it, a module global (a module's own functions aside)."""
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
                if root is not None and root not in stores and root not in modules and stmt is not body[-1]:
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
def _body_function(loop: ast.For, name: str) -> ast.FunctionDef:
    *work, append = loop.body
    returned = ast.copy_location(ast.Return(append.value.args[0]), append)  # type: ignore[attr-defined]
    return function_of(name, loop.target, [*work, returned], loop)


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
