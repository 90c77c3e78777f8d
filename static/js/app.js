/* OTC Liquidity Router: shared browser helpers, exposed as window.OLR.
 * No inline scripts anywhere (CSP-ready): pages load their own static/js/<page>.js after this file
 * and read page data from data- attributes or <script type="application/json" id="..."> blocks.
 * Amounts are integer atoms carried as decimal strings and formatted with BigInt, never floats.
 */
(function () {
  "use strict";

  var HEALTH_INTERVAL_MS = 10000;
  var staleSources = new Set();
  var pollSeq = 0;

  /* ---------- HTTP ---------- */

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  /** An Error carrying the API's {"error": {"code", "message", "field"}} and the HTTP status. */
  function ApiError(message, status, code, field, body) {
    var err = new Error(message);
    err.name = "ApiError";
    err.status = status;
    err.code = code || null;
    err.field = field || null;
    err.body = body === undefined ? null : body;
    return err;
  }

  /**
   * fetch() a JSON endpoint. Sends JSON bodies (objects are stringified), the X-CSRFToken header on
   * non-GET requests, and throws an Error with the API's error message (err.code, err.field, err.status)
   * on a non-2xx answer. Resolves to the parsed JSON (null for an empty body).
   */
  async function fetchJSON(url, opts) {
    var options = Object.assign({ credentials: "same-origin" }, opts || {});
    var method = (options.method || "GET").toUpperCase();
    options.method = method;
    var headers = new Headers(options.headers || {});
    if (!headers.has("Accept")) headers.set("Accept", "application/json");
    if (options.body !== undefined && options.body !== null && typeof options.body !== "string" &&
        !(options.body instanceof FormData) && !(options.body instanceof URLSearchParams) &&
        !(options.body instanceof Blob)) {
      options.body = JSON.stringify(options.body);
    }
    if (typeof options.body === "string" && !headers.has("Content-Type")) {
      headers.set("Content-Type", "application/json");
    }
    if (method !== "GET" && method !== "HEAD" && !headers.has("X-CSRFToken")) {
      headers.set("X-CSRFToken", csrfToken());
    }
    options.headers = headers;

    var response;
    try {
      response = await fetch(url, options);
    } catch (networkError) {
      throw ApiError("Server unreachable: " + (networkError && networkError.message ? networkError.message : "network error"),
        0, "NETWORK", null, null);
    }
    var text = await response.text();
    var data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (parseError) {
        if (response.ok) {
          throw ApiError("The server sent an answer that is not JSON.", response.status, "BAD_RESPONSE", null, text);
        }
      }
    }
    if (!response.ok) {
      var e = data && data.error ? data.error : {};
      var message = e.message || (response.status + " " + (response.statusText || "error"));
      throw ApiError(message, response.status, e.code, e.field, data);
    }
    return data;
  }

  /* ---------- exact number formatting ---------- */

  function groupThousands(intDigits) {
    return intDigits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  function parseBigInt(value) {
    if (typeof value === "bigint") return value;
    var s = String(value === null || value === undefined ? "" : value).trim();
    if (!/^-?\d+$/.test(s)) throw new TypeError("not an integer atom amount: " + JSON.stringify(value));
    return BigInt(s);
  }

  /**
   * Atoms (decimal string, BigInt or safe integer) as a human amount with thousands separators.
   * `places` given: exactly that many decimals, rounded toward zero (like tokens.format_ui);
   * `places` omitted: every significant decimal, trailing zeros dropped. Returns "—" for null/empty.
   */
  function formatAtoms(atomsString, decimals, places) {
    if (atomsString === null || atomsString === undefined || atomsString === "") return "—";
    var atoms = parseBigInt(atomsString);
    var dec = Number(decimals);
    if (!Number.isInteger(dec) || dec < 0) throw new RangeError("decimals must be a non-negative integer");
    var negative = atoms < 0n;
    var abs = negative ? -atoms : atoms;
    var scale = 10n ** BigInt(dec);
    var whole = abs / scale;
    var frac = (abs % scale).toString().padStart(dec, "0");
    if (dec === 0) frac = "";
    var fracOut;
    if (places === undefined || places === null) {
      fracOut = frac.replace(/0+$/, "");
    } else {
      var p = Number(places);
      if (!Number.isInteger(p) || p < 0) throw new RangeError("places must be a non-negative integer");
      fracOut = p <= frac.length ? frac.slice(0, p) : frac + "0".repeat(p - frac.length);
    }
    var text = groupThousands(whole.toString()) + (fracOut ? "." + fracOut : "");
    var isZero = whole === 0n && !/[1-9]/.test(fracOut);
    return (negative && !isZero ? "-" : "") + text;
  }

  /**
   * A decimal string rounded half-to-even to `places` decimals (as Python's format() of a Decimal),
   * with thousands separators. Exact: digits are handled as BigInt, never as a float.
   */
  function formatDecimal(str, places) {
    var s = String(str).trim();
    var m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
    if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) throw new TypeError("not a decimal: " + JSON.stringify(str));
    var p = places === undefined || places === null ? 1 : Number(places);
    var negative = m[1] === "-";
    var intPart = m[2] || "0";
    var fracPart = m[3] || "";
    var digits = BigInt(intPart + fracPart.padEnd(p, "0"));
    var extra = Math.max(fracPart.length - p, 0);
    var scaled = digits;
    if (extra > 0) {
      var div = 10n ** BigInt(extra);
      var q = digits / div;
      var r = digits % div;
      var half = div / 2n;
      if (r > half || (r === half && (q % 2n === 1n))) q += 1n;
      scaled = q;
    }
    var text = scaled.toString().padStart(p + 1, "0");
    var whole = text.slice(0, text.length - p);
    var frac = p > 0 ? text.slice(text.length - p) : "";
    var out = groupThousands(whole) + (p > 0 ? "." + frac : "");
    var isZero = scaled === 0n;
    return (negative && !isZero ? "-" : "") + out;
  }

  /**
   * An amount as <span class="olr-amt"> (as the |amount Jinja filter): `places` decimals shown, every decimal in its
   * title and data-full (the copy handler below puts those on the clipboard).
   */
  function amount(atomsString, decimals, places, symbol) {
    if (atomsString === null || atomsString === undefined || atomsString === "") return document.createTextNode("—");
    var span = el("span", "olr-amt", formatAtoms(atomsString, decimals, places));
    var full = formatAtoms(atomsString, decimals);
    span.setAttribute("data-full", full);
    span.title = full + (symbol ? " " + symbol : "");
    return span;
  }

  /** Copying a selection that holds amounts copies their full precision (data-full), not the rounded text shown. */
  function copyFullAmounts(event) {
    var sel = window.getSelection ? window.getSelection() : null;
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed || !event.clipboardData) return;
    var range = sel.getRangeAt(0);
    var start = range.startContainer.nodeType === 1 ? range.startContainer : range.startContainer.parentElement;
    var inside = start && start.closest ? start.closest("[data-full]") : null;
    var text;
    if (inside && inside.contains(range.endContainer)) {
      text = inside.getAttribute("data-full");
    } else {
      var box = document.createElement("div");
      box.appendChild(range.cloneContents());
      var amounts = box.querySelectorAll("[data-full]");
      if (amounts.length === 0) return;
      Array.prototype.forEach.call(amounts, function (a) { a.textContent = a.getAttribute("data-full"); });
      text = box.textContent;
    }
    event.clipboardData.setData("text/plain", text);
    event.preventDefault();
  }

  /** Basis points from a decimal string, e.g. formatBps("96.04") → "96.0 bps". */
  function formatBps(str, places) {
    if (str === null || str === undefined || str === "") return "—";
    return formatDecimal(str, places === undefined ? 1 : places) + " bps";
  }

  /** USD from 6-decimal atoms (USDC/USDT), e.g. formatUsd("1234560000") → "$1,234" (places default 0). */
  function formatUsd(atomsString, places) {
    if (atomsString === null || atomsString === undefined || atomsString === "") return "—";
    var atoms = parseBigInt(atomsString);
    if (atoms === 0n) return "$0";
    var negative = atoms < 0n;
    var text = formatAtoms((negative ? -atoms : atoms).toString(), 6, places === undefined ? 0 : places);
    return (negative ? "-$" : "$") + text;
  }

  /* ---------- staleness indicator ---------- */

  function setStale(source, stale) {
    if (stale) staleSources.add(source); else staleSources.delete(source);
    var el = document.getElementById("olr-stale");
    if (el) el.classList.toggle("d-none", staleSources.size === 0);
  }

  /**
   * Poll a JSON endpoint: onData(json) on each success; onStale(true|false) when freshness changes.
   * Data counts as stale when a fetch fails or the last good answer is older than two intervals;
   * while stale, the navbar shows "stale / server unreachable". Returns {stop(), refresh(), isStale()}.
   * opts.acceptErrorBody: a non-2xx answer that carries a JSON body (e.g. /healthz's 503) still counts
   * as data: it goes to onData, since the server did answer.
   */
  function poll(url, intervalMs, onData, onStale, opts) {
    var acceptErrorBody = !!(opts && opts.acceptErrorBody);
    var interval = Math.max(Number(intervalMs) || 5000, 250);
    var source = "poll-" + (++pollSeq) + ":" + url;
    var lastOk = 0;
    var stale = false;
    var timer = null;
    var watchdog = null;
    var inFlight = false;
    var stopped = false;

    function mark(value) {
      if (value === stale) return;
      stale = value;
      setStale(source, value);
      if (typeof onStale === "function") {
        try { onStale(value); } catch (err) { reportError(err); }
      }
    }

    async function tick() {
      if (stopped || inFlight) return;
      inFlight = true;
      var data;
      var ok = false;
      try {
        data = await fetchJSON(url);
        ok = true;
      } catch (err) {
        if (acceptErrorBody && err && err.status > 0 && err.body && typeof err.body === "object") {
          data = err.body;
          ok = true;
        }
      }
      try {
        if (ok) {
          lastOk = Date.now();
          mark(false);
          if (typeof onData === "function") onData(data);
        } else {
          mark(true);
        }
      } catch (callbackError) {
        reportError(callbackError);
      } finally {
        inFlight = false;
        if (!stopped) timer = window.setTimeout(tick, interval);
      }
    }

    watchdog = window.setInterval(function () {
      if (lastOk && Date.now() - lastOk > 2 * interval) mark(true);
    }, Math.max(Math.floor(interval / 2), 250));

    tick();
    return {
      stop: function () {
        stopped = true;
        window.clearTimeout(timer);
        window.clearInterval(watchdog);
        setStale(source, false);
      },
      refresh: function () {
        window.clearTimeout(timer);
        tick();
      },
      isStale: function () { return stale; },
    };
  }

  function reportError(err) {
    // Keep callbacks' bugs visible without breaking the polling loop.
    window.setTimeout(function () { throw err; }, 0);
  }

  /* ---------- Chart.js ---------- */

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }

  /** Set Chart.js dark-theme defaults from the CSS variables; no-op without Chart. Returns the palette. */
  function chartDefaults() {
    var palette = {
      text: cssVar("--olr-text", "#dbe2ee"),
      muted: cssVar("--olr-muted", "#8792a8"),
      border: cssVar("--olr-border", "#243047"),
      surface: cssVar("--olr-surface", "#121824"),
      accent: cssVar("--olr-accent", "#4d8dff"),
      jupiter: cssVar("--olr-jupiter", "#2ec5d3"),
      otc: cssVar("--olr-otc", "#b48cff"),
      split: cssVar("--olr-split", "#f2b441"),
      positive: cssVar("--olr-positive", "#2fcf85"),
      negative: cssVar("--olr-negative", "#f2616b"),
      mono: cssVar("--olr-font-mono", "monospace"),
      sans: cssVar("--olr-font-sans", "sans-serif"),
    };
    var Chart = window.Chart;
    if (!Chart || !Chart.defaults) return palette;
    var d = Chart.defaults;
    d.color = palette.muted;
    d.borderColor = palette.border;
    d.font.family = palette.sans;
    d.font.size = 12;
    d.maintainAspectRatio = false;
    var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    d.animation = reduceMotion ? false : { duration: 250 };
    if (d.scale && d.scale.grid) d.scale.grid.color = palette.border;
    if (d.scale && d.scale.ticks) d.scale.ticks.color = palette.muted;
    if (d.plugins && d.plugins.legend) {
      d.plugins.legend.labels.color = palette.text;
      d.plugins.legend.labels.boxWidth = 12;
      d.plugins.legend.labels.boxHeight = 12;
    }
    if (d.plugins && d.plugins.tooltip) {
      var t = d.plugins.tooltip;
      t.backgroundColor = palette.surface;
      t.borderColor = palette.border;
      t.borderWidth = 1;
      t.titleColor = palette.text;
      t.bodyColor = palette.text;
      t.padding = 10;
      t.bodyFont = { family: palette.mono, size: 12 };
    }
    return palette;
  }

  /** Parse the JSON of <script type="application/json" id="..."> (page data); null when absent. */
  function pageData(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    return JSON.parse(el.textContent || "null");
  }

  /* ---------- DOM builders (textContent only: never HTML from data) ---------- */

  /** A new element with an optional class and text. */
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /** A decorative Bootstrap icon. */
  function icon(name) {
    var i = el("i", "bi bi-" + name);
    i.setAttribute("aria-hidden", "true");
    return i;
  }

  /** The venue badge of _macros.html venue_badge(): jupiter, otc:<pool>, split or other. */
  function venueBadge(venue) {
    var v = venue ? String(venue) : "";
    var kind = v === "jupiter" ? "jupiter" : v.indexOf("otc:") === 0 ? "otc" : v === "split" ? "split" : "other";
    var badge = el("span", "badge olr-venue olr-venue-" + kind);
    var name = { jupiter: "globe2", otc: "bank", split: "signpost-split" }[kind];
    if (name) { badge.appendChild(icon(name)); badge.appendChild(document.createTextNode(" ")); }
    badge.appendChild(document.createTextNode(v || "—"));
    return badge;
  }

  /** A stable colour slot 0..3 per venue name (as views.pages.venue_tone): a pool keeps its colour everywhere. */
  function venueTone(venue) {
    var sum = 0;
    var v = String(venue || "");
    for (var i = 0; i < v.length; i++) sum += v.charCodeAt(i);
    return (sum + 2) % 4;
  }

  /** The chart colour of a venue: Jupiter cyan, split amber, OTC pools by tone (same as the legs bar). */
  function venueColour(venue) {
    if (venue === "jupiter") return cssVar("--olr-jupiter", "#2ec5d3");
    if (venue === "split") return cssVar("--olr-split", "#f2b441");
    return [cssVar("--olr-otc", "#b48cff"), "#ff8cc6", "#8ca8ff", "#7fe0b5"][venueTone(venue)];
  }

  var STATUS_ICONS = { pending: "hourglass-split", filled: "check-circle-fill", rejected: "slash-circle",
    failed: "x-octagon-fill" };

  /** The status badge of _macros.html status_badge(). */
  function statusBadge(status) {
    var s = String(status || "").toLowerCase();
    var badge = el("span", "badge olr-status olr-status-" + (STATUS_ICONS[s] ? s : "other"));
    badge.appendChild(icon(STATUS_ICONS[s] || "question-circle"));
    badge.appendChild(document.createTextNode(" " + (s || "—")));
    return badge;
  }

  /* ---------- bars: widths from data-pct (CSP: no style="" in templates) ---------- */

  /** Set style.width of every [data-pct] element under root (default: document) to its percentage, clamped 0..100. */
  function applyWidths(root) {
    var scope = root || document;
    Array.prototype.forEach.call(scope.querySelectorAll("[data-pct]"), function (el) {
      var pct = Number(el.getAttribute("data-pct"));
      el.style.width = (Number.isFinite(pct) ? Math.min(100, Math.max(0, pct)) : 0) + "%";
    });
  }

  /* ---------- navbar health pill ---------- */

  function setHealth(pill, state, text, title) {
    pill.setAttribute("data-state", state);
    var value = pill.querySelector(".olr-status-value");
    if (value) value.textContent = text;
    if (title) pill.setAttribute("title", title);
  }

  function startHealthPill() {
    var pill = document.getElementById("jupiter-status");
    if (!pill) return null;
    var url = pill.getAttribute("data-health-url") || "/healthz";
    return poll(url, HEALTH_INTERVAL_MS, function (health) {
      var state = health && typeof health.jupiter === "string" ? health.jupiter : "unknown";
      if (["ok", "degraded", "down"].indexOf(state) === -1) state = "unknown";
      setHealth(pill, state, state,
        "Jupiter: " + state + " · database: " + (health && health.db ? health.db : "?") +
        " · app: " + (health && health.status ? health.status : "?"));
    }, function (stale) {
      if (stale) setHealth(pill, "unreachable", "unreachable", "Server unreachable: health check failed");
    }, { acceptErrorBody: true });
  }

  /* ---------- times: UTC or local (navbar toggle, kept in localStorage) ---------- */

  var TZ_KEY = "olr.tz";
  var pad = function (n) { return String(n).padStart(2, "0"); };

  function tzMode() {
    try { return window.localStorage.getItem(TZ_KEY) === "local" ? "local" : "utc"; } catch (e) { return "utc"; }
  }

  function zoneName(d) {
    var part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d)
      .filter(function (p) { return p.type === "timeZoneName"; })[0];
    return part ? part.value : "local";
  }

  /** Rewrite every <time datetime> under root in the chosen zone; the other zone goes in its title. */
  function renderTimes(root) {
    var mode = tzMode();
    Array.prototype.forEach.call((root || document).querySelectorAll("time[datetime]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d.getTime())) return;
      if (!t.hasAttribute("data-utc")) t.setAttribute("data-utc", t.textContent);
      if (t.getAttribute("data-tz") === mode) return;
      var utc = t.getAttribute("data-utc");
      var timeOnly = /^\d{2}:\d{2}/.test(utc);
      var local = (timeOnly ? "" : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " ") +
        pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds()) + " " + zoneName(d);
      t.setAttribute("data-tz", mode);
      t.textContent = mode === "local" ? local : utc;
      t.title = mode === "local" ? utc : local;
    });
    var button = document.getElementById("olr-tz-toggle");
    var label = mode === "local" ? "Local" : "UTC";
    if (button && button.textContent !== label) {  // only real changes: the MutationObserver below sees ours too
      button.textContent = label;
      button.setAttribute("aria-pressed", mode === "local" ? "true" : "false");
    }
  }

  function startTimes() {
    var button = document.getElementById("olr-tz-toggle");
    if (button) {
      button.addEventListener("click", function () {
        try { window.localStorage.setItem(TZ_KEY, tzMode() === "local" ? "utc" : "local"); } catch (e) { /* private mode */ }
        renderTimes(document);
      });
    }
    renderTimes(document);
    if (window.MutationObserver) {  // times that page scripts add later (dashboard feed, toasts)
      new MutationObserver(function (records) {
        var added = records.some(function (r) {
          return Array.prototype.some.call(r.addedNodes, function (n) {
            return n.nodeType === 1 && (n.nodeName === "TIME" || n.querySelector("time[datetime]"));
          });
        });
        if (added) renderTimes(document);
      }).observe(document.body, { childList: true, subtree: true });
    }
  }

  /* ---------- toasts of the user's own events (GET /api/v1/me/events) ---------- */

  var EVENTS_INTERVAL_MS = 5000;

  function showToast(box, ev) {
    var level = ["success", "info", "warning", "danger"].indexOf(ev.level) >= 0 ? ev.level : "info";
    var toast = el("div", "toast olr-toast olr-toast-" + level);
    toast.setAttribute("role", level === "danger" ? "alert" : "status");
    toast.setAttribute("data-event-id", ev.id);
    toast.setAttribute("data-kind", ev.kind);
    var head = el("div", "toast-header");
    var icons = { success: "check-circle-fill", info: "hourglass-bottom", warning: "exclamation-triangle", danger: "x-octagon-fill" };
    var when = el("time", "ms-auto small text-olr-muted", (ev.at || "").slice(11, 19) + " UTC");
    when.setAttribute("datetime", ev.at || "");
    var close = el("button", "btn-close ms-2");
    close.type = "button";
    close.setAttribute("data-bs-dismiss", "toast");
    close.setAttribute("aria-label", "Close");
    head.append(icon(icons[level]), el("strong", "ms-2", ev.kind.indexOf("quote") === 0 ? "Quote" : "Trade"), when, close);
    var body = el("div", "toast-body");
    var link = el("a", null, ev.message);
    link.href = ev.url;
    body.appendChild(link);
    toast.append(head, body);
    box.appendChild(toast);
    if (window.bootstrap && window.bootstrap.Toast) {
      toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
      window.bootstrap.Toast.getOrCreateInstance(toast, { delay: 10000 }).show();
    } else {
      toast.classList.add("show");
    }
  }

  function startEvents() {
    var box = document.getElementById("olr-toasts");
    if (!box) return;
    var url = box.getAttribute("data-events-url");
    var since = null;
    var seen = new Set();
    async function tick() {
      try {
        var data = await fetchJSON(url + (since ? "?since=" + encodeURIComponent(since) : ""));
        since = data.now;
        (data.events || []).forEach(function (ev) {
          if (seen.has(ev.id)) return;
          seen.add(ev.id);
          showToast(box, ev);
        });
      } catch (err) {
        /* the health pill already says when the server is unreachable; try again next time */
      }
      window.setTimeout(tick, EVENTS_INTERVAL_MS);
    }
    tick();
  }

  window.OLR = Object.freeze({
    fetchJSON: fetchJSON,
    formatAtoms: formatAtoms,
    amount: amount,
    formatBps: formatBps,
    formatUsd: formatUsd,
    formatDecimal: formatDecimal,
    poll: poll,
    chartDefaults: chartDefaults,
    pageData: pageData,
    applyWidths: applyWidths,
    el: el,
    icon: icon,
    venueBadge: venueBadge,
    venueTone: venueTone,
    venueColour: venueColour,
    statusBadge: statusBadge,
    csrfToken: csrfToken,
    renderTimes: renderTimes,
  });

  function init() {
    if (window.Chart) chartDefaults();
    applyWidths(document);
    startHealthPill();
    document.addEventListener("copy", copyFullAmounts);
    startTimes();
    startEvents();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
