"""Every page on demo data at desktop and phone width; analytics and monitoring charts; history; pool editing."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import api_post, shot

ANALYTICS_CHARTS = ["chart-savings", "chart-sizes", "chart-shortfall", "chart-markouts", "chart-mix", "chart-slippage",
                    "chart-cost", "chart-pairs"]
MONITORING_CHARTS = ["chart-latency", "chart-errors", "chart-kinds"]
CHART_STATE_JS = """ids => ids.map(id => {
  const chart = window.Chart && Chart.getChart(document.getElementById(id));
  if (!chart) return {id, ok: false};
  const points = chart.data.datasets.reduce((n, d) => n + d.data.filter(v => v !== null && v !== undefined).length, 0);
  const titles = Object.values(chart.options.scales || {}).map(s => s.title && s.title.display ? s.title.text : '');
  return {id, ok: true, points, titles};
})"""
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"
PAGES = {
    "dashboard": "/",
    "ticket": "/trade",
    "history": "/trades",
    "trade-detail": "/trades/1",
    "analytics": "/analytics?range=7d",
    "pools": "/pools",
    "pool-edit": "/pools/1/edit",
    "monitoring": "/monitoring",
    "api": "/api",
    "orders": "/orders",
}


def _settle(page) -> None:
    """Wait until the page's own requests (polls, the cost curve) have answered once."""
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("name", [*PAGES, "quote"])
def test_page_renders_at_desktop_and_phone_width(page, phone_page, live_server, name):
    path = PAGES.get(name)
    if path is None:  # a fresh firm quote
        page.goto(live_server + "/trade")
        response = api_post(page, live_server, "/api/v1/quotes", {"input": "USDC", "output": "SOL", "amount": "40000"})
        assert response.status == 200, response.text()
        path = f"/quotes/{response.json()['quote_id']}"
    for p in (page, phone_page):
        response = p.goto(live_server + path)
        assert response is not None and response.status == 200, f"{name}: {response and response.status}"
        _settle(p)
        assert p.title().endswith("OTC Liquidity Router")
        assert p.locator("h1").count() == 1
        assert p.evaluate(NO_SIDEWAYS_SCROLL), f"{name} scrolls sideways at {p.viewport_size['width']}px"


def test_analytics_charts_render_with_data_captions_axes_and_tables(page, live_server):
    page.goto(live_server + "/analytics?range=7d")
    page.wait_for_function("() => document.querySelectorAll('#table-cost tbody tr').length > 0")
    states = page.evaluate(CHART_STATE_JS, ANALYTICS_CHARTS)
    for state in states:
        assert state["ok"], f"{state['id']}: no Chart.js instance"
        assert state["points"] > 0, f"{state['id']}: no data"
        assert state["titles"] and all(state["titles"]), f"{state['id']}: an axis has no title: {state['titles']}"
    for chart_id in ANALYTICS_CHARTS:
        assert page.locator(f"#{chart_id}-caption").inner_text().strip(), f"{chart_id}: no caption"
    assert page.locator("details.olr-chart-table").count() == len(ANALYTICS_CHARTS)
    assert page.locator("#table-sizes tbody tr").count() == 5
    assert page.locator("#table-pairs tbody tr").count() >= 2
    assert "beats Jupiter" in page.locator("#chart-cost-crossover").inner_text()

    page.locator("#chart-sizes-card summary").click()
    assert page.locator("#table-sizes").is_visible()
    page.select_option("#cost-side", "buy")
    page.wait_for_function("() => /buy SOL/.test(document.getElementById('chart-cost-crossover').textContent)"
                           " || /No OTC pool/.test(document.getElementById('chart-cost-crossover').textContent)")
    page.get_by_role("link", name="30d").click()
    page.wait_for_url(live_server + "/analytics?range=30d")
    assert page.locator(".olr-range .btn.active").inner_text() == "30d"


def test_monitoring_charts_render_from_the_metrics_history(page, live_server):
    page.goto(live_server + "/monitoring?range=7d")
    _settle(page)
    states = page.evaluate(CHART_STATE_JS, MONITORING_CHARTS[:2])
    for state in states:
        assert state["ok"] and state["points"] > 0, state
        assert all(state["titles"]), state
    assert page.locator("#kpi-breaker").inner_text() in {"closed", "open", "half_open"}
    assert page.locator("#kpi-db").inner_text() == "ok"
    assert page.locator("#snapshots-table tbody tr").count() > 0


