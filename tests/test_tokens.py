"""Rules for token lookup and exact human <-> atom conversion."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.tokens import MAX_ATOMS, SOL, USDC, format_ui, parse_atoms, resolve_token, to_atoms, to_ui


@pytest.mark.parametrize(("text", "decimals", "atoms"), [
    ("25000", 9, 25_000_000_000_000),
    ("1.5", 6, 1_500_000),
    ("0.000000001", 9, 1),
    ("1_000", 6, 1_000_000_000),
    (" 42.10 ", 6, 42_100_000),
    ("1.000000000", 6, 1_000_000),  # trailing zeros beyond the decimals are exact, so accepted
])
def test_human_amounts_convert_to_exact_atoms(text: str, decimals: int, atoms: int) -> None:
    assert to_atoms(text, decimals) == atoms


@pytest.mark.parametrize(("bad", "message"), [
    ("0", "greater than zero"), ("-5", "greater than zero"), ("NaN", "finite"), ("inf", "finite"),
    ("abc", "not a number"), ("", "required"), ("1.0000001", "more than 6 decimal places"),
    ("9223372036854.775808", "too large"), ("1e40", "too large"),
])
def test_bad_amounts_are_rejected_with_a_clear_message(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_atoms(bad, 6)


def test_float_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="not a float"):
        to_atoms(1.5, 6)  # type: ignore[arg-type]


def test_tokens_resolve_by_symbol_any_case_or_mint() -> None:
    assert resolve_token("sol") is SOL
    assert resolve_token(USDC.mint) is USDC
    with pytest.raises(ValueError, match="unknown token"):
        resolve_token("DOGE")


@pytest.mark.parametrize("bad", ["-1", "1.5", "abc", "0", str(MAX_ATOMS + 1), True])
def test_atom_strings_must_be_positive_integers_below_2_pow_63(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_atoms(bad)  # type: ignore[arg-type]


def test_display_rounds_down_and_groups_thousands() -> None:
    assert format_ui(25_000_123_456_789, 9, 2) == "25,000.12"
    assert format_ui(1_500_000, 6) == "1.5"


@given(st.integers(min_value=1, max_value=MAX_ATOMS), st.integers(min_value=0, max_value=9))
def test_atoms_round_trip_through_human_decimal(atoms: int, decimals: int) -> None:
    assert to_atoms(str(to_ui(atoms, decimals)), decimals) == atoms
    assert isinstance(to_ui(atoms, decimals), Decimal)
