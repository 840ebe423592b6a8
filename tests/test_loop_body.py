"""The loop body made a function (measure/loop_body.py): which loops qualify, and that the
change, on the AST and in the text, leaves what the script prints as it was."""
from __future__ import annotations

import ast
import contextlib
import io
import random
import textwrap
from pathlib import Path
from typing import Optional

import pytest

from advisor.measure import loop_body, state
from advisor.present import loop_body_text
from advisor.present.code import with_body_function
from advisor.sweep.checks import _reset_by_each_call

WORLDS = textwrap.dedent('''\
    import random


    class World:
        def __init__(self, size):
            self.cells = [random.randint(0, 9) for _ in range(size)]

        def run(self, steps):
            for _ in range(steps):
                i = random.randrange(len(self.cells))
                self.cells[i] = (self.cells[i] + random.randint(1, 3)) % 10


    def main():
        seeds = range(6)
        results = []
        for seed in seeds:
            random.seed(seed)
            world = World(50)
            world.run(200)  # the hot call: its result is dropped
            results.append(sum(world.cells))
        print(results)


    main()
''')


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def found(source: str, call: str = "world.run(", target: str = "World.run") -> Optional[loop_body.LoopBody]:
    return loop_body.find(ast.parse(source), source, target, line_of(source, call))


def printed(code: object) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, {"__name__": "__main__"})  # noqa: S102 - the test's own scripts
    return out.getvalue()


def test_a_body_around_a_dropped_call_is_made_a_module_level_function() -> None:
    body = found(WORLDS)
    assert body is not None
    assert (body.name, body.calls, body.scope, body.nested) == ("main_loop_body", "World.run", "main", False)
    assert body.loop_line == line_of(WORLDS, "for seed in seeds")


def test_the_changed_script_prints_what_the_original_does() -> None:
    body = found(WORLDS)
    tree = ast.parse(WORLDS)
    expected = printed(compile(WORLDS, "worlds.py", "exec"))
    assert printed(compile(loop_body.extract_tree(tree, body), "worlds.py", "exec")) == expected
    text = loop_body_text.extract_source(WORLDS, tree, body)
    assert printed(compile(text, "worlds.py", "exec")) == expected
    assert "def main_loop_body(seed):\n    random.seed(seed)\n" in text
    assert "        results.append(main_loop_body(seed))\n" in text
    assert "# the hot call: its result is dropped" in text  # the body's lines as written
    assert loop_body_text.function_source(WORLDS, tree, body).startswith("def main_loop_body(seed):\n")


def test_the_ast_change_keeps_the_body_lines_numbers() -> None:
    body = found(WORLDS)
    changed = loop_body.extract_tree(ast.parse(WORLDS), body)
    function = next(n for n in ast.walk(changed) if isinstance(n, ast.FunctionDef) and n.name == "main_loop_body")
    assert function.body[0].lineno == line_of(WORLDS, "random.seed(seed)")


def test_a_body_reading_a_local_is_defined_beside_the_loop() -> None:
    source = WORLDS.replace("    seeds = range(6)\n", "    seeds = range(6)\n    steps = 200\n").replace(
        "world.run(200)", "world.run(steps)")
    body = found(source)
    assert body is not None and body.nested and body.name == "main.main_loop_body"
    expected = printed(compile(source, "w.py", "exec"))
    tree = ast.parse(source)
    assert printed(compile(loop_body.extract_tree(tree, body), "w.py", "exec")) == expected
    text = loop_body_text.extract_source(source, tree, body)
    assert "    def main_loop_body(seed):\n" in text
    assert printed(compile(text, "w.py", "exec")) == expected


def test_a_tuple_loop_variable_becomes_one_parameter_unpacked() -> None:
    source = WORLDS.replace("for seed in seeds:", "for n, seed in enumerate(seeds):").replace(
        "results.append(sum(world.cells))", "results.append((n, sum(world.cells)))")
    body = found(source)
    assert body is not None
    tree = ast.parse(source)
    text = loop_body_text.extract_source(source, tree, body)
    assert "def main_loop_body(loop_item):\n    n, seed = loop_item\n" in text
    assert printed(compile(text, "w.py", "exec")) == printed(compile(source, "w.py", "exec"))
    assert printed(compile(loop_body.extract_tree(tree, body), "w.py", "exec")) == printed(compile(source, "w.py", "exec"))