def test_history_filters_sorts_paginates_and_exports_csv(page, live_server):
    page.goto(live_server + "/trades")
    assert page.locator("#history-table tbody tr").count() == 50
    page.locator("#next-page").click()
    assert page.locator("#history-table tbody tr").count() > 0
    assert page.get_by_role("link", name="First page").is_visible()

    page.goto(live_server + "/trades")
    page.select_option("#f-venue", "jupiter")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(live_server + "/trades?*")
    venues = page.locator("#history-table tbody .olr-venue").all_inner_texts()
    assert venues and {v.strip() for v in venues} == {"jupiter"}

    page.locator("a.olr-sort[data-sort='size']").click()
    header = page.locator("th[aria-sort='descending'] a[data-sort='size']")
    header.wait_for()
    sizes = page.locator("#history-table tbody td[data-label='Notional']").all_inner_texts()
    values = [int(s.replace("$", "").replace(",", "")) for s in sizes]
    assert values == sorted(values, reverse=True)

    csv_url = page.locator("#csv-export").get_attribute("href")
    assert "venue=jupiter" in csv_url and "sort=size" in csv_url
    response = page.request.get(live_server + csv_url)
    assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
    lines = response.text().strip().splitlines()
    assert lines[0].startswith("id,created_at,status,pair")
    assert len(lines) > 1 and all(",jupiter," in line for line in lines[1:])


def test_admin_edits_a_pool_with_field_errors_then_saves(page, live_server):
    page.goto(live_server + "/pools")
    widths = page.locator(".olr-gauge-bar").evaluate_all("bars => bars.map(b => b.style.width)")
    assert widths and all(w.endswith("%") for w in widths)
    page.locator("#edit-pool-1").click()
    page.wait_for_url(live_server + "/pools/1/edit")

    # The server rejects these (the form is novalidate so the browser does not intercept):
    page.get_by_label("Minimum trade").fill("60000")
    page.get_by_label("Maximum trade").fill("50000")
    page.get_by_label("Base spread").fill("-1")
    page.allow_console_error(r"status of 400")  # the re-rendered form answers 400
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_load_state()
    assert "at least the minimum" in page.locator("#max_trade_base-error").inner_text()
    assert "must not be negative" in page.locator("#base_spread_bps-error").inner_text()
    assert page.locator("#form-errors").is_visible()
    shot(page, "pool-edit-errors")

    page.get_by_label("Minimum trade").fill("100")
    page.get_by_label("Maximum trade").fill("50000")
    page.get_by_label("Base spread").fill("6")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(live_server + "/pools#pool-1")
    assert "next quote uses the new settings" in page.locator(".alert-success").inner_text()
    assert "6.00 bps" in page.locator("#pool-1 .olr-pool-config").inner_text()

    page.goto(live_server + "/pools/1/edit")  # put it back for the other tests
    page.get_by_label("Base spread").fill("5")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(live_server + "/pools#pool-1")


def test_monitoring_names_the_worker_counts_order_errors_apart_and_says_no_limit_in_sim_mode(page, phone_page,
                                                                                              live_server):
    page.goto(live_server + "/trade")
    refused = api_post(page, live_server, "/api/v1/quotes", {"input": "SOL", "output": "USDC", "amount": "1000000000"})
    assert refused.status == 422 and refused.json()["error"]["code"] == "NO_ROUTE"
    page.set_viewport_size({"width": 1400, "height": 900})
    for p, width in ((page, 1400), (phone_page, 390)):
        p.goto(live_server + "/monitoring?range=7d")
        _settle(p)
        assert p.locator("#kpi-headroom").inner_text() == "no limit"
        assert p.locator("#kpi-headroom-sub").inner_text() == "no rate limiter in sim mode"
        assert re.fullmatch(r".+:\d+", p.locator("#live-worker").inner_text())
        assert re.search(r"\b[1-9]\d* order errors", p.locator("#kpi-calls-sub").inner_text())
        assert "WORKER" in p.locator("#snapshots-table thead").inner_text().upper()
        assert re.fullmatch(r".+:\d+", p.locator("#snapshots-table tbody tr td:nth-child(2)").first.inner_text())
        assert p.evaluate(NO_SIDEWAYS_SCROLL), f"monitoring scrolls sideways at {width}px"
        shot(p, f"monitoring-workers-{width}")
