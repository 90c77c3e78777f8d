/* Firm quote page: a countdown to expires_at (the Execute button is disabled once it lapses) and a confirmation
 * dialog before the execute form is posted. Without JavaScript the form posts directly (the server re-checks
 * expiry and slippage anyway).
 */
(function () {
  "use strict";
  var OLR = window.OLR;
  var badge = document.getElementById("quote-countdown");
  var form = document.getElementById("execute-form");
  var button = document.getElementById("execute-button");
  var modalEl = document.getElementById("confirm-modal");
  if (!OLR || !form || !badge) return;

  var end = Date.parse(badge.getAttribute("data-expires-at"));
  var confirmed = false;
  var timer = null;

  function secondsLeft() { return Math.ceil((end - Date.now()) / 1000); }

  function expire() {
    window.clearInterval(timer);
    badge.setAttribute("data-state", "expired");
    badge.replaceChildren(OLR.icon("hourglass-bottom"), " expired");
    button.disabled = true;
    button.replaceChildren(OLR.icon("hourglass-bottom"), " Quote expired");
    var refresh = document.getElementById("refresh-quote-form");
    if (refresh) refresh.classList.remove("d-none");  // re-quote the same order in one click
    if (!document.getElementById("new-quote")) {
      var link = OLR.el("a", "btn btn-outline-primary w-100 mt-2", "");
      link.id = "new-quote";
      link.href = form.getAttribute("data-ticket-url") || "/trade";
      link.append(OLR.icon("arrow-repeat"), " New quote");
      (refresh || form).after(link);
    }
    var confirmBtn = document.getElementById("confirm-execute");
    if (confirmBtn) confirmBtn.disabled = true;
    var note = document.getElementById("confirm-countdown");
    if (note) note.textContent = "The quote has expired: close this and request a new one.";
  }

  function tick() {
    var left = secondsLeft();
    if (left <= 0) { expire(); return; }
    badge.setAttribute("data-state", left <= 5 ? "ending" : "live");
    badge.replaceChildren(OLR.icon("hourglass-split"), " expires in " + left + " s");
    var note = document.getElementById("confirm-countdown");
    if (note) note.textContent = "The quote expires in " + left + " s.";
  }

  tick();
  timer = window.setInterval(tick, 250);

  var modal = modalEl && window.bootstrap ? window.bootstrap.Modal.getOrCreateInstance(modalEl) : null;
  form.addEventListener("submit", function (event) {
    if (confirmed) { button.disabled = true; return; }
    event.preventDefault();
    if (secondsLeft() <= 0) { expire(); return; }
    if (!modal) {  // no Bootstrap: fall back to the browser's own dialog
      if (window.confirm(form.getAttribute("data-summary") + "?")) { confirmed = true; button.disabled = true; form.submit(); }
      return;
    }
    document.getElementById("confirm-summary").textContent = form.getAttribute("data-summary");
    document.getElementById("confirm-detail").textContent = form.getAttribute("data-detail");
    modal.show();
  });
  var confirmBtn = document.getElementById("confirm-execute");
  if (confirmBtn) {
    confirmBtn.addEventListener("click", function () {
      if (secondsLeft() <= 0) { expire(); return; }
      confirmed = true;
      confirmBtn.disabled = true;
      button.disabled = true;
      form.submit();
    });
  }
  if (modalEl) modalEl.addEventListener("shown.bs.modal", function () { if (confirmBtn) confirmBtn.focus(); });
})();