def test_a_body_filling_several_lists_returns_a_tuple_and_the_loop_appends_each() -> None:
    source = WORLDS.replace("    results = []\n", "    results = []\n    sizes = []\n").replace(
        "results.append(sum(world.cells))", "results.append(sum(world.cells))\n        sizes.append(len(world.cells))"
    ).replace("print(results)", "print(results, sizes)")
    body = found(source)
    assert body is not None and body.outputs == 2
    tree = ast.parse(source)
    expected = printed(compile(source, "w.py", "exec"))
    assert printed(compile(loop_body.extract_tree(tree, body), "w.py", "exec")) == expected
    text = loop_body_text.extract_source(source, tree, body)
    assert printed(compile(text, "w.py", "exec")) == expected
    assert "    return sum(world.cells), len(world.cells)\n" in text
    assert ("    for results_item, sizes_item in [main_loop_body(seed) for seed in seeds]:\n"
            "        results.append(results_item)\n        sizes.append(sizes_item)\n") in text
    # The same list twice, or a list the body reads, is no output of this shape.
    twice = source.replace("sizes.append(len(world.cells))", "results.append(len(world.cells))")
    assert found(twice) is None
    reads = source.replace("world = World(50)", "world = World(50 + len(sizes))")
    assert found(reads) is None


@pytest.mark.parametrize("change", [
    # the call's result is used: the function itself is the unit
    ("world.run(200)  # the hot call: its result is dropped", "done = world.run(200)"),
    # the loop carries a value from one iteration to the next
    ("results.append(sum(world.cells))", "total += 1\n        results.append(sum(world.cells))"),
    # it leaves early
    ("world = World(50)", "if seed == 3:\n            break\n        world = World(50)"),
    # it changes in place something it did not make
    ("world = World(50)", "seen[seed] = True\n        world = World(50)"),
    ("world = World(50)", "log.append(seed)\n        world = World(50)"),
    # something else than one append is its output
    ("results.append(sum(world.cells))", "results.append(sum(world.cells))\n        print(seed)"),
    # a name it sets is read after the loop
    ("    print(results)", "    print(results, world)"),
    # the call is not made in every iteration
    ("world.run(200)  # the hot call: its result is dropped", "if seed:\n            world.run(200)"),
])
def test_loops_that_are_not_such_a_unit_are_left_alone(change: tuple[str, str]) -> None:
    old, new = change
    source = WORLDS.replace("    results = []\n", "    results = []\n    total = 0\n    seen = {}\n    log = []\n"
                            ).replace(old, new)
    assert old in WORLDS
    assert found(source) is None


def test_a_loop_of_its_own_inside_the_body_may_break() -> None:
    source = WORLDS.replace("world = World(50)", "for k in range(3):\n            if k:\n                break\n"
                            "        world = World(50)")
    assert found(source) is not None


def test_a_restored_generator_stays_the_one_the_module_seeds() -> None:
    from random import randint

    namespace = {"randint": randint}
    random.seed(7)
    snap = state.snapshot(namespace)
    first = [randint(0, 99) for _ in range(3)]
    state.restore(namespace, snap)
    assert namespace["randint"].__self__ is random._inst  # not a copy of it
    assert [namespace["randint"](0, 99) for _ in range(3)] == first


def test_state_each_call_sets_afresh_is_told_from_state_that_accumulates() -> None:
    namespace: dict[str, object] = {"randint": random.randint, "count": 0, "cache": {}}

    def reseeds(item: int) -> int:
        random.seed(item)
        return random.randint(0, 9)

    def counts(item: int) -> int:
        namespace["count"] = int(namespace["count"]) + 1  # type: ignore[call-overload]
        return item

    def caches(item: int) -> int:
        namespace["cache"][item] = item * 2  # type: ignore[index]
        return item

    for fn, changed in ((reseeds, "randint"), (counts, "count"), (caches, "cache")):
        before = state.globals_digest(namespace)
        for item in range(4):
            fn(item)
        after = state.globals_digest(namespace)
        assert state.changed_globals(before, after) == [changed]
        kept = _reset_by_each_call([changed], after, namespace, fn, list(range(4)), False)
        assert kept == ([] if fn is counts else [changed])


