/* Analytics charts (Chart.js, vendored). Data: the JSON block #analytics-data (analytics_charts.all_series) and,
 * for cost vs size, GET /api/v1/analytics/cost-curve. Amounts arrive as atom strings; they become floats here
 * only to be plotted. Every chart's numbers are also in a table under it (server-rendered, or built here).
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var Chart = window.Chart;
  var data = OLR && OLR.pageData("analytics-data");
  if (!OLR || !Chart || !data) return;

  var P = OLR.chartDefaults();
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var hourly = data.window.bucket_s < 86400;

  var venueColour = OLR.venueColour;

  function label(iso) {
    var d = new Date(iso);
    var day = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
    return hourly ? day + " " + String(d.getUTCHours()).padStart(2, "0") + ":00" : day;
  }

  function usd(atoms) { return Number(atoms) / 1e6; }  // chart-only float

  function compactUsd(value) {
    var abs = Math.abs(value), sign = value < 0 ? "-" : "";
    if (abs >= 1e9) return sign + "$" + (abs / 1e9).toFixed(1) + "B";
    if (abs >= 1e6) return sign + "$" + (abs / 1e6).toFixed(1) + "M";
    if (abs >= 1e3) return sign + "$" + (abs / 1e3).toFixed(0) + "k";
    return sign + "$" + abs.toFixed(0);
  }

  function num(text) { return text === null || text === undefined ? null : Number(text); }

  function axis(title, extra) {
    return Object.assign({ title: { display: true, text: title, color: P.muted }, grid: { color: P.border },
      ticks: { color: P.muted } }, extra || {});
  }

  function usdTooltip(ctx) {
    var value = ctx.chart.options.indexAxis === "y" ? ctx.parsed.x : ctx.parsed.y;
    return " " + ctx.dataset.label + ": " + compactUsd(value);
  }

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) return null;
    return new Chart(canvas, config);
  }

  var labels = data.savings.map(function (p) { return label(p.t); });

  make("chart-savings", {
    data: {
      labels: labels,
      datasets: [
        { type: "bar", label: "Saved per period", data: data.savings.map(function (p) { return usd(p.savings_usd_atoms); }),
          backgroundColor: "rgba(47, 207, 133, 0.35)", borderColor: P.positive, borderWidth: 1, yAxisID: "y" },
        { type: "line", label: "Cumulative saved", data: data.savings.map(function (p) { return usd(p.cumulative_savings_usd_atoms); }),
          borderColor: P.accent, backgroundColor: P.accent, pointRadius: 0, borderWidth: 2, tension: 0.2, yAxisID: "y1" },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      plugins: { tooltip: { callbacks: { label: usdTooltip } } },
      scales: {
        x: axis("Period start (UTC)", { ticks: { color: P.muted, maxRotation: 0, autoSkipPadding: 12 } }),
        y: axis("Saved per period (USD)", { beginAtZero: true, ticks: { color: P.muted, callback: compactUsd } }),
        y1: axis("Cumulative (USD)", { position: "right", beginAtZero: true, grid: { drawOnChartArea: false },
          ticks: { color: P.muted, callback: compactUsd } }),
      },
    },
  });

  make("chart-sizes", {
    data: {
      labels: data.size_buckets.map(function (b) { return b.bucket; }),
      datasets: [
        { type: "bar", label: "Saved (bps of volume)", data: data.size_buckets.map(function (b) { return num(b.savings_bps); }),
          backgroundColor: "rgba(77, 141, 255, 0.45)", borderColor: P.accent, borderWidth: 1, yAxisID: "y" },
        { type: "line", label: "Routed off Jupiter (% of trades)", data: data.size_buckets.map(function (b) { return num(b.otc_share_pct); }),
          borderColor: P.otc, backgroundColor: P.otc, pointRadius: 4, borderWidth: 2, yAxisID: "y1" },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: axis("Trade size (USD notional)"),
        y: axis("Saved (bps of volume)", { beginAtZero: true }),
        y1: axis("Off Jupiter (% of trades)", { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false } }),
      },
    },
  });

  var tca = data.tca;
  if (tca) {
    var parts = [["impact", "Price impact", P.jupiter], ["fees", "Fees", P.muted], ["spread", "Dealer spread", P.otc],
      ["timing", "Timing", P.split]];
    var sizeData = tca.shortfall_by_size;
    make("chart-shortfall", {
      data: {
        labels: sizeData.map(function (b) { return b.bucket; }),
        datasets: parts.map(function (p) {
          return { type: "bar", label: p[1], data: sizeData.map(function (b) { return num(b.components_bps[p[0]]); }),
            backgroundColor: p[2], borderColor: p[2], stack: "parts", yAxisID: "y" };
        }).concat([{ type: "line", label: "Shortfall (total)", data: sizeData.map(function (b) { return num(b.shortfall_bps); }),
          borderColor: P.text, backgroundColor: P.text, pointRadius: 4, borderWidth: 2, yAxisID: "y" }]),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { x: axis("Trade size (USD notional)", { stacked: true }), y: axis("bps of the arrival value", { stacked: true }) },
      },
    });
    var marks = tca.markouts_by_venue;
    make("chart-markouts", {
      type: "line",
      data: {
        labels: marks.horizons.map(function (h) { return "+" + h; }),
        datasets: marks.venues.map(function (v) {
          var colour = venueColour(v.venue);
          return { label: v.venue + " (" + v.trades + ")", data: v.markout_bps.map(num), borderColor: colour,
            backgroundColor: colour, pointRadius: 4, borderWidth: 2, spanGaps: true };
        }),
      },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { tooltip: { callbacks: { label: function (ctx) { return " " + ctx.dataset.label + ": " + ctx.parsed.y.toFixed(2) + " bps"; } } } },
        scales: { x: axis("Time after the fill"), y: axis("Markout (bps; above 0 = the desk's way)") },
      },
    });
  }

  var mix = data.route_mix;
  make("chart-mix", {
    type: "bar",
    data: {
      labels: mix.t.map(label),
      datasets: mix.venues.map(function (v) {
        var colour = venueColour(v.venue);
        return { label: v.venue, data: v.volume_usd_atoms.map(usd), backgroundColor: colour, borderColor: colour, stack: "volume" };
      }),
    },
    options: {
      interaction: { mode: "index", intersect: false },
      plugins: { tooltip: { callbacks: { label: usdTooltip } } },
      scales: {
        x: axis("Period start (UTC)", { stacked: true, ticks: { color: P.muted, maxRotation: 0, autoSkipPadding: 12 } }),
        y: axis("Volume (USD)", { stacked: true, beginAtZero: true, ticks: { color: P.muted, callback: compactUsd } }),
      },
    },
  });

  make("chart-slippage", {
    type: "line",
    data: {
      labels: data.slippage.map(function (p) { return label(p.t); }),
      datasets: [
        { label: "Jupiter quoted price impact (avg)", data: data.slippage.map(function (p) { return num(p.quoted_price_impact_bps); }),
          borderColor: P.jupiter, backgroundColor: P.jupiter, pointRadius: 2, borderWidth: 2, spanGaps: true, yAxisID: "y" },
        { label: "Realised vs firm quote (avg)", data: data.slippage.map(function (p) { return num(p.realised_slippage_bps); }),
          borderColor: P.positive, backgroundColor: P.positive, pointRadius: 3, borderWidth: 2, spanGaps: true, yAxisID: "y1" },
        { label: "Realised vs firm quote (worst)", data: data.slippage.map(function (p) { return num(p.worst_slippage_bps); }),
          borderColor: P.negative, backgroundColor: P.negative, pointRadius: 3, borderWidth: 1, borderDash: [4, 4], spanGaps: true,
          yAxisID: "y1" },
      ],
    },
    options: {
      interaction: { mode: "index", intersect: false },
      scales: {
        x: axis("Period start (UTC)", { ticks: { color: P.muted, maxRotation: 0, autoSkipPadding: 12 } }),
        y: axis("Quoted price impact (bps)", { beginAtZero: true }),
        y1: axis("Realised slippage (bps)", { position: "right", grid: { drawOnChartArea: false } }),
      },
    },
  });

  make("chart-pairs", {
    type: "bar",
    data: {
      labels: data.volume_by_pair.map(function (r) { return r.direction; }),
      datasets: [{ label: "Volume", data: data.volume_by_pair.map(function (r) { return usd(r.volume_usd_atoms); }),
        backgroundColor: data.volume_by_pair.map(function (r) { return r.direction.indexOf("SOL→") === 0 ? "rgba(46, 197, 211, 0.6)" : "rgba(180, 140, 255, 0.6)"; }),
        borderColor: P.border, borderWidth: 1 }],
    },
    options: {
      indexAxis: "y",
      plugins: { legend: { display: false }, tooltip: { callbacks: { label: usdTooltip } } },
      scales: {
        x: axis("Volume (USD)", { beginAtZero: true, ticks: { color: P.muted, callback: compactUsd } }),
        y: axis("Direction (sold → bought)"),
      },
    },
  });

  /* ---------- cost vs size (live quotes) ---------- */

  var costCard = document.getElementById("chart-cost-card");
  var costChart = null;
  var costSeq = 0;

  function costTable(curve) {
    var table = document.getElementById("table-cost");
    var head = OLR.el("tr");
    head.appendChild(OLR.el("th", null, "Size (" + curve.size_unit + ")"));
    curve.venues.forEach(function (v) { head.appendChild(OLR.el("th", "text-end", v.venue)); });
    head.appendChild(OLR.el("th", "text-end", "Router picks"));
    table.tHead.replaceChildren(head);
    var rows = curve.sizes_ui.map(function (size, i) {
      var tr = OLR.el("tr");
      tr.appendChild(OLR.el("td", "num", OLR.formatDecimal(size, 0)));
      curve.venues.forEach(function (v) {
        var c = v.cost_bps[i];
        var td = OLR.el("td", "text-end num", c === null ? "—" : OLR.formatBps(c));
        if (c === null && v.reason && v.reason[i]) td.title = v.reason[i];
        tr.appendChild(td);
      });
      var r = curve.router.cost_bps[i];
      tr.appendChild(OLR.el("td", "text-end num", r === null ? "—" : OLR.formatBps(r) + " · " + curve.router.venue[i]));
      return tr;
    });
    table.tBodies[0].replaceChildren.apply(table.tBodies[0], rows);
  }

  function plain(text) { return String(text).replace(/,/g, ""); }  // "1,000" or "1000" -> "1000"

  function drawCost(curve) {
    curve.sizes_ui = curve.sizes_ui.map(plain);
    var sizes = curve.sizes_ui.map(Number);
    var datasets = curve.venues.map(function (v) {
      var colour = venueColour(v.venue);
      return { label: v.venue, data: sizes.map(function (x, i) { return { x: x, y: num(v.cost_bps[i]) }; }),
        borderColor: colour, backgroundColor: colour, pointRadius: 3, borderWidth: 2, spanGaps: false };
    });
    datasets.push({ label: "router's choice", data: sizes.map(function (x, i) { return { x: x, y: num(curve.router.cost_bps[i]) }; }),
      borderColor: P.text, backgroundColor: P.text, borderDash: [6, 4], pointRadius: 0, borderWidth: 2, spanGaps: false });
    var config = {
      type: "line",
      data: { datasets: datasets },
      options: {
        parsing: true,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        plugins: { tooltip: { callbacks: {
          title: function (items) { return items.length ? items[0].parsed.x.toLocaleString("en-US") + " " + curve.size_unit : ""; },
          label: function (ctx) { return " " + ctx.dataset.label + ": " + ctx.parsed.y.toFixed(1) + " bps"; },
        } } },
        scales: {
          x: axis("Order size (" + curve.size_unit + ", log scale)", { type: "logarithmic",
            ticks: { color: P.muted, callback: function (v) { var s = String(v); return /^[125]0*$/.test(s) ? Number(v).toLocaleString("en-US") : ""; } } }),
          y: axis("All-in cost (bps, log scale)", { type: "logarithmic",
            ticks: { color: P.muted, callback: function (v) { var s = String(v); return /^[125]0*$/.test(s) ? s : ""; } } }),
        },
      },
    };
    if (costChart) costChart.destroy();
    costChart = make("chart-cost", config);
    var note = document.getElementById("chart-cost-crossover");
    var c = curve.crossover;
    note.textContent = c ? c.venue + " beats Jupiter from between " + OLR.formatDecimal(plain(c.from_ui), 0) + " and " +
      OLR.formatDecimal(plain(c.to_ui), 0) + " " + curve.size_unit + " (" + curve.pair + ", " + curve.side + " SOL, quoted " + curve.at.slice(11, 19) + " UTC)."
      : "No OTC pool beats Jupiter at the sampled sizes right now.";
    costTable(curve);
  }

  async function loadCost() {
    var mySeq = ++costSeq;
    var pair = document.getElementById("cost-pair").value, side = document.getElementById("cost-side").value;
    var url = costCard.getAttribute("data-url") + "?pair=" + encodeURIComponent(pair) + "&side=" + encodeURIComponent(side);
    costCard.setAttribute("aria-busy", "true");
    try {
      var curve = await OLR.fetchJSON(url);
      if (mySeq === costSeq) drawCost(curve);
    } catch (err) {
      if (mySeq === costSeq) document.getElementById("chart-cost-crossover").textContent = "Could not load the cost curve: " + err.message;
    } finally {
      if (mySeq === costSeq) costCard.removeAttribute("aria-busy");
    }
  }

  if (costCard) {
    document.getElementById("cost-pair").addEventListener("change", loadCost);
    document.getElementById("cost-side").addEventListener("change", loadCost);
    loadCost();
  }
})();
