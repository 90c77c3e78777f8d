/* Parent-order page (issue 16): renders what moves (status, filled vs scheduled, average price vs arrival mid, the
 * slices as a timeline) from the order's JSON, polls GET /api/v1/orders/<id> until the order is terminal and no
 * slice is still executing, and cancels through POST /api/v1/orders/<id>/cancel (session cookie + X-CSRFToken,
 * OLR.fetchJSON) after a confirmation. Amounts are atoms as decimal strings, computed with BigInt, never floats.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var root = document.getElementById("order-page");
  if (!OLR || !root) return;

  var POLL_MS = 1500;
  var el = OLR.el;
  var tokens = OLR.pageData("order-tokens") || {};
  var poller = null;
  var latest = OLR.pageData("order-data");
  var TERMINAL = { completed: true, cancelled: true, failed: true };
  var BADGES = {  // as _parent_macros.html parent_status_badge
    working: ["olr-status-pending", "arrow-repeat"], completed: ["olr-status-filled", "check-circle-fill"],
    cancelled: ["olr-status-rejected", "stop-circle"], failed: ["olr-status-failed", "x-octagon-fill"],
  };
  var SLICE_LABELS = {
    sent: ["olr-status-pending", "hourglass-split", "executing"], filled: ["olr-status-filled", "check-circle-fill", "filled"],
    failed: ["olr-status-failed", "x-octagon-fill", "failed"], waited: ["olr-status-other", "pause-circle", "waited"],
    scheduled: ["olr-status-other", "clock", "scheduled"], due: ["olr-status-pending", "alarm", "due"],
    not_sent: ["olr-status-other", "dash-circle", "not sent"],
  };

  function tok(mint) { return tokens[mint] || { symbol: "", decimals: 0, places: 0 }; }

  function amt(atoms, mint) {
    var t = tok(mint);
    return OLR.amount(String(atoms), t.decimals, t.places, t.symbol);
  }

  function amtSym(atoms, mint) {
    var span = el("span");
    span.append(amt(atoms, mint), " " + tok(mint).symbol);
    return span;
  }

  /** Tenths of a percent of part in whole, rounded down, as "33.3". */
  function pct(part, whole) {
    var w = BigInt(whole);
    if (w <= 0n) return "0.0";
    var tenths = (BigInt(part) * 1000n) / w;
    return (tenths / 10n).toString() + "." + (tenths % 10n).toString();
  }

  /** A price of output per input token from atoms, rounded down: 4 decimals from 1 up, 8 below. */
  function price(outAtoms, outMint, inAtoms, inMint) {
    var i = BigInt(inAtoms), o = BigInt(outAtoms);
    if (i <= 0n) return "—";
    var scaled = (o * 10n ** BigInt(tok(inMint).decimals + 8)) / (i * 10n ** BigInt(tok(outMint).decimals));
    var text = scaled.toString().padStart(9, "0");
    var whole = text.slice(0, -8), frac = text.slice(-8);
    return OLR.formatDecimal(whole + "." + frac, scaled >= 10n ** 8n ? 4 : 8);
  }

  function decimalText(str) {
    if (!str) return "—";
    return OLR.formatDecimal(str, /^0*(\.|$)/.test(String(str)) ? 8 : 4);  // below 1: more decimals
  }

  function timeEl(iso) {
    if (!iso) return document.createTextNode("—");
    var t = el("time", "num", iso.slice(11, 19));
    t.setAttribute("datetime", iso);
    return t;
  }

  function badge(styles, key, label) {
    var s = styles[key] || ["olr-status-other", "question-circle"];
    var b = el("span", "badge olr-status " + s[0]);
    b.setAttribute("data-status", key);
    b.append(OLR.icon(s[1]), " " + (label || s[2] || key));
    return b;
  }

  function setKpi(id, value, sub) {
    var v = document.getElementById(id), s = document.getElementById(id + "-sub");
    v.replaceChildren(value);
    if (s) s.replaceChildren(sub || "");
  }

  /* ---------- the timeline ---------- */

  function sliceSizes(total, n) {
    var t = BigInt(total), base = t / BigInt(n), out = [];
    for (var k = 0; k < n - 1; k++) out.push(base);
    out.push(t - base * BigInt(n - 1));
    return out;
  }

  function dueIso(d, index) {
    var start = Date.parse(d.start_at);
    return new Date(start + (index * d.duration_s * 1000) / d.slices).toISOString();
  }

  function sliceRow(d, index, attempt, status, sizeAtoms, child, note) {
    var exactIn = d.order.swap_mode === "ExactIn";
    var inMint = d.order.input_mint, outMint = d.order.output_mint, fixedMint = exactIn ? inMint : outMint;
    var tr = el("tr");
    tr.setAttribute("data-index", String(index));
    tr.setAttribute("data-status", status);
    var label = el("td", "num", (index + 1) + " / " + d.slices);
    label.setAttribute("data-label", "Slice");
    if (attempt > 1) label.append(" ", el("span", "unit", "try " + attempt));
    var due = el("td");
    due.setAttribute("data-label", "Due");
    due.appendChild(timeEl(dueIso(d, index)));
    var st = el("td");
    st.setAttribute("data-label", "Status");
    st.appendChild(badge(SLICE_LABELS, status));
    if (note) st.append(el("div", "small text-olr-muted olr-slice-note", note));
    var size = el("td", "text-end num");
    size.setAttribute("data-label", "Size (" + tok(fixedMint).symbol + ")");
    size.appendChild(amt(sizeAtoms, fixedMint));
    var filled = el("td", "text-end num");
    filled.setAttribute("data-label", "Filled (" + tok(fixedMint).symbol + ")");
    var px = el("td", "text-end num");
    px.setAttribute("data-label", "Price (" + tok(outMint).symbol + "/" + tok(inMint).symbol + ")");
    var link = el("td");
    link.setAttribute("data-label", "Trade");
    if (child && status === "filled") {
      filled.appendChild(amt(exactIn ? child.in_amount_atoms : child.out_amount_atoms, fixedMint));
      px.textContent = price(child.out_amount_atoms, outMint, child.in_amount_atoms, inMint);
    } else {
      filled.textContent = "—";
      px.textContent = "—";
    }
    if (child) {
      var a = el("a", "me-1", "#" + child.id);
      a.href = root.getAttribute("data-trade-url").replace(/0$/, String(child.id));
      a.setAttribute("aria-label", "Child trade " + child.id);
      link.append(a, OLR.venueBadge(child.venue));
    } else {
      link.textContent = "—";
    }
    tr.append(label, due, st, size, filled, px, link);
    return tr;
  }

  function renderTimeline(d) {
    var children = {};
    (d.children || []).forEach(function (c) { children[c.id] = c; });
    var rows = [], maxIndex = -1;
    (d.timeline || []).forEach(function (s) {
      maxIndex = Math.max(maxIndex, s.index);
      var note = s.status === "failed" || s.status === "waited" ? s.note : "";
      rows.push(sliceRow(d, s.index, s.attempt, s.status, s.planned_atoms, children[s.trade_id] || null, note));
    });
    var sizes = sliceSizes(d.amount_atoms, d.slices);
    var now = Date.now();
    var complete = d.remaining_atoms === "0";
    for (var i = maxIndex + 1; i < d.slices && !complete; i++) {
      var state = d.status === "working" ? (Date.parse(dueIso(d, i)) <= now ? "due" : "scheduled")
        : d.status === "completed" ? "waited" : "not_sent";  // completed short: held by the limit price
      rows.push(sliceRow(d, i, 1, state, sizes[i].toString(), null, ""));
    }
    var body = document.querySelector("#slices-table tbody");
    body.replaceChildren.apply(body, rows);
    var filled = (d.timeline || []).filter(function (s) { return s.status === "filled"; }).length;
    document.getElementById("slices-count").textContent = filled + " of " + d.slices + " filled";
  }

  /* ---------- the rest of the page ---------- */

  function banner(d, fixedMint) {
    var box = document.getElementById("order-banner");
    var inMint = d.order.input_mint, outMint = d.order.output_mint;
    var of = [amtSym(d.filled_atoms, fixedMint), " of ", amtSym(d.amount_atoms, fixedMint),
      " (" + pct(d.filled_atoms, d.amount_atoms) + " %)"];
    var level = null, parts = null;
    if (d.status === "completed" && d.remaining_atoms === "0") {
      level = "success";
      parts = [OLR.icon("check-circle-fill"), " Completed: filled "].concat(of, ".");
    } else if (d.status === "completed") {
      level = "warning";
      parts = [OLR.icon("exclamation-circle"), " Completed short of its amount at the deadline: filled "].concat(of,
        d.limit_price ? "; the rest waited because its route was worse than the limit price of " + d.limit_price + " " +
        tok(outMint).symbol + " per " + tok(inMint).symbol + "." : ".");
    } else if (d.status === "cancelled") {
      level = "secondary";
      parts = [OLR.icon("stop-circle"), " Cancelled: filled "].concat(of, " before it was stopped; nothing more will be sent.");
    } else if (d.status === "failed") {
      level = "danger";
      parts = [OLR.icon("x-octagon-fill"), " Failed: " + (d.note || "a slice kept failing") + ". Filled "].concat(of,
        ", which stays recorded.");
    }
    box.className = "alert" + (level ? " alert-" + level : " d-none");
    box.setAttribute("data-state", d.status);
    if (parts) box.replaceChildren.apply(box, parts); else box.replaceChildren();
  }

  function render(d) {
    latest = d;
    var exactIn = d.order.swap_mode === "ExactIn";
    var inMint = d.order.input_mint, outMint = d.order.output_mint, fixedMint = exactIn ? inMint : outMint;
    var short = d.status === "completed" && d.remaining_atoms !== "0";
    var styles = short ? { completed: ["olr-status-rejected", "exclamation-circle"] } : BADGES;
    document.getElementById("order-status").replaceChildren(badge(styles, d.status, short ? "completed short" : d.status));
    var cancel = document.getElementById("cancel-button");
    if (cancel) cancel.classList.toggle("d-none", d.status !== "working");
    banner(d, fixedMint);

    var filledPct = pct(d.filled_atoms, d.amount_atoms), schedPct = pct(d.scheduled_atoms, d.amount_atoms);
    setKpi("kpi-filled", amtSym(d.filled_atoms, fixedMint), filledPct + " % of " + OLR.formatAtoms(d.amount_atoms,
      tok(fixedMint).decimals, tok(fixedMint).places) + " " + tok(fixedMint).symbol);
    var delta = BigInt(d.filled_atoms) - BigInt(d.scheduled_atoms);
    var lead = delta === 0n ? "on schedule" : (delta > 0n ? "ahead by " : "behind by ") +
      OLR.formatAtoms((delta > 0n ? delta : -delta).toString(), tok(fixedMint).decimals, tok(fixedMint).places);
    setKpi("kpi-scheduled", amtSym(d.scheduled_atoms, fixedMint), schedPct + " % · " + lead);
    var pair = tok(outMint).symbol + "/" + tok(inMint).symbol;
    setKpi("kpi-avg", document.createTextNode(d.avg_price ? decimalText(d.avg_price) : "—"),
      d.avg_price ? pair + " · arrival " + decimalText(d.arrival_mid) : "no fill yet");
    setKpi("kpi-shortfall", document.createTextNode(OLR.formatBps(d.shortfall_bps, 2)),
      d.shortfall_usd_atoms === null || d.shortfall_usd_atoms === undefined ? "no fill yet"
        : OLR.formatUsd(d.shortfall_usd_atoms, 2) + " on the filled part");

    var track = document.getElementById("order-track");
    document.getElementById("track-filled").setAttribute("data-pct", filledPct);
    document.getElementById("track-scheduled").setAttribute("data-pct", schedPct);
    OLR.applyWidths(track);
    track.setAttribute("aria-label", "Filled " + filledPct + " %, due on the schedule by now " + schedPct + " %");
    track.setAttribute("data-filled-pct", filledPct);
    document.getElementById("legend-filled").textContent = filledPct + " %";
    document.getElementById("legend-scheduled").textContent = schedPct + " %";

    document.getElementById("fact-arrival").textContent = d.arrival_mid ? decimalText(d.arrival_mid) + " " + pair : "—";
    var next = document.getElementById("fact-next");
    if (d.status === "working" && d.next_due_at) next.replaceChildren(timeEl(d.next_due_at));
    else if (d.finished_at) next.replaceChildren("finished ", timeEl(d.finished_at));
    else next.textContent = "—";
    document.getElementById("fact-other").replaceChildren(amtSym(d.other_side_atoms, exactIn ? outMint : inMint));
    document.getElementById("fact-note").textContent = d.note || "—";
    var filledNow = document.getElementById("cancel-filled");
    if (filledNow) filledNow.replaceChildren(amtSym(d.filled_atoms, fixedMint));
    renderTimeline(d);
  }

  function settled(d) {
    return TERMINAL[d.status] && !(d.timeline || []).some(function (s) { return s.status === "sent"; });
  }

  function setLive(text, state) {
    var live = document.getElementById("order-live");
    live.textContent = text;
    live.setAttribute("data-state", state);
  }

  function onData(d) {
    render(d);
    if (settled(d)) {
      if (poller) poller.stop();
      poller = null;
      setLive("final", "final");
    } else {
      setLive("live · updated " + new Date().toISOString().slice(11, 19) + " UTC", "live");
    }
  }

  function startPolling() {
    if (poller) return;
    poller = OLR.poll(root.getAttribute("data-order-url"), POLL_MS, onData, function (stale) {
      if (stale) setLive("stale · retrying", "stale");
    });
  }

  var confirmButton = document.getElementById("cancel-confirm");
  if (confirmButton) {
    confirmButton.addEventListener("click", async function () {
      var error = document.getElementById("cancel-error");
      error.classList.add("d-none");
      confirmButton.disabled = true;
      try {
        var d = await OLR.fetchJSON(root.getAttribute("data-cancel-url"), { method: "POST", body: {} });
        var modal = window.bootstrap ? window.bootstrap.Modal.getInstance(document.getElementById("cancel-modal")) : null;
        if (modal) modal.hide();
        onData(d);
        if (!settled(d)) startPolling();  // a slice that was executing finishes and is recorded
      } catch (err) {
        error.textContent = err.message;
        error.classList.remove("d-none");
        if (poller) poller.refresh();
      } finally {
        confirmButton.disabled = false;
      }
    });
  }

  if (latest) onData(latest);
  if (!latest || !settled(latest)) startPolling();
})();
