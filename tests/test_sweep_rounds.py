"""The sweep's closing rounds, on a real target in real forked trials: settling the
contenders' repeats, and projecting subset times to the whole loop."""
from __future__ import annotations

import sys
import threading
import time
from dataclasses import replace

from advisor.analyse import space
from advisor.model import Trial
from advisor.sweep.budget import REPEATS
from advisor.sweep.rounds import can_win_projected, fixed_cost_bound
from advisor.sweep.runner import HOPELESS, HOPELESS_FLOOR_S, Facts, Sweep, SweepOptions
from advisor.sweep.subject import Subject


def work(x):
    return sum(range(300)) + x


def slow_off_the_main_thread(x):
    if threading.current_thread() is not threading.main_thread():
        time.sleep(0.05)
    return x


def sweep(items: int, total: int, fn=work) -> Sweep:
    subject = Subject(module=sys.modules[__name__], name=fn.__name__, original=fn, is_coroutine=False,
                      style="single", items=list(range(items)), catch=False, total_items=total)
    options = SweepOptions(budget_s=30.0, trial_timeout_s=10.0, executors=["threads"], usable_cpus=2)
    return Sweep(subject, [], options)


def timed(executor: str, workers: int, repeats: list[float]) -> Trial:
    return Trial(executor, workers, None, None, sorted(repeats)[len(repeats) // 2], None, True,
                 repeats=repeats, results_match=True)


def test_contenders_get_their_full_repeats_and_the_rest_do_not():
    s = sweep(200, 200)
    s.trials = [timed("serial", 1, [0.010, 0.011]), timed("threads", 2, [0.0105]),
                timed("threads", 8, [0.5])]  # far behind: not a contender
    s.settle()
    assert [len(t.repeats) for t in s.trials] == [REPEATS, REPEATS, 1]


def test_serial_and_a_finalist_are_projected_to_the_whole_loop():
    s = sweep(1000, 10_000)
    assert s.projecting()
    s.trials = [timed("serial", 1, [0.004, 0.004]), timed("threads", 2, [0.006, 0.006])]
    s.project()
    serial, threads = s.trials
    assert len(serial.repeats) > 2 and len(threads.repeats) > 2  # re-timed in the rounds
    assert serial.fixed_seconds == 0.0
    assert serial.projected_seconds == serial.seconds * 10
    assert threads.fixed_seconds is not None and 0.0 <= threads.fixed_seconds <= threads.seconds
    assert threads.projected_seconds is not None
    assert threads.projected_seconds <= threads.seconds * 10 + 1e-12  # fixed costs are paid once


def test_no_projection_when_the_subset_is_the_loop():
    s = sweep(1000, 1000)
    s.trials = [timed("serial", 1, [0.004, 0.004]), timed("threads", 2, [0.006, 0.006])]
    s.project()
    assert all(t.projected_seconds is None for t in s.trials)


def test_a_run_that_cannot_win_is_stopped_in_a_real_fork():
    # The cutoff itself is checked over a fake clock (test_sweep_policy); here a real
    # forked trial is killed there and reported as stopped, not as failed.
    s = sweep(100, 100, slow_off_the_main_thread)  # threads 2w: 2.5 s; serial: nothing
    s.trials = [timed("serial", 1, [0.001, 0.001])]
    trial = s.measure(space.Config("threads", 2), 0.001, 1)
    assert not trial.ok and "cannot win" in trial.error
    assert space.Config("threads", 2) in s.stopped_early


def test_the_cutoff_is_the_fastest_time_scaled_to_the_whole_loop():
    s = sweep(1000, 1000)
    assert s.cutoff_s() == s.options.trial_timeout_s  # nothing measured yet
    s.trials = [timed("serial", 1, [0.4, 0.4])]
    assert s.cutoff_s() == HOPELESS * 0.4
    s.trials = [timed("serial", 1, [0.01, 0.01])]
    assert s.cutoff_s() == 0.01 + HOPELESS_FLOOR_S
    projected = sweep(1000, 10_000)  # on the whole loop, serial takes 10x its subset time
    projected.trials = [timed("serial", 1, [0.1, 0.1])]
    assert projected.cutoff_s() == HOPELESS * 1.0


def test_a_pool_stopped_as_hopeless_still_gets_its_blas_limited_variant():
    # Process pools of OpenBLAS callers spinning on two cores are stopped as hopeless; the
    # variant with BLAS on one thread is the remedy to measure, not a reason to skip it.
    s = sweep(100, 100)
    s.trials = [timed("serial", 1, [0.2, 0.2]), timed("threads", 2, [0.3, 0.3])]
    s.stopped_early = [space.Config("processes", 2, 4, "fork")]
    facts = Facts(1.0, None, {}, blas={"num_threads": 2})
    assert s.blas_variants(facts) == [(space.Config("processes", 2, 4, "fork", 1), 0.2),  # it suffered most
                                      (space.Config("threads", 2, None, None, 1), 0.2)]
    assert s.blas_variants(Facts(1.0, None, {}, blas={"num_threads": 1})) == []


def test_a_run_far_slower_than_predicted_gets_no_more_runs_than_the_budget_allows():
    # Predicted 1 ms (five quick runs); each run takes 0.25 s. With 200 configurations
    # still to try, the first run's own time leaves room for no second one.
    s = sweep(10, 10, slow_off_the_main_thread)
    assert len(s.measure(space.Config("threads", 2), 0.001, 200).repeats) == 1
    assert len(s.measure(space.Config("threads", 2), 0.001, 1).repeats) == REPEATS


def test_only_start_methods_whose_pool_start_up_was_measured_shorter_are_tried():
    s = sweep(100, 100)
    s.trials = [timed("serial", 1, [0.2]), Trial("processes", 2, 4, "spawn", 0.1, None, True,
                                                 repeats=[0.1], results_match=True)]
    measured = Facts(1.0, None, {"start_fork_s": 0.02, "start_spawn_s": 0.2, "start_forkserver_s": 0.3})
    assert [c.start_method for c in s.other_start_methods(measured)] == ["fork"]  # forkserver starts slower
    assert s.other_start_methods(Facts(1.0, None, {"start_spawn_s": 0.2})) == []  # fork not measured
    s.trials[1] = replace(s.trials[1], start_method="fork")
    assert s.other_start_methods(measured) == []  # both start slower than fork: they could only tie


def test_an_executor_far_behind_the_fastest_gets_no_more_of_the_plan():
    s = sweep(100, 100)
    s.trials = [timed("serial", 1, [0.2]), timed("threads", 2, [0.077]), timed("processes", 2, [0.25])]
    assert s.far_behind("processes")  # 3.3x the fastest threads
    assert not s.far_behind("threads") and not s.far_behind("asyncio")  # asyncio: not measured yet
    s.trials.append(timed("processes", 4, [0.15]))  # within 2x now
    assert not s.far_behind("processes")


def test_a_finalist_that_cannot_overtake_even_with_all_its_fixed_cost_repaid_is_not_projected():
    overheads = {"thread_task_s": 1e-5, "start_fork_s": 0.01, "process_task_s": 2e-5}
    walls = [1e-3] * 100
    threads = timed("threads", 2, [0.56])  # GIL-bound: serial's time
    processes = Trial("processes", 2, 8, "fork", 0.25, None, True, repeats=[0.25], results_match=True)
    # threads: at most 2 x 2 x 10 us start-up and one 1 ms item; 0.56 s less that is over 0.25 s.
    assert fixed_cost_bound(threads, overheads, walls) == 2 * 2e-5 + 1e-3
    assert not can_win_projected(threads, 0.25, overheads, walls)
    assert can_win_projected(threads, 0.5595, overheads, walls)
    # processes: 2 x (10 ms + 2 x 20 us) start-up and a chunk of 8 items.
    assert abs(fixed_cost_bound(processes, overheads, walls) - (2 * 0.01004 + 8e-3)) < 1e-12
    # An executor that gives no bound is always projected; so is one the probes did not measure.
    assert can_win_projected(timed("asyncio", 8, [9.0]), 0.25, overheads, walls)
    assert can_win_projected(threads, 0.25, {}, walls)


def test_the_projection_leaves_out_a_finalist_that_cannot_win():
    s = sweep(1000, 10_000)
    s.overheads = {"thread_task_s": 1e-5}
    s.options = replace(s.options, executors=["threads", "asyncio"])
    s.trials = [timed("serial", 1, [0.004, 0.004]), timed("asyncio", 2, [0.003]), timed("threads", 2, [0.009])]
    s.subject.walls = [4e-6] * 1000
    s.project()
    serial, first, slow = s.trials
    assert first.projected_seconds is not None and serial.projected_seconds is not None
    assert slow.projected_seconds is None and len(slow.repeats) == 1  # not re-timed either


def test_a_fitted_fixed_cost_is_never_more_than_the_pool_can_cost():
    from advisor.sweep.rounds import bounded_fixed_cost

    overheads = {"start_fork_s": 0.008, "process_task_s": 3e-5}
    walls = [1.2e-3] * 220
    pool = Trial("processes", 2, 28, "fork", 0.154, None, True, repeats=[0.154], results_match=True)
    bound = fixed_cost_bound(pool, overheads, walls)
    assert bound is not None and bound < 0.1
    assert bounded_fixed_cost(pool, 0.100, overheads, walls) == bound  # the noisy fit, cut to the bound
    assert bounded_fixed_cost(pool, 0.01, overheads, walls) == 0.01  # a fit under it stands
    assert bounded_fixed_cost(timed("asyncio", 8, [0.2]), 0.1, overheads, walls) == 0.1  # no bound known


def test_pool_maps_default_chunking_is_projected_as_four_chunks_per_worker_at_both_sizes():
    from advisor.analyse.workload import pool_default_chunk

    s = sweep(4000, 40_000)
    s.options = replace(s.options, executors=["processes"])
    chunk = pool_default_chunk(4000, 2)
    pool = replace(timed("processes", 2, [0.003, 0.003]), chunksize=chunk)
    s.trials = [timed("serial", 1, [0.004, 0.004]), pool]
    runs: list[tuple[str, int, int]] = []

    def fake_time_into(config, items, into):  # records what each run was, and takes no time
        runs.append((config.executor, config.chunksize or 1, len(items) if items is not None else 4000))
        into.append(0.001 + 0.0005 * runs[-1][2] / 4000)
        return True

    s._time_into = fake_time_into
    s.project()
    short = {(chunksize, n) for executor, chunksize, n in runs if executor == "processes" and n < 4000}
    assert short and all(chunksize == pool_default_chunk(n, 2) for chunksize, n in short)
    assert all(chunksize == chunk for executor, chunksize, n in runs if executor == "processes" and n == 4000)


def test_pool_default_chunk_is_the_one_pool_map_picks():
    from advisor.analyse.workload import pool_default_chunk

    # multiprocessing.Pool._map_async: divmod(len(iterable), len(self._pool) * 4), plus one for a remainder.
    assert pool_default_chunk(300_000, 2) == 37_500
    assert pool_default_chunk(33_967, 2) == 4_246
    assert pool_default_chunk(7, 2) == 1
    assert pool_default_chunk(0, 4) == 1


def test_pool_maps_default_chunking_is_projected_beside_a_chunk_size_a_little_faster_on_the_subset():
    from advisor.analyse.workload import pool_default_chunk

    s = sweep(4000, 40_000)
    s.options = replace(s.options, executors=["processes"])
    sized = replace(timed("processes", 2, [0.0030, 0.0030]), chunksize=256)
    policy = replace(timed("processes", 2, [0.0032, 0.0032]), chunksize=pool_default_chunk(4000, 2))
    far = replace(timed("processes", 2, [0.0050]), chunksize=16)
    s.trials = [timed("serial", 1, [0.004, 0.004]), sized, policy, far]

    def fake_time_into(config, items, into):
        into.append(0.001 + 0.002 * (len(items) if items is not None else 4000) / 4000)
        return True

    s._time_into = fake_time_into
    s.project()
    _, sized, policy, far = s.trials
    assert sized.projected_seconds is not None and policy.projected_seconds is not None
    assert far.projected_seconds is None
