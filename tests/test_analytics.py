"""The read side: chart series grouped in SQL (same answer on SQLite and PostgreSQL), history keyset, pool figures."""
from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask

from core.tokens import SOL, USDC, USDT
from models import OTCPool, Quote, Trade, TradeLeg, db
from read import analytics, series, window
from read.history import HistoryQuery, history_page
from services import cost_chart

DAY0 = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
USD = 10**6


def add_trade(at: datetime, *, notional_usd: int, saved_usd: int = 0, venue: str = "jupiter",
              legs: list[tuple[str, int]] | None = None, status: str = "filled", sell_sol: bool = True,
              stable=USDC, swap_mode: str = "ExactIn", out_atoms: int = 1_000_000, quote_id: str | None = None,
              price_impact_bps: str | None = None) -> Trade:
    """A trade row at `at`: notional and savings in whole USD, legs as (venue, input atoms)."""
    inp, out = (SOL, stable) if sell_sol else (stable, SOL)
    legs = legs if legs is not None else [(venue, 1_000 * 10**9)]
    trade = Trade(
        status=status, pair=f"SOL/{stable.symbol}", input_mint=inp.mint, output_mint=out.mint,
        input_symbol=inp.symbol, output_symbol=out.symbol, swap_mode=swap_mode, slippage_bps=50, venue=venue,
        in_amount_atoms=sum(a for _, a in legs), out_amount_atoms=out_atoms, notional_usd_atoms=notional_usd * USD,
        savings_usd_atoms=saved_usd * USD, cost_bps=Decimal("10"), explanation="", options=[], created_at=at,
        quoted_at=at, executed_at=at, settled_at=at, quote_id=quote_id,
        price_impact_bps=Decimal(price_impact_bps) if price_impact_bps else None)
    pools = {p.venue: p.id for p in db.session.query(OTCPool)}
    trade.legs = [TradeLeg(venue=v, pool_id=pools.get(v), in_amount_atoms=a, out_amount_atoms=out_atoms // len(legs))
                  for v, a in legs]
    db.session.add(trade)
    db.session.commit()
    return trade


def daily(days: int = 3) -> window.Window:
    """A window of `days` whole UTC days from DAY0, one bucket per day."""
    return window.Window(DAY0, DAY0 + timedelta(days=days), 86_400, "test")


def test_savings_are_bucketed_by_day_in_sql_and_cumulated_on_both_backends(any_app: Flask) -> None:
    with any_app.app_context():
        add_trade(DAY0 + timedelta(hours=1), notional_usd=100_000, saved_usd=100)
        add_trade(DAY0 + timedelta(hours=23, minutes=59), notional_usd=300_000, saved_usd=300)
        add_trade(DAY0 + timedelta(days=2, hours=5), notional_usd=50_000, saved_usd=50)
        add_trade(DAY0 + timedelta(days=2, hours=6), notional_usd=999_000, saved_usd=999, status="rejected")
        points = series.savings_series(daily())
    assert [p["t"] for p in points] == ["2026-11-02T00:00:00.000Z", "2026-11-03T00:00:00.000Z",
                                        "2026-11-04T00:00:00.000Z"]
    assert [p["trades"] for p in points] == [2, 0, 1]
    assert [p["savings_usd_atoms"] for p in points] == [str(400 * USD), "0", str(50 * USD)]
    assert [p["cumulative_savings_usd_atoms"] for p in points] == [str(400 * USD), str(400 * USD), str(450 * USD)]
    assert points[0]["savings_bps"] == "10.0"  # 400 / 400,000 USD


def test_size_buckets_split_trades_by_usd_notional(any_app: Flask) -> None:
    with any_app.app_context():
        add_trade(DAY0, notional_usd=5_000)
        add_trade(DAY0, notional_usd=10_000)  # the lower edge belongs to the next bucket
        add_trade(DAY0, notional_usd=2_000_000, saved_usd=3_000, venue="otc:sol-usdc")
        add_trade(DAY0, notional_usd=6_000_000, saved_usd=12_000, venue="split",
                  legs=[("otc:sol-usdc", 30 * 10**12), ("jupiter", 10 * 10**12)])
        buckets = series.size_buckets(daily())
    assert [b["trades"] for b in buckets] == [1, 1, 0, 1, 1]
    assert [b["bucket"] for b in buckets] == list(series.SIZE_LABELS)
    assert buckets[3]["savings_bps"] == "15.0" and buckets[4]["savings_bps"] == "20.0"
    assert buckets[3]["otc_share_pct"] == "100.0" and buckets[0]["otc_share_pct"] == "0.0"


def test_route_mix_counts_each_leg_of_a_split_on_its_own_venue(any_app: Flask) -> None:
    with any_app.app_context():
        add_trade(DAY0 + timedelta(hours=2), notional_usd=1_000_000, venue="split",
                  legs=[("otc:sol-usdc", 75 * 10**9), ("jupiter", 25 * 10**9)])
        add_trade(DAY0 + timedelta(days=1), notional_usd=40_000)
        mix = series.route_mix_series(daily(2))
    by_venue = {v["venue"]: v for v in mix["venues"]}
    assert [v["venue"] for v in mix["venues"]] == ["jupiter", "otc:sol-usdc"]
    assert by_venue["otc:sol-usdc"]["volume_usd_atoms"] == [str(750_000 * USD), "0"]
    assert by_venue["jupiter"]["volume_usd_atoms"] == [str(250_000 * USD), str(40_000 * USD)]
    assert by_venue["jupiter"]["legs"] == [1, 1]
    assert mix["active"] == [0, 1]


def test_realised_slippage_compares_each_fill_with_its_firm_quote_on_both_backends(any_app: Flask) -> None:
    with any_app.app_context():
        for quote_id, quoted_out in (("q_a", 1_000_000), ("q_b", 2_000_000)):
            db.session.add(Quote(id=quote_id, created_at=DAY0, expires_at=DAY0 + timedelta(seconds=15),
                                 input_mint=SOL.mint, output_mint=USDC.mint, swap_mode="ExactIn",
                                 amount_atoms=10**9, slippage_bps=50,
                                 payload={"decision": {"out_amount_atoms": str(quoted_out),
                                                       "in_amount_atoms": str(10**9)}}))
        db.session.commit()
        add_trade(DAY0 + timedelta(hours=1), notional_usd=1_000, out_atoms=999_000, quote_id="q_a",
                  price_impact_bps="12.5")  # 10 bps worse than quoted
        add_trade(DAY0 + timedelta(hours=2), notional_usd=1_000, out_atoms=2_000_400, quote_id="q_b",
                  price_impact_bps="7.5")  # 2 bps better
        add_trade(DAY0 + timedelta(hours=3), notional_usd=1_000)  # no firm quote: not in the realised figures
        first = series.slippage_series(daily(1))[0]
    assert first["quote_fills"] == 2
    assert first["realised_slippage_bps"] == "4.00"  # (10 + -2) / 2
    assert first["worst_slippage_bps"] == "10.00"
    assert first["quoted_price_impact_bps"] == "10.0"


def test_volume_by_pair_groups_pair_and_direction_largest_first(any_app: Flask) -> None:
    with any_app.app_context():
        add_trade(DAY0, notional_usd=100, stable=USDT)
        add_trade(DAY0, notional_usd=500, sell_sol=False, saved_usd=1)
        add_trade(DAY0, notional_usd=300)
        rows = series.volume_by_pair(daily())
    assert [(r["pair"], r["direction"], r["volume_usd_atoms"]) for r in rows] == [
        ("SOL/USDC", "USDC→SOL", str(500 * USD)), ("SOL/USDC", "SOL→USDC", str(300 * USD)),
        ("SOL/USDT", "SOL→USDT", str(100 * USD))]
    assert rows[0]["savings_bps"] == "20.0"


@pytest.mark.parametrize(("range_key", "bucket_s"), [("24h", 3_600), ("7d", 21_600), ("30d", 86_400),
                                                      ("90d", 86_400)])
def test_windows_pick_a_bucket_width_and_start_on_a_boundary(range_key: str, bucket_s: int) -> None:
    now = datetime(2026, 11, 26, 13, 37, 5, tzinfo=UTC)
    w = window.make_window(range_key, None, None, now, None)
    assert w.bucket_s == bucket_s
    assert int(w.since.timestamp()) % bucket_s == 0
    assert w.until == now and w.buckets() <= window.MAX_BUCKETS


def test_a_date_range_covers_whole_utc_days_and_refuses_an_inverted_one() -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    w = window.make_window(None, date(2026, 11, 1), date(2026, 11, 3), now, None)
    assert (w.since, w.until, w.bucket_s) == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC),
                                              3_600 * 6)
    with pytest.raises(ValueError):
        window.make_window(None, date(2026, 11, 5), date(2026, 11, 3), now, None)