def test_the_report_code_shows_the_function_in_place_of_an_import(tmp_path: Path) -> None:
    script = tmp_path / "worlds.py"
    script.write_text(WORLDS)
    body = found(WORLDS)
    code = "# paradvise: ...\nfrom worlds import main_loop_body\n\n\ndef map_main_loop_body(items):\n    ...\n"
    shown = with_body_function(code, body, script)
    assert "from worlds import main_loop_body" not in shown
    assert "def main_loop_body(seed):" in shown and "def map_main_loop_body(items):" in shown
    assert "It returns a tuple" not in shown
    # A body filling two lists: the code says the map gives a tuple per item.
    two = WORLDS.replace("    results = []\n", "    results = []\n    sizes = []\n").replace(
        "results.append(sum(world.cells))", "results.append(sum(world.cells))\n        sizes.append(len(world.cells))")
    script.write_text(two)
    shown = with_body_function(code, found(two), script)
    assert "return sum(world.cells), len(world.cells)" in shown and "It returns a tuple" in shown


LIBRARY_LOOPS = textwrap.dedent('''\
    import zlib

    blobs = [bytes([i]) * 1000 for i in range(5)]
    sizes = []
    for blob in blobs:
        sizes.append(len(zlib.compress(blob)))


    def main():
        packed = []
        for blob in blobs:
            data = blob * 2
            packed.append(zlib.compress(data))
        total = 0
        for blob in blobs:  # carries a sum: not a unit of its own
            total += len(blob)
        print(sizes, [len(p) for p in packed], total)


    main()
''')


def test_every_loop_of_the_shape_is_a_candidate_whatever_it_calls() -> None:
    tree = ast.parse(LIBRARY_LOOPS)
    found = [b for b in loop_body.candidates(tree, LIBRARY_LOOPS) if b.kind == "for"]
    assert [(b.name, b.calls, b.scope) for b in found] == [("loop_body", "", ""), ("main_loop_body", "", "main")]
    expected = printed(compile(LIBRARY_LOOPS, "lib.py", "exec"))
    changed = tree
    for body in found:  # as the count pass makes them, one after the other
        changed = loop_body.extract_tree(changed, body)
    assert printed(compile(changed, "lib.py", "exec")) == expected


COMPREHENSIONS = textwrap.dedent('''\
    import hashlib
    import zlib

    blobs = [bytes([i]) * 5000 for i in range(6)]
    sizes = [len(zlib.compress(b)) for b in blobs]


    def main(level=6):
        pairs = [(i, b) for i, b in enumerate(blobs)]
        digests = [hashlib.sha256(zlib.compress(b, level)).hexdigest()[:8] for b in blobs]
        named = [f"{i}:{len(zlib.compress(b))}" for i, b in pairs if i]
        bound = [zlib.compress(b, n) for b in blobs if (n := len(b) % 9)]
        print(sizes, digests, named, bound)


    main()
''')


def test_a_comprehension_of_library_calls_is_a_candidate_too() -> None:
    tree = ast.parse(COMPREHENSIONS)
    found = [b for b in loop_body.candidates(tree, COMPREHENSIONS) if b.kind == "comprehension"]
    # Not ``pairs`` (it calls nothing) nor ``bound`` (its ``if`` binds a name the element reads);
    # ``named``'s ``if`` clause stays in the comprehension, choosing the items.
    assert [(b.name, b.loop_line, b.nested) for b in found] == [
        ("loop_body", 4, False), ("loop_body_2", 5, False), ("main.main_loop_body", 10, True),
        ("main_loop_body_2", 11, False)]
    expected = printed(compile(COMPREHENSIONS, "c.py", "exec"))
    changed = tree
    for body in found:
        changed = loop_body.extract_tree(changed, body)
        text = loop_body_text.extract_source(COMPREHENSIONS, tree, body)
        assert printed(compile(text, "c.py", "exec")) == expected
    assert printed(compile(changed, "c.py", "exec")) == expected
    text = loop_body_text.extract_source(COMPREHENSIONS, tree, found[2])
    assert "    def main_loop_body(b):\n        return hashlib.sha256(zlib.compress(b, level))" in text
    assert "    digests = [main_loop_body(b) for b in blobs]\n" in text
    text = loop_body_text.extract_source(COMPREHENSIONS, tree, found[3])
    assert "def main_loop_body_2(loop_item):\n    i, b = loop_item\n" in text
    assert "    named = [main_loop_body_2((i, b)) for i, b in pairs if i]\n" in text
