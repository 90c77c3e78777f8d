/* Trade ticket: a debounced live indication from POST /api/v1/quotes as the trader types.
 * Shows each venue's output, price impact, spread, fee, delay risk and all-in cost, the router's choice with its
 * legs as a stacked bar, and a countdown to the quote's expiry (re-quoted once when it lapses while the trader is
 * active). Field errors (client-side checks, or the API's error.field) appear under the field at fault.
 * Amounts are atoms as decimal strings, formatted with BigInt (OLR.formatAtoms), never floats.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var form = document.getElementById("ticket-form");
  if (!OLR || !form) return;

  var DEBOUNCE_MS = 350;
  var ACTIVE_MS = 60000;
  var tokens = OLR.pageData("ticket-tokens") || {};
  var byMint = {};
  Object.keys(tokens).forEach(function (sym) {
    byMint[tokens[sym].mint] = { symbol: sym, decimals: tokens[sym].decimals, places: tokens[sym].places };
  });
  var fields = {
    input: form.querySelector("#input"), output: form.querySelector("#output"), amount: form.querySelector("#amount"),
    slippage_bps: form.querySelector("#slippage_bps"),
  };
  var statusEl = document.getElementById("live-status");
  var el = OLR.el;
  var seq = 0;
  var timer = null;
  var countdown = null;
  var lastInputAt = 0;
  var current = null;

  function swapMode() {
    var checked = form.querySelector('input[name="swap_mode"]:checked');
    return checked ? checked.value : "ExactIn";
  }

  function amountSymbol() {
    return swapMode() === "ExactOut" ? fields.output.value : fields.input.value;
  }

  /** An amount at the token's display precision, every decimal in its title (OLR.amount; |amount in templates). */
  function amt(atoms, mint) {
    var t = byMint[mint];
    return t ? OLR.amount(atoms, t.decimals, t.places, t.symbol) : document.createTextNode(String(atoms));
  }

  /** An element's content: an amount, then its token's symbol (which may wrap; the amount never does). */
  function setAmount(node, atoms, mint) {
    node.replaceChildren(amt(atoms, mint), " " + symbolOf(mint));
  }

  function symbolOf(mint) { return byMint[mint] ? byMint[mint].symbol : ""; }

  /* ---------- field errors ---------- */

  function fieldContainer(input) {
    return input.closest(".input-group") || input.parentElement;
  }

  function setFieldError(name, message) {
    var input = name === "swap_mode" ? form.querySelector('input[name="swap_mode"]') : fields[name];
    if (!input) return false;
    var id = (name === "swap_mode" ? "swap_mode" : input.id) + "-error";
    var box = document.getElementById(id);
    if (!box) {
      box = el("div", "invalid-feedback");
      box.id = id;
      if (name === "swap_mode") {
        box.classList.add("d-block");
        input.closest("fieldset").appendChild(box);
      } else {
        fieldContainer(input).appendChild(box);
      }
    }
    box.textContent = message;
    if (name !== "swap_mode") {
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(id) === -1) described.push(id);
      input.setAttribute("aria-describedby", described.join(" "));
      var group = input.closest(".input-group");
      if (group) group.classList.add("has-validation");
    }
    return true;
  }

  function clearFieldErrors() {
    Object.keys(fields).concat(["swap_mode"]).forEach(function (name) {
      var input = name === "swap_mode" ? form.querySelector('input[name="swap_mode"]') : fields[name];
      if (!input) return;
      var id = (name === "swap_mode" ? "swap_mode" : input.id) + "-error";
      var box = document.getElementById(id);
      if (box) box.remove();
      if (name !== "swap_mode") {
        input.classList.remove("is-invalid");
        input.removeAttribute("aria-invalid");
        var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (x) { return x && x !== id; });
        if (described.length) input.setAttribute("aria-describedby", described.join(" ")); else input.removeAttribute("aria-describedby");
      }
    });
  }

  /* The server's one amount format (core/tokens.py DECIMAL_RE): ASCII digits, thousands commas only in groups of
   * three, an optional "." with digits after it. The amount is sent as typed (trimmed), so the live indication and
   * "Get firm quote" accept and refuse the same strings. */
  var DECIMAL_RE = /^(?:[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+)(?:\.[0-9]+)?$/;

  /** Client-side checks that need no server: amount format and decimals, slippage range, distinct tokens. */
  function localError() {
    var amount = fields.amount.value.trim();
    var token = tokens[amountSymbol()];
    if (fields.input.value === fields.output.value) return ["output", "Choose two different tokens."];
    if (!DECIMAL_RE.test(amount)) return ["amount", "Enter a number, e.g. 25000, 25,000 or 1.5."];
    var decimals = amount.indexOf(".") >= 0 ? amount.split(".")[1].length : 0;
    if (token && decimals > token.decimals) {
      return ["amount", amountSymbol() + " has " + token.decimals + " decimals: use at most " + token.decimals + " digits after the point."];
    }
    if (!/[1-9]/.test(amount)) return ["amount", "The amount must be greater than zero."];
    var slip = fields.slippage_bps.value.trim();
    if (!/^\d+$/.test(slip) || Number(slip) < 1 || Number(slip) > 5000) {
      return ["slippage_bps", "Slippage must be a whole number of bps from 1 to 5000."];
    }
    return null;
  }

  /* ---------- rendering ---------- */

  function show(which) {
    ["live-empty", "live-error", "live-result"].forEach(function (id) {
      document.getElementById(id).classList.toggle("d-none", id !== which);
    });
  }

  function setStatus(text, state) {
    statusEl.textContent = text;
    statusEl.setAttribute("data-state", state || "");
  }

  function legsBar(legs, inMint, outMint) {
    var total = legs.reduce(function (acc, leg) { return acc + BigInt(leg.in_amount_atoms); }, 0n);
    var wrap = el("div", "olr-legs");
    wrap.setAttribute("data-legs", String(legs.length));
    var bar = el("div", "olr-legs-bar");
    bar.setAttribute("role", "img");
    var legend = el("ul", "olr-legs-legend list-unstyled mb-0");
    var labels = [];
    legs.forEach(function (leg) {
      var tenths = total > 0n ? (BigInt(leg.in_amount_atoms) * 1000n) / total : 0n;
      var pct = (tenths / 10n).toString() + "." + (tenths % 10n).toString();
      var kind = leg.venue === "jupiter" ? "jupiter" : leg.venue.indexOf("otc:") === 0 ? "otc" : "other";
      var tone = " olr-tone-" + OLR.venueTone(leg.venue);
      var seg = el("div", "olr-leg olr-leg-" + kind + tone + (tenths < 120n ? " olr-leg-narrow" : ""));
      seg.setAttribute("data-pct", pct);
      seg.title = leg.venue + ": " + pct + "% of the order";
      seg.appendChild(el("span", null, pct + "%"));
      bar.appendChild(seg);
      labels.push(leg.venue + " " + pct + "%");
      var li = el("li");
      var swatch = el("span", "olr-leg-swatch olr-leg-" + kind + tone);
      swatch.setAttribute("aria-hidden", "true");
      var legIn = el("span", "num"), legOut = el("span", "num");
      legIn.appendChild(amt(leg.in_amount_atoms, inMint));
      legOut.appendChild(amt(leg.out_amount_atoms, outMint));
      li.append(swatch, OLR.venueBadge(leg.venue), " ", legIn, " ",
        el("span", "unit", symbolOf(inMint)), " → ", legOut, " ",
        el("span", "unit", symbolOf(outMint)));
      if (leg.cost_bps) li.append(" ", el("span", "text-olr-muted small", "· " + OLR.formatBps(leg.cost_bps)));
      legend.appendChild(li);
    });
    bar.setAttribute("aria-label", "Route split: " + labels.join(", "));
    wrap.append(bar, legend);
    OLR.applyWidths(wrap);
    return wrap;
  }

  /* ---------- guardrails (the levels and alerts come from the server: q.guardrails) ---------- */

  var LEVELS = ["ok", "warn", "danger"];

  /** Colour a cost node by the server's level (services/guardrails.py Guardrails.level). */
  function setLevel(node, level) {
    LEVELS.forEach(function (l) { node.classList.remove("olr-cost-" + l); });
    node.classList.add("olr-cost");
    if (level) node.classList.add("olr-cost-" + level);
    node.setAttribute("data-level", level || "");
  }

  /** A COST_LIMIT refusal's parent order (error.suggestion): a link to this ticket with the order pre-filled. */
  function suggestionLink(s) {
    var params = new URLSearchParams({ input: s.order.input_symbol, output: s.order.output_symbol,
      amount: s.order.amount, swap_mode: s.order.swap_mode, slippage_bps: String(s.order.slippage_bps),
      strategy: s.strategy, slices: String(s.slices), duration_s: String(s.duration_s) });
    var a = el("a", "btn btn-sm btn-outline-primary ms-2");
    a.id = "parent-suggestion";
    a.href = window.location.pathname + "?" + params.toString();
    var minutes = s.duration_s % 60 === 0 ? (s.duration_s / 60) + " min" : s.duration_s + " s";
    a.append(OLR.icon("clock-history"), " Work it as a parent order: " + s.slices + " slices over " + minutes);
    return a;
  }

  function optionRow(o, chosen, inMint, outMint, levels) {
    var tr = el("tr");
    tr.setAttribute("data-venue", o.venue);
    var picked = o.available && chosen.has(o.venue);  // an unavailable option never gets the green check
    if (picked) tr.classList.add("olr-chosen");
    var venue = el("td", "text-nowrap");
    venue.appendChild(OLR.venueBadge(o.venue));
    if (picked) {
      var mark = OLR.icon("check-circle-fill");
      mark.classList.add("text-success", "ms-1");
      mark.title = "chosen";
      venue.appendChild(mark);
    }
    tr.appendChild(venue);
    if (!o.available) {
      tr.classList.add("text-olr-muted");
      var why = el("td", "small");
      why.colSpan = 7;
      why.append(OLR.icon("slash-circle"), " " + (o.reason || "unavailable"));
      if (chosen.has(o.venue)) why.append(" ", el("span", "olr-split-note", "· the split fills part of the order here"));
      tr.appendChild(why);
      return tr;
    }
    var firm = Number(o.delay_risk_bps || 0) === 0 && o.venue !== "jupiter";
    var delay = el("td", "text-end num", firm ? "none" : OLR.formatBps(o.delay_risk_bps));
    delay.append(" ", el("span", "unit", firm ? "firm quote" : (o.delay_ms || 0) + " ms"));
    var payCell = el("td", "text-end num"), getCell = el("td", "text-end num");
    payCell.appendChild(amt(o.in_amount_atoms, inMint));
    getCell.appendChild(amt(o.out_amount_atoms, outMint));
    tr.append(payCell, getCell,
      el("td", "text-end num", o.price_impact_bps ? OLR.formatBps(o.price_impact_bps) : "—"),
      el("td", "text-end num", o.spread_bps ? OLR.formatBps(o.spread_bps) : "—"),
      el("td", "text-end num", o.fee_bps ? OLR.formatBps(o.fee_bps) : "—"), delay);
    var cost = el("td", "text-end num fw-semibold", OLR.formatBps(o.cost_bps));
    if (levels && levels[o.venue]) setLevel(cost, levels[o.venue]);
    tr.appendChild(cost);
    return tr;
  }

  /** The mid the larger-than-one way round with 4 decimals, computed exactly with BigInt (as views.pages.mid_text). */
  function midText(mid, inSym, outSym) {
    var m = /^(\d+)(?:\.(\d+))?$/.exec(String(mid || ""));
    if (!m) return "";
    var frac = (m[2] || "").slice(0, 18).padEnd(18, "0");
    var scaled = BigInt(m[1] + frac);  // mid × 10^18
    if (scaled === 0n) return "";
    if (scaled >= 10n ** 18n) return OLR.formatDecimal(mid, 4) + " " + outSym + " per " + inSym;
    var inv = (10n ** 40n) / scaled;  // (1 / mid) × 10^22, truncated
    var rounded = (inv + 5n * 10n ** 17n) / 10n ** 18n;  // × 10^4, half up
    var text = rounded.toString().padStart(5, "0");
    return OLR.formatDecimal(text.slice(0, -4) + "." + text.slice(-4), 4) + " " + inSym + " per " + outSym;
  }

  function render(q) {
    var d = q.decision, o = q.order, inMint = o.input_mint, outMint = o.output_mint;
    var chosen = new Set(d.legs.map(function (leg) { return leg.venue; }));
    document.getElementById("live-route").replaceChildren.apply(document.getElementById("live-route"),
      d.legs.map(function (leg) { return OLR.venueBadge(leg.venue); }));
    document.getElementById("live-legs").replaceChildren(legsBar(d.legs, inMint, outMint));
    setAmount(document.getElementById("live-in"), d.in_amount_atoms, inMint);
    setAmount(document.getElementById("live-out"), d.out_amount_atoms, outMint);
    var exactIn = o.swap_mode === "ExactIn";
    document.getElementById("live-guard-label").textContent = exactIn ? "Minimum out" : "Maximum in";
    if (exactIn) setAmount(document.getElementById("live-guard"), d.min_out_amount_atoms, outMint);
    else setAmount(document.getElementById("live-guard"), d.max_in_amount_atoms, inMint);
    var rails = q.guardrails || {};
    var costEl = document.getElementById("live-cost");
    costEl.textContent = OLR.formatBps(d.cost_bps);
    costEl.title = rails.cost_usd_atoms ? "≈ " + OLR.formatUsd(rails.cost_usd_atoms, 2) + " on " +
      OLR.formatUsd(rails.notional_usd_atoms) + " notional" : "";
    setLevel(costEl, rails.level);
    document.getElementById("live-confirm-note").classList.toggle("d-none", !rails.confirm_required);
    if (window.OLRAlerts) window.OLRAlerts.render(document.getElementById("ticket-alerts"), rails.alerts);  // alerts.js
    var savings = document.getElementById("live-savings");
    if (d.savings_atoms === null || d.savings_atoms === undefined) {
      savings.textContent = "n/a (Jupiter unavailable)";
      savings.classList.remove("text-positive");
    } else {
      var sMint = exactIn ? outMint : inMint;
      savings.replaceChildren(amt(d.savings_atoms, sMint), " " + symbolOf(sMint) + " · ", el("span", "olr-amt", OLR.formatBps(d.savings_bps)));
      savings.classList.toggle("text-positive", BigInt(d.savings_atoms) > 0n);
    }
    document.getElementById("live-explanation").textContent = d.explanation || "";
    document.getElementById("live-mid").textContent = midText(q.mid_price, o.input_symbol, o.output_symbol);
    var body = document.querySelector("#live-options tbody");
    body.replaceChildren.apply(body, q.options.map(function (opt) {
      return optionRow(opt, chosen, inMint, outMint, rails.option_levels);
    }));
    show("live-result");
    startCountdown(q.expires_at);
    /* ---- parent-order panel (issue 16): parent_panel.js listens for each new indication ---- */
    form.dispatchEvent(new CustomEvent("olr:indication", { detail: q }));
  }

  function startCountdown(expiresAt) {
    window.clearInterval(countdown);
    var end = Date.parse(expiresAt);
    function tick() {
      var left = Math.ceil((end - Date.now()) / 1000);
      if (left > 0) {
        setStatus("indicative · expires in " + left + " s", "live");
        return;
      }
      window.clearInterval(countdown);
      if (Date.now() - lastInputAt < ACTIVE_MS && document.visibilityState === "visible") {
        lastInputAt = 0;  // one automatic refresh per burst of typing
        requestQuote();
      } else {
        setStatus("expired · change a field to refresh", "expired");
      }
    }
    tick();
    countdown = window.setInterval(tick, 250);
  }

  /* ---------- quoting ---------- */

  async function requestQuote() {
    clearFieldErrors();
    var mySeq = ++seq;
    window.clearInterval(countdown);
    if (!fields.amount.value.trim()) {
      show("live-empty");
      setStatus("type an amount to see each venue", "");
      return;
    }
    var local = localError();
    if (local) {
      setFieldError(local[0], local[1]);
      show(current ? "live-result" : "live-empty");
      if (current) document.getElementById("live-result").setAttribute("data-stale", "true");
      setStatus("fix the highlighted field", "error");
      return;
    }
    setStatus("quoting…", "busy");
    var body = { input: fields.input.value, output: fields.output.value, amount: fields.amount.value.trim(),
      slippage_bps: Number(fields.slippage_bps.value.trim()), swap_mode: swapMode() };
    try {
      var q = await OLR.fetchJSON(form.getAttribute("data-quote-url"), { method: "POST", body: body });
      if (mySeq !== seq) return;
      current = q;
      document.getElementById("live-result").removeAttribute("data-stale");
      render(q);
    } catch (err) {
      if (mySeq !== seq) return;
      if (err.field && fields[err.field === "amount_atoms" ? "amount" : err.field] !== undefined && setFieldError(err.field === "amount_atoms" ? "amount" : err.field, err.message)) {
        setStatus("fix the highlighted field", "error");
        show(current ? "live-result" : "live-empty");
        if (current) document.getElementById("live-result").setAttribute("data-stale", "true");
        return;
      }
      var box = document.getElementById("live-error");
      box.replaceChildren(OLR.icon("exclamation-triangle"), " " + err.message);
      var refusal = err.body && err.body.error ? err.body.error : {};
      if (refusal.suggestion) box.appendChild(suggestionLink(refusal.suggestion));
      show("live-error");
      setStatus(err.status === 0 ? "server unreachable" : "no indication", "error");
    }
  }

  function schedule() {
    lastInputAt = Date.now();
    if (current) document.getElementById("live-result").setAttribute("data-stale", "true");  // dimmed until re-quoted
    window.clearTimeout(timer);
    timer = window.setTimeout(requestQuote, DEBOUNCE_MS);
  }

  function updateAddon() {
    var group = fields.amount.closest(".input-group");
    var addon = group ? group.querySelector(".input-group-text:last-of-type") : null;
    if (addon) addon.textContent = amountSymbol();
  }

  /** Keep the order in the address (replaceState): Back from its quote, or a reload, shows the same order. */
  function syncUrl() {
    if (!window.history || !window.history.replaceState) return;
    var params = new URLSearchParams();
    if (fields.amount.value.trim()) {
      params.set("input", fields.input.value);
      params.set("output", fields.output.value);
      params.set("amount", fields.amount.value.trim());
      params.set("swap_mode", swapMode());
      params.set("slippage_bps", fields.slippage_bps.value.trim());
    }
    var query = params.toString();
    window.history.replaceState(window.history.state, "", window.location.pathname + (query ? "?" + query : ""));
  }

  form.addEventListener("input", function () { updateAddon(); syncUrl(); schedule(); });
  form.addEventListener("change", function () { updateAddon(); syncUrl(); schedule(); });
  form.addEventListener("submit", function (event) {
    var local = localError();
    if (local && fields.amount.value.trim()) {
      event.preventDefault();
      clearFieldErrors();
      setFieldError(local[0], local[1]);
      (local[0] === "swap_mode" ? form.querySelector('input[name="swap_mode"]') : fields[local[0]]).focus();
      return;
    }
    syncUrl();
    var button = document.getElementById("quote-button");
    window.setTimeout(function () { button.disabled = true; }, 0);  // after the browser captured the submit
  });
  window.addEventListener("pageshow", function () { document.getElementById("quote-button").disabled = false; });
  updateAddon();
  if (fields.amount.value.trim() && !form.querySelector(".is-invalid")) schedule();
})();
