"""Pre-trade guardrails (issue 16) as rules: cost colours, the hard confirm, acknowledge_cost, low-water alerts."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from flask import Flask

from ledger.maker_tables import Maker
from models import OTCPool, db, utcnow
from services import alerts, guardrails
from services.errors import InputError, ServiceError
from services.guardrails import Guardrails

RAILS = Guardrails(warn_bps=Decimal(25), danger_bps=Decimal(100), confirm_bps=Decimal(150),
                   confirm_usd_atoms=5_000_000 * 10**6)


@pytest.mark.parametrize(("cost_bps", "level"), [
    (None, "ok"), (Decimal("-3.0"), "ok"), (Decimal("25.0"), "ok"), (Decimal("25.1"), "warn"),
    (Decimal("100.0"), "warn"), (Decimal("100.1"), "danger"), (Decimal("1135.0"), "danger")])
def test_a_cost_is_coloured_only_above_each_threshold(cost_bps: Decimal | None, level: str) -> None:
    assert RAILS.level(cost_bps) == level


@pytest.mark.parametrize(("cost_bps", "notional_usd_atoms", "needed"), [
    (Decimal("150.0"), 0, False), (Decimal("150.1"), 0, True), (None, 5_000_000 * 10**6, False),
    (Decimal("10"), 5_000_000 * 10**6 + 1, True), (None, 5_000_000 * 10**6 + 1, True), (Decimal("149.9"), 1, False)])
def test_the_hard_confirm_applies_strictly_above_the_bps_or_the_usd_threshold(
        cost_bps: Decimal | None, notional_usd_atoms: int, needed: bool) -> None:
    assert RAILS.needs_confirm(cost_bps, notional_usd_atoms) is needed


def test_an_unacknowledged_trade_above_the_threshold_is_refused_with_its_cost_in_bps_and_usd() -> None:
    with pytest.raises(ServiceError) as refused:
        guardrails.require_acknowledgement(Decimal("200"), 1_000_000 * 10**6, False, RAILS)
    assert refused.value.status == 422 and refused.value.code == "CONFIRM_REQUIRED"
    assert "200.0 bps" in str(refused.value) and "20,000.00 USD" in str(refused.value)
    assert "1,000,000 USD notional" in str(refused.value)
    guardrails.require_acknowledgement(Decimal("200"), 1_000_000 * 10**6, True, RAILS)  # acknowledged: passes
    guardrails.require_acknowledgement(Decimal("150"), 5_000_000 * 10**6, False, RAILS)  # at both thresholds: passes


def test_the_usd_cost_rounds_up_to_the_next_atom() -> None:
    assert guardrails.cost_usd_atoms(10_001, Decimal("1")) == 2  # 1.0001 atoms
    assert guardrails.cost_usd_atoms(10_000, Decimal("1")) == 1


@pytest.mark.parametrize("value", ["true", 1, "yes", None, 0])
def test_acknowledge_cost_must_be_a_json_boolean(value: object) -> None:
    with pytest.raises(InputError) as bad:
        guardrails.acknowledged({"acknowledge_cost": value})
    assert bad.value.field == "acknowledge_cost"
    assert guardrails.acknowledged({}) is False and guardrails.acknowledged({"acknowledge_cost": True}) is True


def test_the_thresholds_come_from_the_environment_text() -> None:
    rails = Guardrails.from_config({"COST_WARN_BPS": "5", "COST_DANGER_BPS": "7.5", "HARD_CONFIRM_BPS": "9",
                                    "HARD_CONFIRM_USD": "250000", "POOL_LOW_WATER_PCT": "12.5",
                                    "HARD_CONFIRM_API": "1"})
    assert (rails.warn_bps, rails.danger_bps, rails.confirm_bps) == (Decimal(5), Decimal("7.5"), Decimal(9))
    assert rails.confirm_usd_atoms == 250_000 * 10**6 and rails.low_water_pct == Decimal("12.5")
    assert rails.confirm_api is True and Guardrails.from_config({}).confirm_api is False


def test_the_assessment_colours_the_route_and_every_option_by_the_same_rule() -> None:
    got = guardrails.assessment(Decimal("120"), 1_000 * 10**6, RAILS,
                                {"jupiter": Decimal("1135"), "otc:sol-usdc": Decimal("14.4")})
    assert got["level"] == "danger" and got["confirm_required"] is False and got["confirm_reasons"] == []
    both = guardrails.assessment(Decimal("150.1"), 5_000_000 * 10**6 + 1, RAILS)
    assert both["confirm_required"] is True and both["confirm_reasons"] == ["cost", "notional"]
    assert got["cost_usd_atoms"] == "12000000" and got["notional_usd_atoms"] == "1000000000"
    assert got["option_levels"] == {"jupiter": "danger", "otc:sol-usdc": "ok"}
    assert got["thresholds"]["confirm_usd_atoms"] == "5000000000000"


@pytest.mark.parametrize(("held", "target", "low"), [(9, 100, True), (10, 100, False), (0, 100, True),
                                                      (0, 0, False), (99_999, 1_000_000, True)])
def test_a_side_is_low_strictly_below_the_low_water_share_of_its_target(held: int, target: int, low: bool) -> None:
    assert alerts.is_low(held, target, Decimal(10)) is low


def _drain(app: Flask, name: str, quote_atoms: int | None = None, base_atoms: int | None = None) -> OTCPool:
    """Set a pool's stored inventory as of now (no replenishment yet)."""
    with app.app_context():
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == name))
        assert pool is not None
        if quote_atoms is not None:
            pool.quote_atoms = quote_atoms
        if base_atoms is not None:
            pool.base_atoms = base_atoms
        pool.inventory_at = utcnow()
        db.session.commit()
        return pool


