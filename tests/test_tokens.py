"""Rules for token lookup and exact human <-> atom conversion."""
from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.tokens import MAX_ATOMS, SOL, USDC, format_ui, parse_atoms, parse_decimal, resolve_token, to_atoms, to_ui


@pytest.mark.parametrize(("text", "decimals", "atoms"), [
    ("25000", 9, 25_000_000_000_000),
    ("1.5", 6, 1_500_000),
    ("0.000000001", 9, 1),
    ("42.10", 6, 42_100_000),
    ("25,000", 9, 25_000_000_000_000),  # thousands commas in groups of three, as a person types them
    ("1,234,567.5", 6, 1_234_567_500_000),
    ("1.000000000", 6, 1_000_000),  # trailing zeros beyond the decimals are exact, so accepted
])
def test_human_amounts_convert_to_exact_atoms(text: str, decimals: int, atoms: int) -> None:
    assert to_atoms(text, decimals) == atoms


@pytest.mark.parametrize(("bad", "message"), [
    ("0", "greater than zero"), ("0.000", "greater than zero"), ("-5", "must not be negative"),
    ("NaN", "not a number"), ("inf", "not a number"),
    ("abc", "not a number"), ("", "required"), ("1.0000001", "more than 6 decimal places"),
    ("9223372036854.775808", "too large"), ("1" * 31, "too large"), ("1" * 65, "too long"),
])
def test_bad_amounts_are_rejected_with_a_clear_message(bad: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_atoms(bad, 6)


def test_float_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="not a float"):
        to_atoms(1.5, 6)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [
    "１２３", "٢٥٠٠٠", "१२३", "²",  # non-ASCII digits (fullwidth, Arabic-Indic, Devanagari, superscript)
    "1_000", "+25000", " 25000", "25000 ", "25 000", "1e3", "1E3", ".5", "5.", "1.2.3", "0x10", "Infinity",
    "2,5000", ",100", "100,", "1,00", "1,000,00", "1,,000", "0,500", "1,000.000,5", "25.000,5",
])
def test_only_ascii_decimal_strings_with_well_formed_thousands_commas_are_amounts(bad: str) -> None:
    with pytest.raises(ValueError, match=r"^amount .*not a number: use ASCII digits"):
        to_atoms(bad, 6)


@pytest.mark.parametrize("bad", [25000, True, None, ["1"], Decimal("NaN")])
def test_json_numbers_and_other_types_are_not_amounts(bad: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        to_atoms(bad, 6)  # type: ignore[arg-type]


def test_the_parser_names_the_field_it_parses() -> None:
    with pytest.raises(ValueError, match=r"^Minimum trade 'x' is not a number"):
        to_atoms("x", 9, "Minimum trade")
    with pytest.raises(ValueError, match=r"^fee_bps must not be negative"):
        parse_decimal("-1", "fee_bps")
    assert parse_decimal("50,000.5", "fee_bps") == Decimal("50000.5")


def test_tokens_resolve_by_symbol_any_case_or_mint() -> None:
    assert resolve_token("sol") is SOL
    assert resolve_token(USDC.mint) is USDC
    with pytest.raises(ValueError, match="unknown token"):
        resolve_token("DOGE")


@pytest.mark.parametrize("bad", ["-1", "1.5", "abc", "0", str(MAX_ATOMS + 1), True, 25, " 25", "1,000", "１２"])
def test_atom_strings_must_be_positive_integers_below_2_pow_63(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_atoms(bad)  # type: ignore[arg-type]


def test_display_rounds_down_and_groups_thousands() -> None:
    assert format_ui(25_000_123_456_789, 9, 2) == "25,000.12"
    assert format_ui(1_500_000, 6) == "1.5"


@given(st.integers(min_value=1, max_value=MAX_ATOMS), st.integers(min_value=0, max_value=9))
def test_atoms_round_trip_through_human_decimal(atoms: int, decimals: int) -> None:
    assert to_atoms(f"{to_ui(atoms, decimals):f}", decimals) == atoms
    assert to_atoms(to_ui(atoms, decimals), decimals) == atoms
    assert to_atoms(format_ui(atoms, decimals), decimals) == atoms  # what we display (with commas) parses back
    assert isinstance(to_ui(atoms, decimals), Decimal)
