"""Rules of persistent impact: our swaps displace the simulated pools, arbitrage pulls them back with a half-life."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal

import pytest
from flask import Flask

import sim.chain
from core.tokens import SOL, USDC, Token
from jupiter_api import JupiterQuote, parse_quote
from ledger.sim_tables import SimPoolState
from models import db
from services import execution
from sim import dex, impact
from sim.impact import Displacement, PoolBook
from sim.pools import POOLS, PoolKind
from sim.price import SimConfig, reference_price

NOW = 1_760_000_000
CONFIG = SimConfig(arb_half_life_s=60)


class MemoryBook(PoolBook):
    """A PoolBook on a dict: the same pure rules as the database-backed one."""

    def __init__(self, config: SimConfig = CONFIG) -> None:
        self.rows: dict[str, Displacement] = {}

        def write(keys: Iterable[str], change: Callable[[Mapping[str, Displacement]], Mapping[str, Displacement]]):
            self.rows.update(change({k: self.rows[k] for k in keys if k in self.rows}))

        super().__init__(config, lambda: list(self.rows.values()), write)


def quote(book: PoolBook, inp: Token, out: Token, amount: int, now_s: float, mode: str = "ExactIn") -> JupiterQuote:
    """A quote from the simulator on the book's current state."""
    params = {"inputMint": inp.mint, "outputMint": out.mint, "amount": str(amount), "swapMode": mode}
    status, body = dex.quote_response(params, now_s, book.config, book.displaced(now_s))
    assert status == 200, body
    return parse_quote(body)


def sell_cost_bps(book: PoolBook, sol: int, now_s: float) -> Decimal:
    """All-in cost of selling `sol` SOL for USDC against the reference mid at now_s, bps."""
    q = quote(book, SOL, USDC, sol * 10**9, now_s)
    fair = Decimal(q.in_amount_atoms) * reference_price(SOL.mint, USDC.mint, now_s, book.config) / 1000
    return (1 - q.out_amount_atoms / fair) * 10_000


def test_a_10000_sol_sell_after_a_50000_sol_execution_costs_more_and_recovers_after_5_half_lives() -> None:
    book = MemoryBook()
    before = sell_cost_bps(book, 10_000, NOW)
    book.apply_fill(quote(book, SOL, USDC, 50_000 * 10**9, NOW).route_plan, NOW)
    right_after = sell_cost_bps(book, 10_000, NOW)
    recovered = sell_cost_bps(book, 10_000, NOW + 5 * CONFIG.arb_half_life_s)
    assert right_after > before + 50  # measurably more: the first order's impact is still in the pools
    assert abs(recovered - before) < 1


def test_an_untouched_market_forgets_nothing_and_remembers_nothing() -> None:
    book = MemoryBook()
    assert sell_cost_bps(book, 10_000, NOW) == sell_cost_bps(MemoryBook(), 10_000, NOW)
    assert book.displaced(NOW) == {}


def test_a_buy_right_after_a_big_sell_gets_more_than_before() -> None:
    book = MemoryBook()
    before = quote(book, USDC, SOL, 1_000_000 * 10**6, NOW).out_amount_atoms
    book.apply_fill(quote(book, SOL, USDC, 30_000 * 10**9, NOW).route_plan, NOW)
    assert quote(book, USDC, SOL, 1_000_000 * 10**6, NOW).out_amount_atoms > before


def test_exact_out_fills_displace_the_pools_too() -> None:
    book = MemoryBook()
    q = quote(book, USDC, SOL, 20_000 * 10**9, NOW, "ExactOut")
    book.apply_fill(q.route_plan, NOW)
    assert all(d < 0 for d in book.displaced(NOW).values())  # the pools paid SOL out: short of equilibrium
    assert sum(-d for d in book.displaced(NOW).values()) == 20_000 * 10**9


@pytest.mark.parametrize(("elapsed", "expected"), [(0, 1_000_001), (60, 500_000), (120, 250_000), (-5, 1_000_001),
                                                   (60 * 80, 0)])
def test_a_displacement_halves_every_half_life_rounded_toward_zero(elapsed: int, expected: int) -> None:
    assert impact.decayed_atoms(1_000_001, elapsed, Decimal(60)) == expected
    assert impact.decayed_atoms(-1_000_001, elapsed, Decimal(60)) == -expected


def test_prop_amms_and_concentrated_pools_recover_faster_than_constant_product() -> None:
    scale = impact.HALF_LIFE_SCALE
    assert scale[PoolKind.PROP_AMM] < scale[PoolKind.CONCENTRATED] < scale[PoolKind.CONSTANT_PRODUCT] == 1