def test_all_time_on_a_year_of_data_stays_under_the_bucket_cap() -> None:
    now = datetime(2026, 11, 26, tzinfo=UTC)
    w = window.make_window("all", None, None, now, now - timedelta(days=3 * 365))
    assert w.bucket_s == 7 * 86_400 and w.since.weekday() == 0 and w.buckets() < 200


def test_history_keyset_by_size_visits_every_trade_once_in_order(app: Flask) -> None:
    with app.app_context():
        sizes = [5, 9, 9, 9, 1, 7, 3, 9, 2]
        for i, usd in enumerate(sizes):
            add_trade(DAY0 + timedelta(minutes=i), notional_usd=usd)
        seen: list[int] = []
        query = HistoryQuery(sort="size")
        while True:
            found = history_page(query, 2)
            page, cursor = found.rows, found.next_cursor
            seen += [t.notional_usd_atoms // USD for t in page]
            if cursor is None:
                break
            query = HistoryQuery(sort="size", cursor=cursor)
        ids_asc = [t.id for t in history_page(HistoryQuery(sort="time", descending=False), 100).rows]
    assert seen == sorted(sizes, reverse=True)
    assert ids_asc == sorted(ids_asc)


def test_history_filters_by_date_range_and_status(app: Flask) -> None:
    with app.app_context():
        add_trade(DAY0, notional_usd=1)
        add_trade(DAY0 + timedelta(days=1), notional_usd=2)
        add_trade(DAY0 + timedelta(days=1), notional_usd=3, status="rejected")
        query = HistoryQuery(since=DAY0 + timedelta(days=1), until=DAY0 + timedelta(days=2), status="filled")
        found = history_page(query, 10)
        rows, cursor = found.rows, found.next_cursor
    assert [t.notional_usd_atoms for t in rows] == [2 * USD] and cursor is None


def test_a_forged_history_cursor_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(ValueError):
        history_page(HistoryQuery(sort="time", cursor="yesterday~1"), 10)


def test_pool_savings_of_a_split_go_to_its_otc_legs(app: Flask) -> None:
    with app.app_context():
        add_trade(DAY0, notional_usd=4_000_000, saved_usd=9_000, venue="split",
                  legs=[("otc:sol-usdc", 20 * 10**12), ("otc:sol-usdt", 10 * 10**12), ("jupiter", 10 * 10**12)])
        add_trade(DAY0, notional_usd=1_000_000, saved_usd=1_000, venue="otc:sol-usdc")
        stats = analytics.pool_stats()
        ids = {p.venue: p.id for p in analytics.pools()}
    usdc, usdt = stats[ids["otc:sol-usdc"]], stats[ids["otc:sol-usdt"]]
    assert usdc["savings_usd_atoms"] == 7_000 * USD and usdt["savings_usd_atoms"] == 3_000 * USD
    assert (usdc["legs"], usdc["split_legs"], usdt["split_legs"]) == (2, 1, 1)


def test_summary_counts_only_the_window_and_otc_volume_by_legs(app: Flask) -> None:
    with app.app_context():
        add_trade(DAY0, notional_usd=1_000, venue="split", legs=[("otc:sol-usdc", 3 * 10**9), ("jupiter", 10**9)])
        add_trade(DAY0 + timedelta(days=5), notional_usd=9_000)
        totals = analytics.summary(DAY0, DAY0 + timedelta(days=1))
    assert totals["trades"] == 1 and totals["volume_usd_atoms"] == str(1_000 * USD)
    assert totals["otc_share_pct"] == "100.0" and totals["otc_volume_share_pct"] == "75.0"


def test_crossover_is_the_first_size_where_an_otc_pool_is_cheaper() -> None:
    sizes = len(cost_chart.SIZES_SOL)
    jupiter: list[Any] = [str(2 + i * 10) for i in range(sizes)]
    otc: list[Any] = [None, None, None] + ["15.0"] * (sizes - 3)
    found = cost_chart.crossover({"jupiter": jupiter, "otc:sol-usdc": otc})
    assert found == {"venue": "otc:sol-usdc", "from_ui": "50", "to_ui": "100"}
    assert cost_chart.crossover({"jupiter": jupiter, "otc:x": [None] * sizes}) is None


def test_the_cost_chart_comes_from_the_cost_curves_and_is_cached_per_market(app: Flask,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    now, market = datetime.now(UTC), app.extensions["market"]
    with app.app_context():
        real = cost_chart.cost_curve(market, "SOL/USDC", "sell", now)
    assert real["source"] == "cost curves (optimal split)" and "crossover" in real  # the real provider, no hook
    assert len(real["sizes_ui"]) == len(real["router"]["cost_bps"]) == len(cost_chart.SIZES_SOL)
    calls: list[tuple[str, str]] = []

    def chart_data(_market: Any, pair: str, side: str, sizes_atoms: list[int], at: datetime) -> dict[str, Any]:
        calls.append((pair, side))
        return {"pair": pair, "side": side, "crossover": None,
                "venues": [{"venue": "jupiter", "cost_bps": ["1.0"] * len(sizes_atoms)}]}

    monkeypatch.setattr(cost_chart, "chart_data", chart_data)
    with app.app_context():
        assert cost_chart.cost_curve(market, "SOL/USDC", "sell", now) is real  # cached
        first = cost_chart.cost_curve(market, "SOL/USDT", "buy", now)
        assert calls == [("SOL/USDT", "buy")] and first["crossover"] is None
        errors: list[BaseException] = []

        def hammer() -> None:
            with app.app_context():
                try:
                    for _ in range(50):
                        assert cost_chart.cost_curve(market, "SOL/USDT", "buy", now) is first
                except BaseException as exc:  # reported by the main thread below
                    errors.append(exc)

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors and calls == [("SOL/USDT", "buy")]  # 400 reads from 8 threads, one computation
        cost_chart._caches[market].expire(time.monotonic() + cost_chart.CACHE_S)  # CACHE_S later: both curves are stale
        assert cost_chart.cost_curve(market, "SOL/USDT", "buy", now) is not first and len(calls) == 2
