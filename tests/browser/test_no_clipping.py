"""No number is ever clipped: on the ticket (with a quote shown), the quote page and a trade's page, at desktop and
phone width, every table cell and number element shows its whole text (it may scroll or wrap, never be cut)."""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import api_post, shot

# Every element that holds a number (table cells, .num, KPI values, definition values, <time>): clipped when it
# overflows a box that hides overflow (its own or an ancestor's, up to the nearest scroll container), or when
# text-overflow: ellipsis is applied to a box narrower than its text; and no number breaks over two lines.
CLIPPED_NUMBERS_JS = r"""() => {
  const found = [];
  const hides = s => ['hidden', 'clip'].includes(s.overflowX);
  const scrolls = s => ['auto', 'scroll'].includes(s.overflowX);
  const els = document.querySelectorAll('td, th, .num, dd, .olr-kpi-value, .olr-kpi-sub, time, [data-number]');
  for (const el of els) {
    const text = (el.innerText || '').trim();
    if (!/\d/.test(text) || el.offsetParent === null) continue;
    const s = getComputedStyle(el);
    if (s.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth) {
      found.push({text, why: 'ellipsis'}); continue;
    }
    if (hides(s) && el.scrollWidth > el.clientWidth + 1) { found.push({text, why: 'overflow hidden'}); continue; }
    const r = el.getBoundingClientRect();
    let scroller = false;
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const as = getComputedStyle(a);
      if (scrolls(as)) { scroller = true; break; }
      if (hides(as)) {
        const ar = a.getBoundingClientRect();
        if (r.right > ar.right + 1 || r.left < ar.left - 1) {
          found.push({text, why: 'cut by ' + a.tagName.toLowerCase() + '.' + a.className}); break;
        }
      }
    }
    if (!scroller && r.right > document.documentElement.clientWidth + 1) found.push({text, why: 'off screen'});
  }
  // A number is never broken over two lines either (e.g. its last digit wrapped).
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement || node.parentElement.offsetParent === null) continue;
    for (const m of node.data.matchAll(/\d[\d,]*(?:\.\d+)?/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
      if (lines.size > 1) found.push({text: m[0], why: 'number wrapped over ' + lines.size + ' lines'});
    }
  }
  return found;
}"""
# At desktop width a table fits its card: no sideways scroll is needed to read a column.
SCROLLING_TABLES_JS = """() => [...document.querySelectorAll('.table-responsive')]
  .filter(t => t.offsetParent !== null && t.scrollWidth > t.clientWidth + 1)
  .map(t => (t.querySelector('table') || t).id || t.className)"""
SIZES = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}


def _assert_nothing_clipped(page, what: str) -> None:
    page.wait_for_load_state("networkidle")
    clipped = page.evaluate(CLIPPED_NUMBERS_JS)
    assert clipped == [], f"{what} at {page.viewport_size['width']} px clips numbers: {clipped}"
    if page.viewport_size["width"] >= 1400:
        assert page.evaluate(SCROLLING_TABLES_JS) == [], f"{what}: a table needs a sideways scroll at desktop width"


def _big_trade(page, live_server) -> int:
    """A large filled SOL → USDC trade (eight-digit output), through the API."""
    response = api_post(page, live_server, "/api/v1/trades",
                        {"input": "SOL", "output": "USDC", "amount": "123456.789123456", "slippage_bps": 300})
    assert response.status in (200, 201), response.text()
    return response.json()["id"]


@pytest.mark.parametrize("size", SIZES)
def test_no_number_is_clipped_on_ticket_quote_and_trade(page, live_server, size):
    page.set_viewport_size(SIZES[size])
    page.goto(live_server + "/trade")
    page.get_by_label("Amount", exact=True).fill("123456.789123456")
    page.locator("#live-result").wait_for(state="visible", timeout=10_000)
    page.wait_for_function("() => document.querySelectorAll('#live-options tbody tr').length >= 2")
    shot(page, f"noclip-ticket-{size}")
    _assert_nothing_clipped(page, "the ticket")

    page.get_by_role("button", name="Get firm quote to execute").click()
    page.wait_for_url(re.compile(r".*/quotes/q_[\w-]+$"))
    shot(page, f"noclip-quote-{size}")
    _assert_nothing_clipped(page, "the quote page")

    trade_id = _big_trade(page, live_server)
    page.goto(f"{live_server}/trades/{trade_id}")
    shot(page, f"noclip-trade-{size}")
    _assert_nothing_clipped(page, "the trade page")


COPY_JS = """sel => {
  const el = document.querySelector(sel);
  const range = document.createRange();
  range.selectNodeContents(el);
  window.getSelection().removeAllRanges();
  window.getSelection().addRange(range);
  let copied = null;
  window.addEventListener('copy', e => { copied = e.clipboardData.getData('text/plain'); }, {once: true});
  document.execCommand('copy');
  return copied;
}"""


def test_rounded_amounts_carry_full_precision_in_title_and_copy(page, live_server):
    page.goto(live_server + "/trade")
    trade_id = _big_trade(page, live_server)
    page.goto(f"{live_server}/trades/{trade_id}")
    paid = page.locator("#kpi-paid .olr-amt")
    assert paid.inner_text() == "123,456.7891"  # SOL: 4 decimals shown
    assert paid.get_attribute("title") == "123,456.789123456 SOL"
    received = page.locator("#kpi-received .olr-amt")
    assert re.fullmatch(r"[\d,]+\.\d{2}", received.inner_text()), received.inner_text()  # USDC: 2 decimals
    assert page.evaluate(COPY_JS, "#kpi-paid .olr-amt") == "123,456.789123456"
    copied = page.evaluate(COPY_JS, "#kpi-paid")
    assert copied.replace("\n", " ").strip().startswith("123,456.789123456 SOL"), copied