def test_a_pool_is_never_displaced_beyond_its_price_range() -> None:
    book = MemoryBook()
    humidifi = next(p for p in POOLS if p.label == "HumidiFi" and p.quote_mint == USDC.mint)
    book.rows[humidifi.amm_key] = Displacement(humidifi.amm_key, 10**18, NOW)
    dev = next(d for d in book.deviations(NOW) if d.amm_key == humidifi.amm_key)
    assert Decimal(-8) < dev.deviation_bps < Decimal(-6)  # at its range edge: mid / R = mid · (1 - 6.5 bps)


def test_deviations_show_the_sold_pools_below_the_reference_and_when_they_recover() -> None:
    book = MemoryBook()
    assert all(d.deviation_bps == 0 and d.recover_s == 0 for d in book.deviations(NOW))
    book.apply_fill(quote(book, SOL, USDC, 50_000 * 10**9, NOW).route_plan, NOW)
    moved = [d for d in book.deviations(NOW) if d.base_atoms]
    assert moved and all(d.deviation_bps < -1 and d.recover_s > 0 and d.pair == "SOL/USDC" for d in moved)
    later = {d.amm_key: d for d in book.deviations(NOW + 30)}
    assert all(abs(later[d.amm_key].deviation_bps) < abs(d.deviation_bps) for d in moved)


def test_half_life_setting_rejects_what_the_model_cannot_use() -> None:
    for bad in (0, -1, True, Decimal(5), 86_401):
        with pytest.raises(ValueError):
            SimConfig(arb_half_life_s=bad)  # type: ignore[arg-type]


def test_an_executed_jupiter_leg_moves_the_shared_pool_state(app: Flask) -> None:
    market = app.extensions["market"]
    with app.app_context():
        q = market.jupiter.quote(SOL.mint, USDC.mint, 40_000 * 10**9, 50, "ExactIn")
        market.apply_jupiter_fill(q, NOW)
        rows = {key: (base, as_of) for key, base, as_of in db.session.execute(
            db.select(SimPoolState.amm_key, SimPoolState.base_atoms, SimPoolState.as_of_s))}
        db.session.rollback()
    assert {step.amm_key for step in q.route_plan} == set(rows)
    assert all(base > 0 and as_of == NOW for base, as_of in rows.values())
    assert app.extensions["sim_pools"].displaced(NOW) == {k: base for k, (base, _) in rows.items()}


def test_a_second_fill_adds_to_the_decayed_first_in_the_database(app: Flask) -> None:
    book = app.extensions["sim_pools"]
    key = next(p.amm_key for p in POOLS if p.label == "Raydium" and p.quote_mint == USDC.mint)

    class Step:
        amm_key, input_mint, output_mint, in_amount_atoms, out_amount_atoms = key, SOL.mint, USDC.mint, 10**13, 1

    with app.app_context():
        book.apply_fill([Step()], NOW)
        book.apply_fill([Step()], NOW + 60)
    first = 10**13 * 9975 // 10_000
    assert book.displaced(NOW + 60) == {key: first // 2 + first}


def test_a_trade_with_a_jupiter_leg_displaces_the_pools_and_monitoring_shows_it(client) -> None:
    before = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "2000"}).get_json()
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "120000"})
    assert res.status_code == 201, res.get_json()
    assert any(leg["venue"] == "jupiter" for leg in res.get_json()["legs"])
    after = client.post("/api/v1/quotes", json={"input": "SOL", "output": "USDC", "amount": "2000"}).get_json()
    jupiter = [{o["venue"]: o for o in q["options"]}["jupiter"] for q in (before, after)]
    assert int(jupiter[1]["out_amount_atoms"]) < int(jupiter[0]["out_amount_atoms"])  # the second order pays
    page = client.get("/monitoring").get_data(as_text=True)
    assert 'id="sim-pools-table"' in page and "HumidiFi" in page and "class=\"olr-displaced\"" in page


def test_a_trade_refused_by_its_slippage_limit_moves_no_pool(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(execution, "limit_breach", lambda plan, fills: "the fill broke the limit")
    monkeypatch.setattr(sim.chain, "slippage_exceeded", lambda terms, in_atoms, out_atoms: True)  # and on chain
    client = app.test_client()
    res = client.post("/api/v1/trades", json={"input": "SOL", "output": "USDC", "amount": "120000"})
    assert res.status_code == 422, res.get_json()
    assert list(app.extensions["sim_pools"].read()) == []
