/* Monitoring: charts of the SystemMetrics history (#monitoring-data; every worker's snapshots added up per
 * bucket) and a 15 s poll of /api/v1/analytics/monitoring that refreshes the live KPIs (the counters of whichever
 * worker answered, named in #live-worker) and the charts without a reload. "Errors" are venue errors; order
 * errors (NO_ROUTE and kin: the order's fault) are their own series.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var Chart = window.Chart;
  var initial = OLR && OLR.pageData("monitoring-data");
  if (!OLR || !Chart || !initial) return;

  var P = OLR.chartDefaults();
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var bucketS = initial.bucket_s;
  var charts = {};

  function label(iso) {
    var d = new Date(iso);
    var day = MONTHS[d.getUTCMonth()] + " " + d.getUTCDate();
    return bucketS < 86400 ? day + " " + String(d.getUTCHours()).padStart(2, "0") + ":00" : day;
  }

  function axis(title, extra) {
    return Object.assign({ title: { display: true, text: title, color: P.muted }, grid: { color: P.border },
      ticks: { color: P.muted } }, extra || {});
  }

  function dotIfAny(ctx) { return ctx.raw ? 3 : 0; }  // a dot only where something happened

  // On a narrow chart a long code (UPSTREAM_UNAVAILABLE) wraps at its underscores instead of running into the title.
  function codeLabel(value) {
    var code = String(this.getLabelForValue(value));
    return this.chart.width < 480 ? code.replace(/_/g, "_\n").split("\n") : code;
  }

  function pick(points, key) { return points.map(function (p) { return p.snapshots ? p[key] : null; }); }

  function configs(h) {
    var labels = h.points.map(function (p) { return label(p.t); });
    var x = axis("Period start (UTC)", { ticks: { color: P.muted, maxRotation: 0, autoSkipPadding: 12 } });
    var orderKinds = h.order_errors_by_kind || {};
    var kinds = Object.keys(h.errors_by_kind).concat(Object.keys(orderKinds));
    var count = function (map) { return kinds.map(function (k) { return map[k] || null; }); };
    return {
      "chart-latency": {
        type: "line",
        data: { labels: labels, datasets: [
          { label: "p50", data: pick(h.points, "p50_ms"), borderColor: P.positive, backgroundColor: P.positive, pointRadius: 0, borderWidth: 2, spanGaps: true },
          { label: "p95", data: pick(h.points, "p95_ms"), borderColor: P.split, backgroundColor: P.split, pointRadius: 0, borderWidth: 2, spanGaps: true },
          { label: "p99 (worst)", data: pick(h.points, "p99_ms"), borderColor: P.negative, backgroundColor: P.negative, pointRadius: 0, borderWidth: 1.5, borderDash: [5, 4], spanGaps: true },
        ] },
        options: { interaction: { mode: "index", intersect: false }, scales: { x: x, y: axis("Latency (ms)", { beginAtZero: true }) } },
      },
      "chart-errors": {
        data: { labels: labels, datasets: [
          { type: "bar", label: "Calls", data: pick(h.points, "calls"), backgroundColor: "rgba(46, 197, 211, 0.35)", borderColor: P.jupiter, borderWidth: 1, yAxisID: "y" },
          { type: "line", label: "Venue errors", data: pick(h.points, "errors"), borderColor: P.negative, backgroundColor: P.negative, pointRadius: dotIfAny, borderWidth: 2, spanGaps: true, yAxisID: "y" },
          { type: "line", label: "Order errors", data: pick(h.points, "order_errors"), borderColor: P.muted, backgroundColor: P.muted, pointRadius: dotIfAny, borderWidth: 1.5, borderDash: [4, 3], spanGaps: true, yAxisID: "y" },
          { type: "line", label: "Retries", data: pick(h.points, "retries"), borderColor: P.split, backgroundColor: P.split, pointRadius: dotIfAny, borderWidth: 2, spanGaps: true, yAxisID: "y" },
          { type: "bar", label: "Breaker not closed (snapshots)", data: pick(h.points, "breaker_not_closed"), backgroundColor: "rgba(242, 97, 107, 0.55)", yAxisID: "y1" },
        ] },
        options: { interaction: { mode: "index", intersect: false },
          scales: { x: x, y: axis("Count per period", { beginAtZero: true }),
            y1: axis("Snapshots", { position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { color: P.muted, precision: 0 } }) } },
      },
      "chart-kinds": {
        type: "bar",
        data: { labels: kinds, datasets: [
          { label: "Venue errors", data: count(h.errors_by_kind), backgroundColor: "rgba(242, 97, 107, 0.6)", borderColor: P.negative, borderWidth: 1 },
          { label: "Order errors", data: count(orderKinds), backgroundColor: "rgba(135, 146, 168, 0.45)", borderColor: P.muted, borderWidth: 1 },
        ] },
        options: { indexAxis: "y",
          scales: { x: axis("Failed calls (count)", { stacked: true, beginAtZero: true, ticks: { color: P.muted, precision: 0 } }), y: axis("Error code", { stacked: true, ticks: { color: P.muted, callback: codeLabel } }) } },
      },
    };
  }

  function draw(history) {
    var all = configs(history);
    Object.keys(all).forEach(function (id) {
      var canvas = document.getElementById(id);
      if (!canvas) return;
      if (charts[id]) {
        charts[id].data = all[id].data;
        charts[id].update("none");
      } else {
        charts[id] = new Chart(canvas, all[id]);
      }
    });
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && node.textContent !== text) node.textContent = text;
  }

  var SUB = { closed: "calls flow to Jupiter", half_open: "one probe allowed", open: "calls refused: OTC only" };

  function refresh(data) {
    var j = data.jupiter, db = data.db;
    var dash = function (v) { return v === null || v === undefined ? "—" : String(v); };
    setText("kpi-breaker", j.breaker_state || "closed");
    setText("kpi-breaker-sub", SUB[j.breaker_state || "closed"] || "");
    setText("kpi-latency", dash(j.latency_ms_p50) + " ms");
    setText("live-worker", data.worker || j.worker || "");
    setText("kpi-latency-sub", "p50 · p95 " + dash(j.latency_ms_p95) + " ms, this process's recent calls");
    setText("kpi-calls", String(j.calls));
    setText("kpi-calls-sub", j.ok + " ok · " + j.retries + " retries · " + j.errors_total + " venue errors · " +
      j.order_errors_total + " order errors");
    var limited = j.limiter_headroom !== null && j.limiter_headroom !== undefined;
    setText("kpi-headroom", limited ? String(j.limiter_headroom) : "no limit");
    setText("kpi-headroom-sub", limited ? "requests available now" : "no rate limiter in " + data.jupiter_mode + " mode");
    setText("kpi-db", db.state);
    setText("kpi-db-sub", db.backend + " · ping " + dash(db.ping_ms) + " ms · " + dash(db.trades) + " trades");
    draw(data.history);
  }

  draw(initial.history);
  var live = document.getElementById("monitoring-live");
  if (live) OLR.poll(live.getAttribute("data-url"), Number(live.getAttribute("data-interval-ms")) || 15000, refresh);
})();
