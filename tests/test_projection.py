"""Subset trials projected to the whole loop: the pure pieces, and the recommendation on them."""
from __future__ import annotations

import dataclasses

import pytest
from test_analyse import trial

from advisor.analyse.recommend import for_whole_loop, recommend
from advisor.measure.capture import RUN_LENGTH
from advisor.model import Classification
from advisor.sweep.budget import fixed_cost, projected_seconds, second_size, spread_indices, subset_indices

OVERHEAD = Classification("overhead-bound", {}, "each call takes 1 us")


def test_subset_comes_in_runs_of_neighbours_spread_over_the_loop():
    n = 200_000
    kept = subset_indices(n, serial_s=1.0, budget_s=0.5 / 0.07)  # room for half the items
    assert abs(len(kept) - n // 2) < RUN_LENGTH * 2
    assert kept[:3] == [0, 1, 2]  # neighbours
    assert kept[-1] > 0.99 * n  # and all along the loop
    gaps = [b - a for a, b in zip(kept, kept[1:])]
    assert sum(1 for g in gaps if g == 1) > 0.9 * len(gaps)


def test_a_small_subset_of_long_calls_is_spread_one_by_one():
    kept = subset_indices(99, serial_s=1.0, budget_s=0.3 / 0.07)
    assert len(kept) == 29 and all(b - a >= 3 for a, b in zip(kept, kept[1:]))


def test_a_subset_keeps_an_item_per_usable_cpu():
    # 24 calls of 55 ms on 16 CPUs: the budget's share fits 10, but 16 processes must be tried.
    assert len(subset_indices(24, serial_s=1.3, budget_s=7.0, usable_cpus=16)) == 16
    assert len(subset_indices(24, serial_s=1.3, budget_s=7.0, usable_cpus=2)) == 9  # 24 x 0.49 s / 1.3 s
    assert len(subset_indices(12, serial_s=1.3, budget_s=7.0, usable_cpus=16)) == 12


def test_second_size_takes_away_whole_rounds_of_chunks():
    # 2 workers x chunk 32768: rounds of 65536. Two of the three rounds go.
    assert second_size(195_904, 2, 32_768) == 195_904 - 2 * 65_536
    assert second_size(1000, 4, None) == 1000 - 218 * 4  # chunk 1: about an eighth is left
    assert second_size(1000, 2, 600) == 0  # not one whole round to take away


def test_spread_indices_keep_the_spread_and_the_count():
    picked = spread_indices(100_000, 25_000)
    assert len(picked) == 25_000 and picked == sorted(set(picked))
    assert picked[0] == 0 and picked[-1] > 99_000
    assert spread_indices(10, 20) == list(range(10))


def test_fixed_cost_is_where_the_line_through_two_sizes_meets_zero_items():
    # 40 ms start-up, then 0.5 us an item.
    assert fixed_cost(25_000, 0.04 + 0.0125, 100_000, 0.04 + 0.05) == pytest.approx(0.04)
    assert fixed_cost(25_000, 0.025, 100_000, 0.1) == pytest.approx(0.0)  # in proportion
    assert fixed_cost(25_000, 0.2, 100_000, 0.1) == 0.1  # noise cannot make more items take less
    assert fixed_cost(25_000, 0.01, 100_000, 0.1) == 0.0  # nor a negative fixed cost


def test_projection_counts_the_fixed_part_once():
    assert projected_seconds(0.09, 0.04, 100_000, 1_800_000) == pytest.approx(0.04 + 0.05 * 18)
    assert projected_seconds(0.07, 0.0, 100_000, 1_800_000) == pytest.approx(1.26)


def projected(t, fixed, n=100_000, total=1_800_000):
    return dataclasses.replace(t, fixed_seconds=fixed, projected_seconds=projected_seconds(t.seconds, fixed, n, total))


def test_a_pool_slower_on_the_subset_can_win_on_the_whole_loop():
    serial = projected(trial("serial", 0.07), 0.0)
    pool = projected(trial("processes", 0.09, workers=2, chunksize=8192), 0.04)
    advice = recommend([serial, pool], OVERHEAD, {}, 1e-6)
    assert advice.executor == "processes"
    assert advice.expected_speedup == pytest.approx(1.26 / 0.94, rel=1e-3)
    assert "projected to all of them" in advice.reason
    plain = recommend([trial("serial", 0.07), trial("processes", 0.09, workers=2, chunksize=8192)], OVERHEAD, {}, 1e-6)
    assert plain.executor == "serial"


def test_only_projected_trials_are_compared_when_there_are_projections():
    serial = projected(trial("serial", 0.07), 0.0)
    pool = projected(trial("processes", 0.09, workers=2, chunksize=8192), 0.04)
    # Not projected: its subset time cannot be set against whole-loop times.
    other = trial("threads", 0.05, workers=2)
    compared, whole = for_whole_loop([serial, pool, other])
    assert whole and [t.executor for t in compared] == ["serial", "processes"]
    assert compared[1].seconds == pytest.approx(0.94)


def test_without_a_projected_parallel_trial_the_subset_times_are_compared():
    serial = projected(trial("serial", 0.07), 0.0)
    compared, whole = for_whole_loop([serial, trial("threads", 0.05, workers=2)])
    assert not whole and compared[1].seconds == 0.05


def test_the_whole_loop_is_scaled_from_the_subset_by_recorded_time_where_every_call_was_recorded():
    import types

    from advisor.sweep.subject import Subject

    def subject(**changes):
        base = Subject(module=types.ModuleType("m"), name="f", original=len, is_coroutine=False, style="single",
                       items=list(range(220)), catch=False, walls=[0.0013] * 220, total_items=1260)
        return dataclasses.replace(base, **changes)

    # The subset's 220 calls took 0.286 s of a 1.25 s loop: 4.4x, where the calls say 5.7x.
    assert subject(total_wall=1.25).loop_scale() == pytest.approx(1.25 / 0.286)
    assert subject().loop_scale() == pytest.approx(1260 / 220)  # the loop's time not known: by calls
    assert subject(total_wall=0.1).loop_scale() == 1.0  # never less than the subset itself
