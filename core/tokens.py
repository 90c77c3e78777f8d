"""Token registry and exact conversion between human decimal strings and integer atoms."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext

MAX_ATOMS = 2**63 - 1  # amounts must fit a signed 64-bit BigInteger column


@dataclass(frozen=True, slots=True)
class Token:
    """A tradable SPL token: symbol, mint address and number of decimals."""

    symbol: str
    mint: str
    decimals: int
    name: str = ""

    @property
    def stable(self) -> bool:
        """True for a USD stablecoin (valued at par)."""
        return self.mint in STABLECOINS


SOL = Token("SOL", "So11111111111111111111111111111111111111112", 9, "Wrapped SOL")
USDC = Token("USDC", "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v", 6, "USD Coin")
USDT = Token("USDT", "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB", 6, "Tether USD")
JUP = Token("JUP", "JUPyiwrYJFskUPiHa7hkeR8VUtAeFoSYbKedZNsDvCN", 6, "Jupiter")
MSOL = Token("mSOL", "mSoLzYCxHdYgdzU16g5QSh3i5K3z3KZK7ytfqcJm7So", 9, "Marinade staked SOL")

TOKENS: tuple[Token, ...] = (SOL, USDC, USDT, JUP, MSOL)
_BY_SYMBOL = {t.symbol.upper(): t for t in TOKENS}
_BY_MINT = {t.mint: t for t in TOKENS}
STABLECOINS = frozenset({USDC.mint, USDT.mint})


def resolve_token(name: str) -> Token:
    """Find a token by symbol (case-insensitive) or mint address; raise ValueError if unknown."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("token is required: give a symbol such as SOL or a mint address")
    key = name.strip()
    token = _BY_MINT.get(key) or _BY_SYMBOL.get(key.upper())
    if token is None:
        known = ", ".join(t.symbol for t in TOKENS)
        raise ValueError(f"unknown token {key!r}: use one of {known} or its mint address")
    return token


def token_by_mint(mint: str) -> Token:
    """The registered token for a mint address; raise ValueError if unknown."""
    try:
        return _BY_MINT[mint]
    except KeyError:
        raise ValueError(f"unknown mint {mint!r}") from None


def to_atoms(amount_ui: str | int | Decimal, decimals: int) -> int:
    """Convert a human amount to atoms exactly; reject what cannot be represented.

    Rejects floats, non-numbers, NaN/inf, zero, negatives, more fractional digits than the
    token has (no silent rounding of what a trader typed) and results of 2^63 atoms or more.
    """
    if isinstance(amount_ui, (bool, float)):
        raise ValueError("amount must be given as a decimal string, not a float")
    text = amount_ui.strip().replace("_", "") if isinstance(amount_ui, str) else amount_ui
    if text == "":
        raise ValueError("amount is required")
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"amount {amount_ui!r} is not a number") from None
    if not value.is_finite():
        raise ValueError("amount must be a finite number")
    if value <= 0:
        raise ValueError("amount must be greater than zero")
    if value.adjusted() > 30:  # checked first: larger values would overflow the exact arithmetic below
        raise ValueError("amount is too large")
    with localcontext() as ctx:
        ctx.prec = 80
        if value != value.quantize(Decimal(1).scaleb(-decimals)):
            raise ValueError(f"amount has more than {decimals} decimal places")
        atoms = int(value.scaleb(decimals).to_integral_value(rounding="ROUND_DOWN"))
    return check_atoms(atoms)


def check_atoms(atoms: int) -> int:
    """Return atoms if it is a positive integer below 2^63; raise ValueError otherwise."""
    if isinstance(atoms, bool) or not isinstance(atoms, int):
        raise ValueError("amount_atoms must be an integer")
    if atoms <= 0:
        raise ValueError("amount must be greater than zero")
    if atoms > MAX_ATOMS:
        raise ValueError("amount is too large: it must be below 2^63 atoms")
    return atoms


def parse_atoms(text: str | int) -> int:
    """Parse an integer atom count from a decimal string (as Jupiter and our API send them)."""
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        raise ValueError("amount_atoms must be a string of digits")
    s = text.strip() if isinstance(text, str) else str(text)
    if not (s.isascii() and s.isdigit()) or len(s) > 20:
        raise ValueError("amount_atoms must be a string of digits")
    return check_atoms(int(s))


def to_ui(atoms: int, decimals: int) -> Decimal:
    """Exact human amount of an atom count (no rounding)."""
    return Decimal(atoms).scaleb(-decimals)


def format_ui(atoms: int, decimals: int, places: int | None = None) -> str:
    """Human amount with thousands separators, rounded down to `places` decimals (default: all)."""
    value = to_ui(atoms, decimals)
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places), rounding="ROUND_DOWN")
        return f"{value:,.{places}f}"
    text = f"{value:,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
