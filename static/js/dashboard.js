/* Dashboard: polls /api/v1/analytics/dashboard (OLR.poll) and refreshes KPIs, the trade feed and pool gauges
 * in place, without reloading. While the server is unreachable or data is older than two intervals,
 * OLR.poll shows the navbar's "stale" badge and the live marker here turns grey.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var live = document.getElementById("dash-live");
  if (!OLR || !live) return;

  var tradeUrl = live.getAttribute("data-trade-url") || "/trades/0";
  var knownIds = new Set(Array.prototype.map.call(document.querySelectorAll("#feed-body tr[data-id]"),
    function (tr) { return tr.getAttribute("data-id"); }));
  var BREAKER = { closed: "ok", half_open: "degraded", open: "down" };
  var el = OLR.el;

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && node.textContent !== text) node.textContent = text;
  }

  function amountCell(atoms, mint, symbol, tokens) {
    var td = el("td", "text-end num");
    var t = tokens[mint];
    td.appendChild(document.createTextNode(t ? OLR.formatAtoms(atoms, t.decimals, 2) : atoms));
    td.appendChild(document.createTextNode(" "));
    td.appendChild(el("span", "unit", symbol));
    return td;
  }

  var LABELS = ["Trade", "Time (UTC)", "Order", "Venue", "Status", "Paid", "Received", "Saved"];

  function tradeRow(t, tokens) {
    var tr = el("tr");
    tr.setAttribute("data-id", String(t.id));
    var idCell = el("td");
    var a = el("a", null, String(t.id));
    a.href = tradeUrl.replace(/0$/, String(t.id));
    idCell.appendChild(a);
    tr.appendChild(idCell);
    var at = t.created_at || "";
    tr.appendChild(el("td", "num", at.slice(5, 10) + " " + at.slice(11, 19)));
    tr.appendChild(el("td", null, t.order.input_symbol + "→" + t.order.output_symbol));
    var venue = el("td");
    venue.appendChild(OLR.venueBadge(t.venue));
    tr.appendChild(venue);
    var status = el("td");
    status.appendChild(OLR.statusBadge(t.status));
    tr.appendChild(status);
    tr.appendChild(amountCell(t.in_amount_atoms, t.order.input_mint, t.order.input_symbol, tokens));
    tr.appendChild(amountCell(t.out_amount_atoms, t.order.output_mint, t.order.output_symbol, tokens));
    tr.appendChild(el("td", "text-end num", OLR.formatUsd(t.savings_usd_atoms)));
    Array.prototype.forEach.call(tr.children, function (td, i) { td.setAttribute("data-label", LABELS[i]); });
    if (!knownIds.has(String(t.id))) tr.classList.add("olr-new");
    return tr;
  }

  function renderFeed(trades, tokens) {
    var body = document.getElementById("feed-body");
    if (!body) return;
    var rows = trades.map(function (t) { return tradeRow(t, tokens); });
    body.replaceChildren.apply(body, rows);
    knownIds = new Set(trades.map(function (t) { return String(t.id); }));
    document.getElementById("feed-empty").classList.toggle("d-none", trades.length > 0);
    document.getElementById("feed-wrap").classList.toggle("d-none", trades.length === 0);
  }

  function renderGauge(id, held, target, decimals, pct) {
    var box = document.getElementById(id);
    if (!box) return;
    var heldEl = box.querySelector(".olr-gauge-held");
    if (heldEl) heldEl.textContent = OLR.formatAtoms(held, decimals, 0);
    var bar = box.querySelector(".olr-gauge-bar");
    if (bar) {
      bar.setAttribute("data-pct", pct);
      bar.classList.toggle("olr-gauge-low", Number(pct) < 25);
    }
    var track = box.querySelector(".olr-gauge-track");
    if (track) track.setAttribute("aria-valuenow", pct);
    var pctEl = box.querySelector(".olr-gauge-pct");
    if (pctEl) pctEl.textContent = pct;
  }

  function render(data) {
    var today = data.today, total = data.all_time, j = data.jupiter || {};
    setText("kpi-trades-today", String(today.trades));
    setText("kpi-trades-today-sub", ((today.trades_by_status || {}).rejected || 0) + " rejected · " + total.trades + " all time");
    setText("kpi-volume-today", OLR.formatUsd(today.volume_usd_atoms));
    setText("kpi-volume-today-sub", OLR.formatUsd(total.volume_usd_atoms) + " all time");
    setText("kpi-savings", OLR.formatUsd(total.savings_usd_atoms));
    setText("kpi-savings-sub", total.savings_bps + " bps of volume · all time");
    setText("kpi-otc-share", total.otc_share_pct + "%");
    setText("kpi-otc-share-sub", "of trades · " + total.otc_volume_share_pct + "% of volume");
    setText("kpi-jupiter", BREAKER[j.breaker_state || "closed"] || "ok");
    setText("kpi-jupiter-sub", "p50 " + (j.latency_ms_p50 === null || j.latency_ms_p50 === undefined ? "—" : j.latency_ms_p50) +
      " ms · " + (j.calls || 0) + " calls this process");
    renderFeed(data.trades || [], data.tokens || {});
    if (window.OLRAlerts) window.OLRAlerts.render(document.getElementById("desk-alerts"), data.alerts || []);  // alerts.js
    (data.pools || []).forEach(function (p) {
      renderGauge("gauge-" + p.id + "-base", p.base_atoms, p.target_base_atoms, p.base_decimals, p.base_pct);
      renderGauge("gauge-" + p.id + "-quote", p.quote_atoms, p.target_quote_atoms, p.quote_decimals, p.quote_pct);
    });
    OLR.applyWidths(document.getElementById("pool-gauges"));
    var time = (data.at || "").slice(11, 19);
    var updated = document.getElementById("dash-updated");
    if (updated) {
      var t = el("time", null, time + " UTC");
      t.setAttribute("datetime", data.at || "");
      updated.replaceChildren(document.createTextNode("Live · updated "), t);
    }
    live.setAttribute("data-polls", String(Number(live.getAttribute("data-polls") || "0") + 1));
  }

  var interval = Number(live.getAttribute("data-interval-ms")) || 5000;
  OLR.poll(live.getAttribute("data-url"), interval, render, function (stale) {
    live.classList.toggle("olr-live-stale", stale);
    if (stale) setText("dash-updated", "Data is stale: the server is not answering");
  });
})();
