/* The ticket's "work it over time" panel (issue 16; _parent_panel.html). ticket.js fires "olr:indication" on the
 * ticket form with each live indication; when its all-in cost is above the desk's PARENT_SUGGEST_BPS the panel opens
 * and asks POST /api/v1/orders/estimate (debounced) for now / split now / over time, each coloured by its level.
 * Below the threshold only a small link opens it. "Work as parent order" POSTs /api/v1/orders (session cookie and
 * X-CSRFToken through OLR.fetchJSON, an Idempotency-Key per attempt) with "acknowledge_cost": true once the trader
 * ticked the cost when the estimate says confirm_required, then opens the new order's page.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var panel = document.getElementById("parent-panel");
  var ticket = document.getElementById("ticket-form");
  if (!OLR || !panel || !ticket) return;

  var DEBOUNCE_MS = 500;
  var el = OLR.el;
  var threshold = Number(panel.getAttribute("data-threshold-bps") || "50");
  var form = document.getElementById("parent-form");
  var openWrap = document.getElementById("parent-open-wrap");
  var controls = {
    duration_s: document.getElementById("parent-duration"), slices: document.getElementById("parent-slices"),
    strategy: document.getElementById("parent-strategy"), limit_price: document.getElementById("parent-limit"),
  };
  var ack = document.getElementById("parent-ack");
  var ackWrap = document.getElementById("parent-ack-wrap");
  var errorBox = document.getElementById("parent-error");
  var submit = document.getElementById("parent-submit");
  var statusEl = document.getElementById("parent-status");
  var timer = null;
  var seq = 0;
  var opened = false;  // the trader opened it by the link: it stays open below the threshold
  var estimate = null;
  var idemKey = null;
  var DECIMAL_RE = /^[0-9]+(\.[0-9]+)?$/;

  function order() {
    var mode = ticket.querySelector('input[name="swap_mode"]:checked');
    return { input: ticket.querySelector("#input").value, output: ticket.querySelector("#output").value,
      amount: ticket.querySelector("#amount").value.trim(), swap_mode: mode ? mode.value : "ExactIn",
      slippage_bps: Number(ticket.querySelector("#slippage_bps").value.trim()) };
  }

  function setStatus(text, state) {
    statusEl.textContent = text;
    statusEl.setAttribute("data-state", state || "");
  }

  function clearErrors() {
    errorBox.classList.add("d-none");
    Object.keys(controls).forEach(function (k) {
      controls[k].classList.remove("is-invalid");
      controls[k].removeAttribute("aria-invalid");
    });
  }

  function showError(message, field) {
    var input = controls[field];
    if (input) {
      input.classList.add("is-invalid");
      input.setAttribute("aria-invalid", "true");
    }
    errorBox.replaceChildren(OLR.icon("exclamation-triangle"), " " + message);
    errorBox.classList.remove("d-none");
  }

  /** The schedule of the controls: {duration_s, slices, strategy, limit_price?} or an [field, message] error. */
  function schedule() {
    var minutes = controls.duration_s.value.trim();
    if (!DECIMAL_RE.test(minutes)) return ["duration_s", "Duration: a number of minutes, e.g. 10 or 0.5."];
    var seconds = Math.round(Number(minutes) * 60);
    if (seconds < 1 || seconds > 7 * 24 * 3600) return ["duration_s", "Duration: from 1 second to 7 days."];
    var slices = controls.slices.value.trim();
    if (!/^\d+$/.test(slices) || Number(slices) < 1 || Number(slices) > 1000) {
      return ["slices", "Slices: a whole number from 1 to 1000."];
    }
    var out = { duration_s: seconds, slices: Number(slices), strategy: controls.strategy.value };
    var limit = controls.limit_price.value.trim();
    if (limit) {
      if (!DECIMAL_RE.test(limit) || !/[1-9]/.test(limit)) return ["limit_price", "Limit price: a positive decimal, e.g. 150.25."];
      out.limit_price = limit;
    }
    return out;
  }

  function durationText(seconds) {
    if (seconds % 60 === 0) return seconds / 60 + " min";
    return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min " + (seconds % 60) + " s";
  }

  function renderOption(key, option, label) {
    var box = panel.querySelector('[data-option="' + key + '"]');
    box.setAttribute("data-level", option.cost_bps === null ? "" : option.level);
    if (label) document.getElementById("parent-" + key + "-label").textContent = label;
    document.getElementById("parent-" + key + "-bps").textContent = option.cost_bps === null ? "no route" : OLR.formatBps(option.cost_bps);
    document.getElementById("parent-" + key + "-usd").textContent =
      option.cost_usd_atoms === null || option.cost_usd_atoms === undefined ? "" : OLR.formatUsd(option.cost_usd_atoms);
  }

  function render(e) {
    estimate = e;
    panel.removeAttribute("data-stale");
    renderOption("now", e.now);
    renderOption("split", e.split);
    renderOption("over_time", e.over_time, "Over " + durationText(e.duration_s) + " · " + e.slices + " slices");
    var one = e.split.cost_bps !== null ? e.split : e.now;
    document.getElementById("parent-why").textContent = e.suggest_parent
      ? "Sent at once this order costs about " + OLR.formatBps(one.cost_bps) + " all-in, above the desk's " +
        OLR.formatBps(e.suggest_threshold_bps, 0) + ": worked in slices, the pools recover between them."
      : "Sent at once this order costs about " + OLR.formatBps(one.cost_bps) + " all-in; it can still be worked over time.";
    ackWrap.classList.toggle("d-none", !e.confirm_required);
    if (e.confirm_required) {
      var c = e.over_time.cost_bps !== null ? e.over_time : one;
      document.getElementById("parent-ack-label").textContent = "I accept an estimated cost of " + OLR.formatBps(c.cost_bps) +
        " (" + OLR.formatUsd(c.cost_usd_atoms) + ") for this order";
    } else {
      ack.checked = false;
    }
    var o = order();
    document.getElementById("parent-limit-unit").textContent = o.output + " per " + o.input;
    setStatus("estimate · market model", "live");
  }

  async function requestEstimate() {
    var mySeq = ++seq;
    var s = schedule();
    clearErrors();
    if (Array.isArray(s)) {
      showError(s[1], s[0]);
      setStatus("fix the highlighted field", "error");
      return;
    }
    setStatus("estimating…", "busy");
    var body = Object.assign(order(), { duration_s: s.duration_s, slices: s.slices });
    try {
      var e = await OLR.fetchJSON(panel.getAttribute("data-estimate-url"), { method: "POST", body: body });
      if (mySeq !== seq) return;
      render(e);
    } catch (err) {
      if (mySeq !== seq) return;
      showError(err.message, err.field);
      setStatus("no estimate", "error");
    }
  }

  function later() {
    panel.setAttribute("data-stale", "true");
    idemKey = null;  // another order or schedule: a new submission
    window.clearTimeout(timer);
    timer = window.setTimeout(requestEstimate, DEBOUNCE_MS);
  }

  function open(show) {
    panel.classList.toggle("d-none", !show);
    openWrap.classList.toggle("d-none", show);
  }

  ticket.addEventListener("olr:indication", function (event) {
    var q = event.detail || {};
    var cost = q.decision && q.decision.cost_bps !== null && q.decision.cost_bps !== undefined ? Number(q.decision.cost_bps) : null;
    var large = cost !== null && cost > threshold;
    if (large || opened) {
      open(true);
      later();
    } else {
      open(false);
    }
  });
  ticket.addEventListener("input", function () {
    if (!panel.classList.contains("d-none")) panel.setAttribute("data-stale", "true");
  });
  document.getElementById("parent-open").addEventListener("click", function (event) {
    event.preventDefault();
    opened = true;
    open(true);
    later();
    controls.duration_s.focus();
  });
  ["duration_s", "slices"].forEach(function (k) { controls[k].addEventListener("input", later); });
  ["strategy", "limit_price"].forEach(function (k) {
    controls[k].addEventListener("input", function () { idemKey = null; clearErrors(); });
  });
  ack.addEventListener("change", clearErrors);

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    clearErrors();
    var s = schedule();
    if (Array.isArray(s)) {
      showError(s[1], s[0]);
      controls[s[0]].focus();
      return;
    }
    if (estimate && estimate.confirm_required && !ack.checked) {
      showError("Tick the box to accept the estimated cost first.", null);
      ack.focus();
      return;
    }
    var body = Object.assign(order(), s);
    if (estimate && estimate.confirm_required) body.acknowledge_cost = true;
    idemKey = idemKey || "panel-" + (window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID() : String(Date.now()));
    submit.disabled = true;
    setStatus("placing…", "busy");
    try {
      var placed = await OLR.fetchJSON(panel.getAttribute("data-orders-url"),
        { method: "POST", body: body, headers: { "Idempotency-Key": idemKey } });
      window.location.assign(panel.getAttribute("data-order-page").replace(/0$/, String(placed.id)));
    } catch (err) {
      showError(err.message, err.field);
      setStatus("not placed", "error");
      submit.disabled = false;
    }
  });
  window.addEventListener("pageshow", function () { submit.disabled = false; });
  if (ticket.querySelector("#amount").value.trim()) openWrap.classList.remove("d-none");
})();