def test_a_drained_pool_side_raises_one_alert_and_a_healthy_pool_none(app: Flask) -> None:
    with app.app_context():
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        assert pool is not None
        target = pool.target_quote_atoms
        assert alerts.desk_alerts(utcnow(), Decimal(10)) == []  # seeded pools are full
    _drain(app, "sol-usdc", quote_atoms=target * 2 // 1000)  # 0.2 % of its USDC, as in the issue
    with app.app_context():
        found = alerts.desk_alerts(utcnow(), Decimal(10))
    assert [(a["kind"], a["venue"], a["symbol"]) for a in found] == [("pool_low", "otc:sol-usdc", "USDC")]
    assert found[0]["pct"] == "0.2" and "0.2 %" in found[0]["message"]
    with app.app_context():  # the same pool read for another pair's ticket raises nothing
        pools = {(p.base_mint, p.quote_mint) for p in db.session.scalars(db.select(OTCPool))}
        other = next(pair for pair in pools if pair != (pool.base_mint, pool.quote_mint))
        assert alerts.desk_alerts(utcnow(), Decimal(10), pair=other) == []
        assert len(alerts.desk_alerts(utcnow(), Decimal(10), pair=(pool.quote_mint, pool.base_mint))) == 1


def test_a_pool_exactly_at_its_low_water_mark_is_not_an_alert(app: Flask) -> None:
    with app.app_context():
        pool = db.session.scalar(db.select(OTCPool).where(OTCPool.name == "sol-usdc"))
        assert pool is not None
        target = pool.target_base_atoms
    assert target % 10 == 0
    _drain(app, "sol-usdc", base_atoms=target // 10)  # exactly 10 % of its SOL target
    with app.app_context():
        assert alerts.desk_alerts(utcnow(), Decimal(10)) == []
        assert [a["symbol"] for a in alerts.desk_alerts(utcnow(), Decimal("10.1"))] == ["SOL"]


def test_a_suspended_maker_is_an_alert_and_a_disabled_one_is_not(app: Flask) -> None:
    now = utcnow()
    with app.app_context():
        db.session.add_all([
            Maker(name="cooling", base_url="sim://cooling", enabled=True, tokens=[], fail_streak=0, suspensions=2,
                  last_error="unreachable: connection refused", suspended_until=now + timedelta(minutes=5)),
            Maker(name="rested", base_url="sim://rested", enabled=True, tokens=[], fail_streak=0,
                  suspended_until=now - timedelta(minutes=1)),
            Maker(name="off", base_url="sim://off", enabled=False, tokens=[])])
        db.session.commit()
        found = [a for a in alerts.desk_alerts(now, Decimal(10)) if a["kind"] == "maker_suspended"]
    assert [a["venue"] for a in found] == ["rfq:cooling"]
    assert found[0]["suspensions"] == 2 and "suspension 2" in found[0]["message"]
    assert "last error: unreachable: connection refused" in found[0]["message"]
