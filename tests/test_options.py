"""Option parsing and validation, including property-based checks (no processes)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from advisor.cli.main import main
from advisor.errors import UsageError
from advisor.executors import names as executor_names
from advisor.pipeline import SUPPORTED_EXECUTORS, require_executors
from advisor.sweep.allowance import (
    MAX_DEFAULT_BUDGET_S,
    MIN_DEFAULT_BUDGET_S,
    default_budget,
    default_timeout,
    recorded_budget,
)

EXECUTORS = executor_names()
names = st.sampled_from(EXECUTORS) | st.text(min_size=1, max_size=12).filter(lambda s: s not in EXECUTORS)


@given(st.lists(names, min_size=1, max_size=6))
def test_require_executors_accepts_exactly_the_supported_ones(chosen: list[str]) -> None:
    if all(name in SUPPORTED_EXECUTORS for name in chosen):
        assert require_executors(chosen) == tuple(chosen)
    else:
        with pytest.raises(UsageError) as caught:
            require_executors(chosen)
        bad = next(n for n in chosen if n not in SUPPORTED_EXECUTORS)
        assert bad in str(caught.value)


@given(st.floats(min_value=0.0, max_value=1e5, allow_nan=False))
def test_default_budget_and_timeout_are_bounded_and_grow_with_the_loop(loop_s: float) -> None:
    budget = default_budget(loop_s)
    assert MIN_DEFAULT_BUDGET_S <= budget <= MAX_DEFAULT_BUDGET_S
    assert default_budget(loop_s * 2) >= budget
    assert default_timeout(loop_s) >= 5.0


def test_default_budget_grows_with_the_worker_counts_to_try() -> None:
    # Unchanged on 2 and 4 CPUs, half again per doubling past them.
    assert default_budget(1.0, 2) == default_budget(1.0, 4) == default_budget(1.0)
    assert default_budget(1.0, 8) == 1.5 * default_budget(1.0, 4)
    assert default_budget(1.0, 16) == 2 * default_budget(1.0, 4)
    assert default_budget(1e5, 64) == MAX_DEFAULT_BUDGET_S


@given(st.one_of(st.floats(max_value=0.0, allow_nan=False), st.text(min_size=1, max_size=6)))
def test_non_positive_or_non_numeric_budget_is_a_usage_error(value: object) -> None:
    result = CliRunner().invoke(main, ["profile", "whatever.py", "--budget", str(value)])
    if isinstance(value, str):
        try:
            if float(value) > 0:
                return  # a valid number: then the missing script is the error, tested elsewhere
        except ValueError:
            pass
    assert result.exit_code == 2


def test_help_lists_the_contract_options() -> None:
    text = CliRunner().invoke(main, ["profile", "--help"]).output
    for option in ("--function", "--budget", "--timeout", "--executors", "--json", "--quiet"):
        assert option in text


def test_interpreters_executor_follows_the_interpreter() -> None:
    import concurrent.futures

    if not hasattr(concurrent.futures, "InterpreterPoolExecutor"):
        with pytest.raises(UsageError, match="interpreters"):
            require_executors(["serial", "interpreters"])
        pytest.skip("this Python has no concurrent.futures.InterpreterPoolExecutor (it arrives in 3.14)")
    from advisor.executors.interpreters import run as run_interpreters

    assert require_executors(["serial", "interpreters"]) == ("serial", "interpreters")
    assert run_interpreters(abs, [-1, -2, 3], 2) == [1, 2, 3]


@given(st.floats(min_value=0.1, max_value=200.0), st.floats(min_value=0.0, max_value=100.0))
def test_the_recorded_budget_follows_the_recorded_loop_and_never_passes_the_ceiling(ceiling: float,
                                                                                    loop_s: float) -> None:
    budget = recorded_budget(ceiling, loop_s, 2)
    assert budget <= ceiling
    if loop_s > 0:
        assert budget == min(ceiling, default_budget(loop_s, 2))
    else:
        assert budget == ceiling  # nothing recorded: the parent's budget stands
