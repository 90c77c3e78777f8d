"""Rules of core.schedule: slices add up exactly, due times are equal intervals, the limit rounds for the desk."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import schedule


@pytest.mark.parametrize(("total", "slices", "expected"), [
    (10, 10, [1] * 10),
    (11, 10, [1] * 9 + [2]),  # one atom more than slices: the last takes it
    (1_000_000_007, 7, [142_857_143] * 6 + [142_857_149]),  # a prime count of atoms
    (100_000 * 10**9, 10, [10_000 * 10**9] * 10),
    (2**63 - 1, 3, [3_074_457_345_618_258_602] * 2 + [3_074_457_345_618_258_603]),
])
def test_slices_are_equal_and_the_last_takes_the_remainder(total: int, slices: int, expected: list[int]) -> None:
    assert schedule.slice_sizes(total, slices) == expected
    assert sum(expected) == total


@given(st.integers(1, 2**63 - 1), st.integers(1, 1000))
def test_slices_always_sum_exactly_to_the_parent(total: int, slices: int) -> None:
    if total < slices:
        with pytest.raises(ValueError):
            schedule.slice_sizes(total, slices)
        return
    sizes = schedule.slice_sizes(total, slices)
    assert sum(sizes) == total and len(sizes) == slices and min(sizes) >= 1


def test_slices_are_due_at_equal_intervals_from_the_start() -> None:
    assert [schedule.due_at_s(100.0, 600, 10, i) for i in (0, 1, 9)] == [100.0, 160.0, 640.0]
    assert [schedule.slices_due(100.0, 600, 10, t) for t in (99.9, 100.0, 159.9, 160.0, 10_000)] == [0, 1, 1, 2, 10]


def test_a_late_slice_catches_up_and_the_step_waits_when_nothing_is_owed() -> None:
    sizes = schedule.slice_sizes(100, 4)
    assert schedule.plan_step(sizes, 0.0, 40, 0, 21.0, 0, 3, 5).size_atoms == 75  # three due, none filled
    wait = schedule.plan_step(sizes, 0.0, 40, 75, 21.0, 0, 3, 5)
    assert wait.size_atoms == 0 and wait.wake_s == 30.0


def test_a_parent_ends_filled_failed_or_short_at_the_deadline_only_under_a_limit() -> None:
    sizes = schedule.slice_sizes(100, 4)
    assert schedule.plan_step(sizes, 0.0, 40, 100, 1.0, 0, 3, 5).done == "completed"
    assert schedule.plan_step(sizes, 0.0, 40, 25, 11.0, 3, 3, 5).done == "failed"
    short = schedule.plan_step(sizes, 0.0, 40, 50, 40.0, 0, 3, 5, limited=True)
    assert short.done == "completed" and "short" in short.reason
    late = schedule.plan_step(sizes, 0.0, 40, 50, 45.0, 0, 3, 5)  # no limit: a late runner catches up
    assert late.done is None and late.size_atoms == 50


def test_adaptive_waits_only_when_waiting_is_cheaper_and_fits_before_the_deadline() -> None:
    wait = schedule.adaptive_wait
    assert wait(Decimal(30), Decimal(20), Decimal(2), 0.0, 60, 600, 5)
    assert not wait(Decimal(30), Decimal(29), Decimal(2), 0.0, 60, 600, 5)  # gain below the threshold
    assert not wait(Decimal(30), Decimal(20), Decimal(2), 540.0, 60, 600, 1)  # the last slice never waits


def test_the_limit_price_rounds_in_the_desks_favour() -> None:
    # 1 SOL (9 decimals) at 150.0000001 USDC (6 decimals): at least 150.000001 USDC rounded up, in atoms
    assert schedule.limit_out_atoms(10**9, Decimal("150.0000001"), 9, 6) == 150_000_001
    # ExactOut 150 USDC at 150.0000001 USDC/SOL: at most 0.999999999... SOL, rounded down
    assert schedule.limit_in_atoms(150 * 10**6, Decimal("150.0000001"), 9, 6) == 999_999_999
