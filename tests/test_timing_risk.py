"""One timing-risk charge: only a venue whose price is not firm over its delay (Jupiter) carries z·σ·√delay."""
from __future__ import annotations

from decimal import Decimal

from flask import Flask

from core import router
from core.orders import Order
from core.tokens import SOL, USDC
from services import quoting
from services.settings import Settings, load_config
from tests.conftest import build_app


def test_dealers_quotes_are_firm_and_carry_no_desk_timing_charge() -> None:
    for venue in ("otc:sol-usdc", "rfq:wintermute"):
        assert router.timing_risk_bps(venue, Decimal(80), Decimal(1), 1500) == 0


def test_jupiter_carries_z_sigma_root_delay_and_z_scales_it() -> None:
    one = router.timing_risk_bps("jupiter", Decimal(80), Decimal(1), 800)
    two = router.timing_risk_bps("jupiter", Decimal(80), Decimal(2), 800)
    assert one > 0 and two == router.delay_risk_bps(Decimal(80), Decimal(2), 800) and two >= 2 * one - Decimal("0.0001")


def test_z_is_a_desk_setting_read_from_the_environment(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TIMING_RISK_Z", "2.5")
    assert Settings.from_config(load_config(str(tmp_path))).jupiter_vol_z == Decimal("2.5")
    assert Settings.from_config({}).jupiter_vol_z == Decimal(1)


def test_gathered_otc_options_carry_no_timing_charge_and_jupiter_does(app: Flask) -> None:
    with app.app_context():
        g = quoting.gather(app.extensions["market"], Order(SOL, USDC, 5_000 * 10**9))
    by_venue = {o.venue: o for o in g.options if o.available}
    assert by_venue["jupiter"].delay_risk_bps and by_venue["jupiter"].delay_risk_bps > 0
    otc = [o for v, o in by_venue.items() if v.startswith("otc:")]
    assert otc and all(o.delay_risk_bps == 0 and o.cost_bps == o.execution_cost_bps for o in otc)
    assert all(c.risk_bps == 0 for c in g.curves if c.venue.startswith("otc:"))
    assert "timing risk:" in quoting.decide(app.extensions["market"], g).explanation


def test_a_higher_z_raises_only_jupiters_charge(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = build_app(f"sqlite:///{tmp_path / 'z.db'}", TIMING_RISK_Z=Decimal(3))
    with app.app_context():
        g = quoting.gather(app.extensions["market"], Order(SOL, USDC, 5_000 * 10**9))
    by_venue = {o.venue: o for o in g.options if o.available}
    assert by_venue["jupiter"].delay_risk_bps == router.delay_risk_bps(Decimal(80), Decimal(3), 800)
    assert all(o.delay_risk_bps == 0 for v, o in by_venue.items() if v != "jupiter")
