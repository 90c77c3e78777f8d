"""Parent orders worked over time, pure: slice sizes that add up exactly, due times, what to do at an instant.

No clock: every instant is passed in as seconds (float, UTC epoch). Amounts are integer atoms; the last slice takes
the remainder, so the children of a parent always add up to the parent exactly and nothing rounds away.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

MAX_SLICES = 1_000
MIN_DURATION_S = 1
MAX_DURATION_S = 7 * 24 * 3600


class Strategy(StrEnum):
    """How a parent order is worked: equal slices at equal intervals, or a schedule the market model may bend."""

    TWAP = "twap"
    ADAPTIVE = "adaptive"


def slice_sizes(total_atoms: int, slices: int) -> list[int]:
    """Equal slices of total_atoms (rounded down), the last one taking the remainder; they sum to total_atoms."""
    if slices < 1 or total_atoms < slices:
        raise ValueError(f"cannot cut {total_atoms} atoms into {slices} slices of at least one atom")
    base = total_atoms // slices
    return [base] * (slices - 1) + [total_atoms - base * (slices - 1)]


def interval_s(duration_s: float, slices: int) -> float:
    """Seconds between two slices' due times: the duration over the number of slices."""
    return duration_s / slices


def due_at_s(start_s: float, duration_s: float, slices: int, index: int) -> float:
    """When slice `index` (0-based) is due: the first at the start, then one every interval."""
    return start_s + index * interval_s(duration_s, slices)


def slices_due(start_s: float, duration_s: float, slices: int, now_s: float) -> int:
    """How many slices are due by now_s (at least 1 once started, at most `slices`)."""
    if now_s < start_s:
        return 0
    return min(slices, int((now_s - start_s) // interval_s(duration_s, slices)) + 1)


def owed_atoms(sizes: list[int], due_count: int, filled_atoms: int) -> int:
    """Atoms the schedule owes now: every due slice's size less what was filled (a late slice catches up)."""
    return max(0, sum(sizes[:due_count]) - filled_atoms)


@dataclass(frozen=True, slots=True)
class Step:
    """What a parent order does at an instant: execute `size_atoms` now, or wait until `wake_s`; `done` ends it."""

    size_atoms: int = 0
    wake_s: float | None = None
    done: str | None = None  # "completed" (filled, or short at the deadline) or "failed"
    reason: str = ""


def plan_step(sizes: list[int], start_s: float, duration_s: float, filled_atoms: int, now_s: float,
              failed_attempts: int, max_attempts: int, retry_s: float, limited: bool = False) -> Step:
    """The schedule's step at now_s (TWAP, and adaptive before the market model bends it).

    Filled → completed. A slice that failed max_attempts times in a row → failed (the filled part stays recorded).
    Past the deadline, a parent with a limit price → completed short (its slices waited for the price); one
    without catches up (a runner that was down sends what is owed, the remainder). Otherwise the owed atoms now, or
    a wait until the next slice is due.
    """
    total = sum(sizes)
    deadline_s = start_s + duration_s
    if filled_atoms >= total:
        return Step(done="completed", reason="filled")
    if failed_attempts >= max_attempts:
        return Step(done="failed", reason=f"a slice failed {failed_attempts} times in a row")
    if now_s >= deadline_s and limited:
        return Step(done="completed", reason="deadline reached short of the amount (limit price)")
    due = slices_due(start_s, duration_s, len(sizes), now_s)
    owed = owed_atoms(sizes, due, filled_atoms)
    if owed > 0:
        return Step(size_atoms=owed, reason=f"slice {due} of {len(sizes)} due")
    next_due = due_at_s(start_s, duration_s, len(sizes), due) if due < len(sizes) else deadline_s
    return Step(wake_s=next_due, reason="waiting for the next slice")


def adaptive_wait(cost_now_bps: Decimal, cost_after_bps: Decimal, min_gain_bps: Decimal, now_s: float,
                  wait_s: float, deadline_s: float, slices_left: int) -> bool:
    """Adaptive: wait one interval when the market model says the slice is cheaper then by at least min_gain_bps,
    and a later slice is due before the deadline to take it (slices_left counts this one; it joins the next)."""
    fits = slices_left > 1 and now_s + wait_s < deadline_s
    return fits and cost_after_bps + min_gain_bps <= cost_now_bps


def limit_out_atoms(in_atoms: int, limit_price: Decimal, in_decimals: int, out_decimals: int) -> int:
    """ExactIn: the least output (atoms, rounded up) that meets a limit price of output per input (human units)."""
    num, den = _ratio(limit_price, out_decimals - in_decimals)
    return -(-in_atoms * num // den)


def limit_in_atoms(out_atoms: int, limit_price: Decimal, in_decimals: int, out_decimals: int) -> int:
    """ExactOut: the most input (atoms, rounded down) that meets a limit price of output per input (human units)."""
    num, den = _ratio(limit_price, out_decimals - in_decimals)
    return out_atoms * den // num


def _ratio(price: Decimal, shift: int) -> tuple[int, int]:
    """price × 10^shift as an exact integer fraction (numerator, denominator): no Decimal context rounds it."""
    num, den = price.as_integer_ratio()
    return (num * 10**shift, den) if shift >= 0 else (num, den * 10**-shift)


def suggested_slices(cost_bps: Decimal, max_cost_bps: Decimal, amount_atoms: int, cap: int = 100) -> int:
    """A number of slices whose size should fit under a cost ceiling, impact growing about linearly with size."""
    if cost_bps <= max_cost_bps or max_cost_bps <= 0:
        return 1
    wanted = math.ceil(cost_bps / max_cost_bps)
    return max(1, min(cap, amount_atoms, wanted * 2))
