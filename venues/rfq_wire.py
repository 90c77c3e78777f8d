"""Jupiter Z's market-maker webhook format (jup-ag/rfq-webhook-toolkit, webhook-api): bodies out, answers checked.

`POST {base}/quote` {requestId, quoteId, tokenIn, amount, tokenOut, quoteType, protocol, feeBps, taker?}
-> 200 {requestId, quoteId, tokenIn, amountIn, tokenOut, amountOut, quoteType, protocol, maker}, 404 no quote,
400/401/5xx {message}. `POST {base}/swap` {requestId, quoteId, transaction} -> {quoteId, state: accepted|rejected,
rejectionReason?}. `GET {base}/tokens` -> [mint, ...]. u64 amounts are decimal strings; header X-API-KEY.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from solders.pubkey import Pubkey

from core.rfq import MakerQuote, MakerRefusal, Refusal
from core.units import SwapMode
from core.wire import RawResponse

PROTOCOL = "v1"
QUOTE_TYPES = {SwapMode.EXACT_IN: "exactIn", SwapMode.EXACT_OUT: "exactOut"}
_TYPE_ALIASES = {"exactin": SwapMode.EXACT_IN, "exact_in": SwapMode.EXACT_IN,
                 "exactout": SwapMode.EXACT_OUT, "exact_out": SwapMode.EXACT_OUT}
MAX_U64 = 2**64 - 1


@dataclass(frozen=True, slots=True)
class QuoteAsk:
    """One quote request as sent: the venue, the Jupiter Z ids, mints, mode and the size asked (atoms)."""

    venue: str
    request_id: str
    quote_id: str
    token_in: str
    token_out: str
    swap_mode: SwapMode
    amount_atoms: int
    taker: str | None = None
    fee_bps: int = 0

    def body(self) -> dict[str, Any]:
        """The JSON body of POST /quote."""
        out: dict[str, Any] = {"requestId": self.request_id, "quoteId": self.quote_id, "tokenIn": self.token_in,
                               "amount": str(self.amount_atoms), "tokenOut": self.token_out,
                               "quoteType": QUOTE_TYPES[self.swap_mode], "protocol": PROTOCOL,
                               "feeBps": self.fee_bps}
        if self.taker:
            out["taker"] = self.taker
        return out


@dataclass(frozen=True, slots=True)
class SwapVerdict:
    """A maker's last-look answer: accepted, or rejected with its reason."""

    quote_id: str
    accepted: bool
    reason: str | None = None


def swap_body(request_id: str, quote_id: str, transaction: str) -> dict[str, Any]:
    """The JSON body of POST /swap."""
    return {"requestId": request_id, "quoteId": quote_id, "transaction": transaction}


def _atoms(value: Any) -> int | None:
    """A u64 decimal string as int, or None when it is not one."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit():
        return None
    n = int(value)
    return n if 0 < n <= MAX_U64 else None


def _is_pubkey(value: Any) -> bool:
    """True for a base58 Solana public key."""
    if not isinstance(value, str) or not 32 <= len(value) <= 44:
        return False
    try:
        Pubkey.from_string(value)
    except ValueError:
        return False
    return True


def _message(resp: RawResponse) -> str:
    """The maker's error sentence ({message}) or the start of its body."""
    try:
        body = json.loads(resp.text)
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return body["message"][:200]
    except ValueError:
        pass
    return resp.text[:120]


def parse_quote(ask: QuoteAsk, resp: RawResponse, latency_ms: int) -> MakerQuote | MakerRefusal:
    """A checked answer to `ask`: the maker's firm quote, or a refusal naming what was wrong."""
    def refuse(code: Refusal, reason: str) -> MakerRefusal:
        return MakerRefusal(ask.venue, ask.amount_atoms, code, reason, latency_ms)

    if resp.status == 404:
        return refuse(Refusal.NO_QUOTE, "the maker has no quote for this request (404)")
    if resp.status != 200:
        return refuse(Refusal.ERROR, f"the maker answered HTTP {resp.status}: {_message(resp)}")
    try:
        body = json.loads(resp.text)
    except ValueError:
        return refuse(Refusal.MALFORMED, "the answer is not JSON")
    if not isinstance(body, dict):
        return refuse(Refusal.MALFORMED, "the answer is not a JSON object")
    missing = [k for k in ("requestId", "quoteId", "tokenIn", "amountIn", "tokenOut", "amountOut", "quoteType",
                           "protocol", "maker") if k not in body]
    if missing:
        return refuse(Refusal.MALFORMED, f"the answer lacks {', '.join(missing)}")
    if body["requestId"] != ask.request_id or body["quoteId"] != ask.quote_id:
        return refuse(Refusal.WRONG_ID, "the answer is for another requestId/quoteId")
    in_atoms, out_atoms = _atoms(body["amountIn"]), _atoms(body["amountOut"])
    if in_atoms is None or out_atoms is None:
        return refuse(Refusal.MALFORMED, "amountIn/amountOut must be positive u64 decimal strings")
    if not _is_pubkey(body["maker"]):
        return refuse(Refusal.MALFORMED, "maker must be the maker's public key (base58): it pays for the fill")
    mode = _TYPE_ALIASES.get(str(body["quoteType"]).lower())
    if body["tokenIn"] != ask.token_in or body["tokenOut"] != ask.token_out or mode != ask.swap_mode:
        return refuse(Refusal.WRONG_MINTS, "the answer is for other mints or another quote type than asked")
    if body["protocol"] != PROTOCOL:
        return refuse(Refusal.MALFORMED, f"unknown protocol {str(body['protocol'])[:20]!r}")
    fixed = in_atoms if ask.swap_mode == SwapMode.EXACT_IN else out_atoms
    if fixed != ask.amount_atoms:
        return refuse(Refusal.WRONG_AMOUNT, f"the answer is for {fixed} atoms, not the {ask.amount_atoms} asked")
    return MakerQuote(ask.venue, ask.amount_atoms, in_atoms, out_atoms, ask.request_id, ask.quote_id,
                      body["maker"], latency_ms)


def parse_swap(quote_id: str, resp: RawResponse) -> SwapVerdict:
    """The maker's last-look verdict; anything but a well-formed `accepted` for this quote is a rejection."""
    if resp.status != 200:
        return SwapVerdict(quote_id, False, f"the maker answered HTTP {resp.status}: {_message(resp)}")
    try:
        body = json.loads(resp.text)
    except ValueError:
        return SwapVerdict(quote_id, False, "the maker's swap answer is not JSON")
    if not isinstance(body, dict) or body.get("quoteId") != quote_id:
        return SwapVerdict(quote_id, False, "the maker's swap answer is not for this quote")
    state = body.get("state")
    if state == "accepted":
        return SwapVerdict(quote_id, True)
    reason = body.get("rejectionReason")
    if isinstance(state, dict) and "rejectedWithReason" in state:  # the toolkit's RejectedWithReason(reason)
        reason = reason or state["rejectedWithReason"]
    elif state != "rejected":
        return SwapVerdict(quote_id, False, f"unknown swap state {str(state)[:40]!r}")
    return SwapVerdict(quote_id, False, str(reason)[:200] if reason else "rejected at last look (no reason given)")


def parse_tokens(resp: RawResponse) -> list[str] | None:
    """The maker's advertised mints (GET /tokens), or None when the answer is not a JSON array of strings."""
    if resp.status != 200:
        return None
    try:
        body = json.loads(resp.text)
    except ValueError:
        return None
    if not isinstance(body, list) or not all(isinstance(m, str) and 0 < len(m) <= 64 for m in body):
        return None
    return sorted(set(body))
