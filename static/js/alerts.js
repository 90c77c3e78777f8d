/* Liquidity alerts (issue 16): re-render a server-rendered alert list (templates/_guardrails.html `alerts`) from the
 * JSON the server computed (services/alerts.py): a pool side below its low-water mark, a suspended RFQ maker.
 * Used by the dashboard (its poll) and the ticket (each live indication) as OLRAlerts.render. No rule here: the
 * server decides.
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  if (!OLR) return;

  /** Replace the items of the alert box `box` with `items`; hide the box when there are none. */
  function render(box, items) {
    if (!box || !items) return;
    var list = box.querySelector("ul");
    list.replaceChildren.apply(list, items.map(function (a) {
      var li = OLR.el("li", "alert alert-" + a.severity + " olr-alert d-flex gap-2 align-items-start py-2 mb-2");
      li.setAttribute("data-kind", a.kind);
      li.setAttribute("data-venue", a.venue);
      li.append(OLR.icon(a.kind === "pool_low" ? "droplet-half" : "pause-circle"), OLR.el("span", null, a.message));
      return li;
    }));
    box.classList.toggle("d-none", items.length === 0);
  }

  window.OLRAlerts = Object.freeze({ render: render });  // OLR itself is frozen (app.js)
})();
