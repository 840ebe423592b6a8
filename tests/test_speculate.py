"""The count run's guess of the loop from the script's text, and the check it adds after it."""
from __future__ import annotations

import ast
import textwrap
from typing import Optional

from advisor.measure.speculate import LOOP_DONE, Guess, guess_target, with_check
from advisor.measure.user_script import top_level_functions


def guess(source: str) -> Optional[Guess]:
    source = textwrap.dedent(source)
    tree = ast.parse(source)
    return guess_target(tree, source, top_level_functions(tree))


def test_the_entry_points_loop_is_guessed_not_the_setup_loop_it_calls() -> None:
    found = guess("""
        def make(i):
            return i * 2
        def items(n):
            return [make(i) for i in range(n)]
        def score(x):
            return x + 1
        def main():
            xs = items(10)
            results = [score(x) for x in xs]
            print(results)
        if __name__ == "__main__":
            main()
    """)
    assert found is not None and found.function == "score"
    assert found.after_line == found.call_line == 10


def test_a_for_loop_is_followed_from_its_last_line() -> None:
    found = guess("""
        def score(x):
            return x + 1
        out = {}
        for x in range(5):
            out[x] = score(x)
        print(out)
    """)
    assert found == Guess("score", 6, 5, 6)


def test_no_guess_where_the_text_leaves_the_loop_unclear() -> None:
    two_loops = """
        def a(x): return x
        def b(x): return x
        def main():
            r = [a(x) for x in range(3)]
            s = [b(x) for x in range(3)]
        main()
    """
    mentioned_twice = """
        def a(x): return x
        def main():
            a(0)
            return [a(x) for x in range(3)]
        main()
    """
    returned = """
        def a(x): return x
        def main():
            return [a(x) for x in range(3)]
        main()
    """
    dropped = """
        def a(x): return x
        def main():
            out = []
            for x in range(3):
                a(x)
                out.append(x)
        main()
    """
    per_item = """
        def a(x): return x
        def per_item(x):
            return [a(y) for y in range(x)]
        def main():
            for x in range(3):
                print(per_item(x))
        main()
    """
    assert guess(two_loops) is None
    assert guess(mentioned_twice) is None
    assert guess(returned) is None
    assert guess(dropped) is None  # its loop's body is measured instead (loop_body.py)
    found = guess(per_item)  # the loop of the entry point, not the one inside each item
    assert found is not None and found.function == "per_item"


def test_the_check_runs_once_right_after_the_loop() -> None:
    source = textwrap.dedent("""
        def score(x):
            seen.append(("call", x))
            return x
        seen = []
        def main():
            if True:
                results = [score(x) for x in range(3)]
            seen.append(("after", None))
        main()
    """)
    tree = ast.parse(source)
    found = guess_target(tree, source, top_level_functions(tree))
    assert found is not None
    events: list[object] = []
    namespace = {LOOP_DONE: lambda: events.append(list(namespace["seen"]))}
    exec(compile(with_check(tree, found), "<script>", "exec"), namespace)
    assert events == [[("call", 0), ("call", 1), ("call", 2)]]
    assert namespace["seen"][-1] == ("after", None)


def test_closures_are_guessed_by_their_display_names() -> None:
    nested = guess("""
        def main():
            weights = [1, 2]
            def score(x):
                return x * weights[0]
            return_value = [score(x) for x in range(4)]
            print(return_value)
        main()
    """)
    assert nested is not None and nested.function == "main.score"
    made = guess("""
        def make_pricer(rate):
            def price(x):
                return x * rate
            return price
        def bench_call(x):  # never run by the script: not a use
            price = make_pricer(2)
            return price(x)
        def main():
            price = make_pricer(1.5)
            print([price(x) for x in range(4)])
        main()
    """)
    assert made is not None and made.function == "make_pricer.price"


def test_the_functions_a_guess_reaches_are_named_to_run_uncounted() -> None:
    found = guess("""
        from helpers import clean
        import math
        def _inner(x):
            return math.sqrt(x)
        def score(x):
            return _inner(clean(x))
        def unrelated(x):
            return x
        def main():
            print([score(x) for x in range(3)], unrelated(1))
        main()
    """)
    assert found is not None and found.function == "score"
    assert set(found.inside) == {"_inner", "clean", "math"}
