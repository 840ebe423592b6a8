"""Recorded calls become the items the sweep maps over."""
from __future__ import annotations

from advisor.capture import Recorder
from advisor.sweep.items import call_style, items_from_calls


def record(fn, argument_lists):
    recorder = Recorder()
    wrapped = recorder.wrap(fn)
    for args in argument_lists:
        wrapped(*args)
    return recorder.calls


def test_unchanged_arguments_are_the_scripts_own_objects():
    kinds = ["click", "view"]
    events = [(kinds[i % 2], i) for i in range(6)]
    calls = record(lambda event: event[1], [(e,) for e in events])
    items = items_from_calls(calls, call_style(calls))
    assert items == events
    assert all(a is b for a, b in zip(items, events))  # sharing kept: one "click" string, not six


def test_arguments_changed_after_the_call_come_from_the_snapshot():
    rows = [[3, 1, 2], [9, 8]]
    calls = record(lambda row: row.sort(), [(r,) for r in rows])  # sorts its argument in place
    items = items_from_calls(calls, call_style(calls))
    assert items == [[3, 1, 2], [9, 8]]  # as they were when the loop called the function
    assert rows == [[1, 2, 3], [8, 9]]


def test_mutable_arguments_left_alone_are_not_copied():
    rows = [[1, 2], [3]]
    calls = record(lambda row: sum(row), [(r,) for r in rows])
    items = items_from_calls(calls, call_style(calls))
    assert items[0] is rows[0] and items[1] is rows[1]


def test_several_arguments_map_as_args_kwargs_pairs():
    calls = record(lambda a, b=0: a + b, [(1,), (2,)])
    calls[1].kwargs = {"b": 5}
    calls[1].args_pickle = None
    assert call_style(calls) == "star"
    assert items_from_calls(calls, "star") == [((1,), {}), ((2,), {"b": 5})]
