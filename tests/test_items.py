"""Recorded calls become the items the sweep maps over."""
from __future__ import annotations

import threading

from advisor.measure.capture import Recorder
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


def test_call_counter_counts_outermost_calls_only():
    from advisor.measure.counting import CallCounter

    counter = CallCounter()
    holder = {}

    def fact(n):
        return 1 if n <= 1 else n * holder["f"](n - 1)

    holder["f"] = counter.wrap(fact)
    assert [holder["f"](5) for _ in range(3)] == [120] * 3
    assert counter.calls == 3 and counter.total_s > 0


def test_sampling_recorder_records_every_nth_call_and_always_the_last():
    finished = []
    recorder = Recorder(expected_calls=10, sample_every=4, sample_run=1, on_complete=finished.append)
    wrapped = recorder.wrap(lambda x: x * 2)
    assert [wrapped(i) for i in range(10)] == [i * 2 for i in range(10)]
    assert [c.args[0] for c in recorder.calls] == [0, 4, 8, 9]  # the last call runs the sweep
    assert recorder.seen == 10 and finished == [recorder]
    assert recorder.wall_total >= sum(c.wall for c in recorder.calls)


def test_sampling_recorder_counts_errors_of_calls_it_did_not_record():
    recorder = Recorder(sample_every=3, sample_run=1)

    def check(x):
        if x % 2:
            raise ValueError(x)
        return x

    wrapped = recorder.wrap(check)
    for i in range(6):
        try:
            wrapped(i)
        except ValueError:
            pass
    assert recorder.seen == 6 and recorder.errors_total == 3
    assert [c.args[0] for c in recorder.calls] == [0, 3]


def test_sampling_recorder_records_runs_of_neighbouring_calls():
    recorder = Recorder(expected_calls=40, sample_every=3, sample_run=4)
    wrapped = recorder.wrap(lambda x: x)
    for i in range(40):
        wrapped(i)
    assert [c.args[0] for c in recorder.calls] == [0, 1, 2, 3, 12, 13, 14, 15, 24, 25, 26, 27, 36, 37, 38, 39]


def test_count_differences_fast_path_and_careful_path_agree():
    from advisor.measure.equality import count_differences

    assert count_differences([1, "a", (2, 3)], [1, "a", (2, 3)]) == 0
    assert count_differences([1, 2], [1, 2.0]) == 1  # a float where an int was is a difference
    assert count_differences([float("nan")], [float("nan")]) == 0
    assert count_differences([1, 2, 3], [1, 5, 3]) == 1


def test_only_many_short_calls_are_sampled():
    from advisor.pipeline import sample_every

    assert sample_every(100, 1.0, 4.0) == 1  # few calls: record them all
    assert sample_every(10_000, 10.0, 40.0) == 1  # 1 ms each: recording costs little next to them
    step = sample_every(1_800_000, 1.5, 6.0)  # 0.8 us each
    assert step > 1 and 1_800_000 // step >= 1000


def test_floats_equal_up_to_summation_order_are_the_same_result():
    import numpy as np

    from advisor.measure.equality import count_differences, same

    assert same(0.1 + 0.2 + 0.3, 0.3 + 0.2 + 0.1)  # differ in the last bit
    assert not same(1.0, 1.0 + 1e-6)
    a = np.linspace(0, 1, 1000)
    assert same(a, a[::-1][::-1] * (1 + 1e-13)) and not same(a, a + 1e-6)
    assert count_differences([0.1 + 0.2 + 0.3], [0.3 + 0.2 + 0.1]) == 0


def test_the_scripts_other_threads_at_the_first_call_are_noted_and_warned_about():
    from advisor.measure.measure_warnings import other_thread_warnings

    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, name="script-server", daemon=True)
    helper.start()
    try:
        recorder = Recorder()
        square = recorder.wrap(lambda x: x * x)
        assert [square(x) for x in range(3)] == [0, 1, 4]
    finally:
        stop.set()
        helper.join()
    assert "script-server" in recorder.other_threads
    (warning,) = other_thread_warnings(recorder.other_threads)
    assert warning.code == "unstable-measurements" and "script-server" in warning.message
    assert other_thread_warnings([]) == []
